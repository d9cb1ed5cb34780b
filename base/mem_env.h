// MemEnv: an in-memory Env that models the durability contract of base/env.h exactly, so tests
// can simulate power loss at any point and check what a component finds when it restarts.
//
// Model:
//   * A file is an inode with two byte vectors: `data` (what reads see now) and `durable_data`
//     (what survives a crash). WritableFile::Sync() copies data -> durable_data. Appends,
//     TruncateFile and the truncation done by NewWritableFile on an existing file change only
//     `data`, so they are lost by a crash unless a later Sync of the file made them durable.
//   * A directory has two entry maps: `live` (what lookups see now) and `durable` (what
//     survives a crash). Creating a file, CreateDir, RenameFile and RemoveFile change only the
//     live maps; SyncDir(dir) copies live -> durable for that one directory. A rename moves the
//     same inode, so until both directories are synced a crash may leave the file under its
//     old name, its new name, or both.
//   * The root directory "/" exists and is durable from the start.
//   * SimulateCrash() is the power loss: see there.
//
// Paths are absolute and '/'-separated; repeated and trailing slashes are ignored ("/a//b/" is
// "/a/b"); relative paths and "." or ".." components fail with kInvalidArgument. The parent of
// a path must exist (kNotFound otherwise).
//
// Error codes: a missing file or directory -> kNotFound; CreateDir on an existing entry ->
// kAlreadyExists; using a directory as a file, or a file as a directory -> kIOError (EISDIR,
// ENOTDIR, as the POSIX Env reports them); any call on a file handle opened before a
// SimulateCrash() -> kIOError "file handle invalidated by crash"; Append/Sync after Close ->
// kIOError.
//
// Thread safety: all methods may be called from any thread (one mutex guards the whole file
// system). File objects and locks keep the file system alive, so they may outlive the MemEnv.
#ifndef TIERSYNC_BASE_MEM_ENV_H_
#define TIERSYNC_BASE_MEM_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/random.h"
#include "base/status.h"

namespace tiersync {

namespace mem_env_internal {
struct FileSystem;  // Defined in mem_env.cc; shared with the file objects.
}  // namespace mem_env_internal

class MemEnv : public Env {
 public:
  static constexpr uint64_t kDefaultSeed = 42;
  // The virtual clock's start: 2023-11-14T22:13:20Z.
  static constexpr uint64_t kDefaultStartMicros = 1'700'000'000'000'000;

  // `seed` is what RandomSeed() returns.
  explicit MemEnv(uint64_t seed = kDefaultSeed);
  ~MemEnv() override;
  MemEnv(const MemEnv&) = delete;
  MemEnv& operator=(const MemEnv&) = delete;

  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  // Permissions are not modelled: NewWritableFile of a path that does not exist yet.
  Result<std::unique_ptr<WritableFile>> NewPrivateFile(const std::string& path) override;

  // True for files and directories.
  bool FileExists(const std::string& path) override;
  Result<uint64_t> GetFileSize(const std::string& path) override;
  Result<FileStat> Stat(const std::string& path) override;
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override;
  Status CreateDir(const std::string& dir) override;
  // Removes a file (not a directory).
  Status RemoveFile(const std::string& path) override;
  Status RemoveDir(const std::string& dir) override;
  // Moves a file over a file, or a directory over nothing or an empty directory.
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status LinkFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;
  // Permissions are not modelled: OK if `path` exists.
  Status RestrictToOwner(const std::string& path) override;
  // Exclusive per normalised path within this MemEnv; a second LockFile of the same path
  // while the first FileLock is alive fails with kFailedPrecondition naming the path.
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

  // The virtual clock; it moves only through SetNowMicros and AdvanceMicros.
  uint64_t NowMicros() override;
  // Advances the virtual clock (nothing waits).
  void SleepForMicroseconds(uint64_t micros) override { AdvanceMicros(micros); }
  // The seed given to the constructor.
  uint64_t RandomSeed() override;

  void SetNowMicros(uint64_t micros);
  void AdvanceMicros(uint64_t micros);

  // Power loss. Every directory reachable from the root through durable entries gets back
  // exactly its durable entries (directories not durably present in their parent disappear
  // with their contents), and every file gets back its durable data. With `tear`, each file
  // whose un-synced changes were pure appends keeps, with probability 1/2, a random-length
  // prefix (possibly empty, possibly all) of the un-synced tail after its durable data: a torn
  // last write. Files are visited in path order, so a seeded `tear` replays exactly.
  // Afterwards every file object opened before the call fails with kIOError, and every lock
  // taken before it is released.
  void SimulateCrash(Random* tear = nullptr);

  // Bit rot on the medium: XORs the byte at `offset` of file `path` with `xor_mask` in both
  // its live and durable data (where they are that long). kInvalidArgument if `offset` is past
  // the end of both.
  Status CorruptByte(const std::string& path, uint64_t offset, uint8_t xor_mask);

 private:
  std::shared_ptr<mem_env_internal::FileSystem> fs_;
  const uint64_t seed_;
};

}  // namespace tiersync

#endif  // TIERSYNC_BASE_MEM_ENV_H_
