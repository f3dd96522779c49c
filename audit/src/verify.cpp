#include "schakel/audit/verify.h"

#include <algorithm>
#include <cstring>
#include <istream>
#include <vector>

#include "export_line.h"
#include "schakel/base/strings.h"
#include "schakel/crypto/identity.h"

namespace schakel::audit {
namespace {

using namespace internal;  // NOLINT(google-build-using-namespace): this module's own line parser

constexpr const char* kBadTs = "ts: expected a real UTC time YYYY-MM-DDTHH:MM:SS.mmmZ";

class Verifier {
 public:
  Verifier(const crypto::NodeCard& card, const VerifyOptions& options) : card_(card), options_(options) {
    report_.witnesses_checked = options.witnesses != nullptr;
  }

  // Checks one line (without its newline). Returns false once a problem
  // was found; the report is then final.
  bool Line(std::string_view line) {
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > options_.max_line_bytes) {
      return Malformed("line longer than " + std::to_string(options_.max_line_bytes) + " bytes");
    }
    if (line.empty()) return Malformed("empty line");
    // Checked on the raw line, before any escape is read: valid UTF-8
    // without a control character (a tab between fields is JSON's
    // whitespace).
    if (!IsPrintableUtf8(line)) return Malformed("not UTF-8 text, or a control character outside an escape");
    if (!parser_.Parse(line)) return Malformed(parser_.error());
    std::string_view type = parser_.value(kSlotType);
    if (!(parser_.seen() & Bit(kSlotType))) return Malformed("no type field");
    if (type == "entry") return Entry();
    if (type == "checkpoint") return Checkpoint();
    if (type == "witness") return Witness();
    return Malformed("type: expected \"entry\", \"checkpoint\" or \"witness\"");
  }

  // A line longer than the limit that the reader could not even buffer.
  bool TooLong() {
    ++line_no_;
    return Malformed("line longer than " + std::to_string(options_.max_line_bytes) + " bytes");
  }

  // The export's last line had no newline after it.
  void Unterminated() { unterminated_ = true; }

  VerifyReport Finish() {
    if (failed_) return std::move(report_);
    if (line_no_ == 0) {
      Fail(VerifyProblem::kEmptyExport, 0, 0,
           "the export holds no line at all: an empty file proves nothing (ask for the export again)");
      return std::move(report_);
    }
    if (unterminated_) {
      Fail(VerifyProblem::kMissingFinalNewline, report_.last_seq, line_no_,
           "the last line does not end with a newline: the file was cut short in transfer or edited");
      return std::move(report_);
    }
    if (options_.anchor && options_.anchor->seq > report_.last_seq) {
      Fail(VerifyProblem::kTruncatedBeforeAnchor, options_.anchor->seq, 0,
           "the export ends at seq " + std::to_string(report_.last_seq) + ", before the anchor's seq " +
               std::to_string(options_.anchor->seq) + ": entries were cut off");
      return std::move(report_);
    }
    if (report_.last_seq > report_.last_checkpoint_seq) {
      Fail(VerifyProblem::kNotCovered, report_.last_checkpoint_seq + 1, 0,
           "entries " + std::to_string(report_.last_checkpoint_seq + 1) + " to " + std::to_string(report_.last_seq) +
               " are not covered by a checkpoint: they are unverified (added or altered "
               "without the node's key, or the export was cut after them)");
      return std::move(report_);
    }
    report_.ok = true;
    return std::move(report_);
  }

 private:
  bool Fail(VerifyProblem problem, int64_t seq, uint64_t line, std::string detail) {
    failed_ = true;
    report_.ok = false;
    report_.problem = problem;
    report_.bad_seq = seq;
    report_.bad_line = line;
    report_.detail = std::move(detail);
    return false;
  }
  // A line that is not of its shape (not JSON, an unknown, repeated or
  // missing field, a value of the wrong JSON type): its own seq cannot be
  // trusted, so the problem names the seq the verifier expected next.
  bool Malformed(const std::string& what) {
    return Fail(VerifyProblem::kMalformedLine, expect_seq_, line_no_, "malformed line: " + what);
  }
  // A line of its shape whose field value breaks a rule: the problem names
  // the line's own seq (an entry's, or the seq a checkpoint or
  // countersignature covers).
  bool BadValue(const std::string& what) {
    return Fail(VerifyProblem::kMalformedLine, parser_.seq(), line_no_, "malformed line: " + what);
  }

