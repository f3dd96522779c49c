// Private to peer/: the framing that card and directory announcements share
// (card_announce.h, directory_announce.h): four magic bytes, one version
// byte 0x01, then the body; the answer is the same head and one word.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "schakel/base/status.h"

namespace schakel::peer::peer_internal {

inline constexpr char kTaggedVersion = 0x01;

inline bool IsTagged(std::string_view payload, std::string_view magic) {
  return payload.substr(0, magic.size()) == magic;
}

inline std::string EncodeTagged(std::string_view magic, std::string_view body) {
  std::string out(magic);
  out.push_back(kTaggedVersion);
  out.append(body);
  return out;
}

// The body after the head, at most `max_body` bytes; `what` names the
// message in errors ("card announcement").
inline Result<std::string_view> TaggedBody(std::string_view payload, std::string_view magic, size_t max_body,
                                           const std::string& what, const std::string& body_name) {
  if (!IsTagged(payload, magic) || payload.size() < magic.size() + 1) {
    return Status::InvalidInput(what + ": not one");
  }
  if (payload[magic.size()] != kTaggedVersion) {
    return Status::InvalidInput(what + ": unsupported version " +
                                std::to_string(static_cast<unsigned char>(payload[magic.size()])));
  }
  std::string_view body = payload.substr(magic.size() + 1);
  if (body.size() > max_body) {
    return Status::InvalidInput(what + ": the " + body_name + " is larger than " + std::to_string(max_body) + " bytes");
  }
  return body;
}

// One of `words` after the head; kInvalidInput for anything else.
inline Result<std::string_view> TaggedWord(std::string_view payload, std::string_view magic,
                                           std::initializer_list<std::string_view> words, const std::string& what) {
  if (payload.size() > magic.size() + 1 && IsTagged(payload, magic) && payload[magic.size()] == kTaggedVersion) {
    std::string_view word = payload.substr(magic.size() + 1);
    for (std::string_view w : words) {
      if (word == w) return w;
    }
  }
  return Status::InvalidInput(what + ": the partner's answer is not one");
}

}  // namespace schakel::peer::peer_internal
