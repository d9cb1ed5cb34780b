#include "replication/chunk_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "base/fault_env.h"
#include "base/mem_env.h"
#include "base/random.h"
#include "base/sha256.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::replication {
namespace {

// The same suite runs over the POSIX Env (packs on disk) and the in-memory Env (packs in
// memory); LMDB is always on disk.
enum class Backend { kPosix, kMem };

class ChunkStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kMem) {
      mem_ = std::make_unique<MemEnv>();
      base_env_ = mem_.get();
      dir_ = "/store";
    } else {
      base_env_ = Env::Default();
      dir_ = tmp_.Sub("store");
    }
    fault_ = std::make_unique<FaultEnv>(base_env_, 1);
    options_.env = fault_.get();
    options_.index_dir = tmp_.Sub("index");
    ASSERT_TRUE(ChunkStore::Create(dir_, options_).ok());
  }

  std::unique_ptr<ChunkStore> OpenStore(bool writable) {
    ChunkStoreOptions o = options_;
    o.writable = writable;
    auto s = ChunkStore::Open(dir_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  PreparedChunk Chunk(uint64_t seed, size_t size = 10000, bool compressible = false) {
    std::vector<uint8_t> raw(size, 'z');
    if (!compressible) Random(seed).Fill(raw);
    if (compressible) raw[0] = static_cast<uint8_t>(seed);
    return PrepareChunk(Sha256(raw), &raw, &codec_);
  }

  std::string PackPath(uint32_t n) { return dir_ + "/packs/" + PackFileName(n); }

  // Bit rot: flips the lowest bit of the byte at `offset` of `path`, behind the store's back.
  void FlipByte(const std::string& path, uint64_t offset) {
    if (mem_) {
      ASSERT_TRUE(mem_->CorruptByte(path, offset, 0x01).ok());
      return;
    }
    FILE* f = std::fopen(path.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, static_cast<long>(offset), SEEK_SET);
    int c = std::fgetc(f);
    std::fseek(f, static_cast<long>(offset), SEEK_SET);
    std::fputc(c ^ 1, f);
    std::fclose(f);
  }

  testing::TempDir tmp_;
  std::unique_ptr<MemEnv> mem_;
  Env* base_env_ = nullptr;
  std::unique_ptr<FaultEnv> fault_;
  ChunkStoreOptions options_;
  std::string dir_;
  ZstdCodec codec_;
};

TEST_P(ChunkStoreTest, PutCommitGetRoundTrip) {
  auto store = OpenStore(true);
  PreparedChunk a = Chunk(1), b = Chunk(2, 70000, /*compressible=*/true);
  EXPECT_TRUE(*store->Put(a));
  EXPECT_TRUE(*store->Put(b));
  ASSERT_TRUE(store->Commit().ok());
  for (const PreparedChunk* c : {&a, &b}) {
    auto got = store->Get(c->id, ReadCheck::kFull);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(Sha256(*got), c->id);
  }
  auto stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->chunks, 2u);
  EXPECT_EQ(stats->compressed_chunks, 1u);
}

TEST_P(ChunkStoreTest, DuplicatePutStoresNothing) {
  auto store = OpenStore(true);
  PreparedChunk a = Chunk(1);
  EXPECT_TRUE(*store->Put(a));
  EXPECT_FALSE(*store->Put(a));  // pending duplicate
  ASSERT_TRUE(store->Commit().ok());
  EXPECT_FALSE(*store->Put(a));  // committed duplicate
  ASSERT_TRUE(store->Commit().ok());
  EXPECT_EQ(store->Stats()->pack_bytes, kPackHeaderBytes + kRecordHeaderBytes + 10000);
}

TEST_P(ChunkStoreTest, ReaderSeesOnlyCommittedChunks) {
  auto writer = OpenStore(true);
  auto reader = OpenStore(false);
  PreparedChunk a = Chunk(1);
  ASSERT_TRUE(*writer->Put(a));
  EXPECT_FALSE(*reader->Contains(a.id));
  ASSERT_TRUE(writer->Commit().ok());
  EXPECT_TRUE(*reader->Contains(a.id));
  EXPECT_TRUE(reader->Get(a.id, ReadCheck::kFull).ok());
}

