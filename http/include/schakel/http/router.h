// A route table in the spirit of OpenSSH's mon_table: every route a server
// answers is one row {method, pattern, roles, handler}, so what a listener
// serves, to whom, is read in one place instead of an if-chain.
//
// A pattern is a path of segments; "*" matches exactly one non-empty segment
// and its text is handed to the handler in `params` (in order). "/" is the
// empty path. Paths longer than kMaxSegments segments match nothing. Matching
// is exact and case-sensitive; the first matching row wins.
//
// `roles` is a bit set the owner of the table defines (bit i for its role i);
// 0 means any caller the server has already let in. The table only reports
// the row; the server decides what a role mismatch answers.
//
// Thread-safety: a table is immutable after construction; Find may be called
// from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace schakel::http {

inline constexpr size_t kMaxSegments = 8;

// "/a/b/" -> {"a", "b"}; empty segments are dropped. Returns false for a path
// with more than kMaxSegments segments.
inline bool SplitPath(std::string_view path, std::vector<std::string>* out) {
  out->clear();
  size_t pos = 0;
  while (pos < path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    if (next > pos) {
      if (out->size() == kMaxSegments) return false;
      out->emplace_back(path.substr(pos, next - pos));
    }
    pos = next + 1;
  }
  return true;
}

template <typename Handler>
struct Route {
  std::string_view method;   // "GET", "POST", ...
  std::string_view pattern;  // "/dossiers/*/link"
  uint32_t roles = 0;        // 0: anyone let in
  Handler handler;
};

template <typename Handler>
class RouteTable {
 public:
  explicit RouteTable(std::vector<Route<Handler>> routes) : routes_(std::move(routes)) {
    patterns_.reserve(routes_.size());
    for (const auto& r : routes_) {
      std::vector<std::string> segs;
      SplitPath(r.pattern, &segs);
      patterns_.push_back(std::move(segs));
    }
  }

  struct Match {
    const Route<Handler>* route = nullptr;  // null: no row for this method and path
    std::vector<std::string> params;        // the "*" segments, in order
  };

  Match Find(std::string_view method, std::string_view path) const {
    Match m;
    std::vector<std::string> segs;
    if (!SplitPath(path, &segs)) return m;
    for (size_t i = 0; i < routes_.size(); ++i) {
      if (routes_[i].method != method) continue;
      std::vector<std::string> params;
      if (!Matches(i, segs, &params)) continue;
      m.route = &routes_[i];
      m.params = std::move(params);
      return m;
    }
    return m;
  }

  // The methods some row answers for `path` (for 405 and its Allow header),
  // in table order, each once; empty when no row matches the path.
  std::vector<std::string_view> MethodsFor(std::string_view path) const {
    std::vector<std::string_view> out;
    std::vector<std::string> segs;
    if (!SplitPath(path, &segs)) return out;
    std::vector<std::string> params;
    for (size_t i = 0; i < routes_.size(); ++i) {
      if (!Matches(i, segs, &params)) continue;
      bool seen = false;
      for (auto m : out) seen = seen || m == routes_[i].method;
      if (!seen) out.push_back(routes_[i].method);
    }
    return out;
  }

  const std::vector<Route<Handler>>& routes() const { return routes_; }

 private:
  bool Matches(size_t i, const std::vector<std::string>& segs, std::vector<std::string>* params) const {
    params->clear();
    if (patterns_[i].size() != segs.size()) return false;
    for (size_t k = 0; k < segs.size(); ++k) {
      if (patterns_[i][k] == "*") {
        params->push_back(segs[k]);
      } else if (patterns_[i][k] != segs[k]) {
        return false;
      }
    }
    return true;
  }

  std::vector<Route<Handler>> routes_;
  std::vector<std::vector<std::string>> patterns_;
};

}  // namespace schakel::http
