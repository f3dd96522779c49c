#include "schakel/config/node_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "schakel/base/file.h"
#include "schakel/base/strings.h"

namespace schakel::config {
namespace {

bool IsDnsName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

// Walks one TOML document, remembering the position of each value so every
// error can say "file:line: key: why".
class Reader {
 public:
  Reader(const toml::table& root, std::string_view file) : root_(root), file_(file) {}

  std::string Where(const toml::node* node, std::string_view key) const {
    std::string out(file_);
    if (node != nullptr && node->source().begin.line > 0) {
      out += ":" + std::to_string(node->source().begin.line);
    }
    out += ": ";
    out += key;
    return out;
  }

  Status Error(const toml::node* node, std::string_view key, std::string_view why) const {
    return Status::InvalidInput(Where(node, key) + ": " + std::string(why));
  }

  // Refuses tables and keys the config does not know.
  Status CheckKnown() const {
    static const std::map<std::string, std::set<std::string>, std::less<>> kKnown = {
        {"node", {"id", "name", "org_type"}},
        {"peer", {"listen", "advertise", "allowed_networks", "max_buffered_mib"}},
        {"api", {"listen"}},
        {"links", {"listen", "public_url", "cert_file", "key_file"}},
        {"console", {"listen", "cert_file", "key_file"}},
        {"policy", {"file"}},
        {"retention", {"default_days", "max_days"}},
        {"store", {"key_file", "passphrase_env"}},
        {"log", {"level"}},
        {"delivery", {"retry_base_ms", "retry_max_ms"}},
        {"keys", {"retired_key_days"}},
        {"audit", {"retention_years"}},
        {"limits", {"inbound_shares_per_minute", "inbound_bytes_per_day"}},
        {"users", {"token_days"}},
        {"meldcode", {"approver_role"}},
        {"directory", {"fetch_seconds", "ca_file"}},
        {"notify",
         {"smtp_host", "smtp_port", "from", "user", "password_file", "ca_file", "console_url", "check_seconds"}},
    };
    for (const auto& [k, v] : root_) {
      auto it = kKnown.find(k.str());
      if (it == kKnown.end()) return Error(&v, k.str(), "unknown table");
      const toml::table* t = v.as_table();
      if (t == nullptr) return Error(&v, k.str(), "expected a table like [" + std::string(k.str()) + "]");
      for (const auto& [kk, vv] : *t) {
        if (!it->second.count(std::string(kk.str()))) {
          return Error(&vv, std::string(k.str()) + "." + std::string(kk.str()), "unknown key");
        }
      }
    }
    return Status::Ok();
  }

  const toml::node* Node(std::string_view table, std::string_view key) const {
    const toml::table* t = root_[table].as_table();
    if (t == nullptr) return nullptr;
    return t->get(key);
  }

  const toml::node* TableNode(std::string_view table) const { return root_.get(table); }

  Result<std::optional<std::string>> OptString(std::string_view table, std::string_view key,
                                               size_t max_len = 512) const {
    const toml::node* n = Node(table, key);
    std::string name = std::string(table) + "." + std::string(key);
    if (n == nullptr) return std::optional<std::string>();
    const auto* s = n->as_string();
    if (s == nullptr) return Error(n, name, "expected a string");
    const std::string& v = s->get();
    if (v.size() > max_len) return Error(n, name, "longer than " + std::to_string(max_len) + " bytes");
    if (!IsPrintableUtf8(v)) return Error(n, name, "contains control characters or invalid UTF-8");
    return std::optional<std::string>(v);
  }

  Result<std::string> String(std::string_view table, std::string_view key, size_t max_len = 512) const {
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> v, OptString(table, key, max_len));
    if (!v) return Error(TableNode(table), std::string(table) + "." + std::string(key), "missing (required)");
    return *v;
  }

