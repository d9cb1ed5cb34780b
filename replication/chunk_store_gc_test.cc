// ChunkStore::CollectGarbage: what is kept stays readable, what is not is forgotten and its
// space reclaimed, readers beside it never fail, and a crash at any of its operations loses
// nothing kept (with a negative control: the same loop on a disk that ignores fsync).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "base/fault_env.h"
#include "base/mem_env.h"
#include "base/random.h"
#include "replication/chunk_store.h"
#include "replication/file_ingest.h"
#include "replication/file_restore.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::replication {
namespace {

constexpr uint64_t kSeed = 20261207;
constexpr size_t kFileBytes = 32 * 1024;
constexpr int kFiles = 6;

IngestOptions SmallChunks() {
  IngestOptions o;
  o.params = protocol::ChunkerParams{protocol::kChunkerFastCdcV1, 2, 1024, 4096, 16384};
  o.threads = 1;  // a fixed operation order, so a crash point means the same on every run
  return o;
}

std::vector<uint8_t> FileData(int i) {
  std::vector<uint8_t> data(kFileBytes);
  Random(kSeed + i).Fill(data);
  return data;
}

std::vector<uint8_t> Restore(const ChunkStore& store, const ChunkId& index, Status* s) {
  std::vector<uint8_t> out;
  *s = RestoreFile(store, index, [&](ByteSpan b) {
    out.insert(out.end(), b.begin(), b.end());
    return Status::Ok();
  });
  return out;
}

// A store in a MemEnv (LMDB in a real directory) holding kFiles files, three to a pack: keeping
// one of each three leaves every pack a third full, so the collection compacts them all.
class GcFixture {
 public:
  explicit GcFixture(bool sync_disabled = false) : fault_(&mem_, kSeed) {
    options_.env = &fault_;
    options_.index_dir = tmp_.Sub("index");
    options_.max_pack_bytes = 3 * kFileBytes + 8192;
    EXPECT_TRUE(ChunkStore::Create("/store", options_).ok());
    options_.writable = true;
    auto store = Open();
    for (int i = 0; i < kFiles; ++i) {
      const std::string path = "/f" + std::to_string(i);
      auto f = mem_.NewWritableFile(path);
      EXPECT_TRUE((*f)->Append(FileData(i)).ok() && (*f)->Sync().ok());
      auto r = IngestFile(store.get(), &fault_, path, SmallChunks());
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      indexes_.push_back(r->index_id);
    }
    EXPECT_TRUE(mem_.SyncDir("/").ok());
    fault_.SetSyncDisabled(sync_disabled);
  }

  std::unique_ptr<ChunkStore> Open() {
    auto s = ChunkStore::Open("/store", options_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // The files kept by the collections below: the last of each pack.
  static bool IsKept(int i) { return i == 2 || i == 5; }
  std::vector<ChunkId> Kept() const { return {indexes_[2], indexes_[5]}; }

  testing::TempDir tmp_;
  MemEnv mem_;
  FaultEnv fault_;
  ChunkStoreOptions options_;
  std::vector<ChunkId> indexes_;
};

TEST(ChunkStoreGcTest, KeepsWhatIsNamedForgetsTheRestAndReclaimsItsPacks) {
  GcFixture fx;
  auto store = fx.Open();
  const StoreStats before = *store->Stats();
  ASSERT_EQ(before.packs, 2u);

  GcOptions dry;
  dry.dry_run = true;
  auto planned = store->CollectGarbage(fx.Kept(), dry);
  ASSERT_TRUE(planned.ok()) << planned.status().ToString();
  EXPECT_EQ(store->Stats()->pack_bytes, before.pack_bytes);  // a dry run changes nothing
  EXPECT_EQ(store->Stats()->chunks, before.chunks);

  auto report = store->CollectGarbage(fx.Kept(), GcOptions());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->kept_indexes, 2u);
  EXPECT_EQ(report->deleted_indexes, 4u);
  EXPECT_GT(report->deleted_chunks, 0u);
  EXPECT_EQ(report->packs_compacted, 2u);
  EXPECT_GT(report->copied_bytes, 0u);
  EXPECT_EQ(planned->deleted_chunks, report->deleted_chunks);
  EXPECT_EQ(planned->pack_bytes_after, report->pack_bytes_after);
  const StoreStats after = *store->Stats();
  EXPECT_EQ(after.pack_bytes, report->pack_bytes_after);
  EXPECT_EQ(after.chunks, before.chunks - report->deleted_chunks);
  EXPECT_EQ(after.chunk_indexes, 2u);
  // The bound a collection promises: the packs hold at most twice what is kept (+ a header).
  EXPECT_LE(after.pack_bytes, 2 * report->kept_bytes + kPackHeaderBytes);
  EXPECT_LT(after.pack_bytes, before.pack_bytes * 6 / 10);
  // The files of the removed packs are gone from the disk.
  auto names = fx.mem_.GetChildren("/store/packs");
  EXPECT_EQ(names->size(), after.packs);

  for (int i = 0; i < kFiles; ++i) {
    Status s;
    auto data = Restore(*store, fx.indexes_[i], &s);
    if (GcFixture::IsKept(i)) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(data, FileData(i));
    } else {
      EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
    }
  }
  // A second collection with the same keep has nothing left to do.
  auto again = store->CollectGarbage(fx.Kept(), GcOptions());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->deleted_chunks, 0u);
  EXPECT_EQ(again->packs_compacted, 0u);
  EXPECT_EQ(again->pack_bytes_after, after.pack_bytes);
  store.reset();
  store = fx.Open();
  EXPECT_TRUE(store->Verify(nullptr)->clean());
  // Storing after a collection goes on as before.
  auto r = IngestFile(store.get(), &fx.fault_, "/f0", SmallChunks());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Status s;
  EXPECT_EQ(Restore(*store, r->index_id, &s), FileData(0));
}

