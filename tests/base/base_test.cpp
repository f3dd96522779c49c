#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "schakel/base/file.h"
#include "schakel/base/status.h"
#include "schakel/base/strings.h"

namespace schakel {
namespace {

TEST(Status, ExitCodesFollowTheContract) {
  EXPECT_EQ(Status::Ok().ExitCode(), 0);
  EXPECT_EQ(Status::InvalidInput("x").ExitCode(), 2);
  EXPECT_EQ(Status::NotFound("x").ExitCode(), 2);
  EXPECT_EQ(Status::AlreadyExists("x").ExitCode(), 2);
  EXPECT_EQ(Status::Denied("x").ExitCode(), 3);
  EXPECT_EQ(Status::Unauthenticated("x").ExitCode(), 3);
  EXPECT_EQ(Status::IoError("x").ExitCode(), 1);
  EXPECT_EQ(Status::Unavailable("x").ExitCode(), 1);
  EXPECT_EQ(Status::Corruption("x").ExitCode(), 1);
  EXPECT_EQ(Status::ResourceExhausted("x").ExitCode(), 1);
  EXPECT_EQ(Status::Internal("x").ExitCode(), 1);
}

TEST(Status, ContextIsPrepended) {
  Status s = Status::InvalidInput("expected a date").WithContext("consents[1].valid_from");
  EXPECT_EQ(s.message(), "consents[1].valid_from: expected a date");
  EXPECT_EQ(s.code(), Code::kInvalidInput);
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidInput("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  SCHAKEL_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(Result, PropagatesErrors) {
  EXPECT_EQ(Quarter(8).value(), 2);
  EXPECT_FALSE(Quarter(6).ok());
  EXPECT_EQ(Quarter(6).status().message(), "odd");
}

TEST(Strings, NodeIds) {
  EXPECT_TRUE(IsValidNodeId("school-trajectum"));
  EXPECT_TRUE(IsValidNodeId("abc"));
  EXPECT_FALSE(IsValidNodeId("ab"));
  EXPECT_FALSE(IsValidNodeId(std::string(65, 'a')));
  EXPECT_TRUE(IsValidNodeId(std::string(64, 'a')));
  EXPECT_FALSE(IsValidNodeId("School"));
  EXPECT_FALSE(IsValidNodeId("a_b"));
  EXPECT_FALSE(IsValidNodeId("a b"));
}

// The one purpose grammar (flows, consents, shares, links, envelopes).
TEST(Strings, PurposeNames) {
  for (const char* ok : {"doorverwijzing", "stap-2", "meldcode_stap-5", "a", "0"})
    EXPECT_TRUE(IsValidPurpose(ok)) << ok;
  EXPECT_TRUE(IsValidPurpose(std::string(64, 'a')));
  EXPECT_FALSE(IsValidPurpose(std::string(65, 'a')));
  for (const char* bad : {"", "Stap-2", "stap 2", "stap.2", "stap/2", "st\xc3\xa4p"}) {
    EXPECT_FALSE(IsValidPurpose(bad)) << bad;
  }
}

// The grammar is written once: no module keeps a copy of its own (the old
// ones in crypto/envelope.cpp, consent/protocol.cpp, formats/consent_json.cpp
// and service/ differed). Reads the sources.
TEST(Strings, PurposeGrammarIsDefinedOnce) {
  int definitions = 0;
  std::vector<std::string> copies;
  for (const char* module : {"base", "consent", "config", "formats", "crypto", "store", "audit", "service", "peer",
                             "http", "daemon", "cli"}) {
    std::filesystem::path dir = std::filesystem::path(SCHAKEL_SOURCE_DIR) / module;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".h")) continue;
      std::ifstream in(entry.path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      for (const char* name : {"bool IsValidPurpose(", "IsPurposeName", "IsPurpose("}) {
        size_t at = 0;
        while ((at = text.find(name, at)) != std::string::npos) {
          if (std::string(name) == "bool IsValidPurpose(" &&
              entry.path().filename().string().rfind("strings.", 0) == 0) {
            ++definitions;
          } else {
            copies.push_back(entry.path().string() + ": " + name);
          }
          at += 1;
        }
      }
    }
  }
  EXPECT_EQ(definitions, 2);  // declared in base/strings.h, defined in base/src/strings.cpp
  EXPECT_TRUE(copies.empty()) << copies.front();
}

TEST(Strings, HexRoundTrip) {
  std::vector<uint8_t> bytes = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(ToHex(bytes), "0001abff");
  EXPECT_EQ(FromHex("0001ABff").value(), bytes);
  EXPECT_FALSE(FromHex("abc").has_value());
  EXPECT_FALSE(FromHex("zz").has_value());
}

TEST(Strings, PrintableUtf8) {
  EXPECT_TRUE(IsPrintableUtf8("Zorgcoördinator — J. Bakker"));
  EXPECT_FALSE(IsPrintableUtf8("line\nbreak"));
  EXPECT_FALSE(IsPrintableUtf8("\x1b[31mred"));
  EXPECT_FALSE(IsPrintableUtf8("\xc3"));          // truncated
  EXPECT_FALSE(IsPrintableUtf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(IsPrintableUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(IsPrintableUtf8("\xc2\x85"));      // C1 control (NEL)
}

TEST(Strings, ShownAsciiKeepsWhatAServerSaidToOneSafeLine) {
  EXPECT_EQ(ShownAscii("250 OK"), "250 OK");
  EXPECT_EQ(ShownAscii("Moved\x1b[2J\ttoo\r\nX"), "Moved?[2J?too??X");
  EXPECT_EQ(ShownAscii("caf\xc3\xa9"), "caf??");
  EXPECT_EQ(ShownAscii(std::string(500, 'a')).size(), 200U);
  EXPECT_EQ(ShownAscii("abcdef", 3), "abc");
  EXPECT_EQ(ShownAscii(""), "");
}

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("schakel-base-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string P(const std::string& n) { return (dir_ / n).string(); }
  std::filesystem::path dir_;
};

TEST_F(FileTest, AtomicWriteSetsModeAndReplaces) {
  ASSERT_TRUE(WriteFileAtomic(P("f"), "one", 0600).ok());
  struct stat st {};
  ASSERT_EQ(::stat(P("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(WriteFileAtomic(P("f"), "two", 0600).ok());
  EXPECT_EQ(ReadFileLimited(P("f"), 100).value(), "two");
  EXPECT_EQ(WriteFileAtomic(P("f"), "three", 0600, /*exclusive=*/true).code(), Code::kAlreadyExists);
  EXPECT_EQ(ReadFileLimited(P("f"), 100).value(), "two");
  // No temporary files are left behind.
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_)) ++n;
  EXPECT_EQ(n, 1u);
}

TEST_F(FileTest, ReadRefusesLargeFilesAndNonFiles) {
  ASSERT_TRUE(WriteFileAtomic(P("big"), std::string(1000, 'x'), 0600).ok());
  auto r = ReadFileLimited(P("big"), 999);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("larger than 999"), std::string::npos);
  EXPECT_TRUE(ReadFileLimited(P("big"), 1000).ok());
  EXPECT_EQ(ReadFileLimited(P("missing"), 10).status().code(), Code::kNotFound);
  EXPECT_EQ(ReadFileLimited(dir_.string(), 10).status().code(), Code::kInvalidInput);
}

TEST_F(FileTest, MakeDirectoryIsIdempotent) {
  ASSERT_TRUE(MakeDirectory(P("d"), 0700).ok());
  ASSERT_TRUE(MakeDirectory(P("d"), 0700).ok());
  ASSERT_TRUE(WriteFileAtomic(P("file"), "x", 0600).ok());
  EXPECT_FALSE(MakeDirectory(P("file"), 0700).ok());
}

}  // namespace
}  // namespace schakel
