#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

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

// The permission bits of `path`; -1 if it cannot be stat'ed.
int ModeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

// Records the mode of every file the moment it was opened for writing, before any byte.
class ModeAtOpenEnv : public EnvWrapper {
 public:
  using EnvWrapper::EnvWrapper;
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    return Record(p, target()->NewWritableFile(p));
  }
  Result<std::unique_ptr<WritableFile>> NewPrivateFile(const std::string& p) override {
    return Record(p, target()->NewPrivateFile(p));
  }
  std::vector<std::pair<std::string, int>> opened;

 private:
  Result<std::unique_ptr<WritableFile>> Record(const std::string& p,
                                               Result<std::unique_ptr<WritableFile>> file) {
    if (file.ok()) opened.emplace_back(p, ModeOf(p));
    return file;
  }
};

TEST_F(PosixEnvTest, OwnerOnlyFileIsNeverReadableByOthers) {
  const ::mode_t old_umask = ::umask(0);  // the mode must not rely on the umask
  ModeAtOpenEnv env(env_);
  const std::string p = JoinPath(dir_, "key");
  // A temp file left behind by an earlier failure, readable by all: not reused.
  ASSERT_TRUE(WriteFileAtomically(env_, p + ".tmp", AsBytes("left over")).ok());
  ::chmod((p + ".tmp").c_str(), 0666);
  Status s = WriteFileAtomically(&env, p, AsBytes("secret"), /*owner_only=*/true);
  ::umask(old_umask);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(env.opened.size(), 1u);
  EXPECT_EQ(env.opened[0].first, p + ".tmp");
  EXPECT_EQ(env.opened[0].second, 0600) << "the temp file was opened with another mode";
  EXPECT_EQ(ModeOf(p), 0600);
  EXPECT_FALSE(env_->FileExists(p + ".tmp"));
  auto got = ReadFileToBytes(env_, p, 100);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(std::string(got->begin(), got->end()), "secret");

  ASSERT_TRUE(WriteFileAtomically(&env, p, AsBytes("again"), /*owner_only=*/true).ok());
  EXPECT_EQ(env.opened.back().second, 0600);
  EXPECT_EQ(ModeOf(p), 0600);
}

TEST_F(PosixEnvTest, PrivateFileIsCreatedOwnerOnlyAndNeverOverAnExistingOne) {
  const std::string p = JoinPath(dir_, "log");
  auto file = env_->NewPrivateFile(p);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(ModeOf(p), 0600);
  ASSERT_TRUE((*file)->Append(AsBytes("a")).ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(env_->NewPrivateFile(p).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*env_->GetFileSize(p), 1u);
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
