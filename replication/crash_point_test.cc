// Crash-point test of `store add` (issue 2, item 3): for every I/O operation k of an ingest,
// crash at k (the process dies and power is lost: un-fsynced data vanish, the last write may
// be torn), reopen, and check that verify is clean and a second add completes storing only
// what is missing. The negative control runs the same loop on a disk that ignores fsync and
// must find damage, proving the loop can fail.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "base/fault_env.h"
#include "base/mem_env.h"
#include "base/random.h"
#include "base/sha256.h"
#include "replication/file_ingest.h"
#include "replication/file_restore.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::replication {
namespace {

constexpr uint64_t kIngestCrashSeed = 20261123;
constexpr size_t kMediaBytes = 192 * 1024;

struct CrashTrialOutcome {
  bool finished_without_crash = false;  // k was past the last operation
  bool damage_found = false;            // verify or restore failed after recovery
  std::string detail;
};

IngestOptions SmallChunksOneThread() {
  IngestOptions o;
  o.params = protocol::ChunkerParams{protocol::kChunkerFastCdcV1, 2, 1024, 4096, 16384};
  o.threads = 1;  // a fixed operation order, so k means the same thing on every run
  return o;
}

// One trial: crash at operation k of an ingest, power loss, recover, check.
CrashTrialOutcome RunCrashTrial(uint64_t k, bool sync_disabled, const std::vector<uint8_t>& data) {
  testing::TempDir tmp;
  MemEnv mem;
  FaultEnv fault(&mem, kIngestCrashSeed + k);
  ChunkStoreOptions o;
  o.env = &fault;
  o.index_dir = tmp.Sub("index");
  o.auto_commit_bytes = 48 * 1024;  // several commits inside one add
  CrashTrialOutcome out;
  EXPECT_TRUE(ChunkStore::Create("/store", o).ok());
  {
    auto f = mem.NewWritableFile("/media.bin");
    EXPECT_TRUE((*f)->Append(data).ok() && (*f)->Sync().ok() && mem.SyncDir("/").ok());
  }
  o.writable = true;
  fault.ResetCounters();
  fault.SetSyncDisabled(sync_disabled);
  fault.CrashAtOperation(k);
  {
    auto store = ChunkStore::Open("/store", o);
    if (store.ok()) {
      auto r = IngestFile(store->get(), &fault, "/media.bin", SmallChunksOneThread());
      out.finished_without_crash = r.ok() && !fault.crashed();
    }
  }
  Random tear(kIngestCrashSeed ^ k);
  mem.SimulateCrash(&tear);
  fault.ResetCounters();
  fault.SetSyncDisabled(false);

  auto store = ChunkStore::Open("/store", o);
  if (!store.ok()) {
    out.damage_found = true;
    out.detail = "reopen: " + store.status().ToString();
    return out;
  }
  auto report = (*store)->Verify(nullptr);
  uint64_t present = (*store)->Stats()->chunks;
  if (!report.ok() || !report->clean()) {
    out.damage_found = true;
    out.detail = report.ok() ? report->problems[0].error.ToString() : report.status().ToString();
    return out;
  }
  auto again = IngestFile(store->get(), &fault, "/media.bin", SmallChunksOneThread());
  EXPECT_TRUE(again.ok()) << "k=" << k << ": " << again.status().ToString();
  if (!again.ok()) return out;
  // Only what was missing is stored the second time.
  EXPECT_EQ(again->new_chunks + present, (*store)->Stats()->chunks) << "k=" << k;
  std::vector<uint8_t> restored;
  Status s = RestoreFile(**store, again->index_id, [&](ByteSpan b) {
    restored.insert(restored.end(), b.begin(), b.end());
    return Status::Ok();
  });
  if (!s.ok() || restored != data) {
    out.damage_found = true;
    out.detail = "restore: " + s.ToString();
  }
  return out;
}

std::vector<uint8_t> Data() {
  std::vector<uint8_t> data(kMediaBytes);
  Random(kIngestCrashSeed).Fill(data);
  return data;
}

TEST(CrashPointTest, EveryCrashPointOfAnAddRecovers) {
  auto data = Data();
  uint64_t k = 1;
  for (; k < 100000; ++k) {
    CrashTrialOutcome o = RunCrashTrial(k, /*sync_disabled=*/false, data);
    ASSERT_FALSE(o.damage_found) << "seed " << kIngestCrashSeed << ", crash at operation " << k
                                 << ": " << o.detail;
    if (o.finished_without_crash) break;
  }
  // The loop must have crashed the add at many different points, commits included.
  EXPECT_GT(k, 60u);
  std::printf("crash points tried: %llu\n", static_cast<unsigned long long>(k));
}

TEST(CrashPointTest, NegativeControlWithoutFsyncLosesAcknowledgedData) {
  auto data = Data();
  int damaged = 0;
  for (uint64_t k = 1; k < 100000; ++k) {
    CrashTrialOutcome o = RunCrashTrial(k, /*sync_disabled=*/true, data);
    damaged += o.damage_found;
    if (o.finished_without_crash) break;
  }
  std::printf("crash points that lost acknowledged data without fsync: %d\n", damaged);
  EXPECT_GT(damaged, 0) << "with fsync ignored, some crash point must lose committed chunks";
}

}  // namespace
}  // namespace tiersync::replication
