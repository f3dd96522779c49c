// A federation of real nodes for end-to-end tests: each node is a directory
// made by `schakel init`, a `schakeld` child process on loopback ports the
// test picks itself, and users with tokens. Online commands run in-process
// through schakel::cli::RunCli, which talks HTTP to the child daemons.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include <chrono>
#include <functional>
#include <future>
#include <initializer_list>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "process_support.h"
#include "schakel/audit/audit_log.h"
#include "schakel/base/clock.h"
#include "schakel/config/node_config.h"
#include "schakel/daemon/daemon.h"
#include "schakel/store/database.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/node_dir.h"
#include "test_support.h"

namespace schakel::testing {

// The consents that let the school share Sanne's case (stu-1042, born
// 2012-05-01: 12 to 15, so an ouder and the jongere are both needed) with
// wijkteam-b for a doorverwijzing; the jongere leaves out "contact".
constexpr const char* kSanneOuder = R"({"subject_id": "stu-1042", "grantor_role": "ouder",
  "purposes": ["doorverwijzing"], "recipients": ["wijkteam"],
  "categories": ["identificatie", "contact", "hulpvraag", "gezinssituatie", "afspraken"],
  "valid_from": "2026-01-01", "valid_until": null})";
constexpr const char* kSanneJongere = R"({"subject_id": "stu-1042", "grantor_role": "jongere",
  "purposes": ["doorverwijzing"], "recipients": ["wijkteam-b"],
  "categories": ["identificatie", "hulpvraag", "gezinssituatie", "afspraken"],
  "valid_from": "2026-01-01", "valid_until": null})";

// Claims a base port for this test process: ctest runs tests side by side,
// and a node's ports are picked (free then) long before its daemon binds
// them, so another test could pick them meanwhile (a CI run once saw
// "Address already in use"). A claim is a file made with O_EXCL in a folder
// every test process shares; one older than an hour is from a process that
// is gone and is taken over.
inline bool ClaimPortBase(int base) {
  static const std::string dir = [] {
    std::string d = "/tmp/schakel-test-ports";
    ::mkdir(d.c_str(), 0700);
    return d;
  }();
  std::string path = dir + "/" + std::to_string(base);
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;  // released meanwhile: try again
    if (std::time(nullptr) - st.st_mtime < 3600) return false;
    ::unlink(path.c_str());  // stale
  }
  return false;
}

// A base port with the three following ports free on 127.0.0.1, below
// Linux's ephemeral range (32768-60999): a node may be started long after
// its ports were picked, and meanwhile any outgoing connection -- the other
// node's retries to this very port among them, which can connect to
// themselves -- may take an ephemeral port. Claimed for this process
// (ClaimPortBase), so that no other test picks it.
inline int FreePortBase() {
  std::mt19937 rng(std::random_device{}());
  for (int attempt = 0; attempt < 400; ++attempt) {
    int base = 10000 + static_cast<int>(rng() % 5690) * 4;  // 10000 .. 32759
    if (!ClaimPortBase(base)) continue;
    bool free = true;
    std::vector<int> fds;
    for (int p = base; p < base + 4 && free; ++p) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(p));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) free = false;
      fds.push_back(fd);
    }
    for (int fd : fds) ::close(fd);
    if (free) return base;
  }
  return 0;
}

struct Node {
  std::string name;  // short name: "school"
  std::string id;    // node id
  std::string type;  // org type
  std::string dir;
  int port = 0;
  std::map<std::string, std::string> tokens;  // user name -> token
  std::string coordinator;                    // the bootstrap coordinator, who confirms the others
  std::unique_ptr<Child> daemon;
};

class Federation {
 public:
  explicit Federation(const TempDir& tmp) : tmp_(tmp) {}
  ~Federation() {
    for (auto& [name, n] : nodes_) StopNode(name, /*kill=*/true);
  }