  Result<std::optional<Address>> OptAddress(std::string_view table, std::string_view key) const {
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> v, OptString(table, key, 300));
    if (!v) return std::optional<Address>();
    auto a = ParseAddress(*v);
    if (!a.ok()) return Error(Node(table, key), std::string(table) + "." + std::string(key), a.status().message());
    return std::optional<Address>(a.value());
  }

  Result<Address> RequiredAddress(std::string_view table, std::string_view key) const {
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<Address> a, OptAddress(table, key));
    if (!a) return Error(TableNode(table), std::string(table) + "." + std::string(key), "missing (required)");
    return *a;
  }

 private:
  const toml::table& root_;
  std::string_view file_;
};

}  // namespace

std::string Address::ToString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<Address> ParseAddress(std::string_view text) {
  constexpr std::string_view kWant = "expected HOST:PORT, like 127.0.0.1:7401 or [::1]:7401";
  if (text.empty() || text.size() > 300) return Status::InvalidInput(std::string(kWant));
  Address a;
  std::string_view port;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::InvalidInput(std::string(kWant));
    }
    a.host = std::string(text.substr(1, close - 1));
    in6_addr addr6{};
    if (::inet_pton(AF_INET6, a.host.c_str(), &addr6) != 1) {
      return Status::InvalidInput("not an IPv6 address: " + a.host);
    }
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return Status::InvalidInput(std::string(kWant));
    a.host = std::string(text.substr(0, colon));
    if (a.host.find(':') != std::string::npos) {
      return Status::InvalidInput("put an IPv6 address in brackets, like [::1]:7401");
    }
    in_addr addr4{};
    bool numeric = a.host.find_first_not_of("0123456789.") == std::string::npos;
    if (numeric ? ::inet_pton(AF_INET, a.host.c_str(), &addr4) != 1 : !IsDnsName(a.host)) {
      return Status::InvalidInput("not an IPv4 address or host name: " + a.host);
    }
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
    return Status::InvalidInput("port must be a number from 1 to 65535");
  }
  a.port = static_cast<uint16_t>(value);
  return a;
}

bool IsUnspecifiedHost(std::string_view host) {
  std::string h(host);
  in_addr addr4{};
  if (::inet_pton(AF_INET, h.c_str(), &addr4) == 1) return addr4.s_addr == INADDR_ANY;
  in6_addr addr6{};
  if (::inet_pton(AF_INET6, h.c_str(), &addr6) == 1) return IN6_IS_ADDR_UNSPECIFIED(&addr6);
  return false;
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  std::string h(host);
  in_addr addr4{};
  if (::inet_pton(AF_INET, h.c_str(), &addr4) == 1) return (ntohl(addr4.s_addr) >> 24) == 127;
  in6_addr addr6{};
  if (::inet_pton(AF_INET6, h.c_str(), &addr6) == 1) return IN6_IS_ADDR_LOOPBACK(&addr6);
  return false;
}

std::vector<SelfSignedPublicListener> SelfSignedPublicListeners(const NodeConfig& c) {
  std::vector<SelfSignedPublicListener> out;
  if (c.links_listen && !c.links_cert.configured()) {
    auto public_host = PublicUrlHost(c.links_public_url);
    const bool public_url = !c.links_public_url.empty() && public_host.ok() && !IsLoopbackHost(*public_host);
    if (public_url) {
      out.push_back({"links", c.links_public_url});
    } else if (!IsLoopbackHost(c.links_listen->host)) {
      out.push_back({"links", "https://" + c.links_listen->ToString()});
    }
  }
  if (c.console_listen && !c.console_cert.configured() && !IsLoopbackHost(c.console_listen->host)) {
    out.push_back({"console", "https://" + c.console_listen->ToString()});
  }
  return out;
}

