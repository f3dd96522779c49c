// The privacy protocol: which data may flow from which kind of organisation
// to which, for what purpose, on what legal basis, and the age thresholds of
// the consent rules.
//
// A Flow is one row of the protocol table in CONTRACT.md ("Default privacy
// protocol"). A Protocol is a validated list of flows plus the AgeRules; the
// only ways to get one are DefaultProtocol() (the built-in table) and
// Protocol::Create (which checks the flows, see CheckProtocol). A
// default-constructed Protocol has no flows and so permits nothing.
//
// Matching: a request (purpose, sender org type, recipient) matches a flow
// when the purpose is equal, the sender's org type is in `from`, and either
// the recipient's org id is in `to_orgs` or its org type is in `to`. A flow
// that names the recipient's org id wins over one that only names its type;
// two flows of the same purpose that overlap at the same level are refused
// by CheckProtocol, so at most one flow ever applies.
//
// Pure, no I/O; a Protocol is an immutable value after Create and may be
// shared between threads for reading. Errors are values (Result/optional).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/consent/vocabulary.h"

namespace schakel::consent {

// One side of a share: the organisation's id ([a-z0-9-]{3,64}) and type.
struct Party {
  std::string org_id;
  OrgType org_type = OrgType::kSchool;

  bool operator==(const Party&) const = default;
};

// The age thresholds of the consent rules (CONTRACT.md "Consent rules").
// Ages are completed years on the Europe/Amsterdam calendar date of the
// decision.
struct AgeRules {
  // From this age the young person (jongere) must consent as well as a parent
  // (ouder). Default: 12 (WGBO art. 7:450 BW, Jeugdwet art. 7.3.4).
  // REQUIRES: 0 <= jongere_also_from <= jongere_alone_from.
  int jongere_also_from = 12;
  // From this age the young person's consent is needed and enough; a parent's
  // consent alone no longer counts. Default: 16 (WGBO art. 7:447 BW).
  // REQUIRES: jongere_alone_from <= 18.
  int jongere_alone_from = 16;
  // How many parents must agree where a parent's consent is needed
  // (protocol file `[consent] parents`): one (the default; CONTRACT.md), or
  // every parent with parental authority on the student's record
  // (Request::parents_with_authority; two households).
  enum class Parents : uint8_t { kOne, kAllWithAuthority };
  Parents parents = Parents::kOne;

  bool operator==(const AgeRules&) const = default;
};

struct Flow {
  // What the share is for, e.g. "doorverwijzing": [a-z0-9_-]{1,64}.
  std::string purpose;
  // Sender org types. REQUIRES: not empty.
  std::vector<OrgType> from;
  // Recipient org types, and specific recipient org ids that this flow
  // allows whatever their type. REQUIRES: at least one of them not empty.
  std::vector<OrgType> to;
  std::vector<std::string> to_orgs;
  LegalBasis basis = LegalBasis::kConsent;
  // The law or agreement the flow rests on, e.g. "Leerplichtwet 1969, art. 18 lid 3 en 21a".
  // REQUIRES: not empty unless basis is kConsent.
  std::string legal_source;
  // The categories this flow can carry at most. REQUIRES: not empty.
  CategorySet categories;
  // How long a recipient keeps what it received under this flow; nullopt:
  // the node's [retention] default_days. REQUIRES: 1..3650 when set.
  std::optional<int> retention_days;
  // Help offered directly and free of charge to the young person (UAVG
  // art. 5 lid 6): from this age the young person's own consent is needed
  // and enough for this flow; a parent's is not asked. nullopt: the
  // protocol's age rules. Only on a consent flow. REQUIRES: 12..16 when set.
  std::optional<int> youth_alone_from;

  bool operator==(const Flow&) const = default;
};

// What is wrong with a list of flows: the index of the first bad flow (or
// kAgeRules when the age rules are bad), the field concerned ("" for the flow
// as a whole) and why, in words a privacy officer can act on.
struct FlowProblem {
  static constexpr size_t kAgeRules = static_cast<size_t>(-1);
  size_t flow_index = 0;
  std::string field;
  std::string message;
};

// nullopt when `flows` and `ages` make a valid protocol. Checks each field's
// syntax and range, and refuses two flows of the same purpose that share a
// sender type and a recipient type, or a sender type and a recipient org id.
std::optional<FlowProblem> CheckProtocol(const std::vector<Flow>& flows, const AgeRules& ages);

class Protocol {
 public:
  // An empty protocol: no purposes, no flows; every request is denied.
  Protocol() = default;

  // Validates with CheckProtocol (kInvalidInput naming the flow and field)
  // and normalises: `from`, `to` and `to_orgs` are sorted and deduplicated,
  // so equal protocols compare equal whatever order they were written in.
  static Result<Protocol> Create(std::vector<Flow> flows, AgeRules ages = {});

  const std::vector<Flow>& flows() const { return flows_; }
  const AgeRules& ages() const { return ages_; }

  // Whether any flow has this purpose (an unknown purpose is its own deny).
  bool HasPurpose(std::string_view purpose) const;

  // The flow that applies, or nullptr when there is none (see the matching
  // rule at the top of this file).
  const Flow* FindFlow(std::string_view purpose, OrgType sender_type, const Party& recipient) const;

  bool operator==(const Protocol&) const = default;

 private:
  std::vector<Flow> flows_;
  AgeRules ages_;
};

// The default privacy protocol of CONTRACT.md, built once; thread-safe.
const Protocol& DefaultProtocol();

}  // namespace schakel::consent