  Node& Add(const std::string& name, const std::string& id, const std::string& type,
            const std::string& extra_config = "retry_base_ms = 100\nretry_max_ms = 500\n") {
    Node& n = nodes_[name];
    n.name = name;
    n.id = id;
    n.type = type;
    n.dir = tmp_ / name;
    n.port = FreePortBase();
    auto r = RunSchakel({"init", "--dir", n.dir, "--name", "Org " + name, "--org-id", id, "--org-type", type,
                         "--listen", "127.0.0.1:" + std::to_string(n.port)});
    EXPECT_EQ(r.code, 0) << r.err;
    // Fast retries for tests.
    std::string cfg = ReadAll(n.dir + "/schakel.toml");
    auto pos = cfg.find("[delivery]");
    if (pos != std::string::npos) {
      auto end = cfg.find("\n[", pos + 1);
      cfg.erase(pos, end == std::string::npos ? std::string::npos : end + 1 - pos);
    }
    cfg += "\n[delivery]\n" + extra_config;
    // Tests move their clocks by months (retention): tokens outlive them.
    // Token expiry itself: AccountsTest (console_test.cpp).
    if (cfg.find("[users]") == std::string::npos) cfg += "\n[users]\ntoken_days = 3650\n";
    WriteAll(n.dir + "/schakel.toml", cfg);
    LoadRoster(n.dir);
    return n;
  }

  Node& operator[](const std::string& name) { return nodes_.at(name); }

  std::string Fingerprint(const std::string& name) {
    auto r = RunSchakel({"node", "fingerprint", "--dir", nodes_.at(name).dir});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }

  void Pair(const std::string& a, const std::string& b) {
    auto r1 = RunSchakel({"partner", "add", "--allow-local-address", "--dir", nodes_.at(a).dir, "--card",
                          nodes_.at(b).dir + "/node-card.json", "--fingerprint", Fingerprint(b)});
    ASSERT_EQ(r1.code, 0) << r1.err;
    auto r2 = RunSchakel({"partner", "add", "--allow-local-address", "--dir", nodes_.at(b).dir, "--card",
                          nodes_.at(a).dir + "/node-card.json", "--fingerprint", Fingerprint(a)});
    ASSERT_EQ(r2.code, 0) << r2.err;
  }

  // Adds a user and keeps its token. Staff and coordinators wait for a
  // coordinator's confirmation (store/accounts.h): the node's first
  // coordinator (made at once, the bootstrap) confirms them offline with its
  // token; a node without one gets "eerste-zorgco" first.
  void AddUser(const std::string& node, const std::string& user, const std::string& role) {
    Node& n = nodes_.at(node);
    if ((role == "staff" || role == "coordinator") && n.coordinator.empty() && role != "coordinator") {
      ASSERT_NO_FATAL_FAILURE(AddUser(node, "eerste-zorgco", "coordinator"));
    }
    auto r = RunSchakel({"user", "add", "--dir", n.dir, "--name", user, "--role", role});
    ASSERT_EQ(r.code, 0) << r.err;
    n.tokens[user] = LastLine(r.out);
    if (r.out.find("cannot sign in until") == std::string::npos) {
      if (role == "coordinator" && n.coordinator.empty()) n.coordinator = user;
      return;
    }
    ASSERT_FALSE(n.coordinator.empty()) << "no coordinator at " << node << " to confirm " << user;
    std::string token_file = n.dir + "/token-confirm";
    WriteAll(token_file, n.tokens.at(n.coordinator));
    auto c = RunSchakel({"user", "confirm", user, "--offline", "--dir", n.dir, "--token-file", token_file});
    ASSERT_EQ(c.code, 0) << c.err;
  }

