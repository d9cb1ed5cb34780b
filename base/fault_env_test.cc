#include "base/fault_env.h"

#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <string>
#include <thread>
#include <vector>

#include "base/env.h"
#include "base/mem_env.h"
#include "tests/testing/file_contents.h"

namespace tiersync {
namespace {

using testing::Contents;

// Creates `path` in `mem` directly, durably, holding `data`.
void WriteDurably(MemEnv& mem, const std::string& path, std::string_view data) {
  auto file = mem.NewWritableFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(AsBytes(data)).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE(mem.SyncDir(DirName(path)).ok());
}

// Number of bits that differ between two equally long strings.
int BitDifference(const std::string& a, const std::string& b) {
  int bits = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    bits += std::popcount(static_cast<unsigned>(static_cast<uint8_t>(a[i] ^ b[i])));
  }
  return bits;
}

TEST(FaultEnvTest, CountsEveryForwardedOperationButNotFileExists) {
  MemEnv mem;
  FaultEnv env(&mem, 1);
  EXPECT_EQ(env.seed(), 1u);
  auto file = env.NewWritableFile("/f");  // 1
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(AsBytes("abc")).ok());  // 2
  ASSERT_TRUE((*file)->Sync().ok());                  // 3
  ASSERT_TRUE((*file)->Close().ok());                 // 4
  EXPECT_TRUE(env.FileExists("/f"));                  // not counted
  ASSERT_TRUE(env.GetFileSize("/f").ok());            // 5
  ASSERT_TRUE(env.SyncDir("/").ok());                 // 6
  ASSERT_TRUE(env.CreateDir("/d").ok());              // 7
  ASSERT_TRUE(env.GetChildren("/").ok());             // 8
  ASSERT_TRUE(env.RenameFile("/f", "/g").ok());       // 9
  ASSERT_TRUE(env.TruncateFile("/g", 1).ok());        // 10
  auto reader = env.NewRandomAccessFile("/g");        // 11
  ASSERT_TRUE(reader.ok());
  uint8_t buf[4];
  ASSERT_TRUE((*reader)->ReadAt(0, MutableByteSpan(buf)).ok());  // 12
  auto lock = env.LockFile("/LOCK");                             // 13
  ASSERT_TRUE(lock.ok());
  ASSERT_TRUE(env.RemoveFile("/g").ok());  // 14
  EXPECT_EQ(env.operation_count(), 14u);
  EXPECT_FALSE(env.crashed());
}

TEST(FaultEnvTest, CrashAtOperationFailsThatOperationAndLaterOnesAndForwardsNothing) {
  MemEnv mem;
  FaultEnv env(&mem, 1);
  env.CrashAtOperation(3);
  auto file = env.NewWritableFile("/f");  // 1
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(AsBytes("abc")).ok());  // 2
  Status sync = (*file)->Sync();                      // 3: crash
  EXPECT_EQ(sync.code(), StatusCode::kIOError);
  EXPECT_NE(sync.message().find("injected crash at operation 3"), std::string::npos);
  EXPECT_TRUE(env.crashed());
  EXPECT_EQ((*file)->Append(AsBytes("def")).code(), StatusCode::kIOError);
  EXPECT_EQ(env.RenameFile("/f", "/g").code(), StatusCode::kIOError);
  EXPECT_EQ(env.CreateDir("/d").code(), StatusCode::kIOError);
  EXPECT_EQ(env.SyncDir("/").code(), StatusCode::kIOError);
  EXPECT_EQ(env.NewWritableFile("/h").status().code(), StatusCode::kIOError);
  EXPECT_FALSE(env.FileExists("/f"));
  EXPECT_EQ(env.operation_count(), 8u);

  // Nothing after operation 2 reached the MemEnv.
  EXPECT_EQ(Contents(&mem, "/f"), "abc");
  EXPECT_FALSE(mem.FileExists("/g") || mem.FileExists("/d") || mem.FileExists("/h"));
  mem.SimulateCrash();
  EXPECT_FALSE(mem.FileExists("/f"));  // Neither the data nor the entry was synced.
}

TEST(FaultEnvTest, ResetCountersClearsTheCountAndTheCrash) {
  MemEnv mem;
  FaultEnv env(&mem, 1);
  env.CrashAtOperation(1);
  EXPECT_FALSE(env.CreateDir("/d").ok());
  EXPECT_TRUE(env.crashed());
  env.ResetCounters();
  EXPECT_FALSE(env.crashed());
  EXPECT_EQ(env.operation_count(), 0u);
  EXPECT_TRUE(env.CreateDir("/d").ok());
  EXPECT_TRUE(env.CreateDir("/d/e").ok());
  EXPECT_EQ(env.operation_count(), 2u);
}

