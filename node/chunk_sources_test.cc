// How the miss path plans and asks for chunks and indexes: only what a range needs, through
// the node's SourcePolicy (lacking skips, lying is a rejection).
#include "node/chunk_sources.h"

#include <gtest/gtest.h>

#include "node/memory_upstream_for_test.h"

namespace tiersync::node {
namespace {

// An index of `n` chunks of `size` bytes each.
protocol::ChunkIndex Uniform(size_t n, uint32_t size) {
  protocol::ChunkIndex index;
  for (size_t i = 0; i < n; ++i) index.chunks.push_back({Sha256Digest{}, size});
  index.file_size = uint64_t{n} * size;
  return index;
}

const auto kNothingTaken = [](size_t) { return false; };

TEST(PlanBatchTest, ARangeInOneChunkAsksForThatChunkOnly) {
  const auto index = Uniform(100, 64 << 10);
  EXPECT_EQ(PlanBatch(index, 40, 40, false, kNothingTaken), std::vector<size_t>{40});
  EXPECT_EQ(PlanBatch(index, 99, 99, false, kNothingTaken), std::vector<size_t>{99});
}

TEST(PlanBatchTest, AWholeRangeIsCutAtTheBatchSize) {
  const auto index = Uniform(400, 64 << 10);
  auto batch = PlanBatch(index, 0, 399, false, kNothingTaken);
  EXPECT_EQ(batch.size(), kProxyBatchBytes / (64 << 10));
  EXPECT_EQ(batch.front(), 0u);
  EXPECT_EQ(batch.back(), batch.size() - 1);
  auto small = PlanBatch(Uniform(1000, 100), 0, 999, false, kNothingTaken);
  EXPECT_EQ(small.size(), kProxyBatchChunks);
}

TEST(PlanBatchTest, StopsAtAChunkThatIsHereOrOnItsWay) {
  const auto index = Uniform(100, 64 << 10);
  auto batch = PlanBatch(index, 10, 50, false, [](size_t j) { return j == 13; });
  EXPECT_EQ(batch, (std::vector<size_t>{10, 11, 12}));
  // The chunk a reader needs now is asked for even if the next ones are taken.
  EXPECT_EQ(PlanBatch(index, 10, 50, false, [](size_t j) { return j == 11; }),
            std::vector<size_t>{10});
}

TEST(PlanBatchTest, OnlyASequentialReaderReadsAheadAndAtMostAMebibyte) {
  const auto index = Uniform(100, 256 << 10);
  EXPECT_EQ(PlanBatch(index, 10, 11, false, kNothingTaken), (std::vector<size_t>{10, 11}));
  auto ahead = PlanBatch(index, 10, 11, true, kNothingTaken);
  EXPECT_EQ(ahead.size(), 2 + kReadAheadBytes / (256 << 10));
}

class FetchTest : public ::testing::Test {
 protected:
  FetchTest()
      : file_(TestFile::Make(5, 2 << 20)),
        policy_({{"parent", "http://parent"}, {"national", "http://national"}}) {
    upstream_.Add(file_);
    up_ = Upstream{&upstream_, &policy_, Env::Default(),
                   [this](const std::string& what) { rejections_.push_back(what); }};
  }
  TestFile file_;
  MemoryUpstream upstream_;
  replication::SourcePolicy policy_;
  Upstream up_;
  std::vector<std::string> rejections_;
};

TEST_F(FetchTest, AnIndexTheParentLacksComesFromTheNextSourceWithoutBlame) {
  upstream_.Serve("http://national");
  auto got = FetchIndex(up_, file_.index_id, file_.index.file_size, file_.index.file_sha256);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->index, file_.index);
  EXPECT_EQ(got->source, "http://national");
  auto health = policy_.Snapshot();
  EXPECT_EQ(health[0].lacked, 1u);
  EXPECT_EQ(health[0].failures, 0u);
  EXPECT_EQ(health[1].bytes, file_.index_bytes.size());
}

TEST_F(FetchTest, AnIndexOfAnotherFileIsARejection) {
  upstream_.Serve("http://parent");
  Sha256Digest other = file_.index.file_sha256;
  other[0] ^= 1;
  auto got = FetchIndex(up_, file_.index_id, file_.index.file_size, other);
  EXPECT_FALSE(got.ok());  // national lacks it: nobody gives it
  EXPECT_EQ(policy_.Snapshot()[0].rejections, 1u);
  ASSERT_EQ(rejections_.size(), 1u);
  EXPECT_TRUE(rejections_[0].starts_with("parent: ")) << rejections_[0];
}

TEST_F(FetchTest, ALyingParentIsARejectionAndTheNextSourceGivesTheChunks) {
  upstream_.Lie("http://parent");
  upstream_.Serve("http://national");
  auto got = FetchChunks(up_, file_.index, {3, 4, 5});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 3u);
  for (size_t i : {3, 4, 5}) {
    EXPECT_EQ(std::string(got->at(i).begin(), got->at(i).end()), file_.Chunk(i));
  }
  auto health = policy_.Snapshot();
  EXPECT_EQ(health[0].rejections, 1u);
  EXPECT_GT(health[0].demoted_until_ms, 0);
  EXPECT_EQ(rejections_.size(), 1u);
  // Demoted: the next request goes to national first.
  upstream_.batch_requests = 0;
  ASSERT_TRUE(FetchChunks(up_, file_.index, {6}).ok());
  EXPECT_EQ(upstream_.batch_requests.load(), 1u);
}

TEST_F(FetchTest, NoSourceUpIsAnErrorNamingTheLastSource) {
  auto got = FetchChunks(up_, file_.index, {0});
  EXPECT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable) << got.status().ToString();
  EXPECT_EQ(policy_.Snapshot()[0].failures, 1u);
}

}  // namespace
}  // namespace tiersync::node