  // Checks the fields present against the type's set.
  bool Shape(uint32_t wanted) {
    uint32_t seen = parser_.seen();
    for (uint8_t s = 0; s < kSlotCount; ++s) {
      auto slot = static_cast<Slot>(s);
      if ((wanted & Bit(slot)) && !(seen & Bit(slot))) {
        return Malformed("missing field " + std::string(SlotName(slot)));
      }
      if (!(wanted & Bit(slot)) && (seen & Bit(slot))) {
        return Malformed("field " + std::string(SlotName(slot)) + " does not belong in this line");
      }
    }
    return true;
  }

  bool Entry() {
    // No "format" field: format 1, as releases before it wrote entries.
    // The shape first (so the line's seq is there to be named), then the
    // value of format.
    bool has_format = (parser_.seen() & Bit(kSlotFormat)) != 0;
    if (!Shape(has_format ? kEntrySlotsV2 : kEntrySlots)) return false;
    int format = kEntryFormat1;
    if (has_format) {
      if (parser_.format() != kEntryFormat2) {
        return BadValue("format: entry format " + std::to_string(parser_.format()) +
                        " is not one this schakel reads (1 and 2); a newer release wrote it");
      }
      format = kEntryFormat2;
    }
    int64_t seq = parser_.seq();
    EntryText text{};
    for (size_t f = 0; f < TextFieldCount(format); ++f) text[f] = parser_.value(kTextSlots[f]);
    // The rules AuditLog::Append enforces, so a rewritten entry that breaks
    // one is refused here and not only, later, as a checkpoint mismatch.
    if (!IsCanonicalTimestamp(text[0])) return BadValue(kBadTs);
    std::string problem = CheckEntryFields(text);
    if (!problem.empty()) return BadValue(problem);
    Hash prev, hash;
    if (!DecodeHash(parser_.value(kSlotPrevHash), &prev)) {
      return BadValue("prev_hash: expected 64 lower-case hex digits");
    }
    if (!DecodeHash(parser_.value(kSlotHash), &hash)) return BadValue("hash: expected 64 lower-case hex digits");
    if (seq != expect_seq_) {
      return Fail(VerifyProblem::kSeqOutOfOrder, std::min(seq, expect_seq_), line_no_,
                  "expected seq " + std::to_string(expect_seq_) + ", found seq " + std::to_string(seq) +
                      ": an entry is missing, repeated or out of order");
    }
    if (prev != last_hash_) {
      return Fail(VerifyProblem::kBrokenChain, seq, line_no_,
                  seq == 1 ? std::string("prev_hash of the first entry is not 32 zero bytes")
                           : "prev_hash is not the hash of seq " + std::to_string(seq - 1));
    }
    if (ComputeEntryHash(format, seq, text, prev) != hash) {
      return Fail(VerifyProblem::kHashMismatch, seq, line_no_,
                  "hash does not match the entry's fields: the entry was altered");
    }
    if (options_.anchor && options_.anchor->seq == seq && options_.anchor->hash != hash) {
      return Fail(VerifyProblem::kAnchorMismatch, seq, line_no_,
                  "the entry's hash differs from the anchor's: the log was rewritten up to here");
    }
    last_hash_ = hash;
    report_.last_seq = seq;
    ++report_.entries;
    if (format == kEntryFormat1) ++report_.entries_format1;
    ++expect_seq_;
    return true;
  }

  // The ts, hash and sig that checkpoint and witness lines share, checked
  // for their form; false (and the report final) when one is malformed.
  bool SignedFields(std::string_view* ts, Hash* hash, crypto::Signature* sig) {
    *ts = parser_.value(kSlotTs);
    if (!IsCanonicalTimestamp(*ts)) return BadValue(kBadTs);
    if (!DecodeHash(parser_.value(kSlotHash), hash)) return BadValue("hash: expected 64 lower-case hex digits");
    std::string_view sig_text = parser_.value(kSlotSig);
    auto sig_bytes = crypto::Base64Decode(sig_text, 64);
    if (!IsBase64Alphabet(sig_text) || !sig_bytes.ok() || sig_bytes->size() != 64) {
      return BadValue("sig: expected the base64 of a 64-byte signature");
    }
    std::copy(sig_bytes->begin(), sig_bytes->end(), sig->begin());
    return true;
  }

