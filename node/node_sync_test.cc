#include "node/node_sync.h"

#include <gtest/gtest.h>

namespace tiersync::node {
namespace {

QuietMark SampleMark() {
  QuietMark m;
  m.root_version = 3;
  m.timestamp_version = 40;
  m.snapshot_version = 20;
  m.rules = "stage = 小学";
  m.served_dir = "40-0a1b2c3d";
  m.roles_expire = 10'000;
  m.verified_at = 1'000;
  return m;
}

// Each thing the mark stands for, changed alone, makes the next cycle a full one.
TEST(QuietCycleTest, OnlyTheVerySameMetadataRulesAndReleaseAreQuiet) {
  const QuietMark m = SampleMark();
  const int64_t now = 1'100;
  EXPECT_TRUE(QuietCycleAllowed(m, 3, 40, 20, m.rules, m.served_dir, now));
  EXPECT_FALSE(QuietCycleAllowed(m, 4, 40, 20, m.rules, m.served_dir, now));  // root rotated
  EXPECT_FALSE(QuietCycleAllowed(m, 3, 41, 20, m.rules, m.served_dir, now));  // timestamp
  EXPECT_FALSE(QuietCycleAllowed(m, 3, 40, 21, m.rules, m.served_dir, now));  // snapshot
  EXPECT_FALSE(QuietCycleAllowed(m, 3, 40, 20, "stage = 初中", m.served_dir, now));
  EXPECT_FALSE(QuietCycleAllowed(m, 3, 40, 20, m.rules, "39-0a1b2c3d", now));  // CURRENT
  EXPECT_FALSE(QuietCycleAllowed(m, 3, 40, 20, m.rules, "", now));             // nothing served
}

// A delegated role the quiet cycle does not read may expire: the full cycle then says so. And
// a full cycle runs every kQuietMarkSeconds however quiet (or when the clock went back).
TEST(QuietCycleTest, AnExpiredRoleOrAnOldMarkMakesAFullCycle) {
  QuietMark m = SampleMark();
  m.roles_expire = m.verified_at + 300;  // a hash bin expires five minutes after the mark
  EXPECT_TRUE(QuietCycleAllowed(m, 3, 40, 20, m.rules, m.served_dir, m.roles_expire - 1));
  EXPECT_FALSE(QuietCycleAllowed(m, 3, 40, 20, m.rules, m.served_dir, m.roles_expire));
  QuietMark young = m;
  young.roles_expire = m.verified_at + 100 * kQuietMarkSeconds;
  const int64_t last = m.verified_at + kQuietMarkSeconds - 1;
  EXPECT_TRUE(QuietCycleAllowed(young, 3, 40, 20, m.rules, m.served_dir, last));
  EXPECT_FALSE(QuietCycleAllowed(young, 3, 40, 20, m.rules, m.served_dir, last + 1));
  EXPECT_FALSE(QuietCycleAllowed(young, 3, 40, 20, m.rules, m.served_dir, m.verified_at - 1));
}

}  // namespace
}  // namespace tiersync::node
