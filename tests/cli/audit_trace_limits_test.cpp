// `schakel audit trace` reads LDV exports from anywhere (an auditor's
// folder): every file is read with limits, and a refusal names the file and
// line (docs/audit.md "Following one share across nodes").
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

namespace schakel {
namespace {

using testing::RunSchakel;
using testing::TempDir;
using testing::WriteAll;

std::string Record(const std::string& trace, int n, const std::string& message) {
  char op[17];
  std::snprintf(op, sizeof op, "%016x", n);
  return R"({"trace_id":")" + trace + R"(","operation_id":")" + op +
         R"(","name":"share.delivered","start_time":"2026-11-23T10:00:00.000Z","status_code":"OK",)" +
         R"("attributes":{"schakel.node_id":"school-a","schakel.seq":)" + std::to_string(n) +
         R"(,"schakel.message_id":")" + message + R"("}})" + "\n";
}

const std::string kTrace(32, 'a');

TEST(AuditTraceLimits, AGoodRecordIsTraced) {
  TempDir tmp;
  std::string file = tmp / "ldv.jsonl";
  WriteAll(file, Record(kTrace, 1, "m-1") + Record(kTrace, 2, "m-1"));
  auto r = RunSchakel({"audit", "trace", "--export", file, "m-1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("message m-1: 2 steps on 1 node"), std::string::npos) << r.out;
}

TEST(AuditTraceLimits, ALineLongerThan64KiBIsRefusedWithoutReadingItWhole) {
  TempDir tmp;
  std::string file = tmp / "ldv.jsonl";
  // 8 MiB on one line: refused at its first 64 KiB, naming the line.
  WriteAll(file, Record(kTrace, 1, "m-1") + std::string(size_t{8} << 20, 'x') + "\n");
  auto r = RunSchakel({"audit", "trace", "--export", file, "m-1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("ldv.jsonl:2: not an LDV record (longer than 64 KiB)"), std::string::npos) << r.err;
}

TEST(AuditTraceLimits, TooManyRecordsTracesOrExportsAreRefused) {
  TempDir tmp;
  std::string many = tmp / "many.jsonl";
  std::string text;
  for (int i = 1; i <= 100001; ++i) text += Record(kTrace, i, "m-1");
  WriteAll(many, text);
  auto steps = RunSchakel({"audit", "trace", "--export", many, "m-1"});
  EXPECT_EQ(steps.code, 2);
  EXPECT_NE(steps.err.find("more than 100000 records"), std::string::npos) << steps.err;

  std::string traces = tmp / "traces.jsonl";
  text.clear();
  for (int i = 1; i <= 65; ++i) {
    char trace[33];
    std::snprintf(trace, sizeof trace, "%032x", i);
    text += Record(trace, i, "m-1");
  }
  WriteAll(traces, text);
  auto t = RunSchakel({"audit", "trace", "--export", traces, "m-1"});
  EXPECT_EQ(t.code, 2);
  EXPECT_NE(t.err.find("more than 64 traces"), std::string::npos) << t.err;

  std::string one = tmp / "one.jsonl";
  WriteAll(one, Record(kTrace, 1, "m-1"));
  std::vector<std::string> args = {"audit", "trace"};
  for (int i = 0; i < 65; ++i) {
    args.push_back("--export");
    args.push_back(one);
  }
  args.push_back("m-1");
  auto e = RunSchakel(args);
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(e.err.find("at most 64 exports"), std::string::npos) << e.err;
}

}  // namespace
}  // namespace schakel