  bool Checkpoint() {
    if (!Shape(kCheckpointSlots)) return false;
    int64_t seq = parser_.seq();
    std::string_view node_id = parser_.value(kSlotNodeId);
    std::string_view ts;
    Hash hash;
    crypto::Signature sig;
    if (!SignedFields(&ts, &hash, &sig)) return false;
    if (node_id != card_.node_id) {
      return Fail(VerifyProblem::kCheckpointWrongNode, seq, line_no_,
                  "checkpoint names another node than the card's " + card_.node_id);
    }
    if (line_no_ == 1 && seq >= 1) return Start(seq, hash, ts, sig);
    if (seq <= report_.last_checkpoint_seq) {
      return Fail(VerifyProblem::kCheckpointMisplaced, seq, line_no_,
                  "checkpoint for seq " + std::to_string(seq) + " after the checkpoint for seq " +
                      std::to_string(report_.last_checkpoint_seq));
    }
    if (seq != report_.last_seq) {
      return Fail(VerifyProblem::kCheckpointMisplaced, seq, line_no_,
                  "checkpoint for seq " + std::to_string(seq) + " follows the entry with seq " +
                      std::to_string(report_.last_seq) +
                      " (a checkpoint follows its own entry; an entry is missing or moved)");
    }
    if (!crypto::Verify(card_.sign_pk, CheckpointMessage(node_id, seq, hash, ts), sig)) {
      return Fail(VerifyProblem::kBadCheckpointSignature, seq, line_no_,
                  "checkpoint signature does not verify under the card's identity key");
    }
    if (hash != last_hash_) {
      return Fail(VerifyProblem::kCheckpointHashMismatch, seq, line_no_,
                  "the signed hash differs from the entry's hash: entries after seq " +
                      std::to_string(report_.last_checkpoint_seq) + " up to " + std::to_string(seq) +
                      " were rewritten");
    }
    report_.last_checkpoint_seq = seq;
    report_.last_checkpoint_hash = hash;
    report_.last_checkpoint_ts = std::string(ts);
    ++report_.checkpoints;
    return true;
  }

  // A checkpoint as the first line: the log starts after a retention
  // boundary (docs/audit.md "Retention"), and the chain goes on from the
  // signed hash. Entries up to it were deleted; an anchor before it can no
  // longer be checked, and the report says so.
  bool Start(int64_t seq, const Hash& hash, std::string_view ts, const crypto::Signature& sig) {
    if (!crypto::Verify(card_.sign_pk, CheckpointMessage(card_.node_id, seq, hash, ts), sig)) {
      return Fail(VerifyProblem::kBadCheckpointSignature, seq, line_no_,
                  "the export's first line, the retention boundary's checkpoint, does not verify under the "
                  "card's identity key");
    }
    if (options_.anchor && options_.anchor->seq == seq && options_.anchor->hash != hash) {
      return Fail(VerifyProblem::kAnchorMismatch, seq, line_no_,
                  "the retention boundary's hash differs from the anchor's: the log was rewritten up to here");
    }
    if (options_.anchor && options_.anchor->seq < seq) report_.anchor_before_start = true;
    report_.starts_after_seq = seq;
    report_.last_seq = seq;
    report_.last_checkpoint_seq = seq;
    report_.last_checkpoint_hash = hash;
    report_.last_checkpoint_ts = std::string(ts);
    ++report_.checkpoints;
    last_hash_ = hash;
    expect_seq_ = seq + 1;
    return true;
  }

