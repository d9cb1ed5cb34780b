// The scrubber over a real store on disk and an upstream in memory (MemoryUpstream): a flipped
// byte is found, only that chunk is fetched again and replaced; with no source, or a lying
// one, it stays listed; the schedule and what is left to repair survive a restart; the check
// keeps to its rate.
#include "node/scrubber.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "base/mem_env.h"
#include "base/zstd_codec.h"
#include "node/memory_upstream_for_test.h"
#include "node/release_dir.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::node {
namespace {

using replication::ChunkStore;
using replication::ReadCheck;

class ScrubberTest : public ::testing::Test {
 protected:
  ScrubberTest()
      : file_(TestFile::Make(7, 3 << 20)),
        policy_({{"parent", "http://parent"}, {"national", "http://national"}}) {
    upstream_.Add(file_);
    replication::ChunkStoreOptions o;
    o.writable = true;
    EXPECT_TRUE(ChunkStore::Create(tmp_.Sub("store"), o).ok());
    store_ = ChunkStore::Open(tmp_.Sub("store"), o).value();
    ZstdCodec codec;
    for (size_t i = 0; i < file_.index.chunks.size(); ++i) {
      std::string c = file_.Chunk(i);
      std::vector<uint8_t> raw(c.begin(), c.end());
      EXPECT_TRUE(
          store_->Put(replication::PrepareChunk(file_.index.chunks[i].id, &raw, &codec)).ok());
    }
    EXPECT_TRUE(store_->PutIndex(file_.index_id, file_.index_bytes).ok());
    EXPECT_TRUE(store_->Commit().ok());
  }

