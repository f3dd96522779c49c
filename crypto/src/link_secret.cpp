#include "schakel/crypto/link_secret.h"

#include <sodium.h>

#include "schakel/crypto/identity.h"
#include "schakel/crypto/kdf_helper.h"

namespace schakel::crypto {
namespace {

Result<SecureBuffer> DeriveLinkKey(std::string_view token, std::string_view code, const std::array<uint8_t, 16>& salt,
                                   const LinkKdfParams& params) {
  if (!IsLinkTokenShape(token) || code.size() != kAccessCodeChars) {
    return Status::InvalidInput("link: bad token or code shape");
  }
  KdfRequest request;
  request.op = KdfOp::kDerive;
  request.ops_limit = params.ops_limit;
  request.mem_limit = params.mem_limit;
  request.out_len = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
  request.salt.assign(salt.begin(), salt.end());
  request.password = SecureBuffer(token.size() + code.size());
  std::copy(token.begin(), token.end(), reinterpret_cast<char*>(request.password.data()));
  std::copy(code.begin(), code.end(), reinterpret_cast<char*>(request.password.data()) + token.size());
  // In the helper process when there is one (kdf_helper.h), else on a
  // thread at nice 19.
  KdfOutcome derived = RunKdfApart(request);
  if (derived.status != KdfStatus::kDone) {
    return Status::ResourceExhausted("link: Argon2id could not allocate its memory");
  }
  return std::move(derived.bytes);
}

}  // namespace

std::string NewLinkToken() {
  SecureBuffer raw = SecureBuffer::Random(32);
  char out[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(out, sizeof out, raw.data(), raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  std::string token(out);
  sodium_memzero(out, sizeof out);
  return token;
}

bool IsLinkTokenShape(std::string_view token) {
  if (token.size() != kLinkTokenChars) return false;
  for (char c : token) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::array<uint8_t, 32> LinkTokenHash(std::string_view token) {
  return Sha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(token.data()), token.size()));
}

std::string NewAccessCode() {
  std::string code;
  for (size_t i = 0; i < kAccessCodeChars; ++i) {
    if (i == 5) code.push_back('-');
    code.push_back(kAccessCodeAlphabet[randombytes_uniform(static_cast<uint32_t>(kAccessCodeAlphabet.size()))]);
  }
  return code;
}

std::optional<std::string> NormaliseAccessCode(std::string_view typed) {
  if (typed.size() > 32) return std::nullopt;
  std::string out;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (kAccessCodeAlphabet.find(c) == std::string_view::npos) return std::nullopt;
    out.push_back(c);
  }
  if (out.size() != kAccessCodeChars) return std::nullopt;
  return out;
}

Result<SealedLink> SealLinkContent(std::string_view token, std::string_view code, std::string_view link_id,
                                   std::string_view plaintext, const LinkKdfParams& params) {
  SealedLink sealed;
  randombytes_buf(sealed.salt.data(), sealed.salt.size());
  randombytes_buf(sealed.nonce.data(), sealed.nonce.size());
  SCHAKEL_ASSIGN_OR_RETURN(SecureBuffer key, DeriveLinkKey(token, code, sealed.salt, params));
  sealed.ciphertext.resize(plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      sealed.ciphertext.data(), &len, reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const unsigned char*>(link_id.data()), link_id.size(), nullptr, sealed.nonce.data(), key.data());
  sealed.ciphertext.resize(static_cast<size_t>(len));
  return sealed;
}

Result<SecureBuffer> OpenLinkContent(std::string_view token, std::string_view code, std::string_view link_id,
                                     const SealedLink& sealed, const LinkKdfParams& params) {
  if (sealed.ciphertext.size() < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return Status::Corruption("link: ciphertext too short");
  }
  SCHAKEL_ASSIGN_OR_RETURN(SecureBuffer key, DeriveLinkKey(token, code, sealed.salt, params));
  SecureBuffer plain(sealed.ciphertext.size() - crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &len, nullptr, sealed.ciphertext.data(),
                                                 sealed.ciphertext.size(),
                                                 reinterpret_cast<const unsigned char*>(link_id.data()), link_id.size(),
                                                 sealed.nonce.data(), key.data()) != 0) {
    return Status::Unauthenticated("link: wrong access code");
  }
  return plain;
}

}  // namespace schakel::crypto
