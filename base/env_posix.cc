// The POSIX Env: the only file in tiersync that calls open/pread/write/fsync/rename/flock.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <set>
#include <thread>

#include "base/env.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace tiersync {
namespace {

// Retries a system call interrupted by a signal.
template <class F>
auto RetryEintr(F f) {
  decltype(f()) r;
  do {
    r = f();
  } while (r < 0 && errno == EINTR);
  return r;
}

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }
  Result<size_t> Read(MutableByteSpan dst) override {
    ssize_t n = RetryEintr([&] { return ::read(fd_, dst.data(), dst.size()); });
    if (n < 0) return ErrnoToStatus(errno, "read " + path_);
    return static_cast<size_t>(n);
  }

 private:
  std::string path_;
  int fd_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }
  Result<size_t> ReadAt(uint64_t offset, MutableByteSpan dst) const override {
    size_t done = 0;
    while (done < dst.size()) {
      ssize_t n = RetryEintr([&] {
        return ::pread(fd_, dst.data() + done, dst.size() - done,
                       static_cast<off_t>(offset + done));
      });
      if (n < 0) return ErrnoToStatus(errno, "pread " + path_);
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

 private:
  std::string path_;
  int fd_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
    off_t end = ::lseek(fd_, 0, SEEK_END);
    written_ = end > 0 ? static_cast<uint64_t>(end) : 0;
  }
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Append(ByteSpan data) override {
    if (fd_ < 0) return IOError(path_ + ": append after close");
    const uint8_t* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = RetryEintr([&] { return ::write(fd_, p, left); });
      if (n < 0) return ErrnoToStatus(errno, "write " + path_);
      p += n;
      left -= static_cast<size_t>(n);
    }
    StartWriteback(data.size());
    return Status::Ok();
  }
  Status Sync() override {
    if (fd_ < 0) return IOError(path_ + ": sync after close");
    if (::fdatasync(fd_) != 0) return ErrnoToStatus(errno, "fdatasync " + path_);
    return Status::Ok();
  }
  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    int r = ::close(fd_);
    fd_ = -1;
    if (r != 0) return ErrnoToStatus(errno, "close " + path_);
    return Status::Ok();
  }

 private:
  // Asks the kernel to start writing back every kWritebackBytes appended (a hint, like
  // RocksDB's bytes_per_sync): the disk works during the append instead of all at Sync().
  // Durability still comes only from Sync().
  void StartWriteback(size_t appended) {
    static constexpr uint64_t kWritebackBytes = 8 << 20;
    unsynced_ += appended;
    if (unsynced_ < kWritebackBytes) return;
    ::sync_file_range(fd_, static_cast<off_t>(written_), static_cast<off_t>(unsynced_),
                      SYNC_FILE_RANGE_WRITE);
    written_ += unsynced_;
    unsynced_ = 0;
  }

  std::string path_;
  int fd_;
  uint64_t written_ = 0;   // offset up to which writeback was requested
  uint64_t unsynced_ = 0;  // bytes appended since
};

// flock() locks are per open file description, so two opens in one process conflict too;
// the set additionally gives a clear message for a second lock from this process.
Mutex g_locks_mu;
std::set<std::string> g_locked_paths GUARDED_BY(g_locks_mu);

class PosixFileLock final : public FileLock {
 public:
  PosixFileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
    MutexLock l(&g_locks_mu);
    g_locked_paths.erase(path_);
  }

 private:
  std::string path_;
  int fd_;
};

Result<int> OpenFd(const std::string& path, int flags, mode_t mode = 0644) {
  int fd = RetryEintr([&] { return ::open(path.c_str(), flags | O_CLOEXEC, mode); });
  if (fd < 0) return ErrnoToStatus(errno, "open " + path);
  return fd;
}

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    TS_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_RDONLY));
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return std::unique_ptr<SequentialFile>(std::make_unique<PosixSequentialFile>(path, fd));
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    TS_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_RDONLY));
    return std::unique_ptr<RandomAccessFile>(std::make_unique<PosixRandomAccessFile>(path, fd));
  }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    TS_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_WRONLY | O_CREAT | O_TRUNC));
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd));
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    TS_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_WRONLY | O_CREAT | O_APPEND));
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd));
  }
  Result<std::unique_ptr<WritableFile>> NewPrivateFile(const std::string& path) override {
    // O_EXCL: created here with mode 0600 (less under the umask), never an existing file.
    TS_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_WRONLY | O_CREAT | O_EXCL, 0600));
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd));
  }
  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoToStatus(errno, "stat " + path);
    return static_cast<uint64_t>(st.st_size);
  }
  Result<FileStat> Stat(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoToStatus(errno, "stat " + path);
    FileStat out;
    out.size = static_cast<uint64_t>(st.st_size);
    out.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    out.inode = static_cast<uint64_t>(st.st_ino);
    return out;
  }
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return ErrnoToStatus(errno, "opendir " + dir);
    std::vector<std::string> out;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(std::move(name));
    }
    ::closedir(d);
    return out;
  }
  Status CreateDir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0) return ErrnoToStatus(errno, "mkdir " + dir);
    return Status::Ok();
  }
  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoToStatus(errno, "unlink " + path);
    return Status::Ok();
  }
  Status RemoveDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) return ErrnoToStatus(errno, "rmdir " + dir);
    return Status::Ok();
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoToStatus(errno, "rename " + from + " -> " + to);
    }
    return Status::Ok();
  }
  Status LinkFile(const std::string& from, const std::string& to) override {
    if (::link(from.c_str(), to.c_str()) != 0) {
      return ErrnoToStatus(errno, "link " + from + " -> " + to);
    }
    return Status::Ok();
  }
  Status TruncateFile(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      return ErrnoToStatus(errno, "truncate " + path);
    }
    return Status::Ok();
  }
  Status SyncDir(const std::string& dir) override {
    TS_ASSIGN_OR_RETURN(int fd, OpenFd(dir, O_RDONLY | O_DIRECTORY));
    int r = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (r != 0) return ErrnoToStatus(err, "fsync directory " + dir);
    return Status::Ok();
  }
  Status RestrictToOwner(const std::string& path) override {
    if (::chmod(path.c_str(), 0600) != 0) return ErrnoToStatus(errno, "chmod " + path);
    return Status::Ok();
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    {
      MutexLock l(&g_locks_mu);
      if (!g_locked_paths.insert(path).second) {
        return FailedPreconditionError(path + " is locked by this process already");
      }
    }
    Result<int> fd = OpenFd(path, O_RDWR | O_CREAT);
    if (fd.ok() && ::flock(*fd, LOCK_EX | LOCK_NB) == 0) {
      return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(path, *fd));
    }
    Status s =
        fd.ok() ? FailedPreconditionError(path + " is locked by another process") : fd.status();
    if (fd.ok()) ::close(*fd);
    MutexLock l(&g_locks_mu);
    g_locked_paths.erase(path);
    return s;
  }
  uint64_t NowMicros() override {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  }
  uint64_t MonotonicMicros() override {
    using namespace std::chrono;
    return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
  }
  void SleepForMicroseconds(uint64_t micros) override {
    std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }
  uint64_t RandomSeed() override {
    uint64_t seed = 0;
    if (::getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) seed = NowMicros() ^ ::getpid();
    return seed;
  }
};

}  // namespace

Env* Env::Default() {
  // Never destroyed (as leveldb's Env::Default): threads still running while the process
  // exits — a node's push thread sitting in a long-poll — may go on using it.
  static Env* const env = new PosixEnv;
  return env;
}

}  // namespace tiersync
