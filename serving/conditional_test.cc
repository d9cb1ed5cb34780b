#include "serving/conditional.h"

#include <gtest/gtest.h>

namespace tiersync::serving {
namespace {

TEST(ConditionalTest, IfNoneMatch) {
  const std::string etag = StrongEtag("abc");
  EXPECT_EQ(etag, "\"abc\"");
  EXPECT_TRUE(NoneMatchHits("\"abc\"", etag));
  EXPECT_TRUE(NoneMatchHits("W/\"abc\"", etag));  // weak comparison
  EXPECT_TRUE(NoneMatchHits("\"x\", \"abc\"", etag));
  EXPECT_TRUE(NoneMatchHits(" * ", etag));
  EXPECT_FALSE(NoneMatchHits("\"abd\"", etag));
  EXPECT_FALSE(NoneMatchHits("abc", etag));  // not a quoted tag
  EXPECT_FALSE(NoneMatchHits("", etag));
}

TEST(ConditionalTest, IfRangeNeedsAStrongEqualTag) {
  const std::string etag = StrongEtag("abc");
  EXPECT_TRUE(IfRangeAllows("\"abc\"", etag));
  EXPECT_FALSE(IfRangeAllows("W/\"abc\"", etag));
  EXPECT_FALSE(IfRangeAllows("\"abd\"", etag));
  EXPECT_FALSE(IfRangeAllows("Wed, 21 Oct 2015 07:28:00 GMT", etag));  // dates never match
  EXPECT_FALSE(IfRangeAllows("", etag));
}

}  // namespace
}  // namespace tiersync::serving
