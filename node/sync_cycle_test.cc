#include "node/sync_cycle.h"

#include <gtest/gtest.h>

namespace tiersync::node {
namespace {

SyncOutcome Finished() { return SyncOutcome(); }

SyncOutcome NotYet() {
  SyncOutcome o;
  o.pending = "catalog release r2 is signed but no source serves it yet";
  return o;
}

TEST(NextSyncDelayTest, AFinishedCycleWaitsThePollIntervalPlusAtMostAFifth) {
  EXPECT_EQ(NextSyncDelayMs(Finished(), 0, 300, 0), 300'000);
  EXPECT_EQ(NextSyncDelayMs(Finished(), 0, 300, 60'000), 360'000);
  EXPECT_EQ(NextSyncDelayMs(Finished(), 0, 300, 60'001), 300'000);  // modulo 60,001
  // Failures of earlier cycles do not shorten the poll after one that finished.
  EXPECT_EQ(NextSyncDelayMs(Finished(), 0, 300, 7), 300'007);
}

TEST(NextSyncDelayTest, NotYetAsksAgainSoon) {
  EXPECT_EQ(NextSyncDelayMs(NotYet(), 0, 300, 0), kPendingRetryMs);
  EXPECT_EQ(NextSyncDelayMs(NotYet(), 0, 2, 0), 2'000);  // a shorter poll wins
}

TEST(NextSyncDelayTest, FailuresBackOffExponentiallyUpToTheCapAndThePoll) {
  Result<SyncOutcome> failed = UnavailableError("every source failed");
  EXPECT_EQ(NextSyncDelayMs(failed, 1, 3600, 0), 2'000);
  EXPECT_EQ(NextSyncDelayMs(failed, 3, 3600, 0), 8'000);
  EXPECT_EQ(NextSyncDelayMs(failed, 8, 3600, 0), 256'000);
  EXPECT_EQ(NextSyncDelayMs(failed, 30, 3600, 0), 256'000);
  EXPECT_EQ(NextSyncDelayMs(failed, 30, 60, 0), 60'000);  // never longer than the poll
  EXPECT_EQ(NextSyncDelayMs(failed, -1, 3600, 0), 1'000);
}

}  // namespace
}  // namespace tiersync::node
