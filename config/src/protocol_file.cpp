#include "schakel/config/protocol_file.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <optional>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "schakel/base/file.h"
#include "schakel/base/strings.h"

namespace schakel::config {
namespace {

using consent::Category;
using consent::CategorySet;
using consent::Flow;
using consent::LegalBasis;
using consent::OrgType;

// A value is quoted back in an error only when it looks like a name.
std::string Echo(std::string_view s) {
  bool ok = !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
  return ok ? " \"" + std::string(s) + "\"" : std::string();
}

// Reads one protocol document, turning every problem into
// "file:line: key: why".
class ProtocolReader {
 public:
  explicit ProtocolReader(std::string_view file) : file_(file) {}

  Status Error(const toml::source_region& where, std::string_view key, std::string_view why) const {
    std::string msg(file_);
    if (where.begin.line > 0) msg += ":" + std::to_string(where.begin.line);
    msg += ": ";
    if (!key.empty()) msg += std::string(key) + ": ";
    msg += why;
    return Status::InvalidInput(std::move(msg));
  }

  // Unknown keys of a table.
  Status OnlyKeys(const toml::table& t, const std::string& path,
                  std::initializer_list<std::string_view> allowed) const {
    for (auto&& [k, v] : t) {
      if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
      std::string name = Echo(k.str()).empty() ? "?" : std::string(k.str());
      return Error(k.source(), path.empty() ? name : path + "." + name, "unknown key");
    }
    return Status::Ok();
  }

  Result<std::string> String(const toml::table& t, const std::string& path, std::string_view key, bool required,
                             size_t max_len) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      if (required) return Error(t.source(), Path(path, key), "missing");
      return std::string();
    }
    const auto* s = n->as_string();
    if (s == nullptr) return Error(n->source(), Path(path, key), "expected a string");
    const std::string& v = s->get();
    if (v.size() > max_len) {
      return Error(n->source(), Path(path, key), "longer than " + std::to_string(max_len) + " bytes");
    }
    if (!IsPrintableUtf8(v)) {
      return Error(n->source(), Path(path, key), "contains control characters");
    }
    return v;
  }

  // A list of strings; each entry is handed to `each(index, value, node)`.
  template <typename F>
  Status StringList(const toml::table& t, const std::string& path, std::string_view key, bool required, F each) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      if (required) return Error(t.source(), Path(path, key), "missing");
      return Status::Ok();
    }
    const auto* a = n->as_array();
    if (a == nullptr) return Error(n->source(), Path(path, key), "expected a list of strings");
    if (a->size() > 64) return Error(n->source(), Path(path, key), "more than 64 entries");
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::node& item = *a->get(i);
      std::string where = Path(path, key) + "[" + std::to_string(i) + "]";
      const auto* s = item.as_string();
      if (s == nullptr) return Error(item.source(), where, "expected a string");
      SCHAKEL_RETURN_IF_ERROR(each(i, s->get(), item, where));
    }
    return Status::Ok();
  }

  Result<std::optional<int>> Int(const toml::table& t, const std::string& path, std::string_view key, int min,
                                 int max) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::optional<int>();
    const auto* v = n->as_integer();
    if (v == nullptr) return Error(n->source(), Path(path, key), "expected an integer");
    int64_t x = v->get();
    if (x < min || x > max) {
      return Error(n->source(), Path(path, key), "out of range " + std::to_string(min) + ".." + std::to_string(max));
    }
    return std::optional<int>(static_cast<int>(x));
  }

  static std::string Path(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

 private:
  std::string file_;
};

// An org type list: names, or ["any"] for every type.
Status OrgTypes(const ProtocolReader& rd, const toml::table& t, const std::string& path, std::string_view key,
                bool required, std::vector<OrgType>* out) {
  bool any = false;
  Status st = rd.StringList(
      t, path, key, required, [&](size_t i, const std::string& s, const toml::node& n, const std::string& where) {
        if (s == "any") {
          if (i != 0 || t.get(key)->as_array()->size() != 1) {
            return rd.Error(n.source(), where, "\"any\" must stand alone in the list");
          }
          any = true;
          return Status::Ok();
        }
        auto o = consent::ParseOrgType(s);
        if (!o) {
          std::string names;
          for (OrgType x : consent::kAllOrgTypes) names += std::string(consent::Name(x)) + ", ";
          return rd.Error(n.source(), where, "unknown org type" + Echo(s) + " (expected one of: " + names + "any)");
        }
        if (std::find(out->begin(), out->end(), *o) != out->end()) {
          return rd.Error(n.source(), where, "listed twice");
        }
        out->push_back(*o);
        return Status::Ok();
      });
  if (any) out->assign(consent::kAllOrgTypes.begin(), consent::kAllOrgTypes.end());
  return st;
}

