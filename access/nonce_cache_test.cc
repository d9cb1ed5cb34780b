#include "access/nonce_cache.h"

#include <gtest/gtest.h>

namespace tiersync::access {
namespace {

TEST(NonceCacheTest, SecondUseIsAReplay) {
  NonceCache cache;
  EXPECT_TRUE(cache.Insert("a", 1300, 1000).ok());
  EXPECT_EQ(cache.Insert("a", 1300, 1001).code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(cache.Insert("b", 1300, 1001).ok());
}

TEST(NonceCacheTest, FullOfUnexpiredNoncesRefusesRatherThanForgets) {
  NonceCache cache(2);
  ASSERT_TRUE(cache.Insert("a", 1300, 1000).ok());
  ASSERT_TRUE(cache.Insert("b", 1310, 1000).ok());
  EXPECT_EQ(cache.Insert("c", 1320, 1000).code(), StatusCode::kUnavailable);
  EXPECT_EQ(cache.Insert("a", 1300, 1000).code(), StatusCode::kAlreadyExists);
}

TEST(NonceCacheTest, ExpiredNoncesMakeRoom) {
  NonceCache cache(2);
  ASSERT_TRUE(cache.Insert("a", 1300, 1000).ok());
  ASSERT_TRUE(cache.Insert("b", 1310, 1000).ok());
  EXPECT_TRUE(cache.Insert("c", 1400, 1301).ok());  // "a" expired at 1300
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Insert("b", 1310, 1301).code(), StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace tiersync::access
