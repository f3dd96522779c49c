// Permission requests (toestemmingsverzoeken, docs/consent-requests.md): a
// coordinator asks the parent(s) and/or the young person for permission; each
// answers on a page of their own (daemon/src/consent_pages.h) with a
// personal access code, and the answer becomes a consent record the engine
// uses like any other, with evidence (request id, grantor, typed name, time,
// the categories chosen, and the SHA-256 of the exact text shown).
//
// Who is asked follows the student's age on the Amsterdam calendar and the
// protocol's age rules (consent::NeededFor): under 12 a parent; 12 to 15 a
// parent and the young person; from 16 the young person alone; for a flow
// with youth_alone_from (help offered directly to the young person, UAVG
// art. 5 lid 6) the young person alone from that age. Each purpose and
// recipient must have a consent flow in the protocol. Under
// `[consent] parents = "all_with_authority"` each parent with parental
// authority on the student's record gets a link of their own, and their
// consents name them (Consent::guardian) so the engine can count them.
//
// The links work like dossier links (crypto/link_secret.h): the row keeps
// SHA-256(token) and the page's content sealed under Argon2id(token ||
// code); a visit without the code reveals nothing; the attempt is counted
// before the code is tried; five wrong codes lock the link; an unanswered
// link expires with its request. After a yes the same link and code manage
// the permission until its period ends: the page shows what was agreed and
// lets it be withdrawn, with the same effect as a coordinator's withdrawal.
// Everything is audited (source "consent-page" for the visitor).
//
// Thread-safety: database work under the node lock; Argon2id without it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/audit/format.h"
#include "schakel/crypto/link_secret.h"
#include "schakel/formats/api_request.h"
#include "schakel/service/node_core.h"
#include "schakel/service/results.h"
#include "schakel/service/service.h"
#include "schakel/store/records.h"

namespace schakel::service {

// The version of the texts a grantor is shown (consent_request_texts.cpp);
// kept with each request and in each answer's evidence.
inline constexpr std::string_view kConsentTextVersion = "toestemming-1";
using formats::kDefaultAnswerDays;
using formats::kMaxAnswerDays;
inline constexpr int kMaxConsentMonths = 24;
inline constexpr size_t kMaxTypedName = 120;

struct ConsentRequestInput {
  std::string student_id;
  std::vector<std::string> recipients;  // partner node ids or org type names
  std::vector<std::string> purposes;
  std::vector<std::string> categories;  // category names
  std::string valid_until;              // YYYY-MM-DD; the consent's last day
  int answer_days = kDefaultAnswerDays;
};

// One grantor's link, shown once: the node keeps neither URL nor code.
struct GrantLink {
  std::string grant_id;
  std::string grantor_role;  // "ouder" or "jongere"
  std::string guardian;      // the parent asked, by name (`[consent] parents = "all_with_authority"`); or empty
  std::string url;
  std::string code;
};

struct ConsentRequestCreated {
  std::string request_id;
  std::string expires;
  std::vector<GrantLink> links;
  // For the printable letter (console): whom it is about, who asks, who
  // would receive.
  std::string student_name;
  std::string organisation;
  std::vector<std::string> recipient_names;
};

// A request as the coordinator sees it: per grantor the state and, once
// answered, what was chosen.
struct GrantView {
  std::string grant_id;
  std::string grantor_role;
  std::string guardian;
  std::string state;  // open, agreed, refused, locked, expired, withdrawn, ended
  std::string state_changed;
  std::vector<std::string> agreed;  // category names
  std::string consent_id;
};
struct ConsentRequestView {
  std::string request_id;
  std::string student_id;
  std::vector<std::string> recipients;
  std::vector<std::string> purposes;
  std::vector<std::string> categories;
  std::string valid_until;
  std::string created_by;
  std::string created;
  std::string expires;
  std::vector<GrantView> grantors;
};

// What a grantor is asked about (sealed in the link; the page's text is made
// from it).
struct GrantRecipient {
  std::string name;      // the partner's name, or the org type in Dutch
  std::string org_type;  // wire name
};
struct GrantContent {
  std::string grantor_role;  // "ouder" or "jongere"
  std::string guardian;      // the parent addressed, or empty
  std::string student_name;
  std::string organisation;  // this node's name
  std::vector<GrantRecipient> recipients;
  std::vector<std::string> purposes;
  std::vector<std::string> categories;
  std::string valid_until;
  std::string text_version;
};

// What the grantor's page shows; decided here, rendered by the pages.
struct GrantPage {
  enum class Kind {
    kNotFound,   // no such link
    kGone,       // locked, expired, refused, withdrawn or ended (`state`)
    kAskCode,    // ask for the access code
    kWrongCode,  // `attempts_left` more before it locks
    kQuestion,   // the code opened an open request: ask
    kAgreed,     // the code opened an agreed one: what was agreed, withdraw
    kAnswered,   // an answer was just recorded (`state` agreed or refused)
    kWithdrawn,  // a withdrawal was just recorded
    kNarrowed,   // some categories were just withdrawn; `agreed` is what stands
    kInvalid,    // the form was not filled in right (`error`, Dutch)
  };
  Kind kind = Kind::kNotFound;
  std::string state;
  int attempts_left = 0;
  std::string error;
  GrantContent content;
  std::vector<std::string> agreed;  // kAgreed, kAnswered, kNarrowed: category names that stand
};

// A grantor's answer, from the page's form.
struct GrantAnswer {
  bool agree = false;                   // false: no to everything
  std::vector<std::string> categories;  // names; a subset of the request's
  std::string typed_name;
};

// The texts shown to a grantor, one paragraph each, in the order shown;
// their SHA-256 is the evidence of what was read.
struct GrantTexts {
  std::string title;
  std::vector<std::string> intro;                               // who asks, who receives, why, how long
  std::vector<std::pair<std::string, std::string>> categories;  // (name, plain explanation)
  std::vector<std::string> after;                               // what no means, how to withdraw
};
GrantTexts TextsFor(const GrantContent& content);
// Lower-case hex SHA-256 over the texts, each paragraph on its own line.
std::string TextsSha256(const GrantTexts& texts);

// An inzage link (AVG art. 15) for a parent or the young person: what was
// shared about the student, with whom, when and on which basis, the
// consents and their evidence, and what was refused. Read live when the
// code opens it (docs/consent-requests.md, "Inzage").
using formats::kDefaultInzageDays;
using formats::kMaxInzageDays;
struct InzageLinkCreated {
  std::string link_id;
  std::string url;
  std::string code;
  std::string expires;
};
struct InzageReport {
  std::string student_id;
  std::string student_name;
  std::string organisation;
  std::string grantor_role;                    // who it is for
  std::vector<store::ConsentRecord> consents;  // with their evidence
  std::vector<ConsentRequestView> requests;    // and each grantor's answer
  // Shares, dossier links, refusals and consent events about the student,
  // oldest first, naming no staff member (audit::RedactForFamily).
  std::vector<audit::AuditEntry> events;
  std::map<std::string, std::string> names;  // node id -> organisation name
};
struct InzagePage {
  enum class Kind { kNotFound, kGone, kAskCode, kWrongCode, kReport };
  Kind kind = Kind::kNotFound;
  std::string state;
  int attempts_left = 0;
  InzageReport report;
};

struct ConsentRequestOptions {
  crypto::LinkKdfParams kdf;
};

class ConsentRequests {
 public:
  ConsentRequests(NodeCore& core, Service& service, const ConsentRequestOptions& options = {});

