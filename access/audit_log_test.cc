#include "access/audit_log.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/fault_env.h"
#include "base/mem_env.h"

namespace tiersync::access {
namespace {

constexpr char kAuditLogPath[] = "/node/audit.log";

AuditEntry Entry(std::string op, std::string action, std::string outcome = "ok") {
  AuditEntry e;
  e.operator_name = std::move(op);
  e.role = "provincial_admin";
  e.action = std::move(action);
  e.target = "node xihu-no1 (330106)";
  e.from = "10.3.4.5";
  e.outcome = std::move(outcome);
  return e;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.CreateDir("/node").ok());
    ASSERT_TRUE(env_.SyncDir("/").ok());
  }

  std::unique_ptr<AuditLog> Open() {
    auto log = AuditLog::Open(&env_, kAuditLogPath);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  // Writes `n` entries, one a minute, and closes the log.
  void Write(int n) {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(
          log->Append(Entry(i % 2 ? "zj-admin" : "root", i % 3 ? "view_status" : "revoke")).ok());
      env_.AdvanceMicros(60'000'000);
    }
  }

  std::vector<std::string> Lines() {
    auto bytes = ReadFileToBytes(&env_, kAuditLogPath, 1 << 20);
    EXPECT_TRUE(bytes.ok());
    std::vector<std::string> lines;
    std::string cur;
    for (uint8_t b : *bytes) {
      if (b == '\n') {
        lines.push_back(cur);
        cur.clear();
      } else {
        cur.push_back(static_cast<char>(b));
      }
    }
    if (!cur.empty()) lines.push_back(cur + "<torn>");
    return lines;
  }

  void Rewrite(const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& l : lines) text += l + "\n";
    ASSERT_TRUE(
        WriteFileAtomically(&env_, kAuditLogPath,
                            ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()))
            .ok());
  }

  AuditVerification Verify(const std::optional<AuditAnchor>& anchor = {}) {
    auto v = VerifyAuditLog(&env_, kAuditLogPath, anchor);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : AuditVerification{};
  }

  MemEnv env_;
};

TEST_F(AuditLogTest, AppendReopenVerify) {
  Write(5);
  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->last_seq(), 5u);
  auto seq = log->Append(Entry("root", "invite"));
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 6u);
  AuditVerification v = Verify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.lines, 6u);
  EXPECT_EQ(v.last_seq, 6u);
  EXPECT_EQ(v.head, log->head());
  const std::vector<std::string> lines = Lines();
  EXPECT_TRUE(lines[0].starts_with(R"({"seq":1,"time":"2023-11-14T22:13:20Z","operator":"root",)"))
      << lines[0];
  EXPECT_NE(lines[0].find(R"("prev":")" + std::string(kZeroHash) + "\"}"), std::string::npos);
  EXPECT_NE(lines[1].find(AuditLineHash(lines[0])), std::string::npos);
}

TEST_F(AuditLogTest, AppendIsDurableBeforeItReturns) {
  Write(3);
  env_.SimulateCrash();
  EXPECT_EQ(Open()->last_seq(), 3u);
  EXPECT_TRUE(Verify().intact);
}

TEST_F(AuditLogTest, EditedLineIsFoundAtItsLineNumber) {
  Write(6);
  std::vector<std::string> lines = Lines();
  const size_t at = lines[2].find("\"outcome\":\"ok\"");
  ASSERT_NE(at, std::string::npos);
  lines[2].replace(at, 14, "\"outcome\":\"OK\"");
  Rewrite(lines);
  AuditVerification v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.broken_line, 3u) << v.problem;
  EXPECT_EQ(v.lines, 2u);
}

TEST_F(AuditLogTest, EditedPrevIsFoundAtItsLineNumber) {
  Write(6);
  std::vector<std::string> lines = Lines();
  lines[3].replace(lines[3].find("\"prev\":\"") + 8, 4, "abcd");
  Rewrite(lines);
  EXPECT_EQ(Verify().broken_line, 4u);
}

TEST_F(AuditLogTest, EditOfTheLineBeforeTheLastIsFound) {
  Write(4);
  std::vector<std::string> lines = Lines();
  lines[2].replace(lines[2].find("10.3.4.5"), 8, "10.9.9.9");
  Rewrite(lines);
  EXPECT_EQ(Verify().broken_line, 3u);
}

