// Logboek Dataverwerkingen (LDV, Logius): the audit log as one record per
// processing action, with W3C-style trace and operation ids that join the
// records of two organisations about one share (docs/audit.md, "Logboek
// Dataverwerkingen export").
//
// Every id is derived from what the log stores, so an export is
// reproducible: an entry's operation id is the first 8 bytes of its hash;
// a share's trace id and its root operation id are derived from the
// sender's node id and the message id, so the sender's and the recipient's
// records of one share carry the same trace id; the recipient's
// `inbox.received` names the sender's operation (carried in the DELIVER
// payload on peer protocol 5, recorded in the entry's reason as
// "traceparent=00-<trace>-<op>-01") as its foreign operation.
//
// Subjects (student references) are never written in clear: the export
// holds an HMAC-SHA-256 under a node-local key (LdvSubjectKey), so one
// node's records of a student link up while another reader cannot recover
// or compare them.
//
// Errors: Status values; ParseTraceparent refuses anything but the W3C
// version-00 form, naming what is wrong. Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "schakel/base/status.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/secure_buffer.h"

namespace schakel::audit {

using TraceId = std::array<uint8_t, 16>;
using OperationId = std::array<uint8_t, 8>;

// A W3C trace context: the trace and the operation (span) that caused what
// follows. flags: bit 0 "sampled"; Schakel writes 01.
struct TraceContext {
  TraceId trace_id{};
  OperationId operation_id{};
  uint8_t flags = 1;
};

// "00-" 32 hex "-" 16 hex "-" 2 hex: 55 bytes.
inline constexpr size_t kTraceparentBytes = 55;
// The prefix of an inbox.received entry's reason that records the sender's
// trace context.
inline constexpr std::string_view kTraceReasonPrefix = "traceparent=";

// "00-<trace>-<operation>-<flags>", lower-case hex.
std::string FormatTraceparent(const TraceContext& tc);
// Strict W3C Trace Context `traceparent` of version 00: exactly 55 bytes,
// lower-case hex, neither id all zero. kInvalidInput naming the problem
// (never echoing the text) otherwise.
Result<TraceContext> ParseTraceparent(std::string_view text);

// The trace of one share: SHA-256("schakel/ldv/trace/v1\0" || u16 len ||
// sender_id || u16 len || message_id), first 16 bytes.
TraceId ShareTraceId(std::string_view sender_id, std::string_view message_id);
// The sender's root operation of a share (the first share.* entry of it in
// the sender's export): the same with label "schakel/ldv/share-operation/v1",
// first 8 bytes. Known before the entry is written, so the envelope's
// trace context can carry it.
OperationId ShareOperationId(std::string_view sender_id, std::string_view message_id);
TraceContext ShareTraceContext(std::string_view sender_id, std::string_view message_id);

// The trace context recorded in an inbox.received entry's reason, if any.
std::optional<TraceContext> TraceFromReason(std::string_view reason);

// The node-local key for pseudonymous subjects: BLAKE2b-256 of the node's
// deterministic Ed25519 signature over "schakel/ldv/subject-key/v1\0".
// Stable as long as the identity key is; never leaves the node.
crypto::SecureBuffer LdvSubjectKey(const crypto::SigningKeyPair& identity);
// "urn:schakel:pseudonym:" + 32 hex digits of HMAC-SHA-256(key, subject).
// REQUIRES: key is 32 bytes.
std::string PseudonymOf(std::string_view subject, std::span<const uint8_t> key);
// "urn:schakel:purpose:<purpose>" (bytes outside [A-Za-z0-9._-]
// percent-encoded).
std::string ProcessingActivityId(std::string_view purpose);
// "urn:schakel:node:<node_id>".
std::string NodeEntityId(std::string_view node_id);

struct LdvOptions {
  std::string node_id;                   // this node: the entity of every record
  std::span<const uint8_t> subject_key;  // 32 bytes, LdvSubjectKey
};

// Reads a plain export (docs/audit.md "Export") and writes one LDV record
// per entry (JSON Lines; checkpoints are left out). kInvalidInput naming the
// line when the plain export is malformed. Does not verify the chain: the
// node writing it just signed it, and `audit verify` checks the plain one.
Status ExportLdv(std::istream& plain_export, const LdvOptions& options, std::ostream& out);

}  // namespace schakel::audit