  Result<ConsentRequestCreated> Create(const Caller& c, const ConsentRequestInput& input);
  Result<std::vector<ConsentRequestView>> ListForStudent(const Caller& c, const std::string& student_id);

  // GET /t/{token}: reveals nothing; an unanswered link past its request's
  // expiry is expired now.
  Result<GrantPage> Visit(const std::string& token);
  // POST /t/{token} with only the code: the question, or what was agreed.
  Result<GrantPage> Open(const std::string& token, std::string_view typed_code);
  // POST /t/{token} with the code and an answer. A link answered already
  // (a replayed form) changes nothing: kGone with the state it is in.
  Result<GrantPage> Answer(const std::string& token, std::string_view typed_code, const GrantAnswer& answer);
  // POST /t/{token} with the code and "withdraw": ends the consent the
  // answer made (Service::WithdrawConsent's effect), or, when `categories`
  // names some of what stands, withdraws those
  // (Service::NarrowConsentByGrantor: kNarrowed, the link then manages the
  // rest). Naming a category that does not stand is kInvalid.
  Result<GrantPage> Withdraw(const std::string& token, std::string_view typed_code,
                             const std::vector<std::string>& categories = {});

  // An inzage link for `grantor_role` ("ouder" or "jongere") about a
  // registered student, valid `days` (1..kMaxInzageDays). Coordinators.
  Result<InzageLinkCreated> CreateInzage(const Caller& c, const std::string& student_id,
                                         const std::string& grantor_role, int days);
  // GET /i/{token}: reveals nothing. POST with the code: the report, read
  // now, its reading audited (inzage.read). Five wrong codes lock it.
  Result<InzagePage> VisitInzage(const std::string& token);
  Result<InzagePage> OpenInzage(const std::string& token, std::string_view typed_code);
  // The same report for an auditor to print or send to the family (an AVG
  // art. 15 request that did not come through a link): audited as
  // audit.subject_report. Auditors only (Op::kAuditSubject).
  Result<InzageReport> FamilyReportFor(const Caller& c, const std::string& student_id);

  // Expires unanswered links past their request's expiry and ends
  // management links whose consent period is over. Returns how many.
  Result<int> ExpireDue();

 private:
  struct Opened;
  // Looks the token up, counts the attempt, tries the code (Argon2id
  // without the lock), and locks after too many wrong codes. kQuestion in
  // `page` when the code opened it; the grant and content in `out`.
  Result<GrantPage> Unseal(const std::string& token, std::string_view typed_code, Opened* out);

  NodeCore& core_;
  Service& service_;
  ConsentRequestOptions options_;
};

}  // namespace schakel::service
