#include "node/offline_policy.h"

#include <gtest/gtest.h>

namespace tiersync::node {
namespace {

using State = Freshness::State;

TEST(OfflinePolicyTest, FreshUntilExpiryStaleWithinTheGraceExpiredAfter) {
  const ReleaseValidity v{1000, 500};
  EXPECT_EQ(JudgeFreshness(999, v).state, State::kFresh);
  EXPECT_EQ(JudgeFreshness(1000, v).state, State::kFresh);  // expired only past the time
  EXPECT_EQ(JudgeFreshness(1001, v).state, State::kStale);
  EXPECT_EQ(JudgeFreshness(1500, v).state, State::kStale);
  EXPECT_EQ(JudgeFreshness(1501, v).state, State::kExpired);
  EXPECT_EQ(JudgeFreshness(1200, v).grace_until, 1500);
  EXPECT_EQ(JudgeFreshness(1200, v).expires, 1000);
}

TEST(OfflinePolicyTest, WithoutAGraceTheNodeStopsAtExpiry) {
  const ReleaseValidity v{1000, 0};
  EXPECT_EQ(JudgeFreshness(1000, v).state, State::kFresh);
  EXPECT_EQ(JudgeFreshness(1001, v).state, State::kExpired);
  EXPECT_EQ(FreshnessJson(JudgeFreshness(1001, v))["state"], "expired");
}

}  // namespace
}  // namespace tiersync::node
