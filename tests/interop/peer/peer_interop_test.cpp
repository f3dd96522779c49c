// The conformance kit of docs/peer-protocol.md and docs/envelope.md (issue
// 23): another vendor implements the frames and the signed objects from the
// documents alone, and tests/interop/peer/ holds what proves it can. The
// vectors (*.kat) are written by reference.py, a reader written from the
// documents in Python with OpenSSL, not from this code. This test holds the
// C++ code to them three ways:
//   (a) it builds every vector from the same seeds and compares byte for
//       byte, and parses and verifies each;
//   (b) it makes fresh objects and frames with random keys and the real
//       encoders, and the Python reader must accept them;
//   (c) a tampering corpus both must refuse, while both accept the untampered.
// Python and its `cryptography` package are required: a missing one fails
// the test (SCHAKEL_PYTHON3, chosen in CMakeLists.txt), it is never skipped.
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "envelope_testing.h"
#include "kat_support.h"
#include "schakel/base/strings.h"
#include "schakel/base/time.h"
#include "schakel/crypto/envelope.h"
#include "schakel/peer/peer_protocol.h"
#include "schakel/peer/trace_context.h"

namespace schakel {
namespace {

using namespace crypto;  // NOLINT(google-build-using-namespace): a test of both modules
using namespace peer;    // NOLINT(google-build-using-namespace)

// A vector: "key = value" lines; binary values in hex.
using Block = schakel::testing::KatBlock;

const std::string kDir = std::string(SCHAKEL_SOURCE_DIR) + "/tests/interop/peer";

// ----- reading and writing vector files -----------------------------------------

std::vector<Block> ReadBlocks(const std::string& path) { return schakel::testing::ReadKatBlocks(path); }

Block Vector(const std::string& file) {
  std::vector<Block> blocks = ReadBlocks(kDir + "/" + file);
  EXPECT_EQ(blocks.size(), 1u) << file;
  return blocks.empty() ? Block{} : blocks.front();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string WriteBlocks(const std::vector<Block>& blocks, const std::string& name) {
  std::string path = ::testing::TempDir() + "/interop_" + name + ".kat";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const Block& b : blocks) {
    for (const auto& [k, v] : b) out << k << " = " << v << "\n";
    out << "\n";
  }
  return path;
}

std::string Bytes(const std::string& hex) {
  auto v = FromHex(hex);
  EXPECT_TRUE(v.has_value()) << hex;
  return v ? std::string(v->begin(), v->end()) : std::string();
}

std::string Hex(std::string_view bytes) {
  return ToHex({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}

Instant At(const std::string& text) { return ParseInstant(text).value(); }

SigningKeyPair FromSeed(const std::string& seed_hex) {
  EnsureInitialised();
  std::string seed = Bytes(seed_hex);
  EXPECT_EQ(seed.size(), 32u);
  seed.resize(32);
  PublicKey pk{};
  SecureBuffer sk(64);
  crypto_sign_seed_keypair(pk.data(), sk.data(), reinterpret_cast<const uint8_t*>(seed.data()));
  return std::move(SigningKeyPairFromSecret(sk.span())).value();
}

PublicKey KeyOf(const std::string& hex) {
  std::string b = Bytes(hex);
  PublicKey pk{};
  if (b.size() == pk.size()) std::copy(b.begin(), b.end(), pk.begin());
  return pk;
}

// ----- the Python reference reader ------------------------------------------------

struct PythonRun {
  int exit_code = -1;
  std::string output;
};

PythonRun Python(const std::string& args) {
  std::string cmd = std::string(SCHAKEL_PYTHON3) + " " + kDir + "/reference.py " + args + " 2>&1";
  PythonRun run;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 512> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) run.output.append(buf.data(), n);
  int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

PythonRun PythonCheck(const std::vector<Block>& blocks, const std::string& name) {
  return Python("check '" + WriteBlocks(blocks, name) + "'");
}

// ----- the C++ reader: the real decoders and verifiers -----------------------------

Status Differs(const std::string& what) { return Status::InvalidInput(what + " differs from the expected one"); }

Status CheckReceipt(const Block& b) {
  SCHAKEL_ASSIGN_OR_RETURN(Receipt r, DecodeReceipt(Bytes(b.at("receipt"))));
  EnvelopeHeader sent;
  sent.message_id = b.at("message_id");
  sent.sender_id = b.at("sender_id");
  sent.recipient_id = b.at("recipient_id");
  BodyHash hash{};
  std::string h = Bytes(b.at("body_hash"));
  if (h.size() != hash.size()) return Differs("body_hash");
  std::copy(h.begin(), h.end(), hash.begin());
  SCHAKEL_RETURN_IF_ERROR(VerifyReceipt(r, KeyOf(b.at("recipient_sign_pk")), sent, hash));
  return r.received == At(b.at("received")) ? Status::Ok() : Differs("received");
}

Status CheckRefusal(const Block& b) {
  SCHAKEL_ASSIGN_OR_RETURN(Refusal r, DecodeRefusal(Bytes(b.at("refusal"))));
  SCHAKEL_RETURN_IF_ERROR(
      VerifyRefusal(r, KeyOf(b.at("recipient_sign_pk")), b.at("message_id"), b.at("sender_id"), b.at("recipient_id")));
  if (RefusalCodeName(r.code) != b.at("code")) return Differs("code");
  return r.refused_at == At(b.at("refused_at")) ? Status::Ok() : Differs("refused_at");
}

Status CheckRevocation(const Block& b) {
  SCHAKEL_ASSIGN_OR_RETURN(Revocation v, DecodeRevocation(Bytes(b.at("revocation"))));
  SCHAKEL_RETURN_IF_ERROR(VerifyRevocation(v, KeyOf(b.at("sender_sign_pk")), b.at("recipient_id")));
  if (v.message_id != b.at("message_id") || v.sender_id != b.at("sender_id")) return Differs("message or sender");
  if (v.reason != b.at("reason")) return Differs("reason");
  return v.revoked_at == At(b.at("revoked_at")) ? Status::Ok() : Differs("revoked_at");
}

Status CheckPurgeConfirmation(const Block& b, std::string_view json) {
  SCHAKEL_ASSIGN_OR_RETURN(PurgeConfirmation c,
                           VerifyPurgeConfirmation(json, b.at("message_id"), b.at("sender_id"), b.at("recipient_id"),
                                                   KeyOf(b.at("recipient_sign_pk"))));
  if (c.version != 2 || !c.held) return Status::InvalidInput("not a version-2 purge confirmation");
  return (*c.held ? "true" : "false") == b.at("held") ? Status::Ok() : Differs("held");
}

Status CheckAdoptionNotice(const Block& b) {
  SCHAKEL_ASSIGN_OR_RETURN(AdoptionNotice n,
                           VerifyAdoptionNotice(b.at("notice"), b.at("message_id"), b.at("sender_id"),
                                                b.at("recipient_id"), KeyOf(b.at("recipient_sign_pk"))));
  if (n.basis != b.at("basis")) return Differs("basis");
  return n.adopted_at == b.at("adopted_at") ? Status::Ok() : Differs("adopted_at");
}

Status CheckEnvelope(const Block& b) {
  // The identity only signs the encryption key (identity.h), which opening
  // does not use: a vector need not give it.
  SigningKeyPair recipient = b.count("recipient_seed") ? FromSeed(b.at("recipient_seed")) : GenerateSigningKeyPair();
  std::string secret = Bytes(b.at("recipient_enc_secret"));
  SCHAKEL_ASSIGN_OR_RETURN(
      EncryptionKeyPair enc,
      EncryptionKeyPairFromSecret({reinterpret_cast<const uint8_t*>(secret.data()), secret.size()}, recipient));
  SCHAKEL_ASSIGN_OR_RETURN(Opened opened,
                           Open(Bytes(b.at("envelope")), enc, KeyOf(b.at("sender_sign_pk")), b.at("recipient_id")));
  const EnvelopeHeader& h = opened.header();
  if (h.message_id != b.at("message_id") || h.sender_id != b.at("sender_id")) return Differs("message or sender");
  if (h.purpose != b.at("purpose") || h.content_type != b.at("content_type")) return Differs("purpose or type");
  if (h.created != At(b.at("created")) || h.retain_until != At(b.at("retain_until"))) return Differs("times");
  return Hex(opened.body()) == b.at("body") ? Status::Ok() : Differs("body");
}

// What a frame carries, parsed by the decoder its receiver uses.
Status CheckCarried(const Block& b, std::string_view payload) {
  const std::string& carries = b.at("carries");
  if (carries == "envelope") return PeekHeader(payload).status();
  if (carries == "traced_envelope") {
    // As the inbox reads it (inbox_handler.cpp): only from version 5.
    if (std::stoi(b.at("version")) < kPeerProtocolTraceVersion) return Status::InvalidInput("trace context below 5");
    SCHAKEL_ASSIGN_OR_RETURN(Traced traced, UnwrapTraced(payload));
    if (audit::FormatTraceparent(traced.trace) != b.at("traceparent")) return Differs("traceparent");
    return PeekHeader(traced.envelope).status();
  }
  if (carries == "receipt") return DecodeReceipt(payload).status();
  if (carries == "refusal") return DecodeRefusal(payload).status();
  if (carries == "revocation") return DecodeRevocation(payload).status();
  if (carries == "purge_confirmation") return CheckPurgeConfirmation(b, payload);
  return Status::InvalidInput("unknown payload kind " + carries);
}

// A frame as the peer server and client read it (peer_session.cpp,
// peer_client.cpp): header, the limit of the connection's state, exactly
// its length, a known type allowed in that state, then the payload's
// decoder. The sockets are not needed for any of it.
Status CheckFrame(const Block& b) {
  std::string data = Bytes(b.at("frame"));
  if (data.size() < kFrameHeaderBytes) return Status::InvalidInput("shorter than a frame header");
  std::array<uint8_t, kFrameHeaderBytes> raw{};
  std::copy_n(data.begin(), kFrameHeaderBytes, raw.begin());
  FrameHeader h = DecodeFrameHeader(raw);
  const bool handshake = b.at("state") == "handshake";
  const size_t limit = handshake ? kMaxHandshakeFramePayloadBytes : kDefaultMaxFramePayloadBytes;
  if (h.payload_size > limit) return Status::InvalidInput("frame_too_large");
  if (data.size() < kFrameHeaderBytes + h.payload_size) return Status::InvalidInput("truncated");
  if (data.size() > kFrameHeaderBytes + h.payload_size) return Status::InvalidInput("bytes after the frame");
  const std::string type = FrameTypeName(h.type);
  if (type.starts_with("type 0x")) return Status::InvalidInput("unknown frame type");
  if (type != b.at("type")) return Differs("type");
  // Before both HELLOs only HELLO (or ERROR); after them no HELLO.
  if (handshake ? type != "HELLO" && type != "ERROR" : type == "HELLO") {
    return Status::InvalidInput(type + " not allowed in state " + b.at("state"));
  }
  if (h.type == static_cast<uint8_t>(FrameType::kDeliverMore) &&
      std::stoi(b.at("version")) < kPeerProtocolBatchVersion) {
    return Status::InvalidInput("DELIVER_MORE below version 3");
  }
  std::string_view payload = std::string_view(data).substr(kFrameHeaderBytes);
  switch (static_cast<FrameType>(h.type)) {
    case FrameType::kHello: {
      SCHAKEL_ASSIGN_OR_RETURN(Hello hello, DecodeHello(payload));
      bool same = hello.min_version == std::stoi(b.at("min_version")) &&
                  hello.max_version == std::stoi(b.at("max_version")) && hello.node_id == b.at("node_id");
      return same ? Status::Ok() : Differs("HELLO");
    }
    case FrameType::kError: {
      SCHAKEL_ASSIGN_OR_RETURN(PeerError e, DecodeError(payload));
      bool same = e.code == std::stoi(b.at("code")) && e.message == b.at("message");
      return same ? Status::Ok() : Differs("ERROR");
    }
    case FrameType::kFailure: {
      if (payload.empty()) return Status::InvalidInput("empty FAILURE");
      Status failure = DecodeFailure(payload);
      bool same = static_cast<int>(failure.code()) == std::stoi(b.at("code")) && failure.message() == b.at("message");
      return same ? Status::Ok() : Differs("FAILURE");
    }
    case FrameType::kDeliver:
    case FrameType::kResponse:
    case FrameType::kDeliverMore:
      return CheckCarried(b, payload);
  }
  return Status::InvalidInput("unknown frame type");
}

Status CheckBlock(const Block& b) {
  const std::string& kind = b.at("kind");
  if (kind == "receipt") return CheckReceipt(b);
  if (kind == "refusal") return CheckRefusal(b);
  if (kind == "revocation") return CheckRevocation(b);
  if (kind == "purge_confirmation") return CheckPurgeConfirmation(b, b.at("confirmation"));
  if (kind == "adoption_notice") return CheckAdoptionNotice(b);
  if (kind == "envelope") return CheckEnvelope(b);
  if (kind == "frame") return CheckFrame(b);
  return Status::InvalidInput("unknown kind " + kind);
}

// A vector that lacks a key the C++ reader needs is refused, as Python does.
Status CheckWithCpp(const Block& b) {
  try {
    return CheckBlock(b);
  } catch (const std::out_of_range&) {
    return Status::InvalidInput("malformed vector: a key is missing");
  }
}

// ----- building the objects with the C++ code ------------------------------------

EnvelopeHeader HeaderOf(const Block& b) {
  EnvelopeHeader h;
  h.message_id = b.at("message_id");
  h.sender_id = b.at("sender_id");
  h.recipient_id = b.at("recipient_id");
  h.created = At(b.at("created"));
  h.retain_until = At(b.at("retain_until"));
  h.purpose = b.at("purpose");
  std::stringstream ss(b.at("consent_ids"));
  for (std::string id; std::getline(ss, id, ',');) h.consent_ids.push_back(id);
  h.content_type = b.at("content_type");
  return h;
}

EncryptionKeyPair EncKeyOf(const Block& env) {
  std::string secret = Bytes(env.at("recipient_enc_secret"));
  return EncryptionKeyPairFromSecret({reinterpret_cast<const uint8_t*>(secret.data()), secret.size()},
                                     FromSeed(env.at("recipient_seed")))
      .value();
}

std::string SealVector(const Block& b) {
  std::string esk = Bytes(b.at("ephemeral_secret"));
  std::string nonce_bytes = Bytes(b.at("nonce"));
  std::array<uint8_t, 24> nonce{};
  std::copy_n(nonce_bytes.begin(), std::min(nonce_bytes.size(), nonce.size()), nonce.begin());
  return envelope_testing::SealDeterministic(HeaderOf(b), Bytes(b.at("body")), FromSeed(b.at("sender_seed")),
                                             EncKeyOf(b).public_key,
                                             {reinterpret_cast<const uint8_t*>(esk.data()), esk.size()}, nonce)
      .value();
}

// The receipt of receipt.kat is the recipient's answer to envelope.kat: the
// C++ opens that envelope and signs its receipt.
std::string ReceiptVector(const Block& receipt, const Block& env) {
  Opened opened = Open(SealVector(env), EncKeyOf(env), KeyOf(env.at("sender_sign_pk")), env.at("recipient_id")).value();
  return EncodeReceipt(MakeReceipt(opened, At(receipt.at("received")), FromSeed(receipt.at("recipient_seed"))));
}

std::string RefusalVector(const Block& b) {
  Refusal r =
      MakeRefusal(b.at("message_id"), b.at("sender_id"), b.at("recipient_id"), ParseRefusalCode(b.at("code")).value(),
                  At(b.at("refused_at")), FromSeed(b.at("recipient_seed")))
          .value();
  return EncodeRefusal(r);
}

std::string RevocationVector(const Block& b) {
  Revocation v = MakeRevocation(b.at("message_id"), b.at("sender_id"), b.at("recipient_id"), b.at("reason"),
                                At(b.at("revoked_at")), FromSeed(b.at("sender_seed")))
                     .value();
  return EncodeRevocation(v);
}

std::string PurgeVector(const Block& b) {
  return MakePurgeConfirmation(b.at("message_id"), b.at("sender_id"), b.at("recipient_id"), b.at("held") == "true",
                               At(b.at("purged_at")), FromSeed(b.at("recipient_seed")), 2);
}

std::string AdoptionVector(const Block& b) {
  return MakeAdoptionNotice(b.at("message_id"), b.at("sender_id"), b.at("recipient_id"), At(b.at("adopted_at")),
                            b.at("basis"), FromSeed(b.at("recipient_seed")));
}

std::string Frame(FrameType type, std::string_view payload) {
  auto header = EncodeFrameHeader(type, static_cast<uint32_t>(payload.size()));
  return std::string(header.begin(), header.end()) + std::string(payload);
}

// A FAILURE's Status from its code number, as a handler would return it.
Status StatusWithCode(int code, std::string message) {
  using Make = Status (*)(std::string);
  static constexpr std::array<Make, 10> kMakers = {
      &Status::InvalidInput,    &Status::NotFound,         &Status::AlreadyExists, &Status::Denied,
      &Status::Unauthenticated, &Status::IoError,          &Status::Unavailable,   &Status::Corruption,
      &Status::Internal,        &Status::ResourceExhausted};
  return kMakers.at(static_cast<size_t>(code - 1))(std::move(message));
}

FrameType TypeNamed(const std::string& name) {
  for (uint8_t t = 1; t <= 6; ++t) {
    if (FrameTypeName(t) == name) return static_cast<FrameType>(t);
  }
  ADD_FAILURE() << "no frame type " << name;
  return FrameType::kError;
}

// A frame block's bytes from the real encoders; `carried` holds the
// C++-built objects by kind.
std::string EncodeFrameOf(const Block& b, const std::map<std::string, std::string>& carried) {
  FrameType type = TypeNamed(b.at("type"));
  switch (type) {
    case FrameType::kHello: {
      Hello hello{static_cast<uint16_t>(std::stoi(b.at("min_version"))),
                  static_cast<uint16_t>(std::stoi(b.at("max_version"))), b.at("node_id")};
      return Frame(type, EncodeHello(hello));
    }
    case FrameType::kError:
      return Frame(type, EncodeError(static_cast<PeerErrorCode>(std::stoi(b.at("code"))), b.at("message")));
    case FrameType::kFailure:
      return Frame(type, EncodeFailure(StatusWithCode(std::stoi(b.at("code")), b.at("message"))));
    default:
      return Frame(type, carried.at(b.at("carries")));
  }
}

// ----- (a) the vectors, built and read by the C++ code -------------------------------

const char* const kVectorFiles[] = {"envelope.kat",           "receipt.kat",         "refusal.kat", "revocation.kat",
                                    "purge_confirmation.kat", "adoption_notice.kat", "frames.kat"};

TEST(PeerInteropTest, PythonAndItsCryptographyPackageArePresent) {
  PythonRun run = Python("--version-check-is-usage");
  // Usage errors exit 2; an import failure (no `cryptography`) exits 1, a
  // missing interpreter 127.
  EXPECT_EQ(run.exit_code, 2) << SCHAKEL_PYTHON3 << ": " << run.output;
}

TEST(PeerInteropTest, TheCppCodeBuildsEveryObjectVectorByteForByte) {
  Block env = Vector("envelope.kat");
  EXPECT_EQ(Hex(SealVector(env)), env["envelope"]);
  EXPECT_EQ(ToHex(FromSeed(env["sender_seed"]).public_key), env["sender_sign_pk"]);
  Block receipt = Vector("receipt.kat");
  EXPECT_EQ(Hex(ReceiptVector(receipt, env)), receipt["receipt"]);
  EXPECT_EQ(ToHex(HashBody(Bytes(env["body"]))), receipt["body_hash"]);
  Block refusal = Vector("refusal.kat");
  EXPECT_EQ(Hex(RefusalVector(refusal)), refusal["refusal"]);
  Block revocation = Vector("revocation.kat");
  EXPECT_EQ(Hex(RevocationVector(revocation)), revocation["revocation"]);
  Block purge = Vector("purge_confirmation.kat");
  EXPECT_EQ(PurgeVector(purge), purge["confirmation"]);
  Block adoption = Vector("adoption_notice.kat");
  EXPECT_EQ(AdoptionVector(adoption), adoption["notice"]);
}

Block TracedBlock() {
  for (const Block& b : ReadBlocks(kDir + "/frames.kat")) {
    if (b.count("carries") && b.at("carries") == "traced_envelope") return b;
  }
  ADD_FAILURE() << "frames.kat has no traced envelope";
  return {{"traceparent", ""}};
}

TEST(PeerInteropTest, TheRealEncodersBuildEveryFrameVectorByteForByte) {
  Block env = Vector("envelope.kat");
  std::map<std::string, std::string> carried = {
      {"envelope", SealVector(env)},
      {"traced_envelope",
       WrapTraced(audit::ParseTraceparent(TracedBlock().at("traceparent")).value(), SealVector(env))},
      {"receipt", ReceiptVector(Vector("receipt.kat"), env)},
      {"refusal", RefusalVector(Vector("refusal.kat"))},
      {"revocation", RevocationVector(Vector("revocation.kat"))},
      {"purge_confirmation", PurgeVector(Vector("purge_confirmation.kat"))},
  };
  std::vector<Block> frames = ReadBlocks(kDir + "/frames.kat");
  ASSERT_GE(frames.size(), 9u);
  for (const Block& b : frames) {
    SCOPED_TRACE(b.at("name"));
    EXPECT_EQ(Hex(EncodeFrameOf(b, carried)), b.at("frame"));
  }
}

TEST(PeerInteropTest, TheCppCodeParsesAndVerifiesEveryVector) {
  for (const char* file : kVectorFiles) {
    for (const Block& b : ReadBlocks(kDir + "/" + file)) {
      SCOPED_TRACE(std::string(file) + " " + (b.count("name") ? b.at("name") : b.at("kind")));
      Status st = CheckWithCpp(b);
      EXPECT_TRUE(st.ok()) << st.message();
    }
  }
}

TEST(PeerInteropTest, ThePythonReaderAcceptsEveryVectorAndRegeneratesThemExactly) {
  std::string dir = ::testing::TempDir() + "/interop_generated";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  PythonRun gen = Python("generate '" + dir + "'");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  for (const char* file : kVectorFiles) {
    SCOPED_TRACE(file);
    EXPECT_EQ(ReadFile(dir + "/" + file), ReadFile(kDir + "/" + file))
        << "reference.py generate writes another " << file;
    PythonRun run = Python(std::string("check '") + kDir + "/" + file + "'");
    EXPECT_EQ(run.exit_code, 0) << run.output;
  }
}

// ----- (b) fresh output of the C++ code, read by Python -------------------------------

struct Fresh {
  std::vector<Block> blocks;  // receipt, refusal, revocation, purge, envelope, frames
};

Block Ids(const std::string& message_id) {
  return {{"message_id", message_id}, {"sender_id", "lvs-utrecht"}, {"recipient_id", "ggd-regio-utrecht"}};
}

Block With(Block b, std::initializer_list<std::pair<const std::string, std::string>> more) {
  for (const auto& [k, v] : more) b[k] = v;
  return b;
}

// Random keys and times of now; everything through the public API.
Fresh MakeFresh() {
  SigningKeyPair sender = GenerateSigningKeyPair();
  SigningKeyPair recipient = GenerateSigningKeyPair();
  EncryptionKeyPair enc = GenerateEncryptionKeyPair(recipient);
  Instant now = NowUtc();
  std::string when = FormatInstantMs(now);
  const std::string spk = ToHex(sender.public_key);
  const std::string rpk = ToHex(recipient.public_key);
  Block ids = Ids("fresh-" + std::to_string(randombytes_uniform(1000000)));

  EnvelopeHeader h;
  h.message_id = ids["message_id"];
  h.sender_id = ids["sender_id"];
  h.recipient_id = ids["recipient_id"];
  h.created = now;
  h.retain_until = now + std::chrono::hours(24);
  h.purpose = "verzuimmelding";
  h.consent_ids = {"c-1", "c-2"};
  h.content_type = "application/vnd.schakel.case+json";
  std::string body = R"({"case_id":"casus-fresh"})";
  std::string envelope = Seal(h, body, sender, enc.public_key).value();
  Opened opened = Open(envelope, enc, sender.public_key, h.recipient_id).value();
  std::string receipt = EncodeReceipt(MakeReceipt(opened, now, recipient));
  std::string refusal = EncodeRefusal(
      MakeRefusal(h.message_id, h.sender_id, h.recipient_id, RefusalCode::kQuota, now, recipient).value());
  std::string revocation =
      EncodeRevocation(MakeRevocation(h.message_id, h.sender_id, h.recipient_id, "sent_in_error", now, sender).value());
  std::string purge = MakePurgeConfirmation(h.message_id, h.sender_id, h.recipient_id, false, now, recipient);
  std::string notice =
      MakeAdoptionNotice(h.message_id, h.sender_id, h.recipient_id, now, "Wet publieke gezondheid art. 5", recipient);

  Fresh f;
  f.blocks.push_back(With(ids, {{"kind", "receipt"},
                                {"recipient_sign_pk", rpk},
                                {"received", when},
                                {"body_hash", ToHex(HashBody(body))},
                                {"receipt", Hex(receipt)}}));
  f.blocks.push_back(With(ids, {{"kind", "refusal"},
                                {"recipient_sign_pk", rpk},
                                {"code", "quota"},
                                {"refused_at", when},
                                {"refusal", Hex(refusal)}}));
  f.blocks.push_back(With(ids, {{"kind", "revocation"},
                                {"sender_sign_pk", spk},
                                {"reason", "sent_in_error"},
                                {"revoked_at", when},
                                {"revocation", Hex(revocation)}}));
  Block purge_block = With(ids, {{"recipient_sign_pk", rpk}, {"held", "false"}});
  f.blocks.push_back(With(purge_block, {{"kind", "purge_confirmation"}, {"confirmation", purge}}));
  f.blocks.push_back(With(ids, {{"kind", "adoption_notice"},
                                {"recipient_sign_pk", rpk},
                                {"adopted_at", when},
                                {"basis", "Wet publieke gezondheid art. 5"},
                                {"notice", notice}}));
  // Python opens it with the encryption secret: a test key, made here.
  f.blocks.push_back(With(ids, {{"kind", "envelope"},
                                {"sender_sign_pk", spk},
                                {"recipient_enc_secret", ToHex(enc.secret.span())},
                                {"created", when},
                                {"retain_until", FormatInstantMs(h.retain_until)},
                                {"purpose", h.purpose},
                                {"consent_ids", "c-1,c-2"},
                                {"content_type", h.content_type},
                                {"body", Hex(body)},
                                {"envelope", Hex(envelope)}}));

  auto frame = [&](const std::string& name, const std::string& state, FrameType type, std::string_view payload,
                   Block fields) {
    fields["kind"] = "frame";
    fields["name"] = name;
    fields["state"] = state;
    fields["version"] = "5";
    fields["type"] = FrameTypeName(static_cast<uint8_t>(type));
    fields["frame"] = Hex(Frame(type, payload));
    f.blocks.push_back(std::move(fields));
  };
  Hello hello;
  hello.node_id = h.sender_id;
  frame("hello", "handshake", FrameType::kHello, EncodeHello(hello),
        {{"min_version", "1"}, {"max_version", std::to_string(kPeerProtocolMaxVersion)}, {"node_id", h.sender_id}});
  frame("deliver", "session", FrameType::kDeliver, envelope, {{"carries", "envelope"}});
  frame("deliver-more", "session", FrameType::kDeliverMore, envelope, {{"carries", "envelope"}});
  audit::TraceContext trace;
  randombytes_buf(trace.trace_id.data(), trace.trace_id.size());
  randombytes_buf(trace.operation_id.data(), trace.operation_id.size());
  frame("traced", "session", FrameType::kDeliver, WrapTraced(trace, envelope),
        {{"carries", "traced_envelope"}, {"traceparent", audit::FormatTraceparent(trace)}});
  frame("receipt", "session", FrameType::kResponse, receipt, {{"carries", "receipt"}});
  frame("refusal", "session", FrameType::kResponse, refusal, {{"carries", "refusal"}});
  frame("revocation", "session", FrameType::kDeliver, revocation, {{"carries", "revocation"}});
  frame("purge", "session", FrameType::kResponse, purge, With(purge_block, {{"carries", "purge_confirmation"}}));
  for (int code = 1; code <= 10; ++code) {
    std::string message = "refused: code " + std::to_string(code);
    frame("failure-" + std::to_string(code), "session", FrameType::kFailure,
          EncodeFailure(StatusWithCode(code, message)), {{"code", std::to_string(code)}, {"message", message}});
  }
  for (uint16_t code = 1; code <= 9; ++code) {
    std::string name = PeerErrorCodeName(code);
    frame("error-" + name, "handshake", FrameType::kError, EncodeError(static_cast<PeerErrorCode>(code), name),
          {{"code", std::to_string(code)}, {"message", name}});
  }
  return f;
}

TEST(PeerInteropTest, ThePythonReaderAcceptsFreshOutputOfTheCppCode) {
  Fresh fresh = MakeFresh();
  for (const Block& b : fresh.blocks) {
    Status st = CheckWithCpp(b);
    EXPECT_TRUE(st.ok()) << (b.count("name") ? b.at("name") : b.at("kind")) << ": " << st.message();
  }
  PythonRun run = PythonCheck(fresh.blocks, "fresh");
  EXPECT_EQ(run.exit_code, 0) << run.output;
}

// ----- (c) the tampering corpus ------------------------------------------------------

std::string Flip(std::string s, size_t at) {
  s.at(at) = static_cast<char>(s.at(at) ^ 0x01);
  return s;
}
std::string Set(std::string s, size_t at, char c) {
  s.at(at) = c;
  return s;
}

// Magic, version 1, fields and an Ed25519 signature over label || fields:
// a well-signed object whose fields break a rule.
std::string SignedObject(const std::string& magic, const std::string& label, const std::string& fields,
                         const SigningKeyPair& key) {
  std::string labelled = label;
  labelled.push_back('\0');
  Signature sig = Sign(key, labelled + fields);
  return magic + std::string(1, '\1') + fields + std::string(sig.begin(), sig.end());
}

std::string Str(const std::string& s) {
  return std::string{static_cast<char>(s.size() >> 8), static_cast<char>(s.size())} + s;
}
std::string I64(int64_t v) {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((static_cast<uint64_t>(v) >> shift) & 0xff));
  return out;
}

struct Case {
  std::string name;
  Block block;
};

// Every way to break a signed object's bytes: `key` names the hex field.
void TamperBytes(std::vector<Case>& out, const Block& b, const std::string& key, size_t limit) {
  const std::string bytes = Bytes(b.at(key));
  auto add = [&](const std::string& name, const std::string& tampered) {
    out.push_back({key + ": " + name, With(b, {{key, Hex(tampered)}})});
  };
  add("signature byte flipped", Flip(bytes, bytes.size() - 1));
  add("message id byte flipped", Flip(bytes, 8));
  add("bad magic", Set(bytes, 0, 'X'));
  add("version 2", Set(bytes, 4, '\2'));
  add("truncated by one byte", bytes.substr(0, bytes.size() - 1));
  add("only the magic", bytes.substr(0, 4));
  add("a trailing byte", bytes + std::string(1, '\0'));
  add("over its size limit", bytes + std::string(limit + 1 - bytes.size(), '\0'));
}

std::vector<Case> TamperedObjects(const Fresh& fresh) {
  std::vector<Case> out;
  const Block& receipt = fresh.blocks[0];
  const Block& refusal = fresh.blocks[1];
  const Block& revocation = fresh.blocks[2];
  TamperBytes(out, receipt, "receipt", 1024);
  TamperBytes(out, refusal, "refusal", kMaxRefusalBytes);
  TamperBytes(out, revocation, "revocation", 2048);
  // Another signer: the object is intact, the key pinned for its signer is not its key.
  out.push_back({"receipt: signed by another key",
                 With(receipt, {{"recipient_sign_pk", ToHex(GenerateSigningKeyPair().public_key)}})});

  // Well signed, but under another object's label, or with a field outside its rule.
  SigningKeyPair key = GenerateSigningKeyPair();
  const std::string pk = ToHex(key.public_key);
  const std::string ids =
      Str(receipt.at("message_id")) + Str(receipt.at("sender_id")) + Str(receipt.at("recipient_id"));
  const int64_t ms = At(receipt.at("received")).time_since_epoch().count();
  std::string hash = Bytes(receipt.at("body_hash"));
  auto signed_case = [&](const std::string& name, Block b, const std::string& hex_key, const std::string& bytes) {
    b[hex_key] = Hex(bytes);
    b[hex_key == "revocation" ? "sender_sign_pk" : "recipient_sign_pk"] = pk;
    out.push_back({name, std::move(b)});
  };
  signed_case("receipt signed under the refusal label", receipt, "receipt",
              SignedObject("SCHR", "schakel/refusal/v1", ids + I64(ms) + hash, key));
  signed_case("refusal signed under the receipt label", refusal, "refusal",
              SignedObject("SCHN", "schakel/receipt/v1", ids + Str("quota") + I64(ms), key));
  signed_case("revocation signed under v2 label", revocation, "revocation",
              SignedObject("SCHV", "schakel/revocation/v2", ids + Str("sent_in_error") + I64(ms), key));
  signed_case("refusal with an unknown code", With(refusal, {{"code", "busy"}}), "refusal",
              SignedObject("SCHN", "schakel/refusal/v1", ids + Str("busy") + I64(ms), key));
  const std::string bad_ids = Str(receipt.at("message_id")) + Str("LVS-Utrecht") + Str(receipt.at("recipient_id"));
  signed_case("receipt with an upper-case sender id", With(receipt, {{"sender_id", "LVS-Utrecht"}}), "receipt",
              SignedObject("SCHR", "schakel/receipt/v1", bad_ids + I64(ms) + hash, key));
  signed_case("revocation with an empty reason", With(revocation, {{"reason", ""}}), "revocation",
              SignedObject("SCHV", "schakel/revocation/v1", ids + Str("") + I64(ms), key));
  signed_case("revocation after 9999", revocation, "revocation",
              SignedObject("SCHV", "schakel/revocation/v1", ids + Str("sent_in_error") + I64(253402300800000), key));
  signed_case("revocation with a control character in its reason", With(revocation, {{"reason", "a\x01"}}),
              "revocation", SignedObject("SCHV", "schakel/revocation/v1", ids + Str("a\x01") + I64(ms), key));
  return out;
}

std::vector<Case> TamperedEnvelopeAndPurge(const Fresh& fresh) {
  std::vector<Case> out;
  const Block& purge = fresh.blocks[3];
  const Block& notice = fresh.blocks[4];
  const Block& env = fresh.blocks[5];
  const std::string e = Bytes(env.at("envelope"));
  auto add_env = [&](const std::string& name, const std::string& tampered) {
    out.push_back({"envelope: " + name, With(env, {{"envelope", Hex(tampered)}})});
  };
  add_env("last ciphertext byte flipped", Flip(e, e.size() - 1));
  add_env("header byte flipped", Flip(e, 12));
  add_env("version 2", Set(e, 4, '\2'));
  add_env("truncated", e.substr(0, e.size() - 1));
  add_env("a trailing byte", e + std::string(1, '\0'));
  const std::string& json = purge.at("confirmation");
  auto add_purge = [&](const std::string& name, const std::string& tampered) {
    out.push_back({"purge confirmation: " + name, With(purge, {{"confirmation", tampered}})});
  };
  // Expected true as well: only the signature can tell.
  out.push_back(
      {"purge confirmation: held turned true",
       With(purge, {{"confirmation", std::string(json).replace(json.find("false"), 5, "true")}, {"held", "true"}})});
  add_purge("an unknown key", "{\"x\":1," + json.substr(1));
  add_purge("a duplicate key", "{\"held\":false," + json.substr(1));
  const std::string& n = notice.at("notice");
  auto add_notice = [&](const std::string& name, const std::string& tampered) {
    out.push_back({"adoption notice: " + name, With(notice, {{"notice", tampered}})});
  };
  add_notice("version 2", std::string(n).replace(n.find("\"adoption\":1"), 12, "\"adoption\":2"));
  add_notice("a basis byte changed", std::string(n).replace(n.find("Wet"), 3, "Waw"));
  add_notice("without its sig", std::string(n).substr(0, n.find(",\"sig\"")) + "}");
  // Well signed, but its basis breaks the rule (a tab: not one plain line).
  SigningKeyPair key = GenerateSigningKeyPair();
  const std::string tabbed = "Jeugdwet\tart. 7.3.8";
  std::string bad = MakeAdoptionNotice(notice.at("message_id"), notice.at("sender_id"), notice.at("recipient_id"),
                                       At(notice.at("adopted_at")), tabbed, key);
  out.push_back({"adoption notice: a tab in its basis",
                 With(notice, {{"notice", bad}, {"basis", tabbed}, {"recipient_sign_pk", ToHex(key.public_key)}})});
  add_purge("version 3", std::string(json).replace(json.find("\"version\":2"), 11, "\"version\":3"));
  return out;
}

std::vector<Case> TamperedFrames(const Fresh& fresh) {
  std::vector<Case> out;
  auto named = [&](const std::string& name) {
    for (const Block& b : fresh.blocks) {
      if (b.count("name") && b.at("name") == name) return b;
    }
    ADD_FAILURE() << "no fresh frame " << name;
    return Block{};
  };
  const Block hello = named("hello");
  const std::string h = Bytes(hello.at("frame"));
  auto add = [&](const std::string& name, const Block& base, const std::string& tampered,
                 std::initializer_list<std::pair<const std::string, std::string>> more = {}) {
    out.push_back({"frame: " + name, With(With(base, {{"frame", Hex(tampered)}}), more)});
  };
  auto raw_frame = [](uint8_t type, const std::string& payload) {
    return Frame(static_cast<FrameType>(type), payload);
  };
  const std::string hello_payload = h.substr(kFrameHeaderBytes);
  add("unknown type 7", hello, Set(h, 4, '\7'));
  add("type 0", hello, Set(h, 4, '\0'));
  add("truncated", hello, h.substr(0, h.size() - 1));
  add("a trailing byte", hello, h + std::string(1, '\0'));
  add("only part of a header", hello, h.substr(0, 3));
  add("over the 512-byte limit before HELLO", hello,
      raw_frame(1, hello_payload + std::string(kMaxHandshakeFramePayloadBytes + 1 - hello_payload.size(), '\0')));
  add("HELLO versions 5..1", hello, raw_frame(1, Set(Set(hello_payload, 1, '\5'), 3, '\1')),
      {{"min_version", "5"}, {"max_version", "1"}});
  add("HELLO minimum version 0", hello, raw_frame(1, Set(hello_payload, 1, '\0')), {{"min_version", "0"}});
  add("HELLO node id upper case", hello, raw_frame(1, Set(hello_payload, 5, 'L')));
  add("HELLO node id past the frame", hello, raw_frame(1, hello_payload.substr(0, hello_payload.size() - 1)));
  add("HELLO after HELLO", hello, h, {{"state", "session"}});
  const Block deliver = named("deliver");
  add("DELIVER before HELLO", deliver, Bytes(deliver.at("frame")), {{"state", "handshake"}});
  const Block more = named("deliver-more");
  add("DELIVER_MORE on version 2", more, Bytes(more.at("frame")), {{"version", "2"}});
  const Block receipt = named("receipt");
  const std::string r = Bytes(receipt.at("frame")).substr(kFrameHeaderBytes);
  add("RESPONSE with a truncated receipt", receipt, raw_frame(3, r.substr(0, r.size() - 1)));
  const Block traced = named("traced");
  const std::string t = Bytes(traced.at("frame")).substr(kFrameHeaderBytes);
  add("trace context on version 4", traced, Bytes(traced.at("frame")), {{"version", "4"}});
  add("trace context of length 54", traced, raw_frame(2, Set(t, 5, '\x36')));
  add("trace context in upper case", traced, raw_frame(2, Set(t, 6 + 3, 'A')));
  std::string zero_trace = t;
  zero_trace.replace(6 + 3, 32, std::string(32, '0'));
  add("trace context with an all-zero trace id", traced, raw_frame(2, zero_trace));
  add("trace context version 2", traced, raw_frame(2, Set(t, 4, '\2')));
  const Block error = named("error-internal");
  add("ERROR of one byte", error, raw_frame(5, std::string(1, '\0')));
  const Block failure = named("failure-4");
  add("empty FAILURE", failure, raw_frame(4, ""));
  return out;
}

TEST(PeerInteropTest, BothReadersRefuseEveryTamperedVector) {
  Fresh fresh = MakeFresh();
  std::vector<Case> cases = TamperedObjects(fresh);
  for (auto& c : TamperedEnvelopeAndPurge(fresh)) cases.push_back(std::move(c));
  for (auto& c : TamperedFrames(fresh)) cases.push_back(std::move(c));
  ASSERT_GE(cases.size(), 50u);
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(CheckWithCpp(c.block).ok()) << "the C++ code accepts it";
    PythonRun run = PythonCheck({c.block}, "tampered" + std::to_string(n++));
    EXPECT_EQ(run.exit_code, 1) << "reference.py: " << run.output;
    EXPECT_NE(run.output.find("refused:"), std::string::npos) << run.output;
  }
}

}  // namespace
}  // namespace schakel
