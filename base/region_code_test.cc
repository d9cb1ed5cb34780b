#include "base/region_code.h"

#include <gtest/gtest.h>

namespace tiersync {
namespace {

TEST(RegionCode, SixDigitsOnly) {
  EXPECT_TRUE(CheckRegionCode("330106").ok());
  EXPECT_FALSE(CheckRegionCode("33010").ok());
  EXPECT_FALSE(CheckRegionCode("33010x").ok());
  EXPECT_FALSE(CheckRegionCode("").ok());
}

TEST(RegionCode, PrefixStandsForTheLevel) {
  EXPECT_EQ(RegionPrefix("000000"), "");
  EXPECT_EQ(RegionPrefix("330000"), "33");
  EXPECT_EQ(RegionPrefix("330100"), "3301");
  EXPECT_EQ(RegionPrefix("330106"), "330106");
  EXPECT_EQ(RegionPrefix("110100"), "1101");
  EXPECT_EQ(RegionPrefix("33"), "33");
  EXPECT_TRUE(RegionMatches("330106", RegionPrefix("330100")));
  EXPECT_FALSE(RegionMatches("330206", RegionPrefix("330100")));
  EXPECT_TRUE(RegionMatches("330206", ""));
}

TEST(RegionCode, CoversItsOwnPartOfTheCountryOnly) {
  EXPECT_TRUE(RegionCovers("000000", "650102"));
  EXPECT_TRUE(RegionCovers("330000", "330106"));
  EXPECT_TRUE(RegionCovers("330100", "330106"));
  EXPECT_TRUE(RegionCovers("330106", "330106"));
  EXPECT_FALSE(RegionCovers("320000", "330106"));
  EXPECT_FALSE(RegionCovers("330100", "330206"));
  EXPECT_FALSE(RegionCovers("330106", "330100"));
  EXPECT_FALSE(RegionCovers("330105", "330106"));
  EXPECT_FALSE(RegionCovers("3301", "330106"));  // not a code
  EXPECT_FALSE(RegionCovers("330000", "33"));
}

}  // namespace
}  // namespace tiersync