  // Flips one byte inside chunk `i`'s stored copy, behind the store's back (bit rot).
  void Damage(size_t i) {
    auto loc = store_->Locate(file_.index.chunks[i].id).value();
    const std::string pack = tmp_.Sub("store") + "/packs/" + replication::PackFileName(loc.pack);
    FILE* f = std::fopen(pack.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    const long at = static_cast<long>(loc.offset + loc.stored_len / 2);
    std::fseek(f, at, SEEK_SET);
    const int c = std::fgetc(f);
    std::fseek(f, at, SEEK_SET);
    std::fputc(c ^ 0x20, f);
    std::fclose(f);
  }

  replication::SyncContext Context() {
    return {Env::Default(), &upstream_, &policy_, store_.get(), nullptr};
  }

  testing::TempDir tmp_;
  TestFile file_;
  MemoryUpstream upstream_;
  replication::SourcePolicy policy_;
  std::unique_ptr<ChunkStore> store_;
};

TEST_F(ScrubberTest, AFlippedByteIsFoundAndOnlyThatChunkIsFetchedAgainAndReplaced) {
  upstream_.Serve("http://parent");
  Scrubber scrubber(Env::Default(), store_.get(), {}, tmp_.Sub("scrub.json"));
  ScrubRun clean = scrubber.Check("command", nullptr);
  EXPECT_EQ(clean.chunks_checked, file_.index.chunks.size());
  EXPECT_EQ(clean.bytes_checked, file_.bytes.size());
  EXPECT_EQ(clean.indexes_checked, 1u);
  EXPECT_TRUE(clean.problems.empty());
  EXPECT_FALSE(scrubber.RepairPending());

  Damage(2);
  const protocol::ChunkId id = file_.index.chunks[2].id;
  EXPECT_EQ(store_->Get(id, ReadCheck::kFull).status().code(), StatusCode::kCorruption);
  ScrubRun found = scrubber.Check("schedule", nullptr);
  ASSERT_EQ(found.damaged.size(), 1u);
  EXPECT_EQ(found.damaged[0].id, id);
  EXPECT_EQ(found.Remaining(), 2u);  // the chunk and the index waiting for it
  EXPECT_TRUE(scrubber.RepairPending());

  ASSERT_TRUE(scrubber.Repair(Context(), {}).ok());
  EXPECT_EQ(upstream_.chunks_sent, 1u);
  EXPECT_EQ(upstream_.chunk_bytes, file_.index.chunks[2].size);
  EXPECT_TRUE(store_->Get(id, ReadCheck::kFull).ok());
  EXPECT_FALSE(scrubber.RepairPending());
  ScrubRun after = scrubber.last();
  EXPECT_EQ(after.repaired, 1u);
  EXPECT_TRUE(after.unrepaired.empty());
  EXPECT_EQ(after.Remaining(), 0u);
  nlohmann::json status = scrubber.StatusJson();
  EXPECT_EQ(status["last"]["repaired"], 1);
  EXPECT_EQ(status["last"]["remaining"], 0);
  EXPECT_NE(scrubber.Metrics().Serialize().find("tiersync_scrub_repaired_chunks_total 1"),
            std::string::npos);
  // And the next check finds everything whole.
  EXPECT_TRUE(scrubber.Check("schedule", nullptr).problems.empty());
}

TEST_F(ScrubberTest, WithoutASourceOrFromALiarTheDamageStaysListedAndIsAskedForAgainLater) {
  Damage(0);
  Scrubber scrubber(Env::Default(), store_.get(), {}, tmp_.Sub("scrub.json"));
  ASSERT_EQ(scrubber.Check("command", nullptr).damaged.size(), 1u);
  // No source has it.
  Status none = scrubber.Repair(Context(), {});
  EXPECT_EQ(none.code(), StatusCode::kUnavailable) << none.ToString();
  EXPECT_TRUE(scrubber.RepairPending());
  EXPECT_EQ(scrubber.last().unrepaired.size(), 1u);
  EXPECT_GT(scrubber.last().Remaining(), 0u);
  EXPECT_FALSE(scrubber.StatusJson()["last"]["repair_error"].get<std::string>().empty());
  // A lying source: its bytes fail verification and are not stored.
  upstream_.Lie("http://parent");
  EXPECT_FALSE(scrubber.Repair(Context(), {}).ok());
  EXPECT_EQ(store_->Get(file_.index.chunks[0].id, ReadCheck::kFull).status().code(),
            StatusCode::kCorruption);
  EXPECT_TRUE(scrubber.RepairPending());
  // What is left to repair is kept across a restart; national has it now.
  upstream_.Serve("http://national");
  Scrubber restarted(Env::Default(), store_.get(), {}, tmp_.Sub("scrub.json"));
  EXPECT_TRUE(restarted.RepairPending());
  ASSERT_TRUE(restarted.Repair(Context(), {}).ok());
  EXPECT_TRUE(store_->Get(file_.index.chunks[0].id, ReadCheck::kFull).ok());
  EXPECT_FALSE(restarted.RepairPending());
}

TEST_F(ScrubberTest, TheNextCheckIsDueAnIntervalAfterTheLastOneEvenAfterARestart) {
  MemEnv clock;  // the clock, and scrub.json
  ASSERT_TRUE(CreateDirs(&clock, "/node").ok());
  clock.AdvanceMicros(1'000'000'000'000);
  const int64_t start = static_cast<int64_t>(clock.NowMicros() / 1'000'000);
  Scrubber scrubber(&clock, store_.get(), {0, 24}, "/node/scrub.json");
  EXPECT_EQ(scrubber.NextDueAt(start), start + 24 * 3600);  // none yet: from the start
  clock.AdvanceMicros(3'600'000'000);
  scrubber.Check("schedule", nullptr);
  Scrubber restarted(&clock, store_.get(), {0, 24}, "/node/scrub.json");
  EXPECT_EQ(restarted.NextDueAt(start + 7200), start + 3600 + 24 * 3600);
  // A check cut short does not move the schedule.
  clock.AdvanceMicros(3'600'000'000);
  EXPECT_TRUE(restarted.Check("schedule", [] { return true; }).stopped);
  EXPECT_EQ(restarted.NextDueAt(start + 7200), start + 3600 + 24 * 3600);
  restarted.SetPolicy({0, 0});
  EXPECT_EQ(restarted.NextDueAt(start), 0);  // none scheduled
}

TEST_F(ScrubberTest, ACheckCutShortKeepsTheDamageAnEarlierOneFound) {
  const size_t last = file_.index.chunks.size() - 1;
  Damage(last);
  Scrubber scrubber(Env::Default(), store_.get(), {}, tmp_.Sub("scrub.json"));
  ASSERT_EQ(scrubber.Check("command", nullptr).damaged.size(), 1u);
  int asked = 0;
  ScrubRun cut = scrubber.Check("schedule", [&] { return ++asked > 2; });
  EXPECT_TRUE(cut.stopped);
  ASSERT_EQ(cut.damaged.size(), 1u);  // not reached this time, still known
  EXPECT_EQ(cut.damaged[0].id, file_.index.chunks[last].id);
  EXPECT_TRUE(scrubber.RepairPending());
}

TEST_F(ScrubberTest, TheCheckKeepsToItsRateAndStopsWhenAsked) {
  MemEnv clock;  // sleeping advances it
  const uint64_t rate = 1 << 20;
  Scrubber scrubber(&clock, store_.get(), {rate, 0});
  const uint64_t t0 = clock.MonotonicMicros();
  ScrubRun run = scrubber.Check("command", nullptr);
  const double seconds = static_cast<double>(clock.MonotonicMicros() - t0) / 1e6;
  // 3 MiB of chunks (random: stored raw) at 1 MiB/s: 3 s, less the 0.2 s burst allowance.
  EXPECT_GE(seconds, 2.7);
  EXPECT_LE(seconds, 3.3);
  EXPECT_EQ(run.bytes_checked, file_.bytes.size());
  int asked = 0;
  ScrubRun stopped = scrubber.Check("command", [&] { return ++asked > 4; });
  EXPECT_TRUE(stopped.stopped);
  EXPECT_LT(stopped.chunks_checked, file_.index.chunks.size());
}

// Damage no source can mend, then a garbage collection that no longer keeps the file: the
// chunk is forgotten, and the scrub stops listing it as still to repair.
TEST_F(ScrubberTest, DamageToAChunkGarbageCollectionForgotNeedsNoRepair) {
  Scrubber scrubber(Env::Default(), store_.get(), {}, tmp_.Sub("scrub.json"));
  Damage(1);
  scrubber.Check("command", nullptr);
  ASSERT_TRUE(scrubber.RepairPending());
  replication::ChunkSyncOptions options;
  EXPECT_FALSE(scrubber.Repair(Context(), options).ok());  // no source serves it
  ASSERT_TRUE(scrubber.RepairPending());
  ASSERT_TRUE(store_->CollectGarbage({}, replication::GcOptions()).ok());  // nothing kept
  EXPECT_TRUE(scrubber.Repair(Context(), options).ok());
  EXPECT_FALSE(scrubber.RepairPending());
  EXPECT_TRUE(scrubber.last().unrepaired.empty());
}

// A chunk index whose stored bytes rotted (LMDB keeps no checksum): found by its SHA-256, and
// fetched again by id for the kept release's file that uses it, checked against that file.
TEST_F(ScrubberTest, ADamagedChunkIndexIsFetchedAgainForTheKeptReleaseThatUsesIt) {
  NodePaths paths(tmp_.Sub("node"));
  const std::string release = JoinPath(paths.releases, "7-00000000");
  ASSERT_TRUE(CreateDirs(Env::Default(), release).ok());
  replication::PlannedFile f{"video/a.mp4", file_.bytes.size(), file_.index.file_sha256,
                             file_.index_id};
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), JoinPath(release, kReleaseFilesName),
                                  AsBytes(EncodeReleaseFiles({f})))
                  .ok());
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), JoinPath(release, "release.json"),
                                  AsBytes(EncodeServedRelease({7, "r7", 1, file_.bytes.size()})))
                  .ok());
  // Rot: the same id now holds other bytes.
  std::vector<uint8_t> rotten = file_.index_bytes;
  rotten[rotten.size() / 2] ^= 0x20;
  ASSERT_TRUE(store_->PutIndex(file_.index_id, rotten).ok());
  ASSERT_TRUE(store_->Commit().ok());

  Scrubber scrubber(Env::Default(), store_.get(), {}, tmp_.Sub("scrub.json"));
  scrubber.CheckReleasesOf(paths);
  ScrubRun found = scrubber.Check("command", nullptr);
  ASSERT_EQ(found.damaged_indexes.size(), 1u);
  EXPECT_EQ(found.damaged_indexes[0], file_.index_id);
  EXPECT_TRUE(found.damaged.empty());
  EXPECT_EQ(found.releases_checked, 1u);
  EXPECT_TRUE(scrubber.RepairPending());

  // With no source serving it the damage stays listed (negative control).
  EXPECT_FALSE(scrubber.Repair(Context(), {}).ok());
  EXPECT_EQ(scrubber.last().unrepaired_indexes.size(), 1u);
  EXPECT_FALSE(store_->GetIndexBytes(file_.index_id).ok());
  // It survives a restart, and comes back from the parent.
  upstream_.Serve("http://parent");
  Scrubber restarted(Env::Default(), store_.get(), {}, tmp_.Sub("scrub.json"));
  restarted.CheckReleasesOf(paths);
  ASSERT_TRUE(restarted.RepairPending());
  restarted.Repair(Context(), {}).IgnoreError();  // the release has no metadata: still listed
  EXPECT_EQ(restarted.last().indexes_repaired, 1u);
  EXPECT_TRUE(restarted.last().unrepaired_indexes.empty());
  EXPECT_EQ(store_->GetIndexBytes(file_.index_id).value(), file_.index_bytes);
  EXPECT_EQ(upstream_.chunks_sent, 0u);  // the chunks were whole: only the index came
  EXPECT_NE(restarted.Metrics().Serialize().find("tiersync_scrub_repaired_indexes_total 1"),
            std::string::npos);
  EXPECT_TRUE(restarted.Check("command", nullptr).damaged_indexes.empty());
}

}  // namespace
}  // namespace tiersync::node