  // A partner's countersignature of a checkpoint (schema 18). Without
  // witness cards only its shape is checked.
  bool Witness() {
    if (!Shape(kWitnessSlots)) return false;
    int64_t seq = parser_.seq();
    std::string_view node_id = parser_.value(kSlotNodeId);
    std::string_view witness = parser_.value(kSlotWitness);
    std::string_view ts;
    Hash hash;
    crypto::Signature sig;
    if (!SignedFields(&ts, &hash, &sig)) return false;
    if (!IsValidNodeId(witness)) return BadValue("witness: expected a node id [a-z0-9-]{3,64}");
    ++report_.witness_lines;
    if (options_.witnesses == nullptr) return true;
    if (node_id != card_.node_id) {
      return Fail(VerifyProblem::kCheckpointWrongNode, seq, line_no_,
                  "countersignature of a checkpoint of another node than the card's " + card_.node_id);
    }
    auto it = options_.witnesses->find(witness);
    if (it == options_.witnesses->end()) {
      return Fail(VerifyProblem::kUnknownWitness, seq, line_no_,
                  "countersigned by " + std::string(witness) + ", whose card is not among the witnesses' cards");
    }
    if (!crypto::Verify(it->second.sign_pk, WitnessMessage(witness, node_id, seq, hash, ts), sig)) {
      return Fail(VerifyProblem::kBadWitnessSignature, seq, line_no_,
                  "the countersignature by " + std::string(witness) + " does not verify under its card's key");
    }
    if (seq > report_.last_seq) {
      return Fail(VerifyProblem::kWitnessContradicted, seq, line_no_,
                  std::string(witness) + " witnessed checkpoint seq " + std::to_string(seq) + " signed " +
                      std::string(ts) + ", but the export has no entry " + std::to_string(seq) +
                      " here (the export ends at seq " + std::to_string(report_.last_seq) +
                      "): the log was cut or rewritten after it was witnessed");
    }
    if (seq < report_.last_seq) {
      return Fail(VerifyProblem::kWitnessMisplaced, seq, line_no_,
                  "countersignature for seq " + std::to_string(seq) + " follows the entry with seq " +
                      std::to_string(report_.last_seq) + " (it follows the checkpoint it countersigns)");
    }
    if (hash != last_hash_) {
      return Fail(VerifyProblem::kWitnessContradicted, seq, line_no_,
                  std::string(witness) + " witnessed another hash for seq " + std::to_string(seq) +
                      " (checkpoint signed " + std::string(ts) + ") than the export's: the log was rewritten " +
                      "after it was witnessed");
    }
    ++report_.witnessed;
    report_.last_witnessed_seq = seq;
    return true;
  }

  const crypto::NodeCard& card_;
  const VerifyOptions& options_;
  LineParser parser_;
  VerifyReport report_;
  Hash last_hash_{};  // the zero hash before seq 1
  int64_t expect_seq_ = 1;
  uint64_t line_no_ = 0;
  bool failed_ = false;
  bool unterminated_ = false;
};

Status CheckOptions(const VerifyOptions& options) {
  if (options.anchor && options.anchor->seq < 1) {
    return Status::InvalidInput("anchor: seq must be at least 1");
  }
  if (options.max_line_bytes == 0) return Status::InvalidInput("max_line_bytes must be positive");
  return Status::Ok();
}

}  // namespace

std::string_view VerifyProblemName(VerifyProblem p) {
  switch (p) {
    case VerifyProblem::kNone:
      return "none";
    case VerifyProblem::kMalformedLine:
      return "malformed_line";
    case VerifyProblem::kSeqOutOfOrder:
      return "seq_out_of_order";
    case VerifyProblem::kBrokenChain:
      return "broken_chain";
    case VerifyProblem::kHashMismatch:
      return "hash_mismatch";
    case VerifyProblem::kCheckpointMisplaced:
      return "checkpoint_misplaced";
    case VerifyProblem::kCheckpointWrongNode:
      return "checkpoint_wrong_node";
    case VerifyProblem::kBadCheckpointSignature:
      return "bad_checkpoint_signature";
    case VerifyProblem::kCheckpointHashMismatch:
      return "checkpoint_hash_mismatch";
    case VerifyProblem::kNotCovered:
      return "not_covered";
    case VerifyProblem::kAnchorMismatch:
      return "anchor_mismatch";
    case VerifyProblem::kTruncatedBeforeAnchor:
      return "truncated_before_anchor";
    case VerifyProblem::kWitnessContradicted:
      return "witness_contradicted";
    case VerifyProblem::kBadWitnessSignature:
      return "bad_witness_signature";
    case VerifyProblem::kUnknownWitness:
      return "unknown_witness";
    case VerifyProblem::kWitnessMisplaced:
      return "witness_misplaced";
    case VerifyProblem::kEmptyExport:
      return "empty_export";
    case VerifyProblem::kMissingFinalNewline:
      return "missing_final_newline";
  }
  return "unknown";
}

