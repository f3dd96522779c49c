// Issue 22: a regional directory fetched over HTTPS from the URL its region
// was trusted with (docs/region.md "Fetched over HTTPS"). The keeper
// publishes a newer directory on a web server; the daemon that trusted the
// region with the URL fetches it by itself, takes it and passes it along
// to a partner that trusted the region from a file only. FetchHttps itself
// refuses what it must: another CA, another name, a redirect, a body over
// the limit, a server that does not answer.
#include <sys/socket.h>

#include <netinet/in.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "federation_support.h"
#include "https_files_support.h"
#include "schakel/config/https_url.h"
#include "schakel/http/fetch.h"

namespace schakel {
namespace {

using testing::Federation;
using testing::LocalHttps;
using testing::ReadAll;
using testing::RunSchakel;
using testing::TempDir;
using testing::WriteAll;

config::HttpsUrl Url(const std::string& text) {
  auto url = config::ParseHttpsUrl(text);
  EXPECT_TRUE(url.ok()) << text << ": " << url.status().message();
  return url.ok() ? *url : config::HttpsUrl{};
}

std::string FetchError(const std::string& url, const http::FetchOptions& options) {
  auto r = http::FetchHttps(Url(url), options);
  return r.ok() ? "fetched " + std::to_string(r->size()) + " bytes" : r.status().message();
}

TEST(FetchHttps, OnlyAVerifiedServerOfTheRightNameAnswering200WithinTheLimitsCounts) {
  TempDir tmp;
  LocalHttps https(tmp);
  ASSERT_TRUE(https.ready()) << https.log();
  https.Serve("d.json", "{\"region\":\"swv-oost\"}");
  https.Serve("big.json", std::string(size_t{1} << 20, 'x') + "more");
  http::FetchOptions trusted;
  trusted.ca_file = https.ca_file();
  trusted.timeout = std::chrono::seconds(10);

  auto body = http::FetchHttps(Url(https.Url("d.json")), trusted);
  ASSERT_TRUE(body.ok()) << body.status().message();
  EXPECT_EQ(*body, "{\"region\":\"swv-oost\"}");

  EXPECT_NE(FetchError(https.Url("missing.json"), trusted).find("the server answered 404"), std::string::npos);
  EXPECT_NE(FetchError(https.Url("moved"), trusted).find("redirects are not followed"), std::string::npos);
  EXPECT_NE(FetchError(https.Url("moved"), trusted).find("/elsewhere.json"), std::string::npos);
  EXPECT_NE(FetchError(https.Url("big.json"), trusted).find("larger than 1048576 bytes"), std::string::npos);
  // What the server says goes into a WARN line: its bytes outside printable
  // ASCII are shown as '?'; control bytes Beast refuses before anyone sees them.
  std::string strange_move = FetchError(https.Url("moved-strangely"), trusted);
  EXPECT_NE(strange_move.find("to /x??.json"), std::string::npos) << strange_move;
  std::string strange_reason = FetchError(https.Url("strange"), trusted);
  EXPECT_NE(strange_reason.find("answered 503 Busy ? now"), std::string::npos) << strange_reason;
  std::string escape = FetchError(https.Url("escape"), trusted);
  EXPECT_NE(escape.find("bad value"), std::string::npos) << escape;
  for (char ch : strange_move + strange_reason + escape) {
    EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << "byte " << static_cast<int>(static_cast<unsigned char>(ch));
  }

  http::FetchOptions system_cas = trusted;
  system_cas.ca_file.clear();
  EXPECT_NE(FetchError(https.Url("d.json"), system_cas).find("TLS handshake"), std::string::npos);
  // The certificate names 127.0.0.1, not localhost.
  std::string by_name = "https://localhost:" + std::to_string(https.port()) + "/d.json";
  EXPECT_NE(FetchError(by_name, trusted).find("TLS handshake"), std::string::npos);
  http::FetchOptions missing_ca = trusted;
  missing_ca.ca_file = tmp / "no-such-ca.pem";
  auto unreadable = http::FetchHttps(Url(https.Url("d.json")), missing_ca);
  ASSERT_FALSE(unreadable.ok());
  EXPECT_EQ(unreadable.status().code(), Code::kInvalidInput);

  // A listener that accepts and never speaks: the deadline ends it.
  int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(silent, 4), 0);
  ASSERT_EQ(::getsockname(silent, reinterpret_cast<sockaddr*>(&a), &len), 0);
  http::FetchOptions quick = trusted;
  quick.timeout = std::chrono::milliseconds(500);
  auto started = std::chrono::steady_clock::now();
  std::string silent_url = "https://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/d.json";
  EXPECT_NE(FetchError(silent_url, quick).find("no answer within"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  ::close(silent);
}

class DirectoryFetch : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(https_.ready()) << https_.log();
    auto r = RunSchakel({"directory", "init", "--file", dir_file_, "--key", key_file_, "--region", "swv-oost", "--name",
                         "Samenwerkingsverband Oost", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    fingerprint_ = nlohmann::json::parse(r.out)["fingerprint"];
  }

  void AddMember(const std::string& name) {
    auto r = RunSchakel({"directory", "add", "--file", dir_file_, "--card", fed_[name].dir + "/node-card.json",
                         "--fingerprint", fed_.Fingerprint(name)});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  // Signs the keeper's file and hands out a copy.
  std::string Sign() {
    auto r = RunSchakel({"directory", "sign", "--file", dir_file_, "--key", key_file_});
    EXPECT_EQ(r.code, 0) << r.err;
    std::string copy = tmp_ / ("handout-" + std::to_string(++handouts_) + ".json");
    WriteAll(copy, ReadAll(dir_file_));
    return copy;
  }
  void FetchEvery(const std::string& name, int seconds) {
    std::string path = fed_[name].dir + "/schakel.toml";
    WriteAll(path, ReadAll(path) + "\n[directory]\nfetch_seconds = " + std::to_string(seconds) + "\nca_file = \"" +
                       https_.ca_file() + "\"\n");
  }
  nlohmann::json Held(const std::string& name) {
    auto list = RunSchakel({"directory", "list", "--dir", fed_[name].dir, "--json"});
    EXPECT_EQ(list.code, 0) << list.err;
    return nlohmann::json::parse(list.out)["regions"][0];
  }
  std::set<std::string> Partners(const std::string& name) {
    auto r = RunSchakel({"partner", "list", "--dir", fed_[name].dir, "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    std::set<std::string> out;
    nlohmann::json list = nlohmann::json::parse(r.out)["partners"];
    for (const auto& p : list) out.insert(p["node_id"].get<std::string>());
    return out;
  }

  TempDir tmp_;
  Federation fed_{tmp_};
  LocalHttps https_{tmp_};
  std::string dir_file_ = tmp_ / "swv-oost.json";
  std::string key_file_ = tmp_ / "swv-oost.key";
  std::string fingerprint_;
  int handouts_ = 0;
};

TEST_F(DirectoryFetch, TheKeepersNewerDirectoryIsFetchedByTheDaemonAndPassedAlong) {
  fed_.Add("school", "school-a", "school");
  fed_.Add("team", "wijkteam-b", "wijkteam");
  fed_.Add("ggd", "ggd-f", "ggd");
  ASSERT_NO_FATAL_FAILURE(AddMember("school"));
  ASSERT_NO_FATAL_FAILURE(AddMember("team"));
  const std::string first = Sign();
  https_.Serve("swv-oost.json", ReadAll(first));
  const std::string url = https_.Url("swv-oost.json");

  // A URL must be https://, checked before anything is trusted.
  auto plain = RunSchakel({"directory", "trust", "--dir", fed_["school"].dir, "--file", first, "--fingerprint",
                           fingerprint_, "--accept-types", "school,wijkteam,ggd", "--allow-local-address", "--url",
                           "http://127.0.0.1/swv-oost.json"});
  EXPECT_EQ(plain.code, 2) << plain.err;
  EXPECT_NE(plain.err.find("http:// is refused"), std::string::npos) << plain.err;

  FetchEvery("school", 1);
  auto trust =
      RunSchakel({"directory", "trust", "--dir", fed_["school"].dir, "--file", first, "--fingerprint", fingerprint_,
                  "--accept-types", "school,wijkteam,ggd", "--allow-local-address", "--url", url});
  ASSERT_EQ(trust.code, 0) << trust.err;
  trust = RunSchakel({"directory", "trust", "--dir", fed_["team"].dir, "--file", first, "--fingerprint", fingerprint_,
                      "--accept-types", "school,wijkteam,ggd", "--allow-local-address"});
  ASSERT_EQ(trust.code, 0) << trust.err;
  EXPECT_EQ(Held("school")["url"], url);
  fed_.StartNode("school");
  fed_.StartNode("team");

  // The keeper adds the GGD and publishes serial 2; nobody at the members
  // does anything.
  ASSERT_NO_FATAL_FAILURE(AddMember("ggd"));
  https_.Serve("swv-oost.json", ReadAll(Sign()));
  auto started = std::chrono::steady_clock::now();
  for (const char* name : {"school", "team"}) {
    nlohmann::json held;
    for (int i = 0; i < 300; ++i) {  // bounded: 30 s
      held = Held(name);
      if (held["serial"] == 2) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(held["serial"], 2) << name << ": " << held.dump();
    EXPECT_EQ(Partners(name).count("ggd-f"), 1u) << name;
  }
  std::cout << "[ fetch ] published to taken at both members in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count()
            << " ms\n";
  EXPECT_EQ(Held("school")["source"], "url " + url);
  EXPECT_EQ(Held("team")["source"], "partner school-a");

  // Fetching by hand: the one held already.
  auto again = RunSchakel({"directory", "fetch", "--dir", fed_["school"].dir});
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("serial 2 held already"), std::string::npos) << again.out;
  auto unknown = RunSchakel({"directory", "fetch", "--dir", fed_["school"].dir, "--region", "swv-west"});
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.err.find("not trusted here"), std::string::npos) << unknown.err;
  auto no_url = RunSchakel({"directory", "fetch", "--dir", fed_["team"].dir, "--region", "swv-oost"});
  EXPECT_EQ(no_url.code, 2) << no_url.err;
  EXPECT_NE(no_url.err.find("without a URL"), std::string::npos) << no_url.err;

  // A URL that serves nothing is reported, and nothing changes.
  FetchEvery("ggd", 3600);
  trust =
      RunSchakel({"directory", "trust", "--dir", fed_["ggd"].dir, "--file", dir_file_, "--fingerprint", fingerprint_,
                  "--accept-types", "school,wijkteam", "--allow-local-address", "--url", https_.Url("gone.json")});
  ASSERT_EQ(trust.code, 0) << trust.err;
  auto gone = RunSchakel({"directory", "fetch", "--dir", fed_["ggd"].dir});
  EXPECT_NE(gone.code, 0);
  EXPECT_NE(gone.err.find("the server answered 404"), std::string::npos) << gone.err;
  EXPECT_EQ(Held("ggd")["serial"], 2);
}

}  // namespace
}  // namespace schakel
