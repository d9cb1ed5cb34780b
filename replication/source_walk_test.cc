#include "replication/source_walk.h"

#include <gtest/gtest.h>

#include <vector>

#include "base/mem_env.h"

namespace tiersync::replication {
namespace {

class SourceWalkTest : public ::testing::Test {
 protected:
  SourcePolicy policy_{{{"county", "http://c"}, {"city", "http://m"}, {"national", "http://n"}},
                       {/*base_backoff_ms=*/1000, /*max_backoff_ms=*/8000}};
  MemEnv env_;
  std::vector<std::string> rejected_;
  std::vector<size_t> asked_;

  // Answers from a table: source index -> answer.
  Result<size_t> Walk(std::vector<SourceAnswer> answers) {
    return AskSources(
        &policy_, &env_,
        [&](size_t i, const Source&) {
          asked_.push_back(i);
          return answers[i];
        },
        [&](const std::string& what) { rejected_.push_back(what); });
  }
};

TEST_F(SourceWalkTest, FirstGoodAnswerStopsTheWalk) {
  auto r = Walk({{Status::Ok(), 10}, {Status::Ok(), 0}, {Status::Ok(), 0}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0u);
  EXPECT_EQ(asked_, (std::vector<size_t>{0}));
  EXPECT_EQ(policy_.Snapshot()[0].bytes, 10u);
}

TEST_F(SourceWalkTest, LackingIsNotAFailureAndTheNextIsAsked) {
  auto r = Walk({{NotFoundError("no")}, {Status::Ok(), 5}, {Status::Ok()}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1u);
  auto h = policy_.Snapshot();
  EXPECT_EQ(h[0].lacked, 1u);
  EXPECT_EQ(h[0].failures, 0u);
  EXPECT_EQ(h[0].demoted_until_ms, 0);
}

TEST_F(SourceWalkTest, PartialAnswerCreditsBytesAndCountsWhatWasLacked) {
  SourceAnswer partial{NotFoundError("3 absent"), 100, 3};
  auto r = Walk({partial, {Status::Ok(), 7}, {Status::Ok()}});
  ASSERT_TRUE(r.ok());
  auto h = policy_.Snapshot();
  EXPECT_EQ(h[0].lacked, 3u);
  EXPECT_EQ(h[0].bytes, 100u);
  EXPECT_EQ(h[1].bytes, 7u);
}

TEST_F(SourceWalkTest, ALieIsARejectionAndTheNextSourceIsAsked) {
  auto r = Walk({{VerificationError("hash mismatch")}, {Status::Ok()}, {Status::Ok()}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1u);
  ASSERT_EQ(rejected_.size(), 1u);
  EXPECT_EQ(rejected_[0], "county: hash mismatch");
  EXPECT_EQ(policy_.Snapshot()[0].rejections, 1u);
  EXPECT_EQ(policy_.Order(1), (std::vector<size_t>{1, 2, 0})) << "the liar is demoted";
}

TEST_F(SourceWalkTest, ALocalFailureStopsAtOnceAndBlamesNoSource) {
  auto r = Walk({{IOError("fdatasync: Input/output error").AsLocal()}, {Status::Ok()}, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().local());
  EXPECT_EQ(asked_, (std::vector<size_t>{0}));
  auto h = policy_.Snapshot();
  EXPECT_EQ(h[0].failures, 0u);
  EXPECT_EQ(h[0].requests, 0u);
}

TEST_F(SourceWalkTest, ADownSourceIsDemotedAndTheLastErrorNamesTheSource) {
  auto r = Walk({{UnavailableError("refused").AsRemote()},
                 {DeadlineExceededError("stalled").AsRemote()},
                 {UnavailableError("503").AsRemote()}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "national: 503");
  EXPECT_EQ(policy_.Snapshot()[1].failures, 1u);
}

TEST_F(SourceWalkTest, NotFoundOnlyWhenEverySourceLacksIt) {
  auto all = Walk({{NotFoundError("a")}, {NotFoundError("b")}, {NotFoundError("c")}});
  EXPECT_EQ(all.status().code(), StatusCode::kNotFound);
  asked_.clear();
  auto mixed = Walk({{UnavailableError("down")}, {NotFoundError("b")}, {NotFoundError("c")}});
  EXPECT_EQ(mixed.status().code(), StatusCode::kUnavailable)
      << "a source that was down might have had it";
}

}  // namespace
}  // namespace tiersync::replication
