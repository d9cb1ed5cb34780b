#include "node/push_listener.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>

#include "base/mem_env.h"

namespace tiersync::node {
namespace {

// Answers /v1/events from a script: each URL prefix -> a result.
class ScriptedFetcher : public Fetcher {
 public:
  std::map<std::string, Result<std::vector<uint8_t>>> answers;
  std::vector<std::string> asked;
  Result<std::vector<uint8_t>> Fetch(const std::string& url, size_t) override {
    asked.push_back(url);
    for (const auto& [prefix, answer] : answers) {
      if (url.starts_with(prefix)) return answer;
    }
    return UnavailableError("connection refused").AsRemote();
  }
};

Result<std::vector<uint8_t>> Body(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

class PushListenerTest : public ::testing::Test {
 protected:
  MemEnv env_;
  ScriptedFetcher fetcher_;
  replication::SourcePolicy policy_{{{"parent", "http://p"}, {"national", "http://n"}}};
  uint64_t served_ = 5;
  int wakes_ = 0;
  int polls_left_ = 0;

  PushListener Make() {
    return PushListener({&env_, &fetcher_, &policy_, [this] { return served_; },
                         [this] { ++wakes_; }, [this] { return polls_left_-- <= 0; }});
  }
};

TEST_F(PushListenerTest, TheLongPollSaysHowLongItWaits) {
  fetcher_.answers.emplace("http://p/v1/events", Body(R"({"version": 5})"));
  PushListener l = Make();
  auto v = l.PollOnce("http://p", 5);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(fetcher_.asked.size(), 1u);
  EXPECT_EQ(fetcher_.asked[0],
            "http://p/v1/events?after=5&wait=" + std::to_string(kPushHoldSeconds));
}

TEST_F(PushListenerTest, AQuietParentIsNotAFailure) {
  // The hold ends with the current version, or an old server holds longer than we wait.
  fetcher_.answers.emplace(
      "http://p/v1/events",
      Result<std::vector<uint8_t>>(DeadlineExceededError("read: timed out").AsRemote()));
  polls_left_ = 50;  // an idle federation: fifty holds in a row
  PushListener l = Make();
  l.Run();
  auto j = l.StatusJson();
  EXPECT_EQ(j["failures"], 0);
  EXPECT_EQ(j["quiet_polls"], 50);
  EXPECT_EQ(j["last_error"], "");
  EXPECT_EQ(wakes_, 0);
  // And the sync's view of the parent is untouched.
  EXPECT_EQ(policy_.Snapshot()[0].failures, 0u);
  EXPECT_EQ(policy_.Order(0), (std::vector<size_t>{0, 1}));
}

TEST_F(PushListenerTest, ANewerReleaseWakesTheSyncOnce) {
  fetcher_.answers.emplace("http://p/v1/events?after=5", Body(R"({"version": 7})"));
  fetcher_.answers.emplace("http://p/v1/events?after=7", Body(R"({"version": 7})"));
  polls_left_ = 3;
  PushListener l = Make();
  l.Run();
  EXPECT_EQ(wakes_, 1);
  EXPECT_EQ(l.StatusJson()["last_announced"], 7);
}

TEST_F(PushListenerTest, ADownParentIsSkippedForTheNextSourceWithoutDemotingIt) {
  fetcher_.answers.emplace("http://n/v1/events", Body(R"({"version": 6})"));
  polls_left_ = 2;
  PushListener l = Make();
  l.Run();
  ASSERT_GE(fetcher_.asked.size(), 2u);
  EXPECT_TRUE(fetcher_.asked[0].starts_with("http://p/"));
  EXPECT_TRUE(fetcher_.asked[1].starts_with("http://n/"));
  EXPECT_EQ(wakes_, 1);
  EXPECT_EQ(l.StatusJson()["failures"], 1);
  EXPECT_EQ(policy_.Snapshot()[0].failures, 0u) << "push keeps its own health";
}

}  // namespace
}  // namespace tiersync::node