TEST(ChunkStoreGcTest, AKeptIndexThatFailsItsCheckStopsTheCollectionBeforeAnyChange) {
  GcFixture fx;
  auto store = fx.Open();
  const StoreStats before = *store->Stats();
  // An id that is not the hash of what is stored under it: put an index under a wrong id.
  auto bytes = store->GetIndexBytes(fx.indexes_[5]);
  ASSERT_TRUE(bytes.ok());
  ChunkId wrong = fx.indexes_[5];
  wrong[0] ^= 1;
  ASSERT_TRUE(store->PutIndex(wrong, *bytes).ok());
  ASSERT_TRUE(store->Commit().ok());
  auto report = store->CollectGarbage({fx.indexes_[2], wrong}, GcOptions());
  ASSERT_EQ(report.status().code(), StatusCode::kCorruption) << report.status().ToString();
  EXPECT_NE(report.status().message().find("nothing was collected"), std::string::npos);
  EXPECT_EQ(store->Stats()->chunks, before.chunks);
  EXPECT_EQ(store->Stats()->pack_bytes, before.pack_bytes);
}

TEST(ChunkStoreGcTest, KeptIndexesNotStoredAreCountedAndNothingElseIsKeptForThem) {
  GcFixture fx;
  auto store = fx.Open();
  ChunkId absent{};
  absent[5] = 7;
  auto report = store->CollectGarbage({fx.indexes_[0], absent}, GcOptions());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->absent_indexes, 1u);
  EXPECT_EQ(report->kept_indexes, 1u);
  EXPECT_EQ(store->Stats()->chunk_indexes, 1u);
}

// Readers on other threads while collections move and remove packs under them: every read of
// a kept file succeeds (a chunk moved meanwhile is read at its new place).
TEST(ChunkStoreGcTest, ReadersBesideACollectionNeverFail) {
  testing::TempDir tmp;
  ChunkStoreOptions o;
  o.index_dir = tmp.Sub("index");
  o.max_pack_bytes = kFileBytes / 2;
  const std::string dir = tmp.Sub("store");
  ASSERT_TRUE(ChunkStore::Create(dir, o).ok());
  o.writable = true;
  auto store = std::move(ChunkStore::Open(dir, o)).value();
  std::vector<ChunkId> indexes;
  for (int i = 0; i < 8; ++i) {
    const std::string path = tmp.Sub("f" + std::to_string(i));
    auto f = Env::Default()->NewWritableFile(path);
    ASSERT_TRUE((*f)->Append(FileData(i)).ok() && (*f)->Close().ok());
    indexes.push_back(IngestFile(store.get(), Env::Default(), path, SmallChunks())->index_id);
  }
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, reads{0};
  std::thread reader([&] {
    while (!done) {
      Status s;
      if (Restore(*store, indexes[7], &s) != FileData(7) || !s.ok()) ++failures;
      ++reads;
    }
  });
  // Each collection forgets one more file: the packs holding file 7's chunks get emptier and
  // are compacted, moving its chunks.
  uint64_t compacted = 0;
  for (int keep_from = 1; keep_from < 8; ++keep_from) {
    std::vector<ChunkId> keep(indexes.begin() + keep_from, indexes.end());
    auto r = store->CollectGarbage(keep, GcOptions{0.9, false});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    compacted += r->packs_compacted;
  }
  while (reads < 20) std::this_thread::yield();
  done = true;
  reader.join();
  EXPECT_GT(compacted, 0u);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(store->Verify(nullptr)->clean());
}

