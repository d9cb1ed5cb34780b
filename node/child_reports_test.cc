#include "node/child_reports.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/mem_env.h"

namespace tiersync::node {
namespace {

HttpRequest Post(std::string body) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/v1/reports";
  r.body = std::move(body);
  return r;
}

class ChildReportsTest : public ::testing::Test {
 protected:
  ChildReportsTest() : paths_("/node") { CreateDirs(&env_, paths_.dir).IgnoreError(); }
  MemEnv env_;
  NodePaths paths_;
};

TEST_F(ChildReportsTest, ARolledUpReportIsKeptAndSurvivesARestart) {
  ChildReports reports(&env_, paths_);
  ChildReport r;
  r.name = "西湖区";
  r.tier = "county";
  r.region = "330106";
  r.subscription = "";
  r.rolled_up = "platform = k12 and edition in (人教版) and grade in (1..6)\n";
  HttpReply reply = reports.Accept(Post(EncodeChildReport(r)));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reports.Subscriptions(), std::vector<std::string>{r.rolled_up});

  ChildReports reopened(&env_, paths_);
  reopened.Load();
  EXPECT_EQ(reopened.Subscriptions(), std::vector<std::string>{r.rolled_up});
  ASSERT_EQ(reopened.Reports().size(), 1u);
  EXPECT_EQ(reopened.Reports()[0].region, "330106");
}

TEST_F(ChildReportsTest, TheFileNamesItsFormatAndOlderAndNewerFilesAreTold) {
  ChildReports reports(&env_, paths_);
  ASSERT_EQ(reports.Accept(Post(R"({"name": "s", "subscription": "grade = 3"})")).status, 200);
  auto names = env_.GetChildren(paths_.children);
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names->size(), 1u);
  auto bytes = ReadFileToBytes(&env_, JoinPath(paths_.children, (*names)[0]), 1 << 16);
  ASSERT_TRUE(bytes.ok());
  EXPECT_NE(
      std::string(bytes->begin(), bytes->end()).find(R"("format": "tiersync-child-report 1")"),
      std::string::npos);
  // Layout 1 wrote no format (read as format 1); a newer format is skipped, not misread.
  ASSERT_TRUE(WriteFileAtomically(&env_, JoinPath(paths_.children, "old.json"),
                                  AsBytes(R"({"name": "o", "subscription": "grade = 5"})"))
                  .ok());
  ASSERT_TRUE(WriteFileAtomically(&env_, JoinPath(paths_.children, "new.json"),
                                  AsBytes(R"({"format": "tiersync-child-report 2", "name": "n",
                                              "subscription": "grade = 6"})"))
                  .ok());
  ChildReports reopened(&env_, paths_);
  reopened.Load();
  EXPECT_EQ(reopened.Subscriptions(), (std::vector<std::string>{"grade = 5", "grade = 3"}));
}

TEST_F(ChildReportsTest, AnOlderChildWithoutRollUpCountsWithItsOwnSubscription) {
  ChildReports reports(&env_, paths_);
  HttpReply reply = reports.Accept(Post(R"({"name": "school", "subscription": "grade = 3"})"));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reports.Subscriptions(), std::vector<std::string>{"grade = 3"});
}

TEST_F(ChildReportsTest, ALaterReportReplacesTheEarlierOne) {
  ChildReports reports(&env_, paths_);
  ASSERT_EQ(reports.Accept(Post(R"({"name": "s", "subscription": "grade = 3"})")).status, 200);
  ASSERT_EQ(reports.Accept(Post(R"({"name": "s", "subscription": "grade = 4"})")).status, 200);
  EXPECT_EQ(reports.Subscriptions(), std::vector<std::string>{"grade = 4"});
  EXPECT_EQ(reports.size(), 1u);
}

TEST_F(ChildReportsTest, BadReportsAreRefusedAndNothingIsKept) {
  ChildReports reports(&env_, paths_);
  EXPECT_EQ(reports.Accept(Post("not json")).status, 400);
  EXPECT_EQ(reports.Accept(Post(R"({"name": "s"})")).status, 400);
  HttpReply bad = reports.Accept(
      Post(R"({"name": "s", "subscription": "", "rolled_up": "edition = 北师大板"})"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("rolled_up"), std::string::npos) << bad.body;
  HttpRequest get = Post("{}");
  get.method = "GET";
  EXPECT_EQ(reports.Accept(get).status, 405);
  EXPECT_EQ(reports.size(), 0u);
}

}  // namespace
}  // namespace tiersync::node
