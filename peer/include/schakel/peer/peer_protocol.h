// The peer protocol's frames: what two nodes say to each other inside their
// mutual-TLS connection (docs/peer-protocol.md is the full description).
//
// A frame is a 5-byte header, u32 payload length (big-endian) then u8 frame
// type, followed by the payload. The first frame each way is HELLO (versions
// and node id); then the client sends DELIVER frames and the server answers
// each with RESPONSE (the handler's answer) or FAILURE (the handler's error),
// in order. From version 3 a client may send a batch: up to
// kMaxBatchEnvelopes frames, each but the last a DELIVER_MORE and the last a
// DELIVER, all sent before any answer; the server answers each in order
// after it has stored the batch (one transaction). ERROR is fatal: its
// sender closes the connection after it.
//
// This header is pure encoding and decoding: no sockets, no keys. Decoders
// take untrusted bytes and return bounded, checked values (STYLE item 8), so
// that the code holding keys never parses the wire itself. Numbers of frame
// types and error codes go on the wire and are never renumbered.
//
// Errors: decoders return kInvalidInput naming what is wrong. Thread-safe
// (pure functions).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "schakel/base/status.h"

namespace schakel::peer {

// The protocol versions this build speaks; HELLO offers the range.
// Version 2: the sender understands a signed refusal ("SCHN") in a RESPONSE;
// to a version-1 sender a refusal goes as FAILURE "refused: <code>".
// Version 3: batches (DELIVER_MORE ... DELIVER), answered in order.
// Version 4: a revocation may be answered with a signed adoption notice
// (the recipient adopted the share into its dossier and keeps it); to an
// older sender that answer goes as FAILURE "adopted into dossier: ...".
// Version 5: a share's DELIVER payload may carry the sender's W3C trace
// context before the envelope ("SCHT", trace_context.h); a sender wraps
// its envelopes only on connections of version 5 or later.
inline constexpr uint16_t kPeerProtocolMinVersion = 1;
// Version 5: a DELIVER may ask the partner to witness an audit checkpoint
// ("SCHW", audit/witness.h), answered with a countersignature ("SCHC").
// Version 6: a DELIVER may carry the sender's own newer node card ("SCHA",
// card_announce.h), after a key rotation; a sender announces only on
// connections of version 6 or later.
// Version 7: a DELIVER may carry a regional directory the sender holds
// ("SCHD", directory_announce.h), passed along to the partners that
// directory brought it; answered taken, held or unknown.
inline constexpr uint16_t kPeerProtocolMaxVersion = 7;
// The first version whose senders take a signed refusal as an answer.
inline constexpr uint16_t kPeerProtocolRefusalVersion = 2;
// The first version that may send DELIVER_MORE.
inline constexpr uint16_t kPeerProtocolBatchVersion = 3;
// The first version whose senders take an adoption notice as an answer.
inline constexpr uint16_t kPeerProtocolAdoptVersion = 4;
// The first version whose DELIVER of a share may carry a trace context.
inline constexpr uint16_t kPeerProtocolTraceVersion = 5;
// The first version whose servers witness audit checkpoints.
inline constexpr uint16_t kPeerProtocolWitnessVersion = 5;
// The first version whose servers take a partner's newer card from it.
inline constexpr uint16_t kPeerProtocolCardVersion = 6;
// The first version whose servers take a regional directory from a partner.
inline constexpr uint16_t kPeerProtocolDirectoryVersion = 7;
// A batch: at most this many requests, and at most kMaxBatchBytes of
// payloads together unless it holds one request alone (a large envelope
// goes by itself). A server refuses a longer batch (ERROR
// protocol_violation); a client never sends one.
inline constexpr size_t kMaxBatchEnvelopes = 32;
inline constexpr size_t kMaxBatchBytes = 1024 * 1024;

inline constexpr size_t kFrameHeaderBytes = 5;
// Payload limit for every frame before both HELLOs are exchanged: a peer that
// has not identified itself may not make us allocate more than this.
inline constexpr size_t kMaxHandshakeFramePayloadBytes = 512;
// Default payload limit after HELLO: a 16 MiB envelope (docs/envelope.md)
// plus room for what the delivery layer wraps around it.
inline constexpr size_t kDefaultMaxFramePayloadBytes = 16 * 1024 * 1024 + 64 * 1024;
// ERROR and FAILURE messages are cut to this many bytes.
inline constexpr size_t kMaxPeerMessageBytes = 200;

enum class FrameType : uint8_t {
  kHello = 1,     // both ways, first frame: versions + node id
  kDeliver = 2,   // client -> server: an opaque request
  kResponse = 3,  // server -> client: the handler's answer to the last DELIVER
  kFailure = 4,   // server -> client: the handler refused the last DELIVER; not fatal
  kError = 5,     // either way: fatal protocol error; the sender closes
  // client -> server, version 3: a request with more of its batch to follow;
  // the batch ends with a DELIVER.
  kDeliverMore = 6,
};
// "HELLO", "DELIVER", ...; "type 0x07" for an unknown byte.
std::string FrameTypeName(uint8_t type);

// Codes of ERROR frames.
enum class PeerErrorCode : uint16_t {
  kProtocolViolation = 1,   // malformed frame, unknown or unexpected frame type
  kFrameTooLarge = 2,       // announced payload length above the receiver's limit
  kUnsupportedVersion = 3,  // no protocol version in common
  kIdentityMismatch = 4,    // HELLO node id is not the node the TLS key is pinned to
  kTimeout = 5,             // handshake or frame not complete within its deadline
  kIdleTimeout = 6,         // no frame started within the idle timeout
  kTooManyConnections = 7,  // the partner already has its allowed connections
  kShuttingDown = 8,        // the node is stopping
  kInternal = 9,            // the sender hit a bug or an unexpected failure
};
// "protocol_violation", "frame_too_large", ...; "code 17" when unknown.
std::string PeerErrorCodeName(uint16_t code);

struct FrameHeader {
  uint32_t payload_size = 0;
  uint8_t type = 0;  // raw byte: the reader decides what it accepts
};

std::array<uint8_t, kFrameHeaderBytes> EncodeFrameHeader(FrameType type, uint32_t payload_size);
FrameHeader DecodeFrameHeader(std::span<const uint8_t, kFrameHeaderBytes> bytes);

// HELLO payload: u16 min_version, u16 max_version, u8 n, n bytes node id.
// Trailing bytes after the node id are ignored (room for later versions).
struct Hello {
  uint16_t min_version = kPeerProtocolMinVersion;
  uint16_t max_version = kPeerProtocolMaxVersion;
  std::string node_id;  // [a-z0-9-]{3,64}
};
std::string EncodeHello(const Hello& hello);
Result<Hello> DecodeHello(std::string_view payload);
// The highest version both sides speak; nullopt when the ranges do not meet.
std::optional<uint16_t> NegotiateVersion(const Hello& ours, const Hello& theirs);

// ERROR payload: u16 code, then a short ASCII message (the rest).
struct PeerError {
  uint16_t code = 0;
  std::string message;
};
std::string EncodeError(PeerErrorCode code, std::string_view message);
// Lenient on the message (non-printable bytes become '?', cut to
// kMaxPeerMessageBytes): an ERROR ends the connection either way.
Result<PeerError> DecodeError(std::string_view payload);

// FAILURE payload: u8 status code (schakel::Code, never renumbered), then a
// short ASCII message. Carries a handler's non-OK Status to the client.
std::string EncodeFailure(const Status& status);
// The peer's Status, always non-OK: an OK or unknown code becomes kInternal,
// and so does an empty (malformed) payload.
Status DecodeFailure(std::string_view payload);

}  // namespace schakel::peer
