#include "link_api.h"

#include <string>
#include <string_view>

#include "schakel/base/strings.h"
#include "schakel/formats/api_request.h"

namespace schakel::daemon {

ExtraRoute LinkApiRoute(LinkService& links) {
  return [&links](const Caller& caller, const std::string& method, const std::string& target, const std::string& body,
                  Reply* reply, std::string* /*content_type*/) {
    constexpr std::string_view kBase = "/v1/links";
    if (target.compare(0, kBase.size(), kBase) != 0) return false;
    std::string rest = target.substr(kBase.size());
    if (rest.empty() && method == "GET") {
      *reply = links.List(caller);
      return true;
    }
    if (rest.empty() && method == "POST") {
      auto parsed = formats::ParseLinkRequest(body);
      *reply = parsed.ok() ? links.Create(caller, *parsed) : Reply::Error(parsed.status());
      return true;
    }
    // /{id}/revoke, /{id}/new-code
    if (method == "POST" && rest.size() > 1 && rest[0] == '/') {
      auto slash = rest.find('/', 1);
      if (slash != std::string::npos) {
        std::string id = rest.substr(1, slash - 1);
        std::string verb = rest.substr(slash + 1);
        if (!IsValidObjectId(id)) {
          *reply = Reply::Error(Status::InvalidInput("not a link id"));
          return true;
        }
        if (verb == "revoke") {
          *reply = links.Revoke(caller, id);
          return true;
        }
        if (verb == "new-code") {
          *reply = links.NewCode(caller, id);
          return true;
        }
      }
    }
    *reply = Reply::Error(Status::NotFound("no such endpoint: " + method + " " + target));
    return true;
  };
}

}  // namespace schakel::daemon
