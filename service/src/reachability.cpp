#include "schakel/service/reachability.h"

namespace schakel::service {

PartnerContact* Reachability::Slot(const std::string& node_id) {
  auto it = contacts_.find(node_id);
  if (it != contacts_.end()) return &it->second;
  if (contacts_.size() >= kMaxPartners) return nullptr;
  return &contacts_[node_id];
}

void Reachability::DeliveredTo(const std::string& node_id, Instant at) {
  std::lock_guard<std::mutex> lock(mu_);
  PartnerContact* c = Slot(node_id);
  if (c == nullptr) return;
  c->last_attempt = at;
  c->last_attempt_ok = true;
  c->last_success = at;
}

void Reachability::FailedTo(const std::string& node_id, Instant at, const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  PartnerContact* c = Slot(node_id);
  if (c == nullptr) return;
  c->last_attempt = at;
  c->last_attempt_ok = false;
  c->last_error_at = at;
  c->last_error = why.size() > kMaxErrorBytes ? why.substr(0, kMaxErrorBytes) : why;
}

void Reachability::DeliveredFrom(const std::string& node_id, Instant at) {
  std::lock_guard<std::mutex> lock(mu_);
  PartnerContact* c = Slot(node_id);
  if (c == nullptr) return;
  c->last_inbound = at;
  c->last_success = at;
}

std::optional<PartnerContact> Reachability::Get(const std::string& node_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = contacts_.find(node_id);
  if (it == contacts_.end()) return std::nullopt;
  return it->second;
}

}  // namespace schakel::service
