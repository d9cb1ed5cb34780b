#include "replication/source_policy.h"

#include <gtest/gtest.h>

namespace tiersync::replication {
namespace {

SourcePolicy Three() {
  return SourcePolicy({{"county", "http://c"}, {"city", "http://m"}, {"national", "http://n"}},
                      {/*base_backoff_ms=*/1000, /*max_backoff_ms=*/8000});
}

TEST(SourcePolicyTest, ConfiguredOrderWhileHealthy) {
  SourcePolicy p = Three();
  EXPECT_EQ(p.Order(0), (std::vector<size_t>{0, 1, 2}));
}

TEST(SourcePolicyTest, FailingSourceIsDemotedWithGrowingBackoffAndComesBack) {
  SourcePolicy p = Three();
  p.Failed(0, UnavailableError("connection refused"), 0);
  EXPECT_EQ(p.Order(10), (std::vector<size_t>{1, 2, 0}));
  EXPECT_EQ(p.Order(1000), (std::vector<size_t>{0, 1, 2})) << "back after the backoff";
  p.Failed(0, UnavailableError("again"), 1000);  // second failure: 2 s
  EXPECT_EQ(p.Order(2500), (std::vector<size_t>{1, 2, 0}));
  EXPECT_EQ(p.Order(3000), (std::vector<size_t>{0, 1, 2}));
  for (int i = 0; i < 10; ++i) p.Failed(0, UnavailableError("down"), 3000);
  EXPECT_EQ(p.Snapshot()[0].demoted_until_ms, 3000 + 8000) << "capped";
  p.Succeeded(0, 10, 4000);  // it answered after all
  EXPECT_EQ(p.Order(4000), (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(p.Snapshot()[0].consecutive_failures, 0);
  EXPECT_EQ(p.Snapshot()[0].failures, 12u);
}

TEST(SourcePolicyTest, LackingAnObjectIsNotAFailure) {
  SourcePolicy p = Three();
  p.Failed(0, NotFoundError("no such chunk"), 0);
  EXPECT_EQ(p.Order(1), (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(p.Snapshot()[0].failures, 0u);
}

TEST(SourcePolicyTest, LiarIsCountedAndDemotedLongest) {
  SourcePolicy p = Three();
  p.Failed(1, VerificationError("chunk bytes do not match"), 0);
  auto h = p.Snapshot()[1];
  EXPECT_EQ(h.rejections, 1u);
  EXPECT_EQ(h.demoted_until_ms, 8000);
  EXPECT_NE(h.last_error.find("do not match"), std::string::npos);
  EXPECT_EQ(p.Order(100), (std::vector<size_t>{0, 2, 1}));
}

TEST(SourcePolicyTest, EverySourceIsTriedEvenWhenAllAreDemoted) {
  SourcePolicy p = Three();
  p.Failed(2, UnavailableError("x"), 0);    // back at 1000
  p.Failed(0, UnavailableError("x"), 500);  // back at 1500
  p.Failed(1, VerificationError("x"), 0);   // back at 8000
  EXPECT_EQ(p.Order(600), (std::vector<size_t>{2, 0, 1}));
}

}  // namespace
}  // namespace tiersync::replication