Result<std::string> PublicUrlHost(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) return Status::InvalidInput("must start with https://");
  std::string_view rest = url.substr(kScheme.size());
  size_t end = rest.find('/');
  std::string_view authority = rest.substr(0, end);
  std::string_view path = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (path.find_first_of("?#") != std::string_view::npos || path.find("//") != std::string_view::npos) {
    return Status::InvalidInput("must be https://HOST[:PORT][/PATH] without query or fragment");
  }
  for (char ch : path) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '/' ||
              ch == '-' || ch == '_' || ch == '.' || ch == '~';
    if (!ok) return Status::InvalidInput("path may hold only letters, digits and / - _ . ~");
  }
  if (authority.empty()) return Status::InvalidInput("has no host");
  if (authority.find('@') != std::string_view::npos) return Status::InvalidInput("must not hold a user name");
  // With a port the authority is an Address; without one, add 443 to reuse
  // the same host checks.
  bool has_port = authority.front() == '[' ? authority.find("]:") != std::string_view::npos
                                           : authority.find(':') != std::string_view::npos;
  std::string as_address(authority);
  if (!has_port) as_address += ":443";
  auto a = ParseAddress(as_address);
  if (!a.ok()) return a.status();
  return a->host;
}

namespace {

// [node]: id, name, org_type.
Status ReadNodeTable(const Reader& r, NodeConfig* c) {
  SCHAKEL_ASSIGN_OR_RETURN(c->node_id, r.String("node", "id", 64));
  if (!IsValidNodeId(c->node_id)) {
    return r.Error(r.Node("node", "id"), "node.id", "must be 3 to 64 characters of a-z, 0-9 and -");
  }
  SCHAKEL_ASSIGN_OR_RETURN(c->name, r.String("node", "name", 200));
  if (c->name.empty()) return r.Error(r.Node("node", "name"), "node.name", "must not be empty");
  SCHAKEL_ASSIGN_OR_RETURN(std::string org_type, r.String("node", "org_type", 32));
  auto ot = consent::ParseOrgType(org_type);
  if (!ot) {
    return r.Error(r.Node("node", "org_type"), "node.org_type",
                   "unknown org type \"" + org_type + "\" (one of school, wijkteam, rmc, lvs, ggd, swv, veilig_thuis)");
  }
  c->org_type = *ot;
  return Status::Ok();
}

// The listeners ([peer], [api], [links], [console]) and the links' public URL.
Status ReadListeners(const Reader& r, NodeConfig* c) {
  SCHAKEL_ASSIGN_OR_RETURN(c->peer_listen, r.RequiredAddress("peer", "listen"));
  SCHAKEL_ASSIGN_OR_RETURN(c->peer_advertise, r.OptAddress("peer", "advertise"));
  if (c->peer_advertise && IsUnspecifiedHost(c->peer_advertise->host)) {
    return r.Error(r.Node("peer", "advertise"), "peer.advertise",
                   c->peer_advertise->host +
                       " is a wildcard address partners cannot dial; give the host name or "
                       "address they reach this node on");
  }
  if (!c->peer_advertise && IsUnspecifiedHost(c->peer_listen.host)) {
    return r.Error(r.Node("peer", "listen"), "peer.advertise",
                   "missing: peer.listen is the wildcard address " + c->peer_listen.host +
                       ", which partners cannot dial; set [peer] advertise = \"HOST:PORT\" to the address they "
                       "reach this node on");
  }
  SCHAKEL_ASSIGN_OR_RETURN(c->api_listen, r.RequiredAddress("api", "listen"));
  if (!IsLoopbackHost(c->api_listen.host)) {
    return r.Error(r.Node("api", "listen"), "api.listen",
                   c->api_listen.host +
                       " is not a loopback address: the API is plain HTTP with bearer tokens and listens on "
                       "127.0.0.1 or ::1 only (to reach it from elsewhere, put a TLS proxy on this machine in "
                       "front of it)");
  }
  SCHAKEL_ASSIGN_OR_RETURN(c->links_listen, r.OptAddress("links", "listen"));
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> public_url, r.OptString("links", "public_url"));
  if (public_url) {
    if (public_url->rfind("https://", 0) != 0) {
      return r.Error(r.Node("links", "public_url"), "links.public_url", "must start with https://");
    }
    while (public_url->size() > 8 && public_url->back() == '/') public_url->pop_back();
    auto host = PublicUrlHost(*public_url);
    if (!host.ok()) {
      return r.Error(r.Node("links", "public_url"), "links.public_url", host.status().message());
    }
    if (IsUnspecifiedHost(*host)) {
      return r.Error(r.Node("links", "public_url"), "links.public_url",
                     *host +
                         " is a wildcard address no browser can open; give the host name the link's "
                         "recipients reach this node on");
    }
    c->links_public_url = *public_url;
  }
  if (c->links_listen && c->links_public_url.empty()) {
    if (IsUnspecifiedHost(c->links_listen->host)) {
      return r.Error(r.Node("links", "listen"), "links.public_url",
                     "missing: links.listen is the wildcard address " + c->links_listen->host +
                         "; set public_url = \"https://HOST:PORT\" to the address recipients open");
    }
    c->links_public_url = "https://" + c->links_listen->ToString();
  }
  SCHAKEL_ASSIGN_OR_RETURN(c->console_listen, r.OptAddress("console", "listen"));
  return Status::Ok();
}

