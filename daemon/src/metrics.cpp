#include "metrics.h"

#include "service_names.h"

#include <cstdio>
#include <sstream>

#include "schakel/base/version.h"
#include "schakel/crypto/kdf_helper.h"

namespace schakel::daemon {
namespace {

// Label values are vocabulary, but a protocol file names its own purposes:
// escape as the exposition format asks.
std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void Family(std::ostringstream& o, const char* name, const char* type, const char* help) {
  o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

// Seconds to the microsecond (the stream's default would keep six digits).
std::string Seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6f", seconds);
  return text;
}

}  // namespace

std::string FormatPrometheus(const std::string& node_version, const store::NodeMetrics& m) {
  std::ostringstream o;
  Family(o, "schakel_build_info", "gauge", "Schakel version of this node.");
  o << "schakel_build_info{version=\"" << Escape(node_version) << "\"} 1\n";
  Family(o, "schakel_shares", "gauge", "Shares this node sent or queued, by state and purpose.");
  for (const auto& [key, count] : m.shares) {
    o << "schakel_shares{state=\"" << Escape(key.first) << "\",purpose=\"" << Escape(key.second) << "\"} " << count
      << "\n";
  }
  Family(o, "schakel_outbox_depth", "gauge", "Items waiting in the outbox for delivery.");
  o << "schakel_outbox_depth " << m.outbox_depth << "\n";
  Family(o, "schakel_partner_outbox_depth", "gauge", "Items waiting for delivery, per partner (its own lane).");
  for (const auto& [partner, q] : m.partner_queues) {
    o << "schakel_partner_outbox_depth{partner=\"" << Escape(partner) << "\"} " << q.depth << "\n";
  }
  Family(o, "schakel_partner_outbox_oldest_timestamp_seconds", "gauge",
         "When the oldest item waiting for a partner was queued (Unix time).");
  for (const auto& [partner, q] : m.partner_queues) {
    o << "schakel_partner_outbox_oldest_timestamp_seconds{partner=\"" << Escape(partner) << "\"} " << q.oldest_unix_s
      << "\n";
  }
  Family(o, "schakel_audit_entries", "gauge", "Entries in the audit log.");
  o << "schakel_audit_entries " << m.audit_entries << "\n";
  Family(o, "schakel_gate_decisions_total", "counter", "Egress gate decisions logged, by outcome.");
  for (const char* outcome : {"permit", "deny"}) {
    auto it = m.decisions.find(outcome);
    o << "schakel_gate_decisions_total{outcome=\"" << outcome << "\"} " << (it == m.decisions.end() ? 0 : it->second)
      << "\n";
  }
  for (const auto& [outcome, count] : m.decisions) {
    if (outcome != "permit" && outcome != "deny") {
      o << "schakel_gate_decisions_total{outcome=\"" << Escape(outcome) << "\"} " << count << "\n";
    }
  }
  const LinkCounters& links = GlobalLinkCounters();
  Family(o, "schakel_link_page_views_total", "counter", "Dossier link code pages shown.");
  o << "schakel_link_page_views_total " << links.page_views.load() << "\n";
  Family(o, "schakel_link_code_attempts_total", "counter", "Access codes tried on dossier links, by result.");
  o << "schakel_link_code_attempts_total{result=\"ok\"} " << links.reads.load() << "\n";
  o << "schakel_link_code_attempts_total{result=\"wrong\"} " << links.wrong_codes.load() << "\n";
  o << "schakel_link_code_attempts_total{result=\"rate_limited\"} " << links.rate_limited.load() << "\n";
  Family(o, "schakel_link_locks_total", "counter", "Dossier links locked after too many wrong codes.");
  o << "schakel_link_locks_total " << links.locks.load() << "\n";
  return o.str();
}

Result<std::string> PrometheusText(NodeCore& core) {
  SCHAKEL_ASSIGN_OR_RETURN(store::NodeMetrics m,
                           core.Read([](NodeCore::Reading& r) { return store::CollectMetrics(r.db()); }));
  std::string text = FormatPrometheus(std::string(kVersion), m);
  // The API's group commit (NodeCore::WriteGrouped): the works per
  // transaction are the one ratio over the other.
  const NodeCore::GroupStats g = core.group_stats();
  std::ostringstream o;
  Family(o, "schakel_write_groups_total", "counter",
         "Transactions in which the API's grouped writes (shares) were committed.");
  o << "schakel_write_groups_total " << g.groups << "\n";
  Family(o, "schakel_grouped_writes_total", "counter",
         "Writes those transactions committed; over schakel_write_groups_total, the mean group size.");
  o << "schakel_grouped_writes_total " << g.works << "\n";
  Family(o, "schakel_grouped_writes_pending", "gauge",
         "Grouped writes waiting for their transaction to commit now (a writer holding the node lock shows here).");
  o << "schakel_grouped_writes_pending " << g.pending << "\n";
  // The node lock (docs/performance.md "Locks"): its held time's rate is the
  // share of time the writer was busy; the wait's rate over the acquisitions'
  // is the mean wait.
  const NodeCore::LockStats l = core.lock_stats();
  Family(o, "schakel_node_lock_acquisitions_total", "counter",
         "Times the node lock (the database writer and the audit log) was taken and let go.");
  o << "schakel_node_lock_acquisitions_total " << l.taken << "\n";
  Family(o, "schakel_node_lock_wait_seconds_total", "counter",
         "Seconds threads waited for the node lock, all of them together.");
  o << "schakel_node_lock_wait_seconds_total " << Seconds(l.waited_seconds) << "\n";
  Family(o, "schakel_node_lock_held_seconds_total", "counter",
         "Seconds the node lock was held (writes and their durable commits); its rate is the share of time held.");
  o << "schakel_node_lock_held_seconds_total " << Seconds(l.held_seconds) << "\n";
  Family(o, "schakel_node_lock_held_cpu_seconds_total", "counter",
         "Of the seconds the node lock was held, those its holders ran on a CPU; the rest they waited "
         "for the disk or for a CPU.");
  o << "schakel_node_lock_held_cpu_seconds_total " << Seconds(l.held_cpu_seconds) << "\n";
  Family(o, "schakel_db_pages_written_total", "counter",
         "Database pages the writer wrote in its commits; each is encrypted, authenticated and written "
         "to the write-ahead log, so over the shares delivered it is what a share costs the disk.");
  o << "schakel_db_pages_written_total " << core.pages_written() << "\n";
  Family(o, "schakel_db_log_flushes_total", "counter",
         "Times the write-ahead log was flushed to the disk (fdatasync) after the node lock was let go; one "
         "flush makes the commits of every holder before it durable.");
  o << "schakel_db_log_flushes_total " << core.durable_flushes() << "\n";
  // Where deliveries' time went, stage by stage (NodeCore::delivery_stages).
  Family(o, "schakel_delivery_stage_seconds", "histogram",
         "Seconds each stage of a delivery took, for every share or revocation whose answer was recorded: "
         "queued (until a lane read it), plan, connect_mark, send, answer, record, and total.");
  for (size_t stage = 0; stage < NodeCore::kDeliveryStages; ++stage) {
    const DurationHistogram::Snapshot h = core.delivery_stages[stage].Read();
    const std::string label = std::string("stage=\"") + NodeCore::kDeliveryStageNames[stage] + "\"";
    for (size_t i = 0; i < DurationHistogram::kBounds.size(); ++i) {
      char le[32];
      std::snprintf(le, sizeof le, "%g", DurationHistogram::kBounds[i]);
      o << "schakel_delivery_stage_seconds_bucket{" << label << ",le=\"" << le << "\"} " << h.cumulative[i] << "\n";
    }
    o << "schakel_delivery_stage_seconds_bucket{" << label << ",le=\"+Inf\"} " << h.count << "\n";
    o << "schakel_delivery_stage_seconds_sum{" << label << "} " << Seconds(h.sum_seconds) << "\n";
    o << "schakel_delivery_stage_seconds_count{" << label << "} " << h.count << "\n";
  }
  // Argon2id in its own process (crypto/kdf_helper.h): each miss ran on a
  // thread of this process instead.
  Family(
      o, "schakel_kdf_helper_failures_total", "counter",
      "Key derivations (link codes, passwords) the schakel-kdf helper did not answer; each ran on a thread instead.");
  o << "schakel_kdf_helper_failures_total " << crypto::KdfHelperFailures() << "\n";
  return text + o.str();
}

}  // namespace schakel::daemon
