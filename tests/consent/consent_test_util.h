// Helpers for the consent tests: building requests and consents tersely.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "schakel/base/time.h"
#include "schakel/consent/engine.h"

namespace schakel::consent::testing {

inline Instant T(std::string_view s) {
  auto t = ParseInstant(s);
  EXPECT_TRUE(t.ok()) << s << ": " << t.status().message();
  return t.ok() ? t.value() : Instant{};
}

inline Date D(std::string_view s) {
  auto d = ParseDate(s);
  EXPECT_TRUE(d.ok()) << s << ": " << d.status().message();
  return d.ok() ? d.value() : Date{};
}

inline CategorySet Cats(std::initializer_list<Category> cs) {
  CategorySet s;
  for (Category c : cs) s.Add(c);
  return s;
}

using C = Category;

inline Consent MakeConsent(std::string id, GrantorRole role, CategorySet cats, std::string purpose = "doorverwijzing",
                           std::string recipient = "wijkteam", std::string_view from = "2026-09-01",
                           std::optional<std::string_view> until = "2027-07-31") {
  Consent c;
  c.id = std::move(id);
  c.subject_id = "stu-1";
  c.grantor_role = role;
  c.purposes = {std::move(purpose)};
  c.recipients = {std::move(recipient)};
  c.categories = cats;
  c.valid_from = D(from);
  if (until) c.valid_until = D(*until);
  return c;
}

// A doorverwijzing from a school to a wijkteam at 2026-11-23T10:00:00Z.
inline Request MakeRequest(std::string_view birth_date,
                           std::vector<Category> cats = {C::kIdentificatie, C::kHulpvraag, C::kGezinssituatie}) {
  Request r;
  r.now = T("2026-11-23T10:00:00Z");
  r.subject_id = "stu-1";
  r.birth_date = D(birth_date);
  r.sender = Party{"school-trajectum", OrgType::kSchool};
  r.recipient = Party{"wijkteam-overvecht", OrgType::kWijkteam};
  r.purpose = "doorverwijzing";
  r.categories = std::move(cats);
  return r;
}

inline bool HasCode(const Decision& d, std::string_view code) {
  for (const auto& r : d.reasons) {
    if (r.code == code) return true;
  }
  return false;
}

inline std::string Codes(const Decision& d) {
  std::string out;
  for (const auto& r : d.reasons) out += r.code + " ";
  return out;
}

}  // namespace schakel::consent::testing