// [links] and [console]: cert_file and key_file, both or neither.
Status ReadWebCerts(const Reader& r, NodeConfig* c) {
  for (const char* table : {"links", "console"}) {
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> cert, r.OptString(table, "cert_file", 4096));
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> key, r.OptString(table, "key_file", 4096));
    std::string t(table);
    if (cert && cert->empty()) return r.Error(r.Node(table, "cert_file"), t + ".cert_file", "must not be empty");
    if (key && key->empty()) return r.Error(r.Node(table, "key_file"), t + ".key_file", "must not be empty");
    if (cert.has_value() != key.has_value()) {
      const char* present = cert ? "cert_file" : "key_file";
      const char* missing = cert ? "key_file" : "cert_file";
      return r.Error(r.Node(table, present), t + "." + missing,
                     std::string("missing: set both ") + t + ".cert_file and " + t +
                         ".key_file, or neither (then the node's generated certificate is used)");
    }
    WebCertFiles& files = (t == "links") ? c->links_cert : c->console_cert;
    if (cert) {
      files.cert_file = *cert;
      files.key_file = *key;
    }
  }
  return Status::Ok();
}

// [peer] allowed_networks: a list of CIDR networks.
Status ReadAllowedNetworks(const Reader& r, NodeConfig* c) {
  const toml::node* n = r.Node("peer", "allowed_networks");
  if (n == nullptr) return Status::Ok();
  const toml::array* list = n->as_array();
  if (list == nullptr) {
    return r.Error(n, "peer.allowed_networks", "expected a list of networks, like [\"10.0.0.0/8\", \"2001:db8::/32\"]");
  }
  if (list->size() > kMaxAllowedNetworks) {
    return r.Error(n, "peer.allowed_networks", "more than " + std::to_string(kMaxAllowedNetworks) + " networks");
  }
  for (const toml::node& item : *list) {
    const auto* text = item.as_string();
    if (text == nullptr) return r.Error(&item, "peer.allowed_networks", "expected a string like \"10.0.0.0/8\"");
    auto network = ParseIpNetwork(text->get());
    if (!network.ok()) return r.Error(&item, "peer.allowed_networks", network.status().message());
    c->peer_allowed_networks.push_back(*network);
  }
  return Status::Ok();
}

