#include "base/token_bucket.h"

#include <gtest/gtest.h>

namespace tiersync {
namespace {

TEST(TokenBucketTest, UnlimitedNeverWaits) {
  TokenBucket b;
  b.Charge(1 << 30, 0);
  EXPECT_EQ(b.ReadyAt(5), 5);
}

TEST(TokenBucketTest, PaysOffAtTheRate) {
  TokenBucket b(1000, /*burst_us=*/0);
  b.Charge(500, 1'000'000);
  EXPECT_EQ(b.ReadyAt(1'000'000), 1'500'000);
  EXPECT_EQ(b.ReadyAt(1'600'000), 1'600'000);
}

TEST(TokenBucketTest, ALongRunStaysAtTheRate) {
  // A reader that moves 4 KiB whenever it may, for 100 simulated seconds.
  TokenBucket b(100'000);
  int64_t now = 0;
  uint64_t moved = 0;
  while (now < 100'000'000) {
    now = b.ReadyAt(now);
    b.Charge(4096, now);
    moved += 4096;
    now += 1000;  // the read itself takes a millisecond
  }
  const double rate = static_cast<double>(moved) / 100.0;
  EXPECT_NEAR(rate, 100'000, 100'000 * 0.01);
}

TEST(TokenBucketTest, RefundGivesAChargeBackUpToTheBurst) {
  TokenBucket b(1, /*burst_us=*/2'000'000);
  b.Charge(2, 0);  // the saved burst, used up
  b.Charge(3, 0);
  EXPECT_EQ(b.ReadyAt(0), 3'000'000);
  b.Refund(3, 0);
  EXPECT_EQ(b.ReadyAt(0), 0);
  b.Refund(100, 0);  // never more than the burst saved
  b.Charge(2, 0);
  b.Charge(1, 0);
  EXPECT_EQ(b.ReadyAt(0), 1'000'000);
}

TEST(TokenBucketTest, SavesAtMostTheBurst) {
  TokenBucket b(1000, /*burst_us=*/100'000);
  b.Charge(1, 0);
  // Idle for a minute: only 100 ms of rate (100 bytes) is saved.
  b.Charge(300, 60'000'000);
  EXPECT_EQ(b.ReadyAt(60'000'000), 60'000'000 - 100'000 + 300'000);
}

TEST(TokenBucketTest, AClockSetBackDoesNotHoldTraffic) {
  TokenBucket b(1000, 0);
  b.Charge(1000, 10'000'000);  // paid off at 11 s
  // The clock is corrected back by an hour: the debt is still one second away, not an hour.
  const int64_t back = 10'000'000 - 3'600'000'000;
  EXPECT_EQ(b.ReadyAt(back), back + 1'000'000);
}

TEST(TokenBucketTest, ANewRateAppliesToWhatFollows) {
  TokenBucket b(1000, 0);
  b.Charge(1000, 0);
  b.SetRate(0);
  EXPECT_EQ(b.ReadyAt(0), 0);
  b.SetRate(2000);
  b.Charge(2000, 0);
  EXPECT_EQ(b.ReadyAt(0), 2'000'000);  // the first second, then one more at the new rate
}

}  // namespace
}  // namespace tiersync
