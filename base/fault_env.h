// FaultEnv: a seeded, fault-injecting EnvWrapper around any Env (normally a MemEnv), for
// crash-point enumeration and error-path tests.
//
// Operation counting: every I/O operation FaultEnv forwards gets the next number 1, 2, 3, ...
// in call order (across threads). Counted: NewSequentialFile, NewRandomAccessFile,
// NewWritableFile, NewAppendableFile, NewPrivateFile, GetFileSize, Stat, GetChildren, CreateDir,
// RemoveFile, RemoveDir, RenameFile, TruncateFile, SyncDir, LockFile, and on the file objects
// FaultEnv returns: Read, ReadAt, Append, Sync, Close. Not counted: FileExists, NowMicros,
// RandomSeed, file and lock destructors. An operation is counted even when a fault stops it.
//
// Faults, checked in this order for each counted operation:
//   1. Crash (CrashAtOperation): the operation and every later one fail with kIOError
//      "injected crash at operation N" and reach nothing in the target Env. FileExists returns
//      false without forwarding while crashed. FaultEnv does not touch the target's durable
//      state: a test calls MemEnv::SimulateCrash() itself to model the power loss.
//   2. Sync failure (FailSyncAt, FailAllSyncs): a Sync or SyncDir fails and is not forwarded,
//      so nothing is made durable.
//   3. Lying disk (SetSyncDisabled): a Sync or SyncDir returns OK without being forwarded.
//   4. Disk full (NoSpaceAt, SetNoSpace): an Append fails with kResourceExhausted (ENOSPC).
//   5. Read bit flips (SetReadBitFlipOneIn): after a successful Read/ReadAt, one random bit of
//      the returned bytes may be flipped (the stored bytes are untouched).
// Random choices come from one Random seeded with `seed`, so a single-threaded run replays
// exactly for a seed.
//
// Thread safety: all methods, including the configuration setters, may be called from any
// thread at any time. File objects share the fault state, so they may outlive the FaultEnv
// (but not the target Env's own lifetime rules).
#ifndef TIERSYNC_BASE_FAULT_ENV_H_
#define TIERSYNC_BASE_FAULT_ENV_H_

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"

namespace tiersync {

namespace fault_env_internal {
class Injector;  // Defined in fault_env.cc; shared with the wrapped file objects.
}  // namespace fault_env_internal

class FaultEnv : public EnvWrapper {
 public:
  // Does not own `target`.
  FaultEnv(Env* target, uint64_t seed);
  ~FaultEnv() override;
  FaultEnv(const FaultEnv&) = delete;
  FaultEnv& operator=(const FaultEnv&) = delete;

  uint64_t seed() const { return seed_; }

  // Operation `n` and every later one fail as if the process died there. 0 disarms (an
  // operation already crashed stays crashed until ResetCounters). If `n` is not above
  // operation_count(), the next operation crashes.
  void CrashAtOperation(uint64_t n);
  bool crashed() const;
  // How many operations have been counted since construction or ResetCounters().
  uint64_t operation_count() const;
  // Sets the count to 0, disarms CrashAtOperation and clears the crashed state. The other
  // fault settings (including pending FailSyncAt/NoSpaceAt) stay as they are.
  void ResetCounters();

  // If operation `n` is a Sync or SyncDir, it fails with ErrnoToStatus(err) and is not
  // forwarded. One-shot: disarmed when operation `n` happens, whatever it is.
  void FailSyncAt(uint64_t n, int err = EIO);
  // While set, every Sync and SyncDir fails with EIO (kIOError) and is not forwarded.
  void FailAllSyncs(bool fail);
  // If operation `n` is an Append, a random prefix (possibly empty, never all) of its data is
  // forwarded and it then fails with kResourceExhausted (ENOSPC). One-shot like FailSyncAt.
  void NoSpaceAt(uint64_t n);
  // While set, every Append fails with kResourceExhausted (ENOSPC) and forwards nothing.
  void SetNoSpace(bool no_space);
  // While set, Sync and SyncDir return OK but are not forwarded: a disk that lies about flush.
  void SetSyncDisabled(bool disabled);
  // Each successful, non-empty Read/ReadAt has one random bit of its result flipped with
  // probability 1/n. 0 turns flips off.
  void SetReadBitFlipOneIn(uint64_t n);

  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewPrivateFile(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  Result<uint64_t> GetFileSize(const std::string& path) override;
  Result<FileStat> Stat(const std::string& path) override;
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override;
  Status CreateDir(const std::string& dir) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveDir(const std::string& dir) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

 private:
  const uint64_t seed_;
  std::shared_ptr<fault_env_internal::Injector> injector_;
};

}  // namespace tiersync

#endif  // TIERSYNC_BASE_FAULT_ENV_H_