TEST(FaultEnvTest, CrashAtAPassedOperationCrashesTheNextOne) {
  MemEnv mem;
  FaultEnv env(&mem, 1);
  ASSERT_TRUE(env.CreateDir("/a").ok());
  ASSERT_TRUE(env.CreateDir("/b").ok());
  env.CrashAtOperation(1);
  Status s = env.CreateDir("/c");
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("injected crash at operation 3"), std::string::npos);
  EXPECT_FALSE(mem.FileExists("/c"));
}

TEST(FaultEnvTest, FailSyncAtLeavesDataNotDurableAfterCrash) {
  MemEnv mem;
  WriteDurably(mem, "/f", "");
  FaultEnv env(&mem, 1);
  env.FailSyncAt(3);
  auto file = env.NewAppendableFile("/f");  // 1
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(AsBytes("abc")).ok());  // 2
  Status sync = (*file)->Sync();                      // 3
  EXPECT_EQ(sync.code(), StatusCode::kIOError);
  EXPECT_FALSE(env.crashed());
  mem.SimulateCrash();
  EXPECT_EQ(Contents(&mem, "/f"), "");
}

TEST(FaultEnvTest, FailSyncAtIsOneShotAndIgnoresNonSyncOperations) {
  MemEnv mem;
  WriteDurably(mem, "/f", "");
  FaultEnv env(&mem, 1);
  env.FailSyncAt(2);
  auto file = env.NewAppendableFile("/f");  // 1
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE((*file)->Append(AsBytes("abc")).ok());  // 2: not a sync, disarms
  EXPECT_TRUE((*file)->Sync().ok());                  // 3
  env.FailSyncAt(4, ENOSPC);
  EXPECT_EQ((*file)->Sync().code(), StatusCode::kResourceExhausted);  // 4
  EXPECT_TRUE((*file)->Sync().ok());                                  // 5
  mem.SimulateCrash();
  EXPECT_EQ(Contents(&mem, "/f"), "abc");
}

TEST(FaultEnvTest, FailSyncAtOnSyncDirLeavesRenameNotDurable) {
  MemEnv mem;
  WriteDurably(mem, "/a", "data");
  FaultEnv env(&mem, 1);
  env.FailSyncAt(2);
  ASSERT_TRUE(env.RenameFile("/a", "/b").ok());              // 1
  EXPECT_EQ(env.SyncDir("/").code(), StatusCode::kIOError);  // 2
  mem.SimulateCrash();
  EXPECT_TRUE(mem.FileExists("/a"));
  EXPECT_FALSE(mem.FileExists("/b"));
}

TEST(FaultEnvTest, FailAllSyncsFailsEverySyncUntilCleared) {
  MemEnv mem;
  FaultEnv env(&mem, 1);
  auto file = env.NewWritableFile("/f");
  ASSERT_TRUE(file.ok());
  env.FailAllSyncs(true);
  EXPECT_EQ((*file)->Sync().code(), StatusCode::kIOError);
  EXPECT_EQ((*file)->Sync().code(), StatusCode::kIOError);
  EXPECT_EQ(env.SyncDir("/").code(), StatusCode::kIOError);
  env.FailAllSyncs(false);
  EXPECT_TRUE((*file)->Sync().ok());
  EXPECT_TRUE(env.SyncDir("/").ok());
}

TEST(FaultEnvTest, NoSpaceAtWritesAPrefixThenFails) {
  const std::string data = "0123456789abcdefghijklmnopqrstuvwxyz";
  int partial = 0;
  for (uint64_t seed = 0; seed < 32; ++seed) {
    MemEnv mem;
    FaultEnv env(&mem, seed);
    env.NoSpaceAt(2);
    auto file = env.NewWritableFile("/f");  // 1
    ASSERT_TRUE(file.ok());
    Status s = (*file)->Append(AsBytes(data));  // 2
    EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
    const std::string written = Contents(&mem, "/f");
    ASSERT_LT(written.size(), data.size());
    ASSERT_TRUE(data.starts_with(written)) << written;
    if (!written.empty()) ++partial;
    EXPECT_TRUE((*file)->Append(AsBytes("!")).ok());  // One-shot.
  }
  EXPECT_GT(partial, 0);
}