// [retention], [delivery] and [keys]: the day and millisecond limits.
Status ReadLimits(const Reader& r, NodeConfig* c) {
  if (const toml::node* n = r.Node("retention", "default_days")) {
    const auto* i = n->as_integer();
    if (i == nullptr) return r.Error(n, "retention.default_days", "expected an integer");
    if (i->get() < 1 || i->get() > 3650) {
      return r.Error(n, "retention.default_days", "must be from 1 to 3650 days");
    }
    c->retention_default_days = static_cast<int>(i->get());
  }

  for (const char* key : {"retry_base_ms", "retry_max_ms"}) {
    const toml::node* n = r.Node("delivery", key);
    if (n == nullptr) continue;
    const auto* i = n->as_integer();
    std::string name = std::string("delivery.") + key;
    if (i == nullptr) return r.Error(n, name, "expected an integer (milliseconds)");
    if (i->get() < 10 || i->get() > 86400000) return r.Error(n, name, "must be from 10 to 86400000 ms");
    (std::string(key) == "retry_base_ms" ? c->retry_base_ms : c->retry_max_ms) = i->get();
  }
  if (const toml::node* n = r.Node("keys", "retired_key_days")) {
    const auto* i = n->as_integer();
    if (i == nullptr) return r.Error(n, "keys.retired_key_days", "expected an integer");
    if (i->get() < 1 || i->get() > 3650) return r.Error(n, "keys.retired_key_days", "must be from 1 to 3650 days");
    c->retired_key_days = static_cast<int>(i->get());
  }
  if (c->retry_base_ms > c->retry_max_ms) {
    return r.Error(r.Node("delivery", "retry_base_ms"), "delivery.retry_base_ms",
                   "must not exceed delivery.retry_max_ms");
  }
  return Status::Ok();
}

// An optional integer TABLE.KEY within [min, max] into *out; `unit` names
// what it counts in the error.
Status ReadInt(const Reader& r, std::string_view table, std::string_view key, int64_t min, int64_t max,
               std::string_view unit, int64_t* out) {
  const toml::node* n = r.Node(table, key);
  if (n == nullptr) return Status::Ok();
  std::string name = std::string(table) + "." + std::string(key);
  const auto* i = n->as_integer();
  if (i == nullptr) return r.Error(n, name, "expected an integer (" + std::string(unit) + ")");
  if (i->get() < min || i->get() > max) {
    return r.Error(n, name,
                   "must be from " + std::to_string(min) + " to " + std::to_string(max) + " " + std::string(unit));
  }
  *out = i->get();
  return Status::Ok();
}

// [retention] max_days and [limits]: what the recipient's gate accepts.
Status ReadNotify(const Reader& r, NodeConfig* c) {
  NotifyConfig& n = c->notify;
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> host, r.OptString("notify", "smtp_host", 253));
  if (!host) {
    if (r.TableNode("notify") != nullptr) {
      return r.Error(r.TableNode("notify"), "notify.smtp_host", "missing (required for e-mail notices)");
    }
    return Status::Ok();
  }
  const bool v6 = host->find(':') != std::string::npos;
  if (!ParseAddress((v6 ? "[" + *host + "]" : *host) + ":25").ok()) {
    return r.Error(r.Node("notify", "smtp_host"), "notify.smtp_host", "must be a host name or address");
  }
  n.smtp_host = *host;
  if (const toml::node* p = r.Node("notify", "smtp_port")) {
    const auto* i = p->as_integer();
    if (i == nullptr || i->get() < 1 || i->get() > 65535) {
      return r.Error(p, "notify.smtp_port", "must be a port number from 1 to 65535 (587 for submission)");
    }
    n.smtp_port = static_cast<uint16_t>(i->get());
  }
  SCHAKEL_ASSIGN_OR_RETURN(n.from, r.String("notify", "from", 254));
  if (!IsPlainEmail(n.from)) {
    return r.Error(r.Node("notify", "from"), "notify.from", "must be an e-mail address like schakel@school.example");
  }
  SCHAKEL_ASSIGN_OR_RETURN(n.console_url, r.String("notify", "console_url", 512));
  if (n.console_url.rfind("https://", 0) != 0 || !PublicUrlHost(n.console_url).ok()) {
    return r.Error(r.Node("notify", "console_url"), "notify.console_url",
                   "must be the console's https:// address, the link in the mail");
  }
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> user, r.OptString("notify", "user", 254));
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> pw, r.OptString("notify", "password_file", 4096));
  if (user.has_value() != pw.has_value() || (user && (user->empty() || pw->empty()))) {
    const char* present = user ? "user" : "password_file";
    return r.Error(r.Node("notify", present), "notify.user",
                   "user and password_file go together (SMTP AUTH), or neither is set");
  }
  n.user = user.value_or("");
  n.password_file = pw.value_or("");
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> ca, r.OptString("notify", "ca_file", 4096));
  n.ca_file = ca.value_or("");
  if (const toml::node* s = r.Node("notify", "check_seconds")) {
    const auto* i = s->as_integer();
    if (i == nullptr || i->get() < 1 || i->get() > 3600) {
      return r.Error(s, "notify.check_seconds", "must be from 1 to 3600 seconds");
    }
    n.check_seconds = static_cast<int>(i->get());
  }
  return Status::Ok();
}

