#include "base/mem_env.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "base/env.h"
#include "base/random.h"
#include "tests/testing/file_contents.h"

namespace tiersync {
namespace {

using testing::Contents;

// Creates `path` holding `data`; syncs the data if `sync_data`, the parent if `sync_dir`.
void WriteFile(MemEnv& env, const std::string& path, std::string_view data, bool sync_data,
               bool sync_dir) {
  auto file = env.NewWritableFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append(AsBytes(data)).ok());
  if (sync_data) {
    ASSERT_TRUE((*file)->Sync().ok());
  }
  ASSERT_TRUE((*file)->Close().ok());
  if (sync_dir) {
    ASSERT_TRUE(env.SyncDir(DirName(path)).ok());
  }
}

TEST(MemEnvTest, SyncedAppendsSurviveCrash) {
  MemEnv env;
  WriteFile(env, "/f", "durable", /*sync_data=*/true, /*sync_dir=*/true);
  env.SimulateCrash();
  EXPECT_EQ(Contents(&env, "/f"), "durable");
}

TEST(MemEnvTest, LinkSharesContentAndIsDurableOnlyAfterDirSync) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/a").ok());
  ASSERT_TRUE(env.SyncDir("/").ok());
  WriteFile(env, "/f", "linked", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(env.LinkFile("/f", "/a/g").ok());
  EXPECT_EQ(Contents(&env, "/a/g"), "linked");
  EXPECT_EQ(env.LinkFile("/f", "/a/g").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(env.LinkFile("/missing", "/a/h").code(), StatusCode::kNotFound);
  ASSERT_TRUE(env.RemoveFile("/f").ok());
  EXPECT_EQ(Contents(&env, "/a/g"), "linked");  // the other name keeps the file
  env.SimulateCrash();
  EXPECT_FALSE(env.FileExists("/a/g"));  // /a was never synced after the link
  EXPECT_EQ(Contents(&env, "/f"), "linked");
  ASSERT_TRUE(env.LinkFile("/f", "/a/g").ok());
  ASSERT_TRUE(env.SyncDir("/a").ok());
  env.SimulateCrash();
  EXPECT_EQ(Contents(&env, "/a/g"), "linked");
}

TEST(MemEnvTest, PrivateFileIsNeverMadeOverAnExistingOne) {
  MemEnv env;
  auto file = env.NewPrivateFile("/k");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append(AsBytes("abc")).ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(env.NewPrivateFile("/k").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(env.NewPrivateFile("/").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Contents(&env, "/k"), "abc");
}

TEST(MemEnvTest, UnsyncedAppendsAreLostAfterCrash) {
  MemEnv env;
  auto file = env.NewWritableFile("/f");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(env.SyncDir("/").ok());
  ASSERT_TRUE((*file)->Append(AsBytes("abc")).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Append(AsBytes("def")).ok());
  EXPECT_EQ(Contents(&env, "/f"), "abcdef");
  env.SimulateCrash();
  EXPECT_EQ(Contents(&env, "/f"), "abc");
}

TEST(MemEnvTest, FileCreatedWithoutDirSyncDisappearsAfterCrash) {
  MemEnv env;
  WriteFile(env, "/f", "data", /*sync_data=*/true, /*sync_dir=*/false);
  EXPECT_TRUE(env.FileExists("/f"));
  env.SimulateCrash();
  EXPECT_FALSE(env.FileExists("/f"));
}

TEST(MemEnvTest, DirectoryNotSyncedInParentDisappearsWithItsContents) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  WriteFile(env, "/d/f", "data", /*sync_data=*/true, /*sync_dir=*/true);
  env.SimulateCrash();
  EXPECT_FALSE(env.FileExists("/d"));
  EXPECT_EQ(env.GetChildren("/d").status().code(), StatusCode::kNotFound);
}

TEST(MemEnvTest, DirectorySyncedInParentKeepsSyncedContents) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  ASSERT_TRUE(env.SyncDir("/").ok());
  WriteFile(env, "/d/f", "data", /*sync_data=*/true, /*sync_dir=*/true);
  WriteFile(env, "/d/g", "lost", /*sync_data=*/true, /*sync_dir=*/false);
  env.SimulateCrash();
  auto children = env.GetChildren("/d");
  ASSERT_TRUE(children.ok());
  EXPECT_EQ(*children, std::vector<std::string>{"f"});
  EXPECT_EQ(Contents(&env, "/d/f"), "data");
}

TEST(MemEnvTest, RenameIsNotDurableUntilSyncDir) {
  MemEnv env;
  WriteFile(env, "/a", "data", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(env.RenameFile("/a", "/b").ok());
  EXPECT_FALSE(env.FileExists("/a"));
  EXPECT_EQ(Contents(&env, "/b"), "data");
  env.SimulateCrash();
  EXPECT_EQ(Contents(&env, "/a"), "data");
  EXPECT_FALSE(env.FileExists("/b"));
}

TEST(MemEnvTest, RenameIsDurableAfterSyncDir) {
  MemEnv env;
  WriteFile(env, "/a", "data", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(env.RenameFile("/a", "/b").ok());
  ASSERT_TRUE(env.SyncDir("/").ok());
  env.SimulateCrash();
  EXPECT_FALSE(env.FileExists("/a"));
  EXPECT_EQ(Contents(&env, "/b"), "data");
}

TEST(MemEnvTest, RenameAcrossDirsSyncingOnlyTargetLeavesBothNamesAfterCrash) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/x").ok());
  ASSERT_TRUE(env.CreateDir("/y").ok());
  ASSERT_TRUE(env.SyncDir("/").ok());
  WriteFile(env, "/x/f", "data", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(env.RenameFile("/x/f", "/y/f").ok());
  ASSERT_TRUE(env.SyncDir("/y").ok());
  env.SimulateCrash();
  EXPECT_EQ(Contents(&env, "/x/f"), "data");
  EXPECT_EQ(Contents(&env, "/y/f"), "data");
}

TEST(MemEnvTest, RenameReplacesTargetFile) {
  MemEnv env;
  WriteFile(env, "/a", "new", /*sync_data=*/true, /*sync_dir=*/false);
  WriteFile(env, "/b", "old", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(env.RenameFile("/a", "/b").ok());
  EXPECT_EQ(Contents(&env, "/b"), "new");
  EXPECT_FALSE(env.FileExists("/a"));
}

TEST(MemEnvTest, RemoveIsNotDurableUntilSyncDir) {
  MemEnv env;
  WriteFile(env, "/f", "data", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(env.RemoveFile("/f").ok());
  EXPECT_FALSE(env.FileExists("/f"));
  env.SimulateCrash();
  EXPECT_EQ(Contents(&env, "/f"), "data");
  ASSERT_TRUE(env.RemoveFile("/f").ok());
  ASSERT_TRUE(env.SyncDir("/").ok());
  env.SimulateCrash();
  EXPECT_FALSE(env.FileExists("/f"));
}

TEST(MemEnvTest, TruncateIsDurableOnlyAfterSync) {
  MemEnv env;
  WriteFile(env, "/f", "abcdef", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(env.TruncateFile("/f", 2).ok());
  EXPECT_EQ(Contents(&env, "/f"), "ab");
  env.SimulateCrash();
  EXPECT_EQ(Contents(&env, "/f"), "abcdef");

  ASSERT_TRUE(env.TruncateFile("/f", 2).ok());
  auto file = env.NewAppendableFile("/f");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Sync().ok());
  env.SimulateCrash();
  EXPECT_EQ(Contents(&env, "/f"), "ab");
}

TEST(MemEnvTest, NewWritableFileTruncationIsNotDurableUntilSync) {
  MemEnv env;
  WriteFile(env, "/f", "old", /*sync_data=*/true, /*sync_dir=*/true);
  auto file = env.NewWritableFile("/f");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(AsBytes("new!")).ok());
  env.SimulateCrash();
  EXPECT_EQ(Contents(&env, "/f"), "old");
}

TEST(MemEnvTest, AppendableFileAppendsAtEnd) {
  MemEnv env;
  WriteFile(env, "/f", "abc", /*sync_data=*/true, /*sync_dir=*/true);
  auto file = env.NewAppendableFile("/f");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(AsBytes("def")).ok());
  EXPECT_EQ(Contents(&env, "/f"), "abcdef");
  auto size = env.GetFileSize("/f");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 6u);
}

TEST(MemEnvTest, StatChangesExactlyWhenTheFileDoes) {
  MemEnv env;
  WriteFile(env, "/f", "abc", /*sync_data=*/true, /*sync_dir=*/true);
  WriteFile(env, "/g", "abc", /*sync_data=*/true, /*sync_dir=*/true);
  auto before = env.Stat("/f");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->size, 3u);
  EXPECT_EQ(*env.Stat("/f"), *before);
  EXPECT_NE(env.Stat("/g")->inode, before->inode);
  ASSERT_TRUE(env.TruncateFile("/f", 3).ok());  // same size, but written: counts as changed
  EXPECT_NE(env.Stat("/f")->mtime_ns, before->mtime_ns);
  EXPECT_EQ(env.Stat("/missing").status().code(), StatusCode::kNotFound);
}

TEST(MemEnvTest, TornWriteKeepsOnlyAPrefixOfTheUnsyncedTail) {
  const std::string durable = "durable:";
  const std::string tail = "0123456789";
  int kept_nothing = 0;
  int kept_part = 0;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    MemEnv env;
    auto file = env.NewWritableFile("/f");
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(env.SyncDir("/").ok());
    ASSERT_TRUE((*file)->Append(AsBytes(durable)).ok());
    ASSERT_TRUE((*file)->Sync().ok());
    ASSERT_TRUE((*file)->Append(AsBytes(tail)).ok());
    Random tear(seed);
    env.SimulateCrash(&tear);
    const std::string after = Contents(&env, "/f");
    ASSERT_TRUE(after.starts_with(durable)) << after;
    const std::string kept = after.substr(durable.size());
    ASSERT_TRUE(tail.starts_with(kept)) << "seed " << seed << " kept " << kept;
    if (kept.empty()) ++kept_nothing;
    if (!kept.empty() && kept.size() < tail.size()) ++kept_part;
  }
  EXPECT_GT(kept_nothing, 0);
  EXPECT_GT(kept_part, 0);
}