TEST_F(AuditLogTest, DeletedLineIsFoundAtItsLineNumber) {
  Write(6);
  std::vector<std::string> lines = Lines();
  lines.erase(lines.begin() + 3);  // line 4
  Rewrite(lines);
  AuditVerification v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.broken_line, 4u) << v.problem;
  EXPECT_NE(v.problem.find("deleted or reordered"), std::string::npos);
}

TEST_F(AuditLogTest, DeletedFirstLineIsFound) {
  Write(3);
  std::vector<std::string> lines = Lines();
  lines.erase(lines.begin());
  Rewrite(lines);
  EXPECT_EQ(Verify().broken_line, 1u);
}

TEST_F(AuditLogTest, SwappedPairIsFoundAtItsLineNumber) {
  Write(6);
  std::vector<std::string> lines = Lines();
  std::swap(lines[1], lines[2]);  // lines 2 and 3
  Rewrite(lines);
  AuditVerification v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.broken_line, 2u) << v.problem;
}

TEST_F(AuditLogTest, AnchorCatchesAnEditedOrCutEnd) {
  Write(4);
  std::vector<std::string> lines = Lines();
  const AuditAnchor anchor{4, AuditLineHash(lines[3])};
  EXPECT_TRUE(Verify(anchor).intact);
  lines[3].replace(lines[3].find("10.3.4.5"), 8, "10.9.9.9");
  Rewrite(lines);
  EXPECT_TRUE(Verify().intact);  // the chain alone cannot see an edit of the last line
  EXPECT_EQ(Verify(anchor).broken_line, 4u);
  lines.pop_back();
  Rewrite(lines);
  EXPECT_EQ(Verify(anchor).broken_line, 4u);
}

TEST_F(AuditLogTest, TornLastLineIsCutAtOpenAndRecorded) {
  Write(3);
  {
    auto f = env_.NewAppendableFile(kAuditLogPath);
    ASSERT_TRUE(f.ok());
    const std::string half = R"({"seq":4,"time":"2023-11-14T22:16:20Z","operator":"ro)";
    ASSERT_TRUE(
        (*f)->Append(ByteSpan(reinterpret_cast<const uint8_t*>(half.data()), half.size())).ok());
    ASSERT_TRUE((*f)->Sync().ok());
  }
  EXPECT_EQ(Verify().broken_line, 4u);  // as found: torn
  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->last_seq(), 4u);  // the repair event
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[3].find("\"action\":\"audit_repair\""), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find("torn last line of 53 bytes"), std::string::npos) << lines[3];
  EXPECT_TRUE(Verify().intact);
  // The cut and the event are durable.
  log.reset();
  env_.SimulateCrash();
  EXPECT_EQ(Lines().size(), 4u);
  EXPECT_TRUE(Verify().intact);
}

TEST_F(AuditLogTest, CrashWithTornAppendsAlwaysRecovers) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(seed);
    MemEnv env;
    ASSERT_TRUE(env.CreateDir("/node").ok());
    ASSERT_TRUE(env.SyncDir("/").ok());
    auto log = AuditLog::Open(&env, kAuditLogPath);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append(Entry("root", "invite")).ok());
    // A line whose sync never happened: torn or lost by the crash.
    auto file = env.NewAppendableFile(kAuditLogPath);
    const std::string line = std::string(R"({"seq":2,"time":"2023-11-14T22:13:20Z"})") + "\n";
    ASSERT_TRUE(
        (*file)
            ->Append(ByteSpan(reinterpret_cast<const uint8_t*>(line.data()), line.size() - 1))
            .ok());
    log->reset();
    Random tear(seed);
    env.SimulateCrash(&tear);
    auto again = AuditLog::Open(&env, kAuditLogPath);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    auto v = VerifyAuditLog(&env, kAuditLogPath);
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v->intact) << v->problem;
  }
}

TEST_F(AuditLogTest, CorruptLastLineFailsOpen) {
  Write(2);
  std::vector<std::string> lines = Lines();
  lines[1] = "{\"seq\":2}";
  Rewrite(lines);
  auto log = AuditLog::Open(&env_, kAuditLogPath);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kCorruption);
  EXPECT_NE(log.status().message().find(kAuditLogPath), std::string::npos);
}

