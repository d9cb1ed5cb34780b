// Env: the one seam through which tiersync touches files, directories, locks, the clock and
// randomness (after leveldb's Env). Components receive an Env* through their options and never
// call the operating system themselves, so tests can run them over an in-memory file system
// (MemEnv), inject faults at any operation (FaultEnv), and simulate power loss.
//
// Durability contract (the model every implementation and every caller follows):
//   * Bytes appended to a WritableFile are durable only after WritableFile::Sync() returns OK.
//   * Creating, renaming or removing a directory entry is durable only after SyncDir() of the
//     directory that holds the entry returns OK.
//   * A failed Sync() means the data may be gone: callers must treat it as fatal for what
//     they were writing and never retry-and-trust (PostgreSQL "fsyncgate").
//
// Paths are plain strings with '/' separators. Thread safety: Env methods may be called from
// any thread; an individual file object must be used by one thread at a time, except
// RandomAccessFile::ReadAt, which is safe to call concurrently.
#ifndef TIERSYNC_BASE_ENV_H_
#define TIERSYNC_BASE_ENV_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace tiersync {

// A file read from front to back.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to dst.size() bytes; returns how many were read (0 only at end of file).
  virtual Result<size_t> Read(MutableByteSpan dst) = 0;
};

// A file read at arbitrary offsets. ReadAt is safe to call from several threads at once.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to dst.size() bytes at `offset`; returns how many were read, fewer only at end of
  // file.
  virtual Result<size_t> ReadAt(uint64_t offset, MutableByteSpan dst) const = 0;
};

// A file written by appending.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(ByteSpan data) = 0;
  // Makes everything appended so far durable (fsync/fdatasync).
  virtual Status Sync() = 0;
  // Closes the file; further calls fail. The destructor closes too, ignoring errors.
  virtual Status Close() = 0;
};

// A held lock on a file. Released when destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

// What Stat() reports about a file: enough to tell "unchanged since last seen" without
// reading it (size, modification time and inode, as git's index and rsync do).
struct FileStat {
  uint64_t size = 0;
  int64_t mtime_ns = 0;  // modification time (MemEnv: a per-process modification counter)
  uint64_t inode = 0;
  bool operator==(const FileStat&) const = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX environment. Never deleted.
  static Env* Default();

  virtual Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;
  // Creates or truncates `path` for writing.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens `path` for appending at its end, creating it (empty) if missing.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  // Creates `path` for writing, readable and writable by its owner only (mode 0600) from the
  // moment it exists: it is created with that mode, never changed to it (private keys, audit
  // logs). kAlreadyExists if `path` exists (whatever its mode, it is not reused).
  virtual Result<std::unique_ptr<WritableFile>> NewPrivateFile(const std::string& path) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  virtual Result<FileStat> Stat(const std::string& path) = 0;
  // Names (not paths) of the entries of a directory, without "." and "..", in no set order.
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  // Creates one directory; kAlreadyExists if it exists.
  virtual Status CreateDir(const std::string& dir) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Removes an empty directory; kIOError (ENOTEMPTY) if it has entries. Durable after SyncDir
  // of its parent.
  virtual Status RemoveDir(const std::string& dir) = 0;
  // Atomically replaces `to` with `from`.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Makes `to` a second name of the file `from` (a hard link: same content, no copy);
  // kAlreadyExists if `to` exists. Durable after SyncDir of `to`'s directory.
  virtual Status LinkFile(const std::string& from, const std::string& to) = 0;
  // Cuts or extends `path` to `size` bytes. Durable only after a later Sync of the file.
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Makes the entries of directory `dir` durable (fsync of the directory).
  virtual Status SyncDir(const std::string& dir) = 0;
  // Makes `path` readable and writable by its owner only (mode 0600), for private keys.
  virtual Status RestrictToOwner(const std::string& path) = 0;

  // Takes an exclusive advisory lock on `path` (created if missing). Fails with
  // kFailedPrecondition if another holder (process or Env user) has it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;

