// Private to audit/: one line of an audit export, parsed. The strict parser
// for its one JSON shape (LineParser), which fields each type of line holds
// (slots), and the hash and signature spellings the verifier accepts.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "schakel/audit/format.h"

namespace schakel::audit::internal {

// Appends s to *out as a JSON string: quoted, with '"' and '\\' escaped and
// control characters as \u00XX, everything else byte for byte (the entry
// hashes and the LDV export depend on exactly this spelling).
void AppendJsonString(std::string_view s, std::string* out);

// Every field an export line may hold. The parser records which it saw and
// a view of each value; the verifier then checks the set against the line's
// type.
enum Slot : uint8_t {
  kSlotType,
  kSlotSeq,
  kSlotTs,
  kSlotActor,
  kSlotAction,
  kSlotSubject,
  kSlotObject,
  kSlotPurpose,
  kSlotLegalBasis,
  kSlotOutcome,
  kSlotReason,
  kSlotSource,
  kSlotPrevHash,
  kSlotHash,
  kSlotNodeId,
  kSlotSig,
  kSlotUser,
  kSlotRole,
  kSlotOrg,
  kSlotFormat,      // entry format 2 and later
  kSlotRecipient,   // format 2
  kSlotCategories,  // format 2
  kSlotConsents,    // format 2
  kSlotWitness,     // witness lines (schema 18)
  kSlotCount
};

constexpr uint32_t Bit(Slot s) { return uint32_t{1} << s; }

constexpr uint32_t kEntrySlots = Bit(kSlotType) | Bit(kSlotSeq) | Bit(kSlotTs) | Bit(kSlotActor) | Bit(kSlotAction) |
                                 Bit(kSlotSubject) | Bit(kSlotObject) | Bit(kSlotPurpose) | Bit(kSlotLegalBasis) |
                                 Bit(kSlotOutcome) | Bit(kSlotReason) | Bit(kSlotSource) | Bit(kSlotPrevHash) |
                                 Bit(kSlotHash) | Bit(kSlotUser) | Bit(kSlotRole) | Bit(kSlotOrg);
// A format-2 entry: "format":2 and the three fields of what went to whom.
constexpr uint32_t kEntrySlotsV2 =
    kEntrySlots | Bit(kSlotFormat) | Bit(kSlotRecipient) | Bit(kSlotCategories) | Bit(kSlotConsents);
constexpr uint32_t kCheckpointSlots =
    Bit(kSlotType) | Bit(kSlotNodeId) | Bit(kSlotSeq) | Bit(kSlotTs) | Bit(kSlotHash) | Bit(kSlotSig);

constexpr uint32_t kWitnessSlots = Bit(kSlotType) | Bit(kSlotNodeId) | Bit(kSlotSeq) | Bit(kSlotTs) | Bit(kSlotHash) |
                                   Bit(kSlotWitness) | Bit(kSlotSig);

// The slot of each text field of an entry, in hash order (TextField).
constexpr Slot kTextSlots[kTextFieldCount] = {kSlotTs,         kSlotUser,       kSlotRole,    kSlotOrg,
                                              kSlotAction,     kSlotSubject,    kSlotObject,  kSlotPurpose,
                                              kSlotLegalBasis, kSlotOutcome,    kSlotReason,  kSlotSource,
                                              kSlotRecipient,  kSlotCategories, kSlotConsents};

// The key of a slot as the export spells it ("actor.user" for the nested ones).
std::string_view SlotName(Slot s);

// A strict parser for the one shape of an export line: a JSON object of
// strings and one or two integers (seq, format), with one nested object (actor) of strings.
// Values are views into the line, or into per-slot scratch strings when
// they hold escapes; scratch keeps its capacity, so steady-state parsing
// allocates nothing.
class LineParser {
 public:
  // Returns false with error() set when the line is not such an object.
  bool Parse(std::string_view line);

  uint32_t seen() const { return seen_; }
  std::string_view value(Slot s) const { return values_[s]; }
  int64_t seq() const { return seq_; }
  int64_t format() const { return format_; }
  const std::string& error() const { return error_; }

 private:
  bool Fail(std::string what);
  void SkipWs();
  bool Expect(char c);
  bool ParseObject(bool top);
  // A positive integer without sign, fraction or leading zero, at most 18
  // digits, into *out; `name` for the error.
  bool ParseCount(std::string_view name, int64_t* out);
  bool Hex4(uint32_t* out);
  static void PutUtf8(uint32_t cp, std::string* out);

  // At the opening quote. Sets *out to the unescaped value: a view of the
  // line when it holds no escape, else of *scratch.
  bool ParseString(std::string* scratch, std::string_view* out);

  std::string_view s_;
  size_t i_ = 0;
  uint32_t seen_ = 0;
  int64_t seq_ = 0;
  int64_t format_ = 0;
  std::array<std::string_view, kSlotCount> values_{};
  std::array<std::string, kSlotCount> scratch_;
  std::string key_scratch_;
  std::string error_;
};

// Decodes 64 lower-case hex digits; false for any other spelling.
bool DecodeHash(std::string_view hex, Hash* out);

// libsodium 1.0.18's decoder reads every byte >= 0x80 as '/', so a
// signature would have many spellings; allow only the standard alphabet.
bool IsBase64Alphabet(std::string_view text);

}  // namespace schakel::audit::internal
