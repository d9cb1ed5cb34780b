#include "node/report_intake.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "base/mem_env.h"
#include "base/zstd_codec.h"
#include "node/fleet_report.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::node {
namespace {

constexpr int64_t kNow = 1'765'000'000;

HttpRequest Post(std::string body, std::string type = "application/json") {
  HttpRequest r;
  r.method = "POST";
  r.target = "/v1/reports";
  r.body = std::move(body);
  r.headers["content-type"] = std::move(type);
  return r;
}

fleet::NodeState State(const std::string& name, const std::string& tier,
                       const std::string& region) {
  fleet::NodeState s;
  s.name = name;
  s.tier = tier;
  s.region = region;
  s.release = "r3";
  s.version = 7;
  return s;
}

// A county's report: itself, one school below it, usage of one day.
FleetReport CountyReport(uint64_t seq, uint64_t views) {
  FleetReport r;
  r.rollup.name = "西湖区";
  r.rollup.tier = "county";
  r.rollup.region = "330106";
  r.rollup.subscription = "platform = k12\n";
  r.rollup.rolled_up = "platform = k12\n";
  r.seq = seq;
  r.sent_at = kNow;
  r.report_every = 60;
  r.state = State("西湖区", "county", "330106");
  fleet::NodeState school = State("学军小学", "school", "330106");
  school.seen_at = kNow - 10;
  school.stale_after = 210;
  r.subtree = {school};
  r.subtree_full = true;
  r.usage = {{"2026-12-07", {{"k12-1", {views, 1}}}}};
  return r;
}

class ReportIntakeTest : public ::testing::Test {
 protected:
  ReportIntakeTest() : paths_("/node") {
    CreateDirs(&env_, paths_.dir).IgnoreError();
    env_.SetNowMicros(static_cast<uint64_t>(kNow) * 1'000'000);
    store_ = std::move(fleet::FleetStore::Open(tmp_.Sub("fleet")).value());
  }
  uint64_t Views() {
    auto days = store_->UsageByDay({});
    if (!days.ok() || days->empty()) return 0;
    return (*days)[0].resources["k12-1"].views;
  }
  MemEnv env_;
  NodePaths paths_;
  testing::TempDir tmp_;
  ChildReports children_{&env_, paths_};
  std::unique_ptr<fleet::FleetStore> store_;
};

TEST_F(ReportIntakeTest, AReportKeepsTheChildItsSubtreeAndTheirUsage) {
  ReportIntake intake(&env_, &children_, store_.get(), "杭州市", "330100");
  HttpReply reply = intake.Accept(Post(EncodeFleetReport(CountyReport(5, 3))));
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto county = store_->Node("西湖区");
  ASSERT_TRUE(county.ok() && county->has_value());
  EXPECT_EQ((*county)->parent, "杭州市");
  EXPECT_EQ((*county)->seen_at, kNow);
  EXPECT_EQ((*county)->stale_after, 3 * 60 + kReportSlackSeconds);
  auto school = store_->Node("学军小学");
  ASSERT_TRUE(school.ok() && school->has_value());
  EXPECT_EQ((*school)->seen_at, kNow - 10);  // as the county saw it
  EXPECT_EQ((*school)->stale_after, 210);    // as the county vouches for it
  EXPECT_EQ(Views(), 3u);
  EXPECT_EQ(children_.Subscriptions(), std::vector<std::string>{"platform = k12\n"});
}

TEST_F(ReportIntakeTest, ARetryCountsOnceAReplayIsRefusedANewerReportReplaces) {
  ReportIntake intake(&env_, &children_, store_.get(), "杭州市", "330100");
  ASSERT_EQ(intake.Accept(Post(EncodeFleetReport(CountyReport(5, 3)))).status, 200);
  ASSERT_EQ(intake.Accept(Post(EncodeFleetReport(CountyReport(5, 3)))).status, 200);
  EXPECT_EQ(Views(), 3u);  // the same day's counts replace, never add
  ASSERT_EQ(intake.Accept(Post(EncodeFleetReport(CountyReport(6, 4)))).status, 200);
  EXPECT_EQ(Views(), 4u);
  HttpReply replay = intake.Accept(Post(EncodeFleetReport(CountyReport(5, 3))));
  EXPECT_EQ(replay.status, 409);
  EXPECT_NE(replay.body.find("replay"), std::string::npos) << replay.body;
  EXPECT_EQ(Views(), 4u);
}

TEST_F(ReportIntakeTest, ANodeOrASubtreeOutsideThisRegionIsRefused) {
  ReportIntake intake(&env_, &children_, store_.get(), "杭州市", "330100");
  FleetReport other = CountyReport(5, 3);
  other.rollup.region = other.state.region = "320106";  // 江苏省
  HttpReply reply = intake.Accept(Post(EncodeFleetReport(other)));
  EXPECT_EQ(reply.status, 403);
  EXPECT_NE(reply.body.find("outside"), std::string::npos) << reply.body;
  FleetReport smuggled = CountyReport(6, 3);
  smuggled.subtree[0].region = "320106";
  EXPECT_EQ(intake.Accept(Post(EncodeFleetReport(smuggled))).status, 403);
  EXPECT_FALSE(store_->Node("学军小学")->has_value());
  EXPECT_EQ(Views(), 0u);
  // The national hub hears of every region.
  ReportIntake hub(&env_, &children_, store_.get(), "国家智慧教育平台", "");
  EXPECT_EQ(hub.Accept(Post(EncodeFleetReport(other))).status, 200);
}

TEST_F(ReportIntakeTest, AZstdBodyIsTakenAndABadOneRefused) {
  ReportIntake intake(&env_, &children_, store_.get(), "杭州市", "330100");
  const std::string body = EncodeFleetReport(CountyReport(5, 3));
  std::vector<uint8_t> frame;
  ZstdCodec codec;
  ASSERT_TRUE(codec.CompressIfSmaller(AsBytes(body), &frame));
  HttpReply ok = intake.Accept(Post(std::string(frame.begin(), frame.end()), "application/zstd"));
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(intake.Accept(Post("not a frame", "application/zstd")).status, 400);
}

TEST_F(ReportIntakeTest, AFormat1ReportStillRollsUpAndAskedForNothingElse) {
  ReportIntake intake(&env_, &children_, store_.get(), "杭州市", "330100");
  ChildReport old = CountyReport(5, 3).rollup;
  HttpReply reply = intake.Accept(Post(EncodeChildReport(old)));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(children_.Subscriptions().size(), 1u);
  EXPECT_FALSE(store_->Node("西湖区")->has_value());
}

TEST_F(ReportIntakeTest, ADeltaFromAChildNeverHeardOfAsksForTheWholeSubtree) {
  ReportIntake intake(&env_, &children_, store_.get(), "杭州市", "330100");
  FleetReport delta = CountyReport(5, 3);
  delta.subtree_full = false;
  HttpReply reply = intake.Accept(Post(EncodeFleetReport(delta)));
  ASSERT_EQ(reply.status, 200);
  EXPECT_TRUE(nlohmann::json::parse(reply.body)["full"].get<bool>());
  delta.seq = 6;
  reply = intake.Accept(Post(EncodeFleetReport(delta)));
  EXPECT_FALSE(nlohmann::json::parse(reply.body)["full"].get<bool>());
}

}  // namespace
}  // namespace tiersync::node