  // Wall-clock time in microseconds since the Unix epoch.
  virtual uint64_t NowMicros() = 0;
  // Elapsed time for timeouts, rates and schedules (never goes back; POSIX: CLOCK_MONOTONIC).
  // An in-memory Env returns its virtual clock.
  virtual uint64_t MonotonicMicros() { return NowMicros(); }
  // Waits `micros` (POSIX: the calling thread sleeps; an in-memory Env advances its clock).
  virtual void SleepForMicroseconds(uint64_t micros) = 0;
  // A seed for a Random; from the operating system's entropy on POSIX, fixed in tests.
  virtual uint64_t RandomSeed() = 0;
};

// Env::NowMicros in whole seconds since the Unix epoch.
inline int64_t NowSeconds(Env* env) { return static_cast<int64_t>(env->NowMicros() / 1'000'000); }

// Forwards every call to another Env; subclasses override what they change (for tests and
// fault injection). Does not own the target.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& p) override {
    return target_->NewSequentialFile(p);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    return target_->NewRandomAccessFile(p);
  }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    return target_->NewWritableFile(p);
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& p) override {
    return target_->NewAppendableFile(p);
  }
  Result<std::unique_ptr<WritableFile>> NewPrivateFile(const std::string& p) override {
    return target_->NewPrivateFile(p);
  }
  bool FileExists(const std::string& p) override { return target_->FileExists(p); }
  Result<uint64_t> GetFileSize(const std::string& p) override { return target_->GetFileSize(p); }
  Result<FileStat> Stat(const std::string& p) override { return target_->Stat(p); }
  Result<std::vector<std::string>> GetChildren(const std::string& d) override {
    return target_->GetChildren(d);
  }
  Status CreateDir(const std::string& d) override { return target_->CreateDir(d); }
  Status RemoveFile(const std::string& p) override { return target_->RemoveFile(p); }
  Status RemoveDir(const std::string& d) override { return target_->RemoveDir(d); }
  Status RenameFile(const std::string& f, const std::string& t) override {
    return target_->RenameFile(f, t);
  }
  Status LinkFile(const std::string& f, const std::string& t) override {
    return target_->LinkFile(f, t);
  }
  Status TruncateFile(const std::string& p, uint64_t s) override {
    return target_->TruncateFile(p, s);
  }
  Status SyncDir(const std::string& d) override { return target_->SyncDir(d); }
  Status RestrictToOwner(const std::string& p) override { return target_->RestrictToOwner(p); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& p) override {
    return target_->LockFile(p);
  }
  uint64_t NowMicros() override { return target_->NowMicros(); }
  uint64_t MonotonicMicros() override { return target_->MonotonicMicros(); }
  void SleepForMicroseconds(uint64_t micros) override { target_->SleepForMicroseconds(micros); }
  uint64_t RandomSeed() override { return target_->RandomSeed(); }

 private:
  Env* target_;
};

// Helpers built on the interface above.

// "a/b" + "c" -> "a/b/c".
std::string JoinPath(std::string_view dir, std::string_view name);
// "a/b/c" -> "a/b"; "c" -> ".".
std::string DirName(std::string_view path);

// Reads a whole file, failing with kResourceExhausted if it is larger than `max_bytes`.
Result<std::vector<uint8_t>> ReadFileToBytes(Env* env, const std::string& path, size_t max_bytes);

// Writes `data` to `path` durably and atomically: temp file -> write -> Sync -> rename ->
// SyncDir. On failure `path` is unchanged (the temp file may remain, named path + ".tmp").
// With `owner_only` the file is mode 0600 from its creation (Env::NewPrivateFile; a temp file
// left over from an earlier failure is removed first, never reused), for private keys.
Status WriteFileAtomically(Env* env, const std::string& path, ByteSpan data,
                           bool owner_only = false);

// Creates `dir` and any missing parents; OK if it exists.
Status CreateDirs(Env* env, const std::string& dir);

// Removes `path` and, if it is a directory, everything in it (like `rm -rf`); OK if it does
// not exist. Durable after SyncDir of its parent.
Status RemoveTree(Env* env, const std::string& path);

}  // namespace tiersync

#endif  // TIERSYNC_BASE_ENV_H_