Status ReadGateLimits(const Reader& r, NodeConfig* c) {
  int64_t max_days = std::max<int64_t>(kDefaultRetentionMaxDays, c->retention_default_days);
  SCHAKEL_RETURN_IF_ERROR(ReadInt(r, "retention", "max_days", 1, 3650, "days", &max_days));
  if (max_days < c->retention_default_days) {
    return r.Error(r.Node("retention", "max_days"), "retention.max_days",
                   "must not be less than retention.default_days (" + std::to_string(c->retention_default_days) + ")");
  }
  c->retention_max_days = static_cast<int>(max_days);
  SCHAKEL_RETURN_IF_ERROR(ReadInt(r, "peer", "max_buffered_mib", 49, 65536, "MiB", &c->peer_max_buffered_mib));
  SCHAKEL_RETURN_IF_ERROR(
      ReadInt(r, "limits", "inbound_shares_per_minute", 1, 1000000, "shares", &c->inbound_shares_per_minute));
  SCHAKEL_RETURN_IF_ERROR(
      ReadInt(r, "limits", "inbound_bytes_per_day", 1024, int64_t{1} << 40, "bytes", &c->inbound_bytes_per_day));
  int64_t token_days = c->token_days;
  SCHAKEL_RETURN_IF_ERROR(ReadInt(r, "users", "token_days", 1, 3650, "days", &token_days));
  c->token_days = static_cast<int>(token_days);
  int64_t years = c->audit_retention_years;
  SCHAKEL_RETURN_IF_ERROR(ReadInt(r, "audit", "retention_years", 2, 100, "years", &years));
  c->audit_retention_years = static_cast<int>(years);
  return Status::Ok();
}

// [store]: the key file or the passphrase's environment variable.
Status ReadStoreTable(const Reader& r, NodeConfig* c) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> key_file, r.OptString("store", "key_file", 4096));
  if (key_file) {
    if (key_file->empty()) return r.Error(r.Node("store", "key_file"), "store.key_file", "must not be empty");
    c->key_file = *key_file;
  }
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> pass_env, r.OptString("store", "passphrase_env", 128));
  if (pass_env) {
    bool ok = !pass_env->empty();
    for (char ch : *pass_env) {
      if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) ok = false;
    }
    if (!ok) {
      return r.Error(r.Node("store", "passphrase_env"), "store.passphrase_env",
                     "must be an environment variable name (A-Z, 0-9, _)");
    }
    c->passphrase_env = *pass_env;
  }
  return Status::Ok();
}

}  // namespace

