#include "replication/sync_plan.h"

#include <gtest/gtest.h>

#include <set>

namespace tiersync::replication {
namespace {

protocol::ChunkId Id(uint8_t b) {
  protocol::ChunkId id{};
  id.fill(b);
  return id;
}

protocol::ChunkIndex Index(std::vector<std::pair<uint8_t, uint32_t>> chunks) {
  protocol::ChunkIndex index;
  for (auto [b, size] : chunks) {
    index.chunks.push_back({Id(b), size});
    index.file_size += size;
  }
  return index;
}

TEST(SyncPlanTest, MissingIsWantedMinusLocalEachChunkOncePriorityFirst) {
  std::map<protocol::ChunkId, protocol::ChunkIndex> indexes = {
      {Id(100), Index({{1, 10}, {2, 20}, {1, 10}})},
      {Id(101), Index({{2, 20}, {3, 30}})},
      {Id(102), Index({{4, 40}, {5, 50}})},
  };
  std::vector<PlannedFile> files = {
      {"a", 40, {}, Id(100), false},
      {"b", 50, {}, Id(101), false},
      {"urgent", 90, {}, Id(102), true},
  };
  std::set<protocol::ChunkId> have = {Id(2), Id(5)};
  ChunkPlan plan = PlanChunks(files, indexes, [&](const auto& id) { return have.count(id) > 0; });
  std::vector<protocol::ChunkId> missing;
  for (const auto& r : plan.missing) missing.push_back(r.id);
  EXPECT_EQ(missing, (std::vector<protocol::ChunkId>{Id(4), Id(1), Id(3)}));
  EXPECT_EQ(plan.missing_bytes, 80u);
  EXPECT_EQ(plan.wanted_chunks, 5u);
  EXPECT_EQ(plan.wanted_bytes, 150u);
  // Everything present: nothing to fetch.
  EXPECT_TRUE(PlanChunks(files, indexes, [](const auto&) { return true; }).missing.empty());
}

TEST(SyncPlanTest, BatchesRespectBytesAndCountButNeverSplitAChunk) {
  std::vector<protocol::ChunkRef> refs = {{Id(1), 60}, {Id(2), 60}, {Id(3), 200},
                                          {Id(4), 10}, {Id(5), 10}, {Id(6), 10}};
  auto batches = SplitIntoBatches(refs, 100, 2);
  std::vector<size_t> sizes;
  for (const auto& b : batches) sizes.push_back(b.size());
  EXPECT_EQ(sizes, (std::vector<size_t>{1, 1, 1, 2, 1}));
  EXPECT_TRUE(SplitIntoBatches({}, 100, 2).empty());
}

TEST(SyncPlanTest, IndexMustDescribeTheSignedFile) {
  protocol::ChunkIndex index = Index({{1, 10}});
  index.file_sha256.fill(7);
  PlannedFile f{"a", 10, index.file_sha256, Id(9), false};
  EXPECT_TRUE(CheckIndexMatchesFile(f, index).ok());
  f.length = 11;
  EXPECT_EQ(CheckIndexMatchesFile(f, index).code(), StatusCode::kVerificationFailed);
  f.length = 10;
  f.sha256.fill(8);
  EXPECT_EQ(CheckIndexMatchesFile(f, index).code(), StatusCode::kVerificationFailed);
}

}  // namespace
}  // namespace tiersync::replication
