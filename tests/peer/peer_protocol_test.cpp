// The peer protocol's pieces without a network: frame codecs, the HELLO and
// version negotiation, ERROR frames, and the pin verifier.
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>

#include "schakel/peer/peer_protocol.h"
#include "schakel/peer/peer_tls.h"

namespace schakel::peer {
namespace {

TEST(PeerProtocolTest, FrameHeaderIsLengthThenType) {
  auto h = EncodeFrameHeader(FrameType::kDeliver, 0x01020304);
  EXPECT_EQ(h, (std::array<uint8_t, 5>{1, 2, 3, 4, 2}));
  FrameHeader d = DecodeFrameHeader(std::array<uint8_t, 5>{0xff, 0xff, 0xff, 0xff, 0x7f});
  EXPECT_EQ(d.payload_size, 0xffffffffu);
  EXPECT_EQ(d.type, 0x7f);
}

TEST(PeerProtocolTest, HelloRoundTripAndStrictChecks) {
  Hello h;
  h.node_id = "school-a";
  std::string bytes = EncodeHello(h);
  EXPECT_EQ(bytes, std::string("\x00\x01\x00\x07\x08school-a", 13));
  Result<Hello> back = DecodeHello(bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->node_id, "school-a");
  EXPECT_EQ(back->min_version, 1);
  EXPECT_EQ(back->max_version, 7);
  // Later versions may append fields.
  EXPECT_TRUE(DecodeHello(bytes + "more").ok());

  EXPECT_FALSE(DecodeHello(std::string("\x00\x01\x00\x01", 4)).ok());               // short
  EXPECT_FALSE(DecodeHello(std::string("\x00\x01\x00\x01\x09school-a", 13)).ok());  // runs past
  EXPECT_FALSE(DecodeHello(std::string("\x00\x01\x00\x01\x08School-A", 13)).ok());  // charset
  EXPECT_FALSE(DecodeHello(std::string("\x00\x01\x00\x01\x02"
                                       "ab",
                                       7))
                   .ok());                                                          // too short id
  EXPECT_FALSE(DecodeHello(std::string("\x00\x00\x00\x01\x08school-a", 13)).ok());  // version 0
  EXPECT_FALSE(DecodeHello(std::string("\x00\x03\x00\x02\x08school-a", 13)).ok());  // min > max
}

TEST(PeerProtocolTest, VersionNegotiationPicksHighestCommon) {
  Hello a, b;
  a.min_version = 1;
  a.max_version = 3;
  b.min_version = 2;
  b.max_version = 5;
  EXPECT_EQ(NegotiateVersion(a, b), std::optional<uint16_t>(3));
  b.min_version = 4;
  EXPECT_EQ(NegotiateVersion(a, b), std::nullopt);
}

TEST(PeerProtocolTest, ErrorAndFailureFramesCarryCodesAndCleanMessages) {
  std::string e = EncodeError(PeerErrorCode::kFrameTooLarge, "too big\n\x01");
  Result<PeerError> pe = DecodeError(e);
  ASSERT_TRUE(pe.ok());
  EXPECT_EQ(pe->code, static_cast<uint16_t>(PeerErrorCode::kFrameTooLarge));
  EXPECT_EQ(pe->message, "too big??");
  EXPECT_FALSE(DecodeError("x").ok());
  EXPECT_EQ(PeerErrorCodeName(2), "frame_too_large");
  EXPECT_EQ(PeerErrorCodeName(999), "code 999");

  Status s = DecodeFailure(EncodeFailure(Status::NotFound("no such message")));
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "no such message");
  EXPECT_EQ(DecodeFailure(std::string(1, '\x00')).code(), Code::kInternal);  // OK is no failure
  EXPECT_EQ(DecodeFailure(std::string(1, '\x63')).code(), Code::kInternal);  // unknown code
  EXPECT_EQ(DecodeFailure("").code(), Code::kInternal);
  EXPECT_EQ(DecodeFailure(EncodeFailure(Status::Denied(std::string(500, 'x')))).message().size(), kMaxPeerMessageBytes);
}
TEST(PeerVerifierTest, LookupDecidesAndThrowingLookupRefuses) {
  SpkiPin a{};
  a[0] = 1;
  SpkiPin b{};
  b[0] = 2;
  PeerVerifier one(ExpectOnePin(a, "school-a"));
  EXPECT_FALSE(one.CheckPin(b));
  EXPECT_TRUE(one.saw_certificate());
  EXPECT_FALSE(one.accepted());
  EXPECT_TRUE(one.CheckPin(a));
  EXPECT_EQ(one.node_id(), "school-a");

  PeerVerifier throwing([](const SpkiPin&) -> std::optional<std::string> { throw std::runtime_error("store locked"); });
  EXPECT_FALSE(throwing.CheckPin(a));
  EXPECT_FALSE(throwing.accepted());
  EXPECT_EQ(PinHex(a).size(), 64u);
  EXPECT_EQ(PinHex(a).substr(0, 4), "0100");
}

}  // namespace
}  // namespace schakel::peer