  // A staff member at `node` who reads what `sender` shares about the test
  // roster's students: a coordinator of `node` ("routing-co", made here)
  // routes those to them (docs/students.md) when the node next starts.
  // Wrap in ASSERT_NO_FATAL_FAILURE.
  void AddReader(const std::string& node, const std::string& user, const std::string& sender) {
    ASSERT_NO_FATAL_FAILURE(AddUser(node, user, "staff"));
    if (!nodes_.at(node).tokens.count("routing-co")) {
      ASSERT_NO_FATAL_FAILURE(AddUser(node, "routing-co", "coordinator"));
    }
    for (const char* student : {"stu-1042", "stu-3155", "stu-2207", "stu-1", "stu-77"}) {
      pending_routes_[node].push_back({nodes_.at(sender).id, student, user});
    }
  }

  // The pair most daemon tests use: school-a (school) and wijkteam-b
  // (wijkteam) as "school" and "team", partners of each other, with a mentor
  // (staff) and zorgco (coordinator) at the school and a gezinswerker (staff)
  // at the team. Wrap in ASSERT_NO_FATAL_FAILURE.
  void AddSchoolAndTeam() {
    Add("school", "school-a", "school");
    Add("team", "wijkteam-b", "wijkteam");
    ASSERT_NO_FATAL_FAILURE(Pair("school", "team"));
    ASSERT_NO_FATAL_FAILURE(AddUser("school", "zorgco", "coordinator"));
    ASSERT_NO_FATAL_FAILURE(AddUser("school", "mentor", "staff"));
    ASSERT_NO_FATAL_FAILURE(AddReader("team", "gezinswerker", "school"));
  }

  // The pair the retention, key rotation and metrics tests use: school-a
  // (school) and lvs-b (lvs) as "school" and "lvs", partners of each other,
  // with a mentor (staff) at the school. Wrap in ASSERT_NO_FATAL_FAILURE.
  void AddSchoolAndLvs() {
    Add("school", "school-a", "school");
    Add("lvs", "lvs-b", "lvs");
    ASSERT_NO_FATAL_FAILURE(Pair("school", "lvs"));
    ASSERT_NO_FATAL_FAILURE(AddUser("school", "mentor", "staff"));
  }

  // Records consents (JSON, as for `schakel consent add`) at a running node
  // as `user`. Wrap in ASSERT_NO_FATAL_FAILURE.
  void AddConsents(const std::string& node, const std::string& user, std::initializer_list<const char*> consents) {
    for (const char* c : consents) {
      auto r = As(node, user, {"consent", "add", "--file", WriteFile("consent.json", c)});
      ASSERT_EQ(r.code, 0) << r.err;
    }
  }

  // Starts schakeld and waits until its API answers; `env` ("K=V") is added
  // to the daemon's environment (the fault tests' SCHAKEL_FAULT_POINT).
  // With `to_die` the node is started to die at a fault point: it may reach
  // it before it logs " ready" (a partner with shares queued connects as soon
  // as the peer port listens), so the wait also ends when its log says it is
  // dying there, and the routes AddReader asked for wait for the next start
  // (the node may be gone before the CLI that routes could reach it).
  void StartNode(const std::string& name, const std::vector<std::string>& env = {}, bool to_die = false) {
    Node& n = nodes_.at(name);
    // The log is appended to across restarts: look only at what this run writes.
    size_t offset = ReadAll(n.dir + "/daemon.log").size();
    n.daemon = std::make_unique<Child>(std::vector<std::string>{BinaryPath("schakeld"), "--dir", n.dir}, env,
                                       n.dir + "/daemon.log");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string log = ReadAll(n.dir + "/daemon.log");
      if (log.find(" ready", offset) != std::string::npos) {
        if (!to_die) ApplyRoutes(name);
        return;
      }
      if (to_die && log.find("fault point ", offset) != std::string::npos) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << name << " did not start: " << ReadAll(n.dir + "/daemon.log");
  }

  // Sends a signal to a running node: SIGSTOP freezes it (its sockets stay
  // open, the kernel keeps what arrives), SIGCONT lets it go on.
  void SignalNode(const std::string& name, int sig) {
    Node& n = nodes_.at(name);
    ASSERT_TRUE(n.daemon) << name << " is not running";
    n.daemon->Signal(sig);
  }

