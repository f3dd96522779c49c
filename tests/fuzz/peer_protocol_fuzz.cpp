// The peer protocol's decoders (daemon/peer_protocol.h) on arbitrary bytes:
// the first five bytes as a frame header, the rest as a HELLO, ERROR and
// FAILURE payload. Round trips: the header re-encodes to the same five bytes;
// a HELLO that decodes re-encodes and decodes to the same values; ERROR and
// FAILURE decode, re-encode and decode to the same code and message.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fuzz_support.h"
#include "schakel/base/status.h"
#include "schakel/peer/peer_protocol.h"

namespace {

namespace daemon = schakel::peer;

void CheckHeader(std::string_view bytes) {
  if (bytes.size() < daemon::kFrameHeaderBytes) return;
  std::array<uint8_t, daemon::kFrameHeaderBytes> raw{};
  std::copy_n(bytes.begin(), raw.size(), reinterpret_cast<char*>(raw.data()));
  const daemon::FrameHeader header = daemon::DecodeFrameHeader(raw);
  const auto encoded = daemon::EncodeFrameHeader(static_cast<daemon::FrameType>(header.type), header.payload_size);
  FUZZ_CHECK(encoded == raw);
  FUZZ_CHECK(!daemon::FrameTypeName(header.type).empty());
}

void CheckHello(std::string_view payload) {
  auto hello = daemon::DecodeHello(payload);
  if (!hello.ok()) return;
  auto again = daemon::DecodeHello(daemon::EncodeHello(*hello));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->min_version == hello->min_version);
  FUZZ_CHECK(again->max_version == hello->max_version);
  FUZZ_CHECK(again->node_id == hello->node_id);
  const daemon::Hello ours;
  const auto version = daemon::NegotiateVersion(ours, *hello);
  if (version) {
    FUZZ_CHECK(*version >= hello->min_version && *version <= hello->max_version);
    FUZZ_CHECK(*version >= ours.min_version && *version <= ours.max_version);
  }
}

void CheckError(std::string_view payload) {
  auto error = daemon::DecodeError(payload);
  if (!error.ok()) return;
  FUZZ_CHECK(error->message.size() <= daemon::kMaxPeerMessageBytes);
  FUZZ_CHECK(!daemon::PeerErrorCodeName(error->code).empty());
  auto again =
      daemon::DecodeError(daemon::EncodeError(static_cast<daemon::PeerErrorCode>(error->code), error->message));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->code == error->code);
  FUZZ_CHECK(again->message == error->message);
}

void CheckFailure(std::string_view payload) {
  const schakel::Status status = daemon::DecodeFailure(payload);
  FUZZ_CHECK(!status.ok());
  FUZZ_CHECK(status.message().size() <= daemon::kMaxPeerMessageBytes);
  const schakel::Status again = daemon::DecodeFailure(daemon::EncodeFailure(status));
  FUZZ_CHECK(again.code() == status.code());
  FUZZ_CHECK(again.message() == status.message());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = schakel::fuzz::AsText(data, size);
  CheckHeader(bytes);
  const std::string_view payload = bytes.substr(std::min(bytes.size(), daemon::kFrameHeaderBytes));
  CheckHello(payload);
  CheckError(payload);
  CheckFailure(payload);
  return 0;
}