struct Outcome {
  bool finished_without_crash = false;
  bool damage_found = false;
  std::string detail;
  uint64_t pack_bytes_after_recovery = 0;
  uint64_t pack_bytes_after_second_gc = 0;
};

// One trial: crash at operation k of a collection, power loss, reopen, check that the kept
// files restore, then collect again.
Outcome RunTrial(uint64_t k, bool sync_disabled) {
  GcFixture fx(sync_disabled);
  Outcome out;
  fx.fault_.ResetCounters();
  fx.fault_.CrashAtOperation(k);
  {
    auto store = ChunkStore::Open("/store", fx.options_);
    if (store.ok()) {
      auto r = (*store)->CollectGarbage(fx.Kept(), GcOptions());
      out.finished_without_crash = r.ok() && !fx.fault_.crashed();
    }
  }
  Random tear(kSeed ^ k);
  fx.mem_.SimulateCrash(&tear);
  fx.fault_.ResetCounters();
  fx.fault_.SetSyncDisabled(false);
  auto store = ChunkStore::Open("/store", fx.options_);
  if (!store.ok()) {
    out.damage_found = true;
    out.detail = "reopen: " + store.status().ToString();
    return out;
  }
  out.pack_bytes_after_recovery = (*store)->Stats()->pack_bytes;
  for (int i = 0; i < kFiles; ++i) {
    if (!GcFixture::IsKept(i)) continue;
    Status s;
    if (Restore(**store, fx.indexes_[i], &s) != FileData(i) || !s.ok()) {
      out.damage_found = true;
      out.detail = "file " + std::to_string(i) + ": " + s.ToString();
      return out;
    }
  }
  auto again = (*store)->CollectGarbage(fx.Kept(), GcOptions());
  if (!again.ok()) {
    out.damage_found = true;
    out.detail = "second collection: " + again.status().ToString();
    return out;
  }
  out.pack_bytes_after_second_gc = again->pack_bytes_after;
  return out;
}

TEST(ChunkStoreGcTest, EveryCrashPointOfACollectionLosesNothingKept) {
  // The reference: a collection without a crash.
  GcFixture ref;
  const uint64_t before = ref.Open()->Stats()->pack_bytes;
  auto reference = ref.Open()->CollectGarbage(ref.Kept(), GcOptions());
  ASSERT_TRUE(reference.ok());
  uint64_t k = 1;
  for (; k < 100000; ++k) {
    Outcome o = RunTrial(k, /*sync_disabled=*/false);
    ASSERT_FALSE(o.damage_found) << "crash at operation " << k << ": " << o.detail;
    // At most one collection's copies leak until the next collection...
    EXPECT_LE(o.pack_bytes_after_recovery, before + reference->copied_bytes + kPackHeaderBytes)
        << "k=" << k;
    // ...which reclaims them.
    EXPECT_LE(o.pack_bytes_after_second_gc, 2 * reference->kept_bytes + kPackHeaderBytes)
        << "k=" << k;
    if (o.finished_without_crash) break;
  }
  EXPECT_GT(k, 10u);  // the loop crashed the collection at many points
  std::printf("crash points tried: %llu\n", static_cast<unsigned long long>(k));
}

TEST(ChunkStoreGcTest, NegativeControlWithoutFsyncACrashLosesKeptChunks) {
  int damaged = 0;
  for (uint64_t k = 1; k < 100000; ++k) {
    Outcome o = RunTrial(k, /*sync_disabled=*/true);
    damaged += o.damage_found;
    if (o.finished_without_crash) break;
  }
  std::printf("crash points that lost kept chunks without fsync: %d\n", damaged);
  EXPECT_GT(damaged, 0) << "with fsync ignored, some crash point must lose the copies";
}

}  // namespace
}  // namespace tiersync::replication