  void StopNode(const std::string& name, bool kill = false) {
    Node& n = nodes_.at(name);
    if (!n.daemon) return;
    n.daemon->Signal(kill ? SIGKILL : SIGTERM);
    int code = n.daemon->Wait(std::chrono::seconds(15));
    if (!kill) {
      EXPECT_EQ(code, 0) << name << " did not stop cleanly: " << ReadAll(n.dir + "/daemon.log");
    }
    n.daemon.reset();
  }

  // Runs an online command as `user` at `node`.
  CliResult As(const std::string& node, const std::string& user, std::vector<std::string> args,
               const std::string& input = "") {
    Node& n = nodes_.at(node);
    std::string token_file = n.dir + "/token-" + std::to_string(std::hash<std::string>{}(user));
    WriteAll(token_file, n.tokens.at(user));
    args.insert(args.end(), {"--dir", n.dir, "--token-file", token_file});
    return RunSchakel(args, input);
  }

  nlohmann::json AsJson(const std::string& node, const std::string& user, std::vector<std::string> args) {
    args.push_back("--json");
    auto r = As(node, user, args);
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }

  // Before a test freezes the recipient with a share on the wire: two shares
  // made by `share` (as `user` of `node`) delivered one after the other. The
  // first opens the connection the next share uses; after its round the
  // sender's lane does, on that connection, what it does once per start (its
  // card, the directory, a witness request), and a recipient frozen then
  // holds the lane until the request times out, so the next share would not
  // go out at all. After the second round nothing of that is left to send.
  // Returns the two message ids.
  std::vector<std::string> DeliverTwoInTurn(const std::string& node, const std::string& user,
                                            const std::function<std::string()>& share) {
    std::vector<std::string> sent;
    for (int i = 0; i < 2; ++i) {
      sent.push_back(share());
      if (!WaitShareState(node, user, sent.back(), "delivered")) break;
    }
    return sent;
  }

  // Waits (bounded) until the share reaches `state` at the sender.
  bool WaitShareState(const std::string& node, const std::string& user, const std::string& message_id,
                      const std::string& state, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
      auto shares = AsJson(node, user, {"shares"});
      for (const auto& s : shares["shares"]) {
        if (s["message_id"] == message_id) last = s["state"].get<std::string>();
      }
      if (last == state) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "share " << message_id << " is " << last << ", not " << state;
    return false;
  }

  // Waits (bounded) until `text` is in the node's daemon log.
  bool WaitLog(const std::string& name, const std::string& text, std::chrono::milliseconds limit) {
    const std::string log = nodes_.at(name).dir + "/daemon.log";
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (ReadAll(log).find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= deadline) {
        ADD_FAILURE() << name << "'s log has no \"" << text << "\": " << ReadAll(log);
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }

  // Records a consent (JSON text) at `node` as `coordinator`; returns its id.
  std::string AddConsent(const std::string& node, const std::string& coordinator, const std::string& json_text) {
    auto r = As(node, coordinator, {"consent", "add", "--file", WriteFile("consent.json", json_text)});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = tmp_ / name;
    WriteAll(path, text);
    return path;
  }

  // Confirms the routes AddReader asked for at a running node (StartNode
  // does it; call it after starting an in-process daemon).
  void ApplyRoutes(const std::string& node) {
    for (const auto& [sender, student, user] : pending_routes_[node]) {
      auto r = As(node, "routing-co", {"inbox", "route", "--sender", sender, "--student", student, "--user", user});
      ASSERT_EQ(r.code, 0) << r.err;
    }
    pending_routes_[node].clear();
  }

 private:
  struct Route {
    std::string sender;
    std::string student;
    std::string user;
  };
  std::map<std::string, std::vector<Route>> pending_routes_;
  const TempDir& tmp_;
  std::map<std::string, Node> nodes_;
};

// A node's daemon run in the test's own process, on a clock the test moves,
// with maintenance run only when the test asks (RunMaintenanceNow).
class InProcessDaemon {
 public:
  InProcessDaemon(const std::string& dir, const Clock& clock) {
    daemon::DaemonOptions options;
    options.dir = dir;
    options.clock = &clock;
    options.maintenance_interval = std::chrono::hours(1);
    std::promise<void> ready;
    options.on_ready = [&](daemon::Daemon&) { ready.set_value(); };
    auto d = daemon::Daemon::Create(options);
    if (!d.ok()) {
      ADD_FAILURE() << d.status().message();
      return;
    }
    daemon_ = std::move(d).value();
    runner_ = std::thread([this] { (void)daemon_->Run(); });
    if (ready.get_future().wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << "the in-process daemon did not get ready";
    }
  }
  ~InProcessDaemon() { Stop(); }
  InProcessDaemon(const InProcessDaemon&) = delete;
  InProcessDaemon& operator=(const InProcessDaemon&) = delete;