Result<Flow> ReadFlow(const ProtocolReader& rd, const toml::table& t, const std::string& path) {
  SCHAKEL_RETURN_IF_ERROR(rd.OnlyKeys(t, path,
                                      {"purpose", "from", "to", "to_orgs", "legal_basis", "legal_source", "categories",
                                       "retention_days", "youth_alone_from"}));
  Flow f;
  SCHAKEL_ASSIGN_OR_RETURN(f.purpose, rd.String(t, path, "purpose", true, 64));

  SCHAKEL_ASSIGN_OR_RETURN(std::string basis, rd.String(t, path, "legal_basis", true, 64));
  auto b = consent::ParseLegalBasis(basis);
  if (!b) {
    return rd.Error(t.get("legal_basis")->source(), ProtocolReader::Path(path, "legal_basis"),
                    "unknown legal basis" + Echo(basis) + " (expected one of: consent, legal_obligation, meldcode)");
  }
  f.basis = *b;

  SCHAKEL_RETURN_IF_ERROR(OrgTypes(rd, t, path, "from", true, &f.from));
  SCHAKEL_RETURN_IF_ERROR(OrgTypes(rd, t, path, "to", t.get("to_orgs") == nullptr, &f.to));
  SCHAKEL_RETURN_IF_ERROR(rd.StringList(
      t, path, "to_orgs", false, [&](size_t, const std::string& s, const toml::node& n, const std::string& where) {
        if (!IsValidNodeId(s)) return rd.Error(n.source(), where, "not an org id ([a-z0-9-]{3,64})");
        if (std::find(f.to_orgs.begin(), f.to_orgs.end(), s) != f.to_orgs.end()) {
          return rd.Error(n.source(), where, "listed twice");
        }
        f.to_orgs.push_back(s);
        return Status::Ok();
      }));

  SCHAKEL_ASSIGN_OR_RETURN(f.legal_source, rd.String(t, path, "legal_source", false, 256));

  bool all = false;
  SCHAKEL_RETURN_IF_ERROR(rd.StringList(
      t, path, "categories", true, [&](size_t i, const std::string& s, const toml::node& n, const std::string& where) {
        if (s == "all") {
          if (i != 0 || t.get("categories")->as_array()->size() != 1) {
            return rd.Error(n.source(), where, "\"all\" must stand alone in the list");
          }
          if (f.basis == LegalBasis::kConsent) {
            return rd.Error(n.source(), where,
                            "a consent flow must name its categories one by one, so that the "
                            "special categories gezondheid and justitie are granted only "
                            "explicitly");
          }
          all = true;
          return Status::Ok();
        }
        auto c = consent::ParseCategory(s);
        if (!c) {
          std::string names;
          for (Category x : consent::kAllCategories) names += std::string(consent::Name(x)) + ", ";
          return rd.Error(n.source(), where, "unknown category" + Echo(s) + " (expected one of: " + names + "all)");
        }
        if (f.categories.Has(*c)) return rd.Error(n.source(), where, "listed twice");
        f.categories.Add(*c);
        return Status::Ok();
      }));
  if (all) f.categories = CategorySet::All();

  SCHAKEL_ASSIGN_OR_RETURN(f.retention_days, rd.Int(t, path, "retention_days", 1, 3650));
  SCHAKEL_ASSIGN_OR_RETURN(f.youth_alone_from, rd.Int(t, path, "youth_alone_from", 12, 16));
  return f;
}

// Where a problem found by consent::CheckProtocol sits in the file.
toml::source_region WhereIs(const toml::table& t, const std::string& field) {
  if (!field.empty()) {
    if (const toml::node* n = t.get(field)) return n->source();
  }
  return t.source();
}

