#include "schakel/peer/peer_protocol.h"

#include <algorithm>

#include "schakel/base/strings.h"

namespace schakel::peer {
namespace {

void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

uint16_t GetU16(std::string_view in, size_t at) {
  return static_cast<uint16_t>((static_cast<unsigned>(static_cast<uint8_t>(in[at])) << 8) |
                               static_cast<uint8_t>(in[at + 1]));
}

// Messages from a peer are shown in logs and Status messages: keep them short
// and plain ASCII, whatever the peer sent.
std::string SanitiseMessage(std::string_view text) {
  std::string out;
  size_t n = std::min(text.size(), kMaxPeerMessageBytes);
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  return out;
}

}  // namespace

std::string FrameTypeName(uint8_t type) {
  switch (static_cast<FrameType>(type)) {
    case FrameType::kHello:
      return "HELLO";
    case FrameType::kDeliver:
      return "DELIVER";
    case FrameType::kResponse:
      return "RESPONSE";
    case FrameType::kFailure:
      return "FAILURE";
    case FrameType::kError:
      return "ERROR";
    case FrameType::kDeliverMore:
      return "DELIVER_MORE";
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string name = "type 0x";
  name.push_back(kDigits[type >> 4]);
  name.push_back(kDigits[type & 0x0f]);
  return name;
}

std::string PeerErrorCodeName(uint16_t code) {
  switch (static_cast<PeerErrorCode>(code)) {
    case PeerErrorCode::kProtocolViolation:
      return "protocol_violation";
    case PeerErrorCode::kFrameTooLarge:
      return "frame_too_large";
    case PeerErrorCode::kUnsupportedVersion:
      return "unsupported_version";
    case PeerErrorCode::kIdentityMismatch:
      return "identity_mismatch";
    case PeerErrorCode::kTimeout:
      return "timeout";
    case PeerErrorCode::kIdleTimeout:
      return "idle_timeout";
    case PeerErrorCode::kTooManyConnections:
      return "too_many_connections";
    case PeerErrorCode::kShuttingDown:
      return "shutting_down";
    case PeerErrorCode::kInternal:
      return "internal";
  }
  return "code " + std::to_string(code);
}

std::array<uint8_t, kFrameHeaderBytes> EncodeFrameHeader(FrameType type, uint32_t payload_size) {
  return {static_cast<uint8_t>(payload_size >> 24), static_cast<uint8_t>(payload_size >> 16),
          static_cast<uint8_t>(payload_size >> 8), static_cast<uint8_t>(payload_size), static_cast<uint8_t>(type)};
}

FrameHeader DecodeFrameHeader(std::span<const uint8_t, kFrameHeaderBytes> bytes) {
  FrameHeader h;
  h.payload_size = (static_cast<uint32_t>(bytes[0]) << 24) | (static_cast<uint32_t>(bytes[1]) << 16) |
                   (static_cast<uint32_t>(bytes[2]) << 8) | static_cast<uint32_t>(bytes[3]);
  h.type = bytes[4];
  return h;
}

std::string EncodeHello(const Hello& hello) {
  std::string out;
  out.reserve(5 + hello.node_id.size());
  PutU16(out, hello.min_version);
  PutU16(out, hello.max_version);
  // Node ids are at most 64 bytes (IsValidNodeId); the encoder is only fed
  // our own, checked id.
  out.push_back(static_cast<char>(std::min<size_t>(hello.node_id.size(), 255)));
  out.append(hello.node_id, 0, std::min<size_t>(hello.node_id.size(), 255));
  return out;
}

Result<Hello> DecodeHello(std::string_view payload) {
  if (payload.size() < 5) return Status::InvalidInput("HELLO: shorter than 5 bytes");
  Hello hello;
  hello.min_version = GetU16(payload, 0);
  hello.max_version = GetU16(payload, 2);
  size_t n = static_cast<uint8_t>(payload[4]);
  if (hello.min_version == 0 || hello.min_version > hello.max_version) {
    return Status::InvalidInput("HELLO: bad version range");
  }
  if (payload.size() < 5 + n) return Status::InvalidInput("HELLO: node id runs past the frame");
  std::string_view id = payload.substr(5, n);
  if (!IsValidNodeId(id)) return Status::InvalidInput("HELLO: node id is not [a-z0-9-]{3,64}");
  hello.node_id.assign(id);
  return hello;
}

std::optional<uint16_t> NegotiateVersion(const Hello& ours, const Hello& theirs) {
  uint16_t low = std::max(ours.min_version, theirs.min_version);
  uint16_t high = std::min(ours.max_version, theirs.max_version);
  if (low > high) return std::nullopt;
  return high;
}

std::string EncodeError(PeerErrorCode code, std::string_view message) {
  std::string out;
  std::string text = SanitiseMessage(message);
  out.reserve(2 + text.size());
  PutU16(out, static_cast<uint16_t>(code));
  out += text;
  return out;
}

Result<PeerError> DecodeError(std::string_view payload) {
  if (payload.size() < 2) return Status::InvalidInput("ERROR: shorter than 2 bytes");
  PeerError e;
  e.code = GetU16(payload, 0);
  e.message = SanitiseMessage(payload.substr(2));
  return e;
}

std::string EncodeFailure(const Status& status) {
  std::string out;
  std::string text = SanitiseMessage(status.message());
  Code code = status.ok() ? Code::kInternal : status.code();
  out.push_back(static_cast<char>(code));
  out += text;
  return out;
}

Status DecodeFailure(std::string_view payload) {
  if (payload.empty()) return Status::Internal("malformed FAILURE frame (empty)");
  auto raw = static_cast<uint8_t>(payload[0]);
  std::string message = SanitiseMessage(payload.substr(1));
  switch (static_cast<Code>(raw)) {
    case Code::kInvalidInput:
      return Status::InvalidInput(std::move(message));
    case Code::kNotFound:
      return Status::NotFound(std::move(message));
    case Code::kAlreadyExists:
      return Status::AlreadyExists(std::move(message));
    case Code::kDenied:
      return Status::Denied(std::move(message));
    case Code::kUnauthenticated:
      return Status::Unauthenticated(std::move(message));
    case Code::kIoError:
      return Status::IoError(std::move(message));
    case Code::kUnavailable:
      return Status::Unavailable(std::move(message));
    case Code::kCorruption:
      return Status::Corruption(std::move(message));
    case Code::kResourceExhausted:
      return Status::ResourceExhausted(std::move(message));
    case Code::kOk:
    case Code::kInternal:
      break;
  }
  return Status::Internal(std::move(message));
}

}  // namespace schakel::peer
