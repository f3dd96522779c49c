#include "schakel/config/https_url.h"

#include "schakel/config/node_config.h"

namespace schakel::config {
namespace {

Status UrlError(const std::string& why) { return Status::InvalidInput("URL: " + why); }

}  // namespace

std::string HttpsUrl::ToString() const {
  Address a{host, port};
  std::string authority = a.ToString();
  if (port == 443) authority = authority.substr(0, authority.rfind(':'));
  return "https://" + authority + target;
}

Result<HttpsUrl> ParseHttpsUrl(std::string_view text) {
  if (text.size() > kMaxUrlBytes) return UrlError("longer than " + std::to_string(kMaxUrlBytes) + " bytes");
  for (char c : text) {
    if (c <= 0x20 || c >= 0x7f) return UrlError("only printable ASCII without spaces (percent-encode the rest)");
  }
  constexpr std::string_view kScheme = "https://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    if (text.substr(0, 7) == "http://") {
      return UrlError(
          "http:// is refused: use https:// (the directory is signed, but who fetches it when is not "
          "for the network to see)");
    }
    return UrlError("expected https://HOST[:PORT]/PATH");
  }
  if (text.find('#') != std::string_view::npos) return UrlError("a fragment (#...) has no place here");
  std::string_view rest = text.substr(kScheme.size());
  size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  std::string target = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
  if (target.front() == '?') target.insert(0, "/");
  if (authority.empty()) return UrlError("no host after https://");
  if (authority.find('@') != std::string_view::npos) return UrlError("user info (user@host) is refused");
  // A port when the authority ends in ":digits" after the host (an IPv6
  // host has its colons inside brackets).
  size_t close = authority.rfind(']');
  size_t colon = authority.rfind(':');
  bool has_port = colon != std::string_view::npos && (close == std::string_view::npos || colon > close);
  std::string hostport = std::string(authority) + (has_port ? "" : ":443");
  auto address = ParseAddress(hostport);
  if (!address.ok()) return UrlError(address.status().message());
  if (IsUnspecifiedHost(address->host)) return UrlError("a wildcard address cannot be fetched from");
  return HttpsUrl{address->host, address->port, target};
}

}  // namespace schakel::config
