#include "cli/units.h"

#include <gtest/gtest.h>

namespace tiersync::cli {
namespace {

TEST(ParseSizeTest, Suffixes) {
  EXPECT_EQ(*ParseSize("1048576"), 1048576u);
  EXPECT_EQ(*ParseSize("64K"), 64u << 10);
  EXPECT_EQ(*ParseSize("64KiB"), 64u << 10);
  EXPECT_EQ(*ParseSize("1G"), 1ull << 30);
  EXPECT_EQ(*ParseSize("2TB"), 2ull << 40);
  EXPECT_EQ(*ParseSize("10B"), 10u);
}

TEST(ParseSizeTest, Rejects) {
  for (const char* bad :
       {"", "G", "1.5G", "1X", "-1", "1GG", "99999999999999999999", "20000000000000T", "1BiB"}) {
    EXPECT_FALSE(ParseSize(bad).ok()) << bad;
  }
}

TEST(ParseDurationTest, UnitsAndRefusals) {
  EXPECT_EQ(*ParseDuration("1s"), 1);
  EXPECT_EQ(*ParseDuration("30m"), 1800);
  EXPECT_EQ(*ParseDuration("72h"), 72 * 3600);
  EXPECT_EQ(*ParseDuration("7d"), 7 * 86400);
  for (const char* bad :
       {"", "h", "72", "0h", "-1h", "1.5h", "1w", "h1", "99999999999999999999d", "4000d"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(UnitsTest, FormatBytesForPeople) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1536), "1.50 KiB");
  EXPECT_EQ(FormatBytes(25ull << 20), "25.0 MiB");
  EXPECT_EQ(FormatBytes(3ull << 40), "3.00 TiB");
}

}  // namespace
}  // namespace tiersync::cli