TEST(MemEnvTest, TornWriteIsDeterministicForASeed) {
  auto run = [](uint64_t seed) {
    MemEnv env;
    for (const char* path : {"/a", "/b", "/c"}) {
      auto file = env.NewWritableFile(path);
      EXPECT_TRUE(file.ok());
      EXPECT_TRUE((*file)->Append(AsBytes("0123456789abcdef")).ok());
    }
    EXPECT_TRUE(env.SyncDir("/").ok());
    Random tear(seed);
    env.SimulateCrash(&tear);
    return Contents(&env, "/a") + "|" + Contents(&env, "/b") + "|" + Contents(&env, "/c");
  };
  EXPECT_EQ(run(7), run(7));
}

TEST(MemEnvTest, HandlesOpenedBeforeCrashFailWithIOError) {
  MemEnv env;
  WriteFile(env, "/f", "data", /*sync_data=*/true, /*sync_dir=*/true);
  auto writer = env.NewAppendableFile("/f");
  auto seq = env.NewSequentialFile("/f");
  auto random = env.NewRandomAccessFile("/f");
  ASSERT_TRUE(writer.ok() && seq.ok() && random.ok());
  env.SimulateCrash();

  uint8_t buf[4];
  const std::string kMessage = "file handle invalidated by crash";
  Status append = (*writer)->Append(AsBytes("x"));
  EXPECT_EQ(append.code(), StatusCode::kIOError);
  EXPECT_NE(append.message().find(kMessage), std::string::npos) << append.ToString();
  EXPECT_EQ((*writer)->Sync().code(), StatusCode::kIOError);
  EXPECT_EQ((*writer)->Close().code(), StatusCode::kIOError);
  EXPECT_EQ((*seq)->Read(MutableByteSpan(buf)).status().code(), StatusCode::kIOError);
  EXPECT_EQ((*random)->ReadAt(0, MutableByteSpan(buf)).status().code(), StatusCode::kIOError);
  EXPECT_EQ(Contents(&env, "/f"), "data");  // New handles work.
}

