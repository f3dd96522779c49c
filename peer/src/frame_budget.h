// Private to peer/: the node-wide budget for inbound frame payloads being
// read (issue 25 (3); docs/peer-protocol.md "Memory that follows the bytes").
//
// A frame's buffer grows as its bytes arrive, never ahead of them by more
// than it holds already (64 KiB, then doubling). What it may grow to is
// taken from this budget before any of its payload is read: 1.5 times the
// announced size (old and new buffer during a growth step), all or nothing,
// so no frame waits holding part of the budget. In total at most `total`
// bytes, one partner at most `per_peer`. A reader that cannot take what it
// needs waits (and reads nothing, so TCP slows the sender) until others give
// bytes back or its frame deadline passes: the partner over its share is
// slowed, the node and the other partners are not. Once whole, the frame
// keeps its own size counted until its request is answered.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace schakel::peer::peer_internal {

class FrameBudget {
 public:
  FrameBudget(size_t total, size_t per_peer) : total_(total), per_peer_(per_peer) {}

  // Takes `n` bytes for `peer`; false (nothing taken) when that would pass
  // the total or the partner's share.
  bool TryTake(const std::string& peer, size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t& mine = by_peer_[peer];
    if (used_ + n > total_ || mine + n > per_peer_) {
      if (mine == 0) by_peer_.erase(peer);
      return false;
    }
    used_ += n;
    mine += n;
    if (used_ > peak_) peak_ = used_;
    return true;
  }
  void Give(const std::string& peer, size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_peer_.find(peer);
    if (it == by_peer_.end()) return;
    size_t back = n < it->second ? n : it->second;
    it->second -= back;
    used_ -= back;
    if (it->second == 0) by_peer_.erase(it);
  }
  size_t used() const {
    std::lock_guard<std::mutex> lock(mu_);
    return used_;
  }
  size_t peak() const {
    std::lock_guard<std::mutex> lock(mu_);
    return peak_;
  }
  size_t total() const { return total_; }

 private:
  const size_t total_;
  const size_t per_peer_;
  mutable std::mutex mu_;
  size_t used_ = 0;                                  // GUARDED_BY(mu_)
  size_t peak_ = 0;                                  // GUARDED_BY(mu_)
  std::unordered_map<std::string, size_t> by_peer_;  // GUARDED_BY(mu_)
};

// What one connection holds of the budget; gives it back when released or
// destroyed.
class BudgetHold {
 public:
  BudgetHold() = default;
  BudgetHold(FrameBudget* budget, std::string peer) : budget_(budget), peer_(std::move(peer)) {}
  ~BudgetHold() { Release(); }
  BudgetHold(const BudgetHold&) = delete;
  BudgetHold& operator=(const BudgetHold&) = delete;

  // Counts against `budget` for `peer` from now on. REQUIRES: nothing held.
  void Attach(FrameBudget* budget, std::string peer) {
    Release();
    budget_ = budget;
    peer_ = std::move(peer);
  }
  bool active() const { return budget_ != nullptr; }
  bool Take(size_t n) {
    if (budget_ == nullptr || n == 0) return true;
    if (!budget_->TryTake(peer_, n)) return false;
    held_ += n;
    return true;
  }
  // Gives `n` of what is held back (at most what is held).
  void Give(size_t n) {
    n = n < held_ ? n : held_;
    if (budget_ != nullptr && n > 0) budget_->Give(peer_, n);
    held_ -= n;
  }
  void Release() { Give(held_); }
  size_t held() const { return held_; }

 private:
  FrameBudget* budget_ = nullptr;
  std::string peer_;
  size_t held_ = 0;
};

}  // namespace schakel::peer::peer_internal
