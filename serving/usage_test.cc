#include "serving/usage.h"

#include <gtest/gtest.h>

namespace tiersync::serving {
namespace {

TEST(UsageTest, DatesAreUtc) {
  EXPECT_EQ(UtcDate(0), "1970-01-01");
  EXPECT_EQ(UtcDate(1796256000), "2026-12-03");  // 2026-12-03T00:00:00Z
  EXPECT_EQ(UtcDate(1796256000 - 1), "2026-12-02");
}

TEST(UsageTest, LedgerCountsAndRoundTrips) {
  UsageLedger ledger;
  ledger.Record("2026-12-03", "k12-1", UsageKind::kView);
  ledger.Record("2026-12-03", "k12-1", UsageKind::kView);
  ledger.Record("2026-12-03", "k12-1", UsageKind::kDownload);
  ledger.Record("2026-12-03", "330000-7", UsageKind::kDownload);
  UsageDay day = ledger.Day("2026-12-03");
  EXPECT_EQ(day.resources["k12-1"], (UsageCounts{2, 1}));
  EXPECT_EQ(day.Total(), (UsageCounts{2, 2}));
  auto dirty = ledger.TakeDirty();
  ASSERT_EQ(dirty.size(), 1u);
  EXPECT_TRUE(ledger.TakeDirty().empty());

  auto back = DecodeUsageDay(EncodeUsageDay(day));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, day);

  // Loading a day read from disk adds to what is in memory.
  UsageLedger restarted;
  restarted.Record("2026-12-03", "k12-1", UsageKind::kView);
  restarted.Load(*back);
  EXPECT_EQ(restarted.Day("2026-12-03").resources["k12-1"], (UsageCounts{3, 1}));
  EXPECT_TRUE(restarted.Day("2026-12-04").resources.empty());
}

TEST(UsageTest, BadFilesAreRefused) {
  EXPECT_FALSE(DecodeUsageDay("").ok());
  EXPECT_FALSE(DecodeUsageDay("{\"format\": \"other\"}").ok());
  EXPECT_FALSE(DecodeUsageDay(R"({"format": "tiersync-usage 1", "date": "2026-12-03",
      "resources": {"a": {"views": -1}}})")
                   .ok());
  EXPECT_FALSE(DecodeUsageDay(R"({"format": "tiersync-usage 1", "date": "x",
      "resources": {}})")
                   .ok());
}

}  // namespace
}  // namespace tiersync::serving