TEST_P(ChunkStoreTest, SecondWriterIsRefused) {
  auto writer = OpenStore(true);
  ChunkStoreOptions o = options_;
  o.writable = true;
  auto second = ChunkStore::Open(dir_, o);
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("another process"), std::string::npos);
}

TEST_P(ChunkStoreTest, ReadOnlyStoreRefusesWrites) {
  auto reader = OpenStore(false);
  EXPECT_EQ(reader->Put(Chunk(1)).status().code(), StatusCode::kFailedPrecondition);
}

TEST_P(ChunkStoreTest, UncommittedTailIsCutOffOnReopen) {
  PreparedChunk a = Chunk(1), b = Chunk(2), c = Chunk(3);
  {
    auto store = OpenStore(true);
    ASSERT_TRUE(*store->Put(a));
    ASSERT_TRUE(store->Commit().ok());
    ASSERT_TRUE(*store->Put(b));  // never committed
  }
  uint64_t committed = kPackHeaderBytes + kRecordHeaderBytes + 10000;
  EXPECT_GT(*base_env_->GetFileSize(PackPath(1)), committed);
  auto store = OpenStore(true);
  EXPECT_EQ(*base_env_->GetFileSize(PackPath(1)), committed);
  EXPECT_FALSE(*store->Contains(b.id));
  ASSERT_TRUE(*store->Put(c));
  ASSERT_TRUE(store->Commit().ok());
  auto report = store->Verify(nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->clean());
  EXPECT_EQ(report->chunks_checked, 2u);
}

TEST_P(ChunkStoreTest, PacksRollOverAtMaxSize) {
  options_.max_pack_bytes = 32 * 1024;
  auto store = OpenStore(true);
  std::vector<PreparedChunk> chunks;
  for (int i = 0; i < 10; ++i) {
    chunks.push_back(Chunk(100 + i));
    ASSERT_TRUE(*store->Put(chunks.back()));
  }
  ASSERT_TRUE(store->Commit().ok());
  EXPECT_GE(store->Stats()->packs, 4u);
  for (const auto& c : chunks) EXPECT_TRUE(store->Get(c.id, ReadCheck::kFull).ok());
  EXPECT_TRUE(store->Verify(nullptr)->clean());
}

TEST_P(ChunkStoreTest, OrphanPackFromCrashBeforeFirstCommitIsRemoved) {
  options_.max_pack_bytes = 16 * 1024;
  {
    auto store = OpenStore(true);
    ASSERT_TRUE(*store->Put(Chunk(1)));
    ASSERT_TRUE(store->Commit().ok());
    ASSERT_TRUE(*store->Put(Chunk(2)));  // starts pack 2, never committed
  }
  EXPECT_TRUE(base_env_->FileExists(PackPath(2)));
  auto store = OpenStore(true);
  EXPECT_FALSE(base_env_->FileExists(PackPath(2)));
}

TEST_P(ChunkStoreTest, FlippedByteIsDetectedOnReadAndByVerify) {
  auto store = OpenStore(true);
  PreparedChunk a = Chunk(1), b = Chunk(2);
  ASSERT_TRUE(*store->Put(a));
  ASSERT_TRUE(*store->Put(b));
  ASSERT_TRUE(store->Commit().ok());
  // Flip one byte in the middle of the first record's payload.
  uint64_t offset = kPackHeaderBytes + kRecordHeaderBytes + 5000;
  FlipByte(PackPath(1), offset);
  auto fresh = OpenStore(false);
  EXPECT_EQ(fresh->Get(a.id, ReadCheck::kChecksum).status().code(), StatusCode::kCorruption);
  EXPECT_TRUE(fresh->Get(b.id, ReadCheck::kFull).ok());
  auto report = fresh->Verify(nullptr);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_EQ(report->problems[0].id, ToHex(a.id));
  EXPECT_EQ(report->problems[0].error.code(), StatusCode::kCorruption);
}