TEST_F(AuditLogTest, ConcurrentAppendsKeepTheChain) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  constexpr int kThreads = 4, kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kEach; ++i) {
        auto seq = log->Append(Entry("op" + std::to_string(t), "view_status",
                                     "ok " + std::string(200, static_cast<char>('a' + t))));
        EXPECT_TRUE(seq.ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  AuditVerification v = Verify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.lines, static_cast<uint64_t>(kThreads * kEach));
  EXPECT_EQ(v.last_seq, static_cast<uint64_t>(kThreads * kEach));
  for (const std::string& line : Lines()) {
    // No interleaving: each line carries one thread's outcome whole.
    const size_t at = line.find("\"outcome\":\"ok ");
    ASSERT_NE(at, std::string::npos);
    const char c = line[at + 14];
    EXPECT_EQ(line.substr(at + 14, 200), std::string(200, c));
  }
}

TEST_F(AuditLogTest, RefusedRequestsAreLoggedWithWhoAndWhere) {
  auto log = Open();
  AuditEntry e = Entry("zj-admin", "revoke",
                       "refused: provincial_admin 'zj-admin' (330000) may not revoke in 320000");
  e.from = "203.0.113.9";
  ASSERT_TRUE(log->Append(e).ok());
  AuditEntry unauth = Entry("mallory", "invite", "refused: unknown operator 'mallory'");
  unauth.role = std::string(kRoleUnauthenticated);
  ASSERT_TRUE(log->Append(unauth).ok());
  auto page = log->Query({});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[0].role, "unauthenticated");
  EXPECT_EQ(page->entries[1].from, "203.0.113.9");
  EXPECT_TRUE(page->entries[1].outcome.starts_with("refused: "));
}

TEST_F(AuditLogTest, QueryFiltersNewestFirstAndPages) {
  Write(30);  // root on even i, zj-admin on odd; revoke when i % 3 == 0
  auto log = Open();
  ASSERT_NE(log, nullptr);
  AuditQuery q;
  q.operator_name = "zj-admin";
  q.limit = 4;
  auto page = log->Query(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->entries.size(), 4u);
  EXPECT_EQ(page->entries[0].seq, 30u);
  EXPECT_EQ(page->entries[3].seq, 24u);
  EXPECT_EQ(page->next_before_seq, 24u);
  q.before_seq = page->next_before_seq;
  page = log->Query(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->entries[0].seq, 22u);

  AuditQuery revokes;
  revokes.action = "revoke";
  revokes.since = static_cast<int64_t>(MemEnv::kDefaultStartMicros / 1'000'000) + 10 * 60;
  revokes.until = revokes.since + 10 * 60;  // entries 11..21 (i = 10..20)
  page = log->Query(revokes);
  ASSERT_TRUE(page.ok());
  std::vector<uint64_t> seqs;
  for (const AuditEntry& e : page->entries) seqs.push_back(e.seq);
  EXPECT_EQ(seqs, (std::vector<uint64_t>{19, 16, 13}));
  EXPECT_EQ(page->next_before_seq, 0u);

  AuditQuery big;
  big.limit = 1'000'000;
  page = log->Query(big);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->entries.size(), 30u);
}

TEST_F(AuditLogTest, FailedSyncFailsTheLogForGood) {
  FaultEnv faulty(&env_, 1);
  auto log = AuditLog::Open(&faulty, kAuditLogPath);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Append(Entry("root", "invite")).ok());
  faulty.FailAllSyncs(true);
  EXPECT_FALSE((*log)->Append(Entry("root", "revoke")).ok());
  faulty.FailAllSyncs(false);
  EXPECT_FALSE((*log)->Append(Entry("root", "revoke")).ok());  // sticky
  EXPECT_EQ((*log)->last_seq(), 1u);
}

TEST_F(AuditLogTest, SecondWriterIsRefused) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(AuditLog::Open(&env_, kAuditLogPath).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(AuditLogTest, FreeTextIsBoundedAndKeptOnOneLine) {
  auto log = Open();
  AuditEntry e = Entry("root", "invite");
  e.target = "line one\nline two " + std::string(5000, 'x');
  e.outcome = "refused: \xff\xfe bad utf-8";
  ASSERT_TRUE(log->Append(e).ok());
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_LT(lines[0].size(), 2000u);
  auto decoded = DecodeAuditLine(lines[0]);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded->target.starts_with("line one\nline two"));
  EXPECT_EQ(decoded->target.size(), kMaxAuditTextBytes);
  EXPECT_TRUE(Verify().intact);
}

}  // namespace
}  // namespace tiersync::access