TEST(MemEnvTest, WritableFileFailsAfterClose) {
  MemEnv env;
  auto file = env.NewWritableFile("/f");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ((*file)->Append(AsBytes("x")).code(), StatusCode::kIOError);
  EXPECT_EQ((*file)->Sync().code(), StatusCode::kIOError);
}

TEST(MemEnvTest, SecondLockOnSamePathFailsNamingThePath) {
  MemEnv env;
  auto first = env.LockFile("/LOCK");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(env.FileExists("/LOCK"));
  auto second = env.LockFile("/LOCK/");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("/LOCK"), std::string::npos);
  EXPECT_TRUE(env.LockFile("/OTHER").ok());
}

TEST(MemEnvTest, LockIsReleasedWhenFileLockIsDestroyed) {
  MemEnv env;
  {
    auto first = env.LockFile("/LOCK");
    ASSERT_TRUE(first.ok());
  }
  EXPECT_TRUE(env.LockFile("/LOCK").ok());
}

TEST(MemEnvTest, CrashReleasesLocks) {
  MemEnv env;
  auto first = env.LockFile("/LOCK");
  ASSERT_TRUE(first.ok());
  env.SimulateCrash();
  auto second = env.LockFile("/LOCK");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  first->reset();  // The stale lock must not release the new holder's lock.
  EXPECT_EQ(env.LockFile("/LOCK").status().code(), StatusCode::kFailedPrecondition);
}