// The optional [consent] table: `parents = "one" | "all_with_authority"`.
Status ReadConsentTable(const ProtocolReader& rd, const toml::table& doc, consent::AgeRules* ages) {
  const toml::node* n = doc.get("consent");
  if (n == nullptr) return Status::Ok();
  const toml::table* t = n->as_table();
  if (t == nullptr) return rd.Error(n->source(), "consent", "expected a table [consent]");
  SCHAKEL_RETURN_IF_ERROR(rd.OnlyKeys(*t, "consent", {"parents"}));
  SCHAKEL_ASSIGN_OR_RETURN(std::string parents, rd.String(*t, "consent", "parents", false, 32));
  if (parents == "all_with_authority") {
    ages->parents = consent::AgeRules::Parents::kAllWithAuthority;
  } else if (!parents.empty() && parents != "one") {
    return rd.Error(WhereIs(*t, "parents"), "consent.parents",
                    "expected \"one\" or \"all_with_authority\", not \"" + parents + "\"");
  }
  return Status::Ok();
}

}  // namespace

Result<consent::Protocol> ParseProtocolToml(std::string_view text, std::string_view file_name) {
  const ProtocolReader rd(file_name);
  if (text.size() > kMaxProtocolFileBytes) {
    return Status::InvalidInput(std::string(file_name) + ": larger than " + std::to_string(kMaxProtocolFileBytes) +
                                " bytes");
  }
  toml::table doc;
  try {
    doc = toml::parse(text, file_name);
  } catch (const toml::parse_error& e) {
    return rd.Error(e.source(), "", "not valid TOML: " + std::string(e.description()));
  } catch (const std::exception&) {
    return Status::InvalidInput(std::string(file_name) + ": cannot be parsed as TOML");
  }

  try {
    SCHAKEL_RETURN_IF_ERROR(rd.OnlyKeys(doc, "", {"ages", "consent", "flow"}));

    consent::AgeRules ages;
    const toml::table* ages_table = nullptr;
    if (const toml::node* n = doc.get("ages")) {
      ages_table = n->as_table();
      if (ages_table == nullptr) return rd.Error(n->source(), "ages", "expected a table [ages]");
      SCHAKEL_RETURN_IF_ERROR(rd.OnlyKeys(*ages_table, "ages", {"jongere_also_from", "jongere_alone_from"}));
      SCHAKEL_ASSIGN_OR_RETURN(auto also, rd.Int(*ages_table, "ages", "jongere_also_from", 0, 18));
      SCHAKEL_ASSIGN_OR_RETURN(auto alone, rd.Int(*ages_table, "ages", "jongere_alone_from", 0, 18));
      if (also) ages.jongere_also_from = *also;
      if (alone) ages.jongere_alone_from = *alone;
    }
    SCHAKEL_RETURN_IF_ERROR(ReadConsentTable(rd, doc, &ages));

    const toml::node* flows_node = doc.get("flow");
    if (flows_node == nullptr) {
      return rd.Error(toml::source_region{}, "flow", "missing: the protocol needs at least one [[flow]]");
    }
    const toml::array* flows_array = flows_node->as_array();
    if (flows_array == nullptr) {
      return rd.Error(flows_node->source(), "flow", "expected flows as [[flow]] tables (an array of tables)");
    }
    if (flows_array->empty()) {
      return rd.Error(flows_node->source(), "flow", "missing: the protocol needs at least one [[flow]]");
    }
    if (flows_array->size() > 1000) {
      return rd.Error(flows_node->source(), "flow", "more than 1000 flows");
    }
    std::vector<Flow> flows;
    std::vector<const toml::table*> tables;
    for (size_t i = 0; i < flows_array->size(); ++i) {
      const toml::node& n = *flows_array->get(i);
      std::string path = "flow[" + std::to_string(i) + "]";
      const toml::table* t = n.as_table();
      if (t == nullptr) return rd.Error(n.source(), path, "expected a table");
      SCHAKEL_ASSIGN_OR_RETURN(Flow f, ReadFlow(rd, *t, path));
      flows.push_back(std::move(f));
      tables.push_back(t);
    }

    if (auto p = consent::CheckProtocol(flows, ages)) {
      if (p->flow_index == consent::FlowProblem::kAgeRules) {
        toml::source_region where;
        if (ages_table != nullptr) where = WhereIs(*ages_table, p->field);
        return rd.Error(where, "ages." + p->field, p->message);
      }
      std::string path = "flow[" + std::to_string(p->flow_index) + "]";
      if (!p->field.empty()) path += "." + p->field;
      return rd.Error(WhereIs(*tables[p->flow_index], p->field), path, p->message);
    }
    auto protocol = consent::Protocol::Create(std::move(flows), ages);
    if (!protocol.ok()) return protocol.status().WithContext(file_name);
    return protocol;
  } catch (const std::exception&) {
    return Status::Internal(std::string(file_name) + ": unexpected error reading the protocol");
  }
}