std::string VerifyReport::Describe() const {
  if (ok) {
    std::string text = "verified " + std::to_string(entries) + " entries, " + std::to_string(checkpoints) +
                       " checkpoints, last seq " + std::to_string(last_seq);
    if (witnesses_checked) {
      text += ", " + std::to_string(witnessed) + " countersignatures by partners";
      if (witnessed > 0) text += " (last witnessed seq " + std::to_string(last_witnessed_seq) + ")";
    }
    if (starts_after_seq > 0) {
      text += "; the log starts after seq " + std::to_string(starts_after_seq) +
              " (entries up to it were deleted by retention, after a signed boundary)";
    }
    if (anchor_before_start) text += "; the anchor lies before that start and could not be checked";
    return text;
  }
  std::string where = "seq " + std::to_string(bad_seq);
  if (bad_line > 0) where += " (line " + std::to_string(bad_line) + ")";
  return where + ": " + std::string(VerifyProblemName(problem)) + ": " + detail;
}

Result<VerifyReport> VerifyExport(std::string_view jsonl, const crypto::NodeCard& card, const VerifyOptions& options) {
  SCHAKEL_RETURN_IF_ERROR(CheckOptions(options));
  if (jsonl.size() > options.max_total_bytes) {
    return Status::InvalidInput("export larger than " + std::to_string(options.max_total_bytes) + " bytes");
  }
  Verifier v(card, options);
  size_t pos = 0;
  while (pos < jsonl.size()) {
    size_t nl = jsonl.find('\n', pos);
    size_t end = nl == std::string_view::npos ? jsonl.size() : nl;
    if (!v.Line(jsonl.substr(pos, end - pos))) break;
    if (nl == std::string_view::npos) v.Unterminated();
    pos = end + 1;
  }
  return v.Finish();
}

Result<VerifyReport> VerifyExport(std::istream& in, const crypto::NodeCard& card, const VerifyOptions& options) {
  SCHAKEL_RETURN_IF_ERROR(CheckOptions(options));
  Verifier v(card, options);
  // A window over the stream: whole lines are handed out as views of it;
  // the unfinished tail moves to the front before the next read.
  std::vector<char> buf(std::max<size_t>(size_t{1} << 20, options.max_line_bytes + 2));
  size_t begin = 0, end = 0;
  uint64_t total = 0;
  bool eof = false;
  while (true) {
    const void* found = std::memchr(buf.data() + begin, '\n', end - begin);
    if (found != nullptr) {
      size_t nl = static_cast<size_t>(static_cast<const char*>(found) - buf.data());
      if (!v.Line(std::string_view(buf.data() + begin, nl - begin))) return v.Finish();
      begin = nl + 1;
      continue;
    }
    if (end - begin > options.max_line_bytes + 1) {
      v.TooLong();
      return v.Finish();
    }
    if (eof) {
      if (end > begin && v.Line(std::string_view(buf.data() + begin, end - begin))) v.Unterminated();
      return v.Finish();
    }
    std::memmove(buf.data(), buf.data() + begin, end - begin);
    end -= begin;
    begin = 0;
    in.read(buf.data() + end, static_cast<std::streamsize>(buf.size() - end));
    auto got = static_cast<size_t>(in.gcount());
    if (in.bad()) return Status::IoError("cannot read the export");
    if (got == 0 || in.eof()) eof = true;
    total += got;
    if (total > options.max_total_bytes) {
      return Status::InvalidInput("export larger than " + std::to_string(options.max_total_bytes) + " bytes");
    }
    end += got;
  }
}

}  // namespace schakel::audit
