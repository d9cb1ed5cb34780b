#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "base/env.h"

namespace tiersync {
namespace {

class PosixEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tiersync-env-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0); }
  Env* env_ = Env::Default();
  std::string dir_;
};

TEST_F(PosixEnvTest, WriteAtomicallyThenRead) {
  std::string p = JoinPath(dir_, "f");
  ASSERT_TRUE(WriteFileAtomically(env_, p, AsBytes("hello")).ok());
  auto got = ReadFileToBytes(env_, p, 100);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(std::string(got->begin(), got->end()), "hello");
  EXPECT_FALSE(env_->FileExists(p + ".tmp"));
}

TEST_F(PosixEnvTest, LinkFileGivesASecondNameAndRefusesToOverwrite) {
  std::string a = JoinPath(dir_, "a"), b = JoinPath(dir_, "b");
  ASSERT_TRUE(WriteFileAtomically(env_, a, AsBytes("same")).ok());
  ASSERT_TRUE(env_->LinkFile(a, b).ok());
  ASSERT_TRUE(env_->RemoveFile(a).ok());
  auto got = ReadFileToBytes(env_, b, 100);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(std::string(got->begin(), got->end()), "same");
  ASSERT_TRUE(WriteFileAtomically(env_, a, AsBytes("other")).ok());
  EXPECT_EQ(env_->LinkFile(a, b).code(), StatusCode::kAlreadyExists);
}

TEST_F(PosixEnvTest, ReadFileOverLimitIsResourceExhausted) {
  std::string p = JoinPath(dir_, "f");
  ASSERT_TRUE(WriteFileAtomically(env_, p, AsBytes("0123456789")).ok());
  EXPECT_EQ(ReadFileToBytes(env_, p, 9).status().code(), StatusCode::kResourceExhausted);
}

TEST_F(PosixEnvTest, MissingFileIsNotFound) {
  EXPECT_EQ(env_->NewSequentialFile(JoinPath(dir_, "nope")).status().code(), StatusCode::kNotFound);
}

TEST_F(PosixEnvTest, StatReportsSizeInodeAndModificationTime) {
  std::string p = JoinPath(dir_, "s");
  ASSERT_TRUE(WriteFileAtomically(env_, p, AsBytes("abc"), false).ok());
  auto a = env_->Stat(p);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->size, 3u);
  EXPECT_GT(a->mtime_ns, 0);
  EXPECT_EQ(*env_->Stat(p), *a);
  ASSERT_TRUE(WriteFileAtomically(env_, p, AsBytes("abd"), false).ok());  // new inode
  EXPECT_NE(env_->Stat(p)->inode, a->inode);
  EXPECT_EQ(env_->Stat(JoinPath(dir_, "nope")).status().code(), StatusCode::kNotFound);
}

TEST_F(PosixEnvTest, AppendableFileAppendsAndTruncateCuts) {
  std::string p = JoinPath(dir_, "a");
  for (const char* part : {"abc", "def"}) {
    auto f = env_->NewAppendableFile(p);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(AsBytes(part)).ok());
    ASSERT_TRUE((*f)->Sync().ok());
  }
  EXPECT_EQ(*env_->GetFileSize(p), 6u);
  ASSERT_TRUE(env_->TruncateFile(p, 4).ok());
  auto raf = env_->NewRandomAccessFile(p);
  ASSERT_TRUE(raf.ok());
  uint8_t buf[10];
  EXPECT_EQ(*(*raf)->ReadAt(1, MutableByteSpan(buf, 10)), 3u);
  EXPECT_EQ(std::string(buf, buf + 3), "bcd");
}

TEST_F(PosixEnvTest, SecondLockInProcessFails) {
  std::string p = JoinPath(dir_, "LOCK");
  auto a = env_->LockFile(p);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(env_->LockFile(p).status().code(), StatusCode::kFailedPrecondition);
  a->reset();
  EXPECT_TRUE(env_->LockFile(p).ok());
}

TEST_F(PosixEnvTest, LockHeldByAnotherProcessFails) {
  std::string p = JoinPath(dir_, "LOCK");
  auto a = env_->LockFile(p);
  ASSERT_TRUE(a.ok());
  pid_t pid = ::fork();
  if (pid == 0) {
    // The child inherited this process's set of locked path names; a different spelling of
    // the same path gets past that set, so only flock() can refuse here.
    auto b = env_->LockFile(dir_ + "/./LOCK");
    ::_exit(b.ok() ? 0 : 3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
}

TEST_F(PosixEnvTest, CreateDirsMakesParents) {
  std::string d = JoinPath(dir_, "a/b/c");
  ASSERT_TRUE(CreateDirs(env_, d).ok());
  EXPECT_TRUE(env_->FileExists(d));
  EXPECT_TRUE(CreateDirs(env_, d).ok());
}

TEST_F(PosixEnvTest, RemoveDirRefusesAFullDirectoryAndRemoveTreeEmptiesIt) {
  std::string d = JoinPath(dir_, "a/b");
  ASSERT_TRUE(CreateDirs(env_, d).ok());
  ASSERT_TRUE(WriteFileAtomically(env_, JoinPath(d, "f"), AsBytes("x")).ok());
  EXPECT_EQ(env_->RemoveDir(JoinPath(dir_, "a")).code(), StatusCode::kIOError);
  ASSERT_TRUE(RemoveTree(env_, JoinPath(dir_, "a")).ok());
  EXPECT_FALSE(env_->FileExists(JoinPath(dir_, "a")));
  EXPECT_TRUE(RemoveTree(env_, JoinPath(dir_, "a")).ok());  // already gone
}

}  // namespace
}  // namespace tiersync
