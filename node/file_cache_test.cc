// The proxy cache: partial copies filled in any order become cached files, and every byte on
// disk — whole files and partial copies — stays within the quota.
#include "node/file_cache.h"

#include <gtest/gtest.h>

#include "base/mem_env.h"
#include "node/memory_upstream_for_test.h"

namespace tiersync::node {
namespace {

// Every chunk of `f`, in `order`, into a new partial copy.
std::shared_ptr<FileCache::Partial> Fill(FileCache& cache, const TestFile& f,
                                         const std::vector<size_t>& order) {
  auto partial = cache.OpenPartial(f.index, f.index_bytes);
  if (!partial) return nullptr;
  for (size_t i : order) EXPECT_TRUE(partial->Put(i, AsBytes(f.Chunk(i)))) << i;
  return partial;
}

std::vector<size_t> InOrder(const TestFile& f) {
  std::vector<size_t> order(f.index.chunks.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  return order;
}

// The whole file as the cache serves it.
std::string ReadBack(FileCache& cache, const TestFile& f) {
  auto entry = cache.Find(f.index.file_sha256);
  if (!entry) return "(not cached)";
  std::string out;
  for (size_t i = 0; i < entry->index.chunks.size(); ++i) {
    auto chunk = entry->source->Read(i);
    if (!chunk.ok()) return chunk.status().ToString();
    out.append(chunk->begin(), chunk->end());
  }
  return out;
}

class FileCacheTest : public ::testing::Test {
 protected:
  std::shared_ptr<FileCache> Open(uint64_t quota) {
    auto cache = FileCache::Open(&env_, "/cache", quota);
    EXPECT_TRUE(cache.ok()) << cache.status().ToString();
    return cache.ok() ? *cache : nullptr;
  }
  MemEnv env_;
};

TEST_F(FileCacheTest, ChunksThatArriveInAnyOrderBecomeACachedFile) {
  auto cache = Open(64 << 20);
  const TestFile f = TestFile::Make(1, 3 << 20);
  std::vector<size_t> order = InOrder(f);
  std::reverse(order.begin(), order.end());
  std::swap(order[1], order[order.size() / 2]);
  auto partial = Fill(*cache, f, order);
  ASSERT_TRUE(partial);
  EXPECT_TRUE(partial->full());
  EXPECT_FALSE(partial->CompletesInPlace());
  EXPECT_FALSE(cache->Contains(f.index.file_sha256));
  ASSERT_TRUE(partial->Complete().ok());
  EXPECT_TRUE(cache->Contains(f.index.file_sha256));
  EXPECT_EQ(ReadBack(*cache, f), f.bytes);
  auto stats = cache->stats();
  EXPECT_EQ(stats.files, 1u);
  EXPECT_EQ(stats.partial_files, 0u);
  EXPECT_EQ(stats.bytes, f.bytes.size()) << "the partial copy and the assembly are released";
  EXPECT_EQ(env_.GetChildren("/cache/partial")->size(), 0u);
  EXPECT_EQ(env_.GetChildren("/cache/tmp")->size(), 0u);
  // Readers of the partial copy still get their chunks.
  auto chunk = partial->Read(2);
  ASSERT_TRUE(chunk);
  EXPECT_EQ(std::string(chunk->begin(), chunk->end()), f.Chunk(2));
}

TEST_F(FileCacheTest, ChunksInOrderMakeTheFileInPlace) {
  auto cache = Open(64 << 20);
  const TestFile f = TestFile::Make(2, 1 << 20);
  auto partial = Fill(*cache, f, InOrder(f));
  ASSERT_TRUE(partial);
  EXPECT_TRUE(partial->CompletesInPlace());
  ASSERT_TRUE(partial->Complete().ok());
  EXPECT_EQ(ReadBack(*cache, f), f.bytes);
  EXPECT_EQ(cache->stats().bytes, f.bytes.size());
}

TEST_F(FileCacheTest, EveryReaderOfAFileSharesOnePartialCopy) {
  auto cache = Open(64 << 20);
  const TestFile f = TestFile::Make(3, 1 << 20);
  auto a = cache->OpenPartial(f.index, f.index_bytes);
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->Put(4, AsBytes(f.Chunk(4))));
  EXPECT_EQ(cache->OpenPartial(f.index, f.index_bytes), a);
  EXPECT_EQ(cache->FindPartial(f.index.file_sha256), a);
  EXPECT_TRUE(a->Has(4));
  EXPECT_FALSE(a->Has(3));
  auto chunk = a->Read(4);
  ASSERT_TRUE(chunk);
  EXPECT_EQ(std::string(chunk->begin(), chunk->end()), f.Chunk(4));
  EXPECT_FALSE(a->Read(3));
  EXPECT_EQ(cache->stats().partial_bytes, f.index.chunks[4].size);
}

TEST_F(FileCacheTest, PartialCopiesCountInTheQuotaAndEvictTheLeastRecentlyUsed) {
  const TestFile a = TestFile::Make(4, 600 << 10), b = TestFile::Make(5, 600 << 10);
  auto cache = Open(1 << 20);
  ASSERT_TRUE(Fill(*cache, a, InOrder(a))->Complete().ok());
  ASSERT_TRUE(cache->Contains(a.index.file_sha256));
  // Half of b fits beside a; the rest only once a is evicted.
  auto partial = cache->OpenPartial(b.index, b.index_bytes);
  ASSERT_TRUE(partial);
  for (size_t i = 0; i < b.index.chunks.size(); ++i) {
    ASSERT_TRUE(partial->Put(i, AsBytes(b.Chunk(i))));
    EXPECT_LE(cache->stats().bytes, uint64_t{1} << 20) << "after chunk " << i;
  }
  EXPECT_FALSE(cache->Contains(a.index.file_sha256));
  EXPECT_EQ(cache->stats().evicted, 1u);
  ASSERT_TRUE(partial->Complete().ok());
  EXPECT_EQ(ReadBack(*cache, b), b.bytes);
}

TEST_F(FileCacheTest, AChunkThatCannotFitIsNotKept) {
  const TestFile a = TestFile::Make(6, 700 << 10), b = TestFile::Make(7, 700 << 10);
  auto cache = Open(1 << 20);
  auto pa = cache->OpenPartial(a.index, a.index_bytes);
  auto pb = cache->OpenPartial(b.index, b.index_bytes);
  ASSERT_TRUE(pa && pb);
  for (size_t i = 0; i < a.index.chunks.size(); ++i) ASSERT_TRUE(pa->Put(i, AsBytes(a.Chunk(i))));
  // b's chunks evict a's partial copy (the least recently used), never b's own.
  for (size_t i = 0; i < b.index.chunks.size(); ++i) ASSERT_TRUE(pb->Put(i, AsBytes(b.Chunk(i))));
  EXPECT_LE(cache->stats().bytes, uint64_t{1} << 20);
  EXPECT_FALSE(pa->Has(0)) << "evicted";
  EXPECT_FALSE(pa->Put(0, AsBytes(a.Chunk(0)))) << "an evicted copy keeps nothing";
  // Assembling b out of order would need room for a second copy: refused, not over quota.
  const TestFile c = TestFile::Make(8, 700 << 10);
  auto pc = cache->OpenPartial(c.index, c.index_bytes);
  ASSERT_TRUE(pc);
  std::vector<size_t> order = InOrder(c);
  std::reverse(order.begin(), order.end());
  for (size_t i : order) ASSERT_TRUE(pc->Put(i, AsBytes(c.Chunk(i))));
  EXPECT_FALSE(pc->Complete().ok());
  EXPECT_LE(cache->stats().bytes, uint64_t{1} << 20);
  EXPECT_FALSE(cache->Contains(c.index.file_sha256));
}

TEST_F(FileCacheTest, AFileBiggerThanTheQuotaOrAlreadyCachedGetsNoPartialCopy) {
  const TestFile big = TestFile::Make(9, 2 << 20), small = TestFile::Make(10, 100 << 10);
  auto cache = Open(1 << 20);
  EXPECT_FALSE(cache->OpenPartial(big.index, big.index_bytes));
  ASSERT_TRUE(Fill(*cache, small, InOrder(small))->Complete().ok());
  EXPECT_FALSE(cache->OpenPartial(small.index, small.index_bytes));
  EXPECT_FALSE(Open(0)->OpenPartial(small.index, small.index_bytes));
}

TEST_F(FileCacheTest, PartialCopiesAreClearedAtOpenAndCachedFilesKept) {
  const TestFile a = TestFile::Make(11, 300 << 10), b = TestFile::Make(12, 300 << 10);
  {
    auto cache = Open(4 << 20);
    ASSERT_TRUE(Fill(*cache, a, InOrder(a))->Complete().ok());
    auto partial = cache->OpenPartial(b.index, b.index_bytes);
    ASSERT_TRUE(partial->Put(0, AsBytes(b.Chunk(0))));
  }
  auto cache = Open(4 << 20);
  EXPECT_EQ(ReadBack(*cache, a), a.bytes);
  EXPECT_FALSE(cache->FindPartial(b.index.file_sha256));
  EXPECT_EQ(env_.GetChildren("/cache/partial")->size(), 0u);
  EXPECT_EQ(cache->stats().bytes, a.bytes.size());
}

}  // namespace
}  // namespace tiersync::node