TEST(MemEnvTest, PathErrorsHaveTheDocumentedCodes) {
  MemEnv env;
  EXPECT_EQ(env.NewWritableFile("relative").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(env.NewWritableFile("/a/../b").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(env.NewWritableFile("/missing/f").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env.NewSequentialFile("/missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env.NewRandomAccessFile("/missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env.GetFileSize("/missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env.RemoveFile("/missing").code(), StatusCode::kNotFound);
  EXPECT_EQ(env.RenameFile("/missing", "/x").code(), StatusCode::kNotFound);
  EXPECT_EQ(env.GetChildren("/missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env.SyncDir("/missing").code(), StatusCode::kNotFound);
  ASSERT_TRUE(env.CreateDir("/d").ok());
  EXPECT_EQ(env.CreateDir("/d").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(env.CreateDir("/").code(), StatusCode::kAlreadyExists);
  const StatusCode open_dir = env.NewSequentialFile("/d").status().code();
  EXPECT_TRUE(open_dir == StatusCode::kInvalidArgument || open_dir == StatusCode::kIOError);
  const StatusCode write_dir = env.NewWritableFile("/d/").status().code();
  EXPECT_TRUE(write_dir == StatusCode::kInvalidArgument || write_dir == StatusCode::kIOError);
  EXPECT_FALSE(env.RemoveFile("/d").ok());
}

TEST(MemEnvTest, TrailingAndRepeatedSlashesAreNormalised) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d/").ok());
  WriteFile(env, "//d//f", "data", /*sync_data=*/true, /*sync_dir=*/false);
  EXPECT_EQ(Contents(&env, "/d/f"), "data");
  auto children = env.GetChildren("/d///");
  ASSERT_TRUE(children.ok());
  EXPECT_EQ(*children, std::vector<std::string>{"f"});
}

TEST(MemEnvTest, GetChildrenListsLiveEntryNames) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  ASSERT_TRUE(env.CreateDir("/d/sub").ok());
  WriteFile(env, "/d/f", "", /*sync_data=*/false, /*sync_dir=*/false);
  auto children = env.GetChildren("/d");
  ASSERT_TRUE(children.ok());
  std::sort(children->begin(), children->end());
  EXPECT_EQ(*children, (std::vector<std::string>{"f", "sub"}));
}

TEST(MemEnvTest, CorruptByteFlipsLiveAndDurableData) {
  MemEnv env;
  WriteFile(env, "/f", "abc", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(env.CorruptByte("/f", 1, 0x01).ok());
  EXPECT_EQ(Contents(&env, "/f"), "acc");
  env.SimulateCrash();
  EXPECT_EQ(Contents(&env, "/f"), "acc");
  EXPECT_EQ(env.CorruptByte("/f", 3, 0x01).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(env.CorruptByte("/missing", 0, 0x01).code(), StatusCode::kNotFound);
}

TEST(MemEnvTest, ClockIsVirtualAndSeedIsFixed) {
  MemEnv env(1234);
  EXPECT_EQ(env.RandomSeed(), 1234u);
  EXPECT_EQ(MemEnv().RandomSeed(), MemEnv::kDefaultSeed);
  EXPECT_EQ(env.NowMicros(), MemEnv::kDefaultStartMicros);
  env.SetNowMicros(1000);
  EXPECT_EQ(env.NowMicros(), 1000u);
  env.AdvanceMicros(500);
  EXPECT_EQ(env.NowMicros(), 1500u);
}

TEST(MemEnvTest, WriteFileAtomicallySurvivesCrash) {
  MemEnv env;
  ASSERT_TRUE(CreateDirs(&env, "/a/b").ok());
  ASSERT_TRUE(env.SyncDir("/").ok());
  ASSERT_TRUE(env.SyncDir("/a").ok());
  ASSERT_TRUE(WriteFileAtomically(&env, "/a/b/f", AsBytes("payload")).ok());
  env.SimulateCrash();
  EXPECT_EQ(Contents(&env, "/a/b/f"), "payload");
}

TEST(MemEnvTest, ConcurrentReadAtFromFourThreadsSeesTheData) {
  MemEnv env;
  std::string data(64 * 1024, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + 3);
  WriteFile(env, "/f", data, /*sync_data=*/true, /*sync_dir=*/true);
  auto file = env.NewRandomAccessFile("/f");
  ASSERT_TRUE(file.ok());
  const RandomAccessFile& reader = **file;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Random rng(t);
      uint8_t buf[256];
      for (int i = 0; i < 2000; ++i) {
        const uint64_t offset = rng.Uniform(data.size());
        auto n = reader.ReadAt(offset, MutableByteSpan(buf));
        const size_t want = std::min<size_t>(sizeof(buf), data.size() - offset);
        if (!n.ok() || *n != want || std::memcmp(buf, data.data() + offset, want) != 0) {
          ++mismatches;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(MemEnvTest, RemovedDirectoryComesBackAfterCrashUnlessTheParentWasSynced) {
  MemEnv env;
  ASSERT_TRUE(CreateDirs(&env, "/a/b").ok());
  ASSERT_TRUE(env.SyncDir("/").ok());
  ASSERT_TRUE(env.SyncDir("/a").ok());
  WriteFile(env, "/a/b/f", "x", true, true);
  EXPECT_EQ(env.RemoveDir("/a/b").code(), StatusCode::kIOError);    // not empty
  EXPECT_EQ(env.RemoveDir("/a/b/f").code(), StatusCode::kIOError);  // not a directory
  ASSERT_TRUE(RemoveTree(&env, "/a").ok());
  EXPECT_FALSE(env.FileExists("/a"));
  env.SimulateCrash(nullptr);
  EXPECT_TRUE(env.FileExists("/a/b/f"));  // the removal of /a was never made durable
  ASSERT_TRUE(RemoveTree(&env, "/a").ok());
  ASSERT_TRUE(env.SyncDir("/").ok());
  env.SimulateCrash(nullptr);
  EXPECT_FALSE(env.FileExists("/a"));
}

}  // namespace
}  // namespace tiersync