TEST_P(ChunkStoreTest, ReplaceMendsADamagedCopyAndVerifyNamesWhatItMends) {
  auto store = OpenStore(true);
  PreparedChunk a = Chunk(1), b = Chunk(2);
  ASSERT_TRUE(*store->Put(a));
  ASSERT_TRUE(*store->Put(b));
  // A file of both chunks: its index is whole only while both are.
  protocol::ChunkIndex index;
  index.params.min_size = 4096;  // the test's chunks are 10,000 bytes
  index.params.avg_size = 8192;
  index.params.max_size = 16384;
  index.chunks = {{a.id, a.raw_len}, {b.id, b.raw_len}};
  index.file_size = a.raw_len + b.raw_len;
  std::vector<uint8_t> encoded = protocol::EncodeChunkIndex(index);
  const ChunkId index_id = Sha256(encoded);
  ASSERT_TRUE(store->PutIndex(index_id, encoded).ok());
  ASSERT_TRUE(store->Commit().ok());
  const uint64_t offset = kPackHeaderBytes + kRecordHeaderBytes + 5000;
  FlipByte(PackPath(1), offset);
  auto report = store->Verify(nullptr);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->damaged.size(), 1u);
  EXPECT_EQ(report->damaged[0].id, a.id);
  EXPECT_EQ(report->damaged[0].size, a.raw_len);
  ASSERT_EQ(report->problems.size(), 2u);  // the chunk, and the index that needs it
  EXPECT_EQ(report->problems[1].kind, "chunk-index");
  EXPECT_TRUE(report->problems[1].from_damaged_chunk);
  // Put does nothing for a chunk the index names already; Replace stores a fresh copy.
  EXPECT_FALSE(*store->Put(a));
  ASSERT_TRUE(store->Commit().ok());
  EXPECT_EQ(store->Get(a.id, ReadCheck::kFull).status().code(), StatusCode::kCorruption);
  ASSERT_TRUE(store->Replace(a).ok());
  ASSERT_TRUE(store->Commit().ok());
  EXPECT_TRUE(store->Get(a.id, ReadCheck::kFull).ok());
  auto fresh = OpenStore(false);  // committed: another process sees the fresh copy
  auto after = fresh->Verify(nullptr);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->clean()) << after->problems[0].error.ToString();
  EXPECT_EQ(after->chunks_checked, 2u);
}

TEST_P(ChunkStoreTest, VerifyStopsWhenAskedAndPacesEveryChunk) {
  auto store = OpenStore(true);
  for (uint64_t i = 1; i <= 5; ++i) ASSERT_TRUE(*store->Put(Chunk(i)));
  ASSERT_TRUE(store->Commit().ok());
  uint64_t paced = 0;
  int asked = 0;
  VerifyOptions options;
  options.pace = [&](uint64_t bytes) { paced += bytes; };
  options.stop = [&] { return ++asked > 3; };
  auto report = store->Verify(options);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->stopped);
  EXPECT_EQ(report->chunks_checked, 3u);
  EXPECT_EQ(paced, 3 * (kRecordHeaderBytes + 10000));
  EXPECT_EQ(report->indexes_checked, 0u);  // not judged against a partial check
}

TEST_P(ChunkStoreTest, FailedSyncMakesWriterFailStickyAndCommitsNothing) {
  auto store = OpenStore(true);
  PreparedChunk a = Chunk(1), b = Chunk(2);
  ASSERT_TRUE(*store->Put(a));
  fault_->FailAllSyncs(true);
  Status s = store->Commit();
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  fault_->FailAllSyncs(false);
  // Never retry-and-trust: the writer stays failed even though fsync would work now.
  EXPECT_EQ(store->Put(b).status().code(), StatusCode::kIOError);
  EXPECT_EQ(store->Commit().code(), StatusCode::kIOError);
  store.reset();
  auto reopened = OpenStore(true);
  EXPECT_FALSE(*reopened->Contains(a.id));
  ASSERT_TRUE(*reopened->Put(a));
  ASSERT_TRUE(reopened->Commit().ok());
  EXPECT_TRUE(reopened->Verify(nullptr)->clean());
}