TEST(FaultEnvTest, SetNoSpaceFailsEveryAppendUntilCleared) {
  MemEnv mem;
  FaultEnv env(&mem, 1);
  auto file = env.NewWritableFile("/f");
  ASSERT_TRUE(file.ok());
  env.SetNoSpace(true);
  EXPECT_EQ((*file)->Append(AsBytes("abc")).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ((*file)->Append(AsBytes("def")).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(Contents(&mem, "/f"), "");
  env.SetNoSpace(false);
  EXPECT_TRUE((*file)->Append(AsBytes("ghi")).ok());
  EXPECT_EQ(Contents(&mem, "/f"), "ghi");
}

TEST(FaultEnvTest, SyncDisabledReportsSuccessButLosesDataAfterCrash) {
  MemEnv mem;
  WriteDurably(mem, "/old", "old");
  FaultEnv env(&mem, 1);
  env.SetSyncDisabled(true);
  auto file = env.NewAppendableFile("/old");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(AsBytes("+more")).ok());
  EXPECT_TRUE((*file)->Sync().ok());
  auto created = env.NewWritableFile("/new");
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE((*created)->Sync().ok());
  EXPECT_TRUE(env.SyncDir("/").ok());
  mem.SimulateCrash();
  EXPECT_EQ(Contents(&mem, "/old"), "old");
  EXPECT_FALSE(mem.FileExists("/new"));
}

// Reads `path` through a FaultEnv with seed `seed` flipping one in `one_in` reads, 64 bytes
// at a time, 40 times; returns the concatenated results.
std::string ReadWithFlips(uint64_t seed, uint64_t one_in, const std::string& data) {
  MemEnv mem;
  WriteDurably(mem, "/f", data);
  FaultEnv env(&mem, seed);
  env.SetReadBitFlipOneIn(one_in);
  auto file = env.NewRandomAccessFile("/f");
  EXPECT_TRUE(file.ok());
  std::string out;
  for (int i = 0; i < 40; ++i) {
    uint8_t buf[64];
    auto n = (*file)->ReadAt(0, MutableByteSpan(buf));
    EXPECT_TRUE(n.ok());
    out.append(reinterpret_cast<const char*>(buf), *n);
  }
  EXPECT_EQ(Contents(&mem, "/f"), data);  // The stored bytes are untouched.
  return out;
}

TEST(FaultEnvTest, BitFlipsAreDeterministicForASeed) {
  const std::string data(64, 'x');
  const std::string first = ReadWithFlips(5, 2, data);
  EXPECT_EQ(first, ReadWithFlips(5, 2, data));
  EXPECT_NE(first, ReadWithFlips(6, 2, data));
  int flipped_reads = 0;
  for (size_t i = 0; i < first.size(); i += data.size()) {
    const int bits = BitDifference(first.substr(i, data.size()), data);
    EXPECT_LE(bits, 1);
    flipped_reads += bits;
  }
  EXPECT_GT(flipped_reads, 0);
  EXPECT_LT(flipped_reads, 40);
}

TEST(FaultEnvTest, BitFlipOneInOneFlipsExactlyOneBitPerRead) {
  const std::string data(64, 'x');
  const std::string out = ReadWithFlips(9, 1, data);
  ASSERT_EQ(out.size(), 40 * data.size());
  for (size_t i = 0; i < out.size(); i += data.size()) {
    EXPECT_EQ(BitDifference(out.substr(i, data.size()), data), 1) << "read " << i / 64;
  }
  EXPECT_EQ(ReadWithFlips(9, 0, data), [&] {
    std::string all;
    for (int i = 0; i < 40; ++i) all += data;
    return all;
  }());
}

TEST(FaultEnvTest, SequentialReadsAreCountedAndFlipped) {
  MemEnv mem;
  WriteDurably(mem, "/f", "abcdefgh");
  FaultEnv env(&mem, 3);
  env.SetReadBitFlipOneIn(1);
  std::string out = Contents(&env, "/f");
  EXPECT_EQ(BitDifference(out, "abcdefgh"), 1);
  EXPECT_GE(env.operation_count(), 3u);  // Open plus at least two reads (data, then EOF).
}

TEST(FaultEnvTest, ConcurrentReadAtFromFourThreadsIsCountedExactly) {
  MemEnv mem;
  WriteDurably(mem, "/f", std::string(4096, 'z'));
  FaultEnv env(&mem, 1);
  auto file = env.NewRandomAccessFile("/f");  // 1
  ASSERT_TRUE(file.ok());
  const RandomAccessFile& reader = **file;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      uint8_t buf[16];
      for (int i = 0; i < 1000; ++i) {
        auto n = reader.ReadAt(static_cast<uint64_t>(t * 1000 + i), MutableByteSpan(buf));
        if (!n.ok() || *n != sizeof(buf) || buf[0] != 'z') ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(env.operation_count(), 4001u);
}

TEST(FaultEnvTest, ForwardsClockAndSeedFromTarget) {
  MemEnv mem(77);
  mem.SetNowMicros(123);
  FaultEnv env(&mem, 1);
  EXPECT_EQ(env.NowMicros(), 123u);
  EXPECT_EQ(env.RandomSeed(), 77u);
}

}  // namespace
}  // namespace tiersync