Result<consent::Protocol> LoadProtocolFile(const std::string& path) {
  SCHAKEL_ASSIGN_OR_RETURN(std::string text, ReadFileLimited(path, kMaxProtocolFileBytes));
  return ParseProtocolToml(text, path);
}

namespace {

// A TOML basic string.
std::string TomlString(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string StringArray(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += TomlString(items[i]);
  }
  return out + "]";
}

std::vector<std::string> OrgTypeNames(const std::vector<OrgType>& types) {
  bool all = std::all_of(consent::kAllOrgTypes.begin(), consent::kAllOrgTypes.end(),
                         [&](OrgType t) { return std::find(types.begin(), types.end(), t) != types.end(); });
  if (all) return {"any"};
  std::vector<std::string> out;
  out.reserve(types.size());
  for (OrgType t : types) out.emplace_back(consent::Name(t));
  return out;
}

}  // namespace

std::string ProtocolToToml(const consent::Protocol& protocol) {
  std::string out =
      "# Schakel privacy protocol. Format: docs/privacy-protocol.md.\n"
      "# A share needs a flow for its purpose from the sender's org type to the\n"
      "# recipient's org type (or org id); requested categories outside the flow\n"
      "# are withheld.\n\n"
      "[ages]\n"
      "# From this age the young person (jongere) consents as well as a parent.\n"
      "jongere_also_from = " +
      std::to_string(protocol.ages().jongere_also_from) +
      "\n"
      "# From this age the young person consents alone; a parent's consent is not enough.\n"
      "jongere_alone_from = " +
      std::to_string(protocol.ages().jongere_alone_from) +
      "\n\n[consent]\n"
      "# How many parents must agree: \"one\", or \"all_with_authority\" (every parent\n"
      "# with parental authority on the student's record).\n"
      "parents = " +
      (protocol.ages().parents == consent::AgeRules::Parents::kAllWithAuthority ? "\"all_with_authority\""
                                                                                : "\"one\"") +
      "\n";
  for (const Flow& f : protocol.flows()) {
    out += "\n[[flow]]\n";
    out += "purpose = " + TomlString(f.purpose) + "\n";
    out += "from = " + StringArray(OrgTypeNames(f.from)) + "\n";
    out += "to = " + StringArray(f.to.empty() ? std::vector<std::string>{} : OrgTypeNames(f.to)) + "\n";
    if (!f.to_orgs.empty()) out += "to_orgs = " + StringArray(f.to_orgs) + "\n";
    out += "legal_basis = " + TomlString(consent::Name(f.basis)) + "\n";
    if (!f.legal_source.empty()) out += "legal_source = " + TomlString(f.legal_source) + "\n";
    std::vector<std::string> cats;
    for (Category c : consent::kAllCategories) {
      if (f.categories.Has(c)) cats.emplace_back(consent::Name(c));
    }
    out += "categories = " + StringArray(cats) + "\n";
    if (f.retention_days) out += "retention_days = " + std::to_string(*f.retention_days) + "\n";
    if (f.youth_alone_from) {
      out += "# UAVG art. 5 lid 6: help offered directly and free of charge to the young person.\n";
      out += "youth_alone_from = " + std::to_string(*f.youth_alone_from) + "\n";
    }
  }
  return out;
}

Result<consent::Protocol> LoadProtocolInForce(const NodeConfig& config, const std::string& dir) {
  if (config.policy_file.empty()) return consent::DefaultProtocol();
  std::string path = config.policy_file[0] == '/' ? config.policy_file : dir + "/" + config.policy_file;
  return LoadProtocolFile(path);
}

}  // namespace schakel::config