TEST_P(ChunkStoreTest, DiskFullIsResourceExhaustedAndRecoverable) {
  auto store = OpenStore(true);
  fault_->SetNoSpace(true);
  EXPECT_EQ(store->Put(Chunk(1)).status().code(), StatusCode::kResourceExhausted);
  fault_->SetNoSpace(false);
  store.reset();
  auto reopened = OpenStore(true);
  ASSERT_TRUE(*reopened->Put(Chunk(1)));
  ASSERT_TRUE(reopened->Commit().ok());
  EXPECT_TRUE(reopened->Verify(nullptr)->clean());
}

TEST_P(ChunkStoreTest, IndexBytesAreCheckedAgainstTheirId) {
  auto store = OpenStore(true);
  std::vector<uint8_t> bytes = {1, 2, 3};
  ChunkId id = Sha256(bytes);
  ASSERT_TRUE(store->PutIndex(id, bytes).ok());
  ASSERT_TRUE(store->Commit().ok());
  EXPECT_EQ(*store->GetIndexBytes(id), bytes);
  ChunkId other{};
  EXPECT_EQ(store->GetIndexBytes(other).status().code(), StatusCode::kNotFound);
}

// The LMDB map fills (a commit refuses: kResourceExhausted, nothing lost); the next open finds
// it more than half used and doubles it, and the refused entries go in.
TEST_P(ChunkStoreTest, AFullIndexMapIsRefusedThenGrownAtTheNextOpen) {
  constexpr size_t kMap = 256 << 10;
  options_.lmdb_map_bytes = kMap;
  options_.index_dir = tmp_.Sub("small-index");
  dir_ += "-small";
  ASSERT_TRUE(ChunkStore::Create(dir_, options_).ok());
  auto store = OpenStore(true);
  ASSERT_EQ(store->IndexUsage()->map_bytes, kMap);
  std::vector<uint8_t> bytes(3000);
  Status s = Status::Ok();
  uint64_t seed = 0;
  for (; s.ok() && seed < 1000; ++seed) {
    Random(seed).Fill(bytes);
    s = store->PutIndex(Sha256(bytes), bytes);
    if (s.ok()) s = store->Commit();
  }
  ASSERT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  const uint64_t refused = seed - 1;
  store.reset();
  store = OpenStore(true);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->IndexUsage()->map_bytes, 2 * kMap);
  Random(refused).Fill(bytes);
  ASSERT_TRUE(store->PutIndex(Sha256(bytes), bytes).ok());
  ASSERT_TRUE(store->Commit().ok());
  EXPECT_EQ(store->GetIndexBytes(Sha256(bytes)).value(), bytes);
  Random(0).Fill(bytes);
  EXPECT_EQ(store->GetIndexBytes(Sha256(bytes)).value(), bytes);  // nothing lost
  // A map still mostly free is left as it is.
  store.reset();
  EXPECT_EQ(OpenStore(true)->IndexUsage()->map_bytes, 2 * kMap);
}

TEST_P(ChunkStoreTest, NotAStoreAndCreateTwice) {
  ChunkStoreOptions o = options_;
  EXPECT_EQ(ChunkStore::Open(dir_ + "/packs", o).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ChunkStore::Create(dir_, o).code(), StatusCode::kAlreadyExists);
}

INSTANTIATE_TEST_SUITE_P(Backends, ChunkStoreTest,
                         ::testing::Values(Backend::kPosix, Backend::kMem), [](const auto& info) {
                           return info.param == Backend::kPosix ? "Posix" : "Mem";
                         });

}  // namespace
}  // namespace tiersync::replication