  bool ok() const { return daemon_ != nullptr; }
  daemon::Daemon& operator*() { return *daemon_; }
  daemon::Daemon* operator->() { return daemon_.get(); }
  void Stop() {
    if (daemon_ && runner_.joinable()) {
      daemon_->Stop();
      runner_.join();
    }
  }

 private:
  std::unique_ptr<daemon::Daemon> daemon_;
  std::thread runner_;
};

// A bare HTTP/1.1 GET; returns the whole response (status line, headers, body).
inline std::string HttpGet(int port, const std::string& path, const std::string& token) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  req += "\r\n";
  (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

// Opens a stopped node's database the way the offline commands do; null (and
// a test failure) when its configuration or database does not open.
inline std::unique_ptr<store::Database> OpenNodeDb(const std::string& dir) {
  auto cfg = config::LoadNodeConfig(dir);
  EXPECT_TRUE(cfg.ok()) << cfg.status().message();
  if (!cfg.ok()) return nullptr;
  store::NodePaths paths(dir, cfg->key_file);
  store::KeySource source;
  source.key_file = paths.key_file;
  source.passphrase_env = cfg->passphrase_env;
  auto db = store::OpenNodeDatabase(paths, source);
  EXPECT_TRUE(db.ok()) << db.status().message();
  return db.ok() ? std::move(db).value() : nullptr;
}

// How many entries with this action about this object a node's log holds;
// -1 (and a test failure) when it cannot be read.
inline int64_t CountEntries(store::Database& db, const std::string& action, const std::string& object) {
  auto q = db.Prepare("SELECT count(*) FROM audit_log WHERE action = ?1 AND object = ?2;");
  EXPECT_TRUE(q.ok()) << q.status().message();
  if (!q.ok()) return -1;
  q->Bind(1, action).Bind(2, object);
  auto row = q->Step();
  return row.ok() && *row ? q->Int(0) : -1;
}

// The audit chain stored in `db` (node `node_id`) verifies.
inline void ExpectChainIntact(store::Database& db, const std::string& node_id) {
  auto identity = store::LoadIdentity(db);
  ASSERT_TRUE(identity.ok()) << identity.status().message();
  SystemClock clock;
  auto log = audit::AuditLog::Create(db, node_id, *identity, clock);
  ASSERT_TRUE(log.ok()) << log.status().message();
  Status verified = (*log)->VerifyStored();
  EXPECT_TRUE(verified.ok()) << node_id << ": " << verified.message();
  EXPECT_TRUE((*log)->Close().ok());
}

// PRAGMA integrity_check is "ok" and the stored audit chain verifies.
inline void ExpectIntact(store::Database& db, const std::string& node_id) {
  auto q = db.Prepare("PRAGMA integrity_check;");
  ASSERT_TRUE(q.ok()) << q.status().message();
  auto row = q->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(q->Text(0), "ok") << node_id;
  ExpectChainIntact(db, node_id);
}

inline std::string CaseFixture(const std::string& name) { return std::string(SCHAKEL_FIXTURES_DIR) + "/cases/" + name; }

}  // namespace schakel::testing