Result<NodeConfig> ParseNodeConfig(std::string_view text, std::string_view file_name) {
  if (text.size() > kMaxConfigBytes) {
    return Status::InvalidInput(std::string(file_name) + ": larger than " + std::to_string(kMaxConfigBytes) + " bytes");
  }
  toml::table root;
  try {
    root = toml::parse(text, file_name);
  } catch (const toml::parse_error& e) {
    return Status::InvalidInput(std::string(file_name) + ":" + std::to_string(e.source().begin.line) + ": " +
                                std::string(e.description()));
  }
  Reader r(root, file_name);
  SCHAKEL_RETURN_IF_ERROR(r.CheckKnown());

  NodeConfig c;
  SCHAKEL_RETURN_IF_ERROR(ReadNodeTable(r, &c));
  SCHAKEL_RETURN_IF_ERROR(ReadListeners(r, &c));
  SCHAKEL_RETURN_IF_ERROR(ReadAllowedNetworks(r, &c));
  SCHAKEL_RETURN_IF_ERROR(ReadWebCerts(r, &c));
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> policy_file, r.OptString("policy", "file", 4096));
  if (policy_file) c.policy_file = *policy_file;

  SCHAKEL_RETURN_IF_ERROR(ReadLimits(r, &c));
  SCHAKEL_RETURN_IF_ERROR(ReadGateLimits(r, &c));
  SCHAKEL_RETURN_IF_ERROR(ReadStoreTable(r, &c));
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> level, r.OptString("log", "level", 16));
  if (level) {
    if (*level != "debug" && *level != "info" && *level != "warn" && *level != "error") {
      return r.Error(r.Node("log", "level"), "log.level", "must be debug, info, warn or error");
    }
    c.log_level = *level;
  }
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> approver, r.OptString("meldcode", "approver_role", 64));
  if (approver) {
    if (*approver != "coordinator" && !IsValidFunctionName(*approver)) {
      return r.Error(r.Node("meldcode", "approver_role"), "meldcode.approver_role",
                     "must be \"coordinator\" or the name of a function coordinators hold (3 to 40 of a-z, 0-9 "
                     "and '-', starting with a letter, not another role), e.g. \"aandachtsfunctionaris\"");
    }
    c.meldcode_approver_role = *approver;
  }
  SCHAKEL_RETURN_IF_ERROR(ReadNotify(r, &c));
  SCHAKEL_RETURN_IF_ERROR(
      ReadInt(r, "directory", "fetch_seconds", 0, 86400, "seconds (0: never)", &c.directory_fetch_seconds));
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> directory_ca, r.OptString("directory", "ca_file", 4096));
  c.directory_ca_file = directory_ca.value_or("");
  return c;
}

Result<NodeConfig> LoadNodeConfig(const std::string& dir) {
  std::string path = dir + "/schakel.toml";
  auto text = ReadFileLimited(path, kMaxConfigBytes);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) {
      return Status::InvalidInput(path + ": no such file (is " + dir +
                                  " a node directory? create one with schakel init)");
    }
    return text.status();
  }
  return ParseNodeConfig(text.value(), path);
}

namespace {
std::string Quote(std::string_view s) {
  std::ostringstream out;
  out << toml::value<std::string>(std::string(s));
  return out.str();
}
}  // namespace

std::string NodeConfigToToml(const NodeConfig& c) {
  std::ostringstream o;
  o << "# Schakel node configuration. See the README, \"Running a node\".\n\n";
  o << "[node]\n";
  o << "id = " << Quote(c.node_id) << "\n";
  o << "name = " << Quote(c.name) << "\n";
  o << "org_type = " << Quote(consent::Name(c.org_type)) << "\n\n";
  o << "[peer]\n";
  o << "listen = " << Quote(c.peer_listen.ToString()) << "        # mutual TLS 1.3 between nodes\n";
  if (c.peer_advertise) o << "advertise = " << Quote(c.peer_advertise->ToString()) << "\n";
  if (!c.peer_allowed_networks.empty()) {
    o << "allowed_networks = [";
    for (size_t i = 0; i < c.peer_allowed_networks.size(); ++i) {
      o << (i == 0 ? "" : ", ") << Quote(c.peer_allowed_networks[i].ToString());
    }
    o << "]\n";
  }
  if (c.peer_max_buffered_mib != 64) o << "max_buffered_mib = " << c.peer_max_buffered_mib << "\n";
  o << "\n[api]\n";
  o << "listen = " << Quote(c.api_listen.ToString()) << "        # local HTTP/JSON API, bearer tokens\n";
  if (c.links_listen) {
    o << "\n[links]\n";
    o << "listen = " << Quote(c.links_listen->ToString()) << "        # HTTPS link pages\n";
    o << "public_url = " << Quote(c.links_public_url) << "\n";
    if (c.links_cert.configured()) {
      o << "cert_file = " << Quote(c.links_cert.cert_file) << "\n";
      o << "key_file = " << Quote(c.links_cert.key_file) << "\n";
    }
  }
  if (c.console_listen) {
    o << "\n[console]\n";
    o << "listen = " << Quote(c.console_listen->ToString()) << "        # HTTPS staff console\n";
    if (c.console_cert.configured()) {
      o << "cert_file = " << Quote(c.console_cert.cert_file) << "\n";
      o << "key_file = " << Quote(c.console_cert.key_file) << "\n";
    }
  }
  o << "\n[policy]\n";
  o << "file = " << Quote(c.policy_file) << "                        # empty: the built-in default privacy protocol\n";
  o << "\n[retention]\n";
  o << "default_days = " << c.retention_default_days << "\n";
  o << "max_days = " << c.retention_max_days
    << "                        # longest retain-until accepted on a received share\n";
  o << "\n[store]\n";
  if (c.passphrase_env.empty()) {
    o << "key_file = " << Quote(c.key_file) << "\n";
  } else {
    o << "passphrase_env = " << Quote(c.passphrase_env) << "\n";
  }
  o << "\n[delivery]\nretry_base_ms = " << c.retry_base_ms << "\nretry_max_ms = " << c.retry_max_ms << "\n";
  o << "\n[keys]\nretired_key_days = " << c.retired_key_days << "\n";
  o << "\n[audit]\nretention_years = " << c.audit_retention_years
    << "                    # access-log entries older than this are deleted in whole segments (NEN 7513: 5)\n";
  o << "\n[limits]                               # what one partner may send per minute and per day\n";
  o << "inbound_shares_per_minute = " << c.inbound_shares_per_minute << "\n";
  o << "inbound_bytes_per_day = " << c.inbound_bytes_per_day << "\n";
  o << "\n[log]\nlevel = " << Quote(c.log_level) << "\n";
  o << "\n[meldcode]                             # who decides on a report: any coordinator but the requester, or\n"
    << "approver_role = " << Quote(c.meldcode_approver_role)
    << "         # only coordinators holding this function (schakel user set-function)\n";
  if (c.notify.enabled()) {
    const NotifyConfig& n = c.notify;
    o << "\n[notify]                               # e-mail notices: something waits (no names, no data)\n";
    o << "smtp_host = " << Quote(n.smtp_host) << "\nsmtp_port = " << n.smtp_port << "\nfrom = " << Quote(n.from)
      << "\nconsole_url = " << Quote(n.console_url) << "\ncheck_seconds = " << n.check_seconds << "\n";
    if (!n.user.empty()) o << "user = " << Quote(n.user) << "\npassword_file = " << Quote(n.password_file) << "\n";
    if (!n.ca_file.empty()) o << "ca_file = " << Quote(n.ca_file) << "\n";
  }
  if (c.directory_fetch_seconds != 3600 || !c.directory_ca_file.empty()) {
    o << "\n[directory]                            # regional directories trusted with a URL (docs/region.md)\n";
    o << "fetch_seconds = " << c.directory_fetch_seconds << "\n";
    if (!c.directory_ca_file.empty()) o << "ca_file = " << Quote(c.directory_ca_file) << "\n";
  }
  return o.str();
}

}  // namespace schakel::config
