#include "base/mem_env.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>
#include <set>
#include <span>
#include <utility>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace tiersync {
namespace mem_env_internal {

// Refuse sizes that would only end in std::bad_alloc.
constexpr uint64_t kMaxFileBytes = uint64_t{4} << 30;

struct Inode {
  std::vector<uint8_t> data;          // What reads see now.
  std::vector<uint8_t> durable_data;  // What survives a crash: the contents at the last Sync.
  uint64_t number = NextStamp();      // Stat()'s inode
  uint64_t modified = number;         // Stat()'s mtime: stamp of the last change

  void Touch() { modified = NextStamp(); }
  static uint64_t NextStamp() {
    static std::atomic<uint64_t> stamp{0};
    return ++stamp;
  }
};

struct Dir;

// A directory entry: exactly one of `file` and `dir` is set.
struct Entry {
  std::shared_ptr<Inode> file;
  std::shared_ptr<Dir> dir;
};

using EntryMap = std::map<std::string, Entry>;

struct Dir {
  EntryMap live;     // What lookups see now.
  EntryMap durable;  // What survives a crash: the entries at the last SyncDir.
};

struct FileSystem {
  Mutex mu;
  // Every Dir and Inode reachable from here is guarded by `mu` too (which the analysis cannot
  // follow through the pointers).
  std::shared_ptr<Dir> root GUARDED_BY(mu) = std::make_shared<Dir>();
  // Bumped by every crash; handles and locks from an older generation are dead.
  uint64_t generation GUARDED_BY(mu) = 0;
  // Normalised paths with a live FileLock of the current generation.
  std::set<std::string> locked GUARDED_BY(mu);
  std::atomic<uint64_t> now_micros{MemEnv::kDefaultStartMicros};
};

}  // namespace mem_env_internal

namespace {

using mem_env_internal::Dir;
using mem_env_internal::Entry;
using mem_env_internal::FileSystem;
using mem_env_internal::Inode;
using mem_env_internal::kMaxFileBytes;

// ---- Paths ----------------------------------------------------------------------------------

// Splits an absolute path into its components, dropping empty ones ("/a//b/" -> {a, b}).
Result<std::vector<std::string>> SplitPath(const std::string& path) {
  if (path.empty() || path[0] != '/') return InvalidArgumentError("not an absolute path: " + path);
  std::vector<std::string> parts;
  size_t begin = 0;
  while (begin < path.size()) {
    size_t end = std::min(path.find('/', begin), path.size());
    if (end > begin) {
      std::string part = path.substr(begin, end - begin);
      if (part == "." || part == "..") return InvalidArgumentError("'.' or '..' in path: " + path);
      parts.push_back(std::move(part));
    }
    begin = end + 1;
  }
  return parts;
}

std::string JoinParts(const std::vector<std::string>& parts) {
  if (parts.empty()) return "/";
  std::string out;
  for (const std::string& part : parts) out += "/" + part;
  return out;
}

// Where a path points. For the root, `parent` is null.
struct Location {
  std::string path;  // Normalised.
  Dir* parent = nullptr;
  std::string name;
  Entry* entry = nullptr;  // Null when `parent` has no live entry `name`.

  bool is_root() const { return parent == nullptr; }
  bool is_file() const { return entry != nullptr && entry->file != nullptr; }
  bool is_dir() const { return is_root() || (entry != nullptr && entry->dir != nullptr); }
};

// Follows live entries from `root` through `parts`. REQUIRES: fs.mu held.
Result<Dir*> WalkDirs(Dir* root, std::span<const std::string> parts, const std::string& path) {
  Dir* dir = root;
  for (const std::string& part : parts) {
    auto it = dir->live.find(part);
    if (it == dir->live.end()) return NotFoundError("no such directory on the way to " + path);
    if (it->second.dir == nullptr) return ErrnoToStatus(ENOTDIR, path);
    dir = it->second.dir.get();
  }
  return dir;
}

Result<Location> Locate(FileSystem& fs, const std::string& path) REQUIRES(fs.mu) {
  TS_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitPath(path));
  Location loc;
  loc.path = JoinParts(parts);
  if (parts.empty()) return loc;
  loc.name = parts.back();
  std::span<const std::string> parent_parts(parts.data(), parts.size() - 1);
  TS_ASSIGN_OR_RETURN(loc.parent, WalkDirs(fs.root.get(), parent_parts, loc.path));
  auto it = loc.parent->live.find(loc.name);
  if (it != loc.parent->live.end()) loc.entry = &it->second;
  return loc;
}

// The directory `path` names.
Result<Dir*> FindDir(FileSystem& fs, const std::string& path) REQUIRES(fs.mu) {
  TS_ASSIGN_OR_RETURN(Location loc, Locate(fs, path));
  if (loc.is_root()) return fs.root.get();
  if (loc.entry == nullptr) return NotFoundError("no such directory: " + loc.path);
  if (!loc.is_dir()) return ErrnoToStatus(ENOTDIR, loc.path);
  return loc.entry->dir.get();
}

// The file `path` names.
Result<std::shared_ptr<Inode>> FindFile(FileSystem& fs, const std::string& path) REQUIRES(fs.mu) {
  TS_ASSIGN_OR_RETURN(Location loc, Locate(fs, path));
  if (loc.is_dir()) return ErrnoToStatus(EISDIR, loc.path);
  if (loc.entry == nullptr) return NotFoundError("no such file: " + loc.path);
  return loc.entry->file;
}

// The file `path` names, created empty (in the live map only) if missing, and emptied if
// `truncate`.
Result<std::shared_ptr<Inode>> FindOrCreateFile(FileSystem& fs, const std::string& path,
                                                bool truncate) REQUIRES(fs.mu) {
  TS_ASSIGN_OR_RETURN(Location loc, Locate(fs, path));
  if (loc.is_dir()) return ErrnoToStatus(EISDIR, loc.path);
  if (loc.entry == nullptr) {
    auto inode = std::make_shared<Inode>();
    loc.parent->live[loc.name].file = inode;
    return inode;
  }
  if (truncate) {
    loc.entry->file->data.clear();
    loc.entry->file->Touch();
  }
  return loc.entry->file;
}

// ---- File objects ---------------------------------------------------------------------------

// What every file object holds: the file system, its inode, and the generation it was opened
// in.
struct Handle {
  Handle(std::shared_ptr<FileSystem> fs_in, std::shared_ptr<Inode> inode_in)
      : fs(std::move(fs_in)), inode(std::move(inode_in)), generation(fs->generation) {}

  Status CheckAlive() const REQUIRES(fs->mu) {
    if (fs->generation != generation) return IOError("file handle invalidated by crash").AsLocal();
    return Status::Ok();
  }

  std::shared_ptr<FileSystem> fs;
  std::shared_ptr<Inode> inode;
  const uint64_t generation;
};

// Copies data[offset, offset + dst.size()) into `dst`, clipped at the end; returns the count.
size_t CopyOut(const std::vector<uint8_t>& data, uint64_t offset, MutableByteSpan dst) {
  if (offset >= data.size()) return 0;
  const size_t n = static_cast<size_t>(std::min<uint64_t>(dst.size(), data.size() - offset));
  std::copy_n(data.begin() + static_cast<ptrdiff_t>(offset), n, dst.begin());
  return n;
}

class MemSequentialFile final : public SequentialFile {
 public:
  explicit MemSequentialFile(Handle handle) : handle_(std::move(handle)) {}

  Result<size_t> Read(MutableByteSpan dst) override {
    MutexLock lock(&handle_.fs->mu);
    TS_RETURN_IF_ERROR(handle_.CheckAlive());
    const size_t n = CopyOut(handle_.inode->data, pos_, dst);
    pos_ += n;
    return n;
  }

 private:
  Handle handle_;
  uint64_t pos_ = 0;
};

class MemRandomAccessFile final : public RandomAccessFile {
 public:
  explicit MemRandomAccessFile(Handle handle) : handle_(std::move(handle)) {}

  Result<size_t> ReadAt(uint64_t offset, MutableByteSpan dst) const override {
    MutexLock lock(&handle_.fs->mu);
    TS_RETURN_IF_ERROR(handle_.CheckAlive());
    return CopyOut(handle_.inode->data, offset, dst);
  }

 private:
  const Handle handle_;
};

class MemWritableFile final : public WritableFile {
 public:
  explicit MemWritableFile(Handle handle) : handle_(std::move(handle)) {}

  Status Append(ByteSpan data) override {
    MutexLock lock(&handle_.fs->mu);
    TS_RETURN_IF_ERROR(CheckOpen());
    std::vector<uint8_t>& bytes = handle_.inode->data;
    if (data.size() > kMaxFileBytes - bytes.size()) {
      return ResourceExhaustedError("in-memory file would exceed its size cap");
    }
    bytes.insert(bytes.end(), data.begin(), data.end());
    handle_.inode->Touch();
    return Status::Ok();
  }

  Status Sync() override {
    MutexLock lock(&handle_.fs->mu);
    TS_RETURN_IF_ERROR(CheckOpen());
    handle_.inode->durable_data = handle_.inode->data;
    return Status::Ok();
  }

  Status Close() override {
    MutexLock lock(&handle_.fs->mu);
    TS_RETURN_IF_ERROR(CheckOpen());
    closed_ = true;
    return Status::Ok();
  }

 private:
  Status CheckOpen() const REQUIRES(handle_.fs->mu) {
    TS_RETURN_IF_ERROR(handle_.CheckAlive());
    if (closed_) return IOError("file used after Close").AsLocal();
    return Status::Ok();
  }

  Handle handle_;
  bool closed_ = false;
};

class MemFileLock final : public FileLock {
 public:
  // REQUIRES: fs->mu held.
  MemFileLock(std::shared_ptr<FileSystem> fs, std::string path)
      : fs_(std::move(fs)), path_(std::move(path)), generation_(fs_->generation) {}

  ~MemFileLock() override {
    MutexLock lock(&fs_->mu);
    if (fs_->generation == generation_) fs_->locked.erase(path_);
  }

 private:
  std::shared_ptr<FileSystem> fs_;
  const std::string path_;
  const uint64_t generation_;
};

// ---- Rename and crash helpers ---------------------------------------------------------------

// Checks that `src` (which exists) may replace `dst`. REQUIRES: fs.mu held.
Status CheckRenameTarget(const Location& src, const Location& dst) {
  const bool src_is_dir = src.is_dir();
  if (src_is_dir && dst.path.starts_with(src.path + "/")) {
    return InvalidArgumentError("cannot move a directory into itself: " + dst.path);
  }
  if (dst.entry == nullptr) return Status::Ok();
  if (dst.is_dir() && !src_is_dir) return ErrnoToStatus(EISDIR, dst.path);
  if (!dst.is_dir() && src_is_dir) return ErrnoToStatus(ENOTDIR, dst.path);
  if (dst.is_dir() && !dst.entry->dir->live.empty()) return ErrnoToStatus(ENOTEMPTY, dst.path);
  return Status::Ok();
}

// The length of the un-synced tail if the file's un-synced changes are pure appends, else 0.
size_t UnsyncedAppendLength(const Inode& inode) {
  const std::vector<uint8_t>& durable = inode.durable_data;
  if (inode.data.size() <= durable.size()) return 0;
  if (!std::equal(durable.begin(), durable.end(), inode.data.begin())) return 0;
  return inode.data.size() - durable.size();
}

struct CrashVisit {
  Random* tear;
  std::set<const Dir*> dirs;
  std::set<const Inode*> files;
};

void RevertFile(Inode* inode, CrashVisit& visit) {
  if (!visit.files.insert(inode).second) return;
  const size_t tail = UnsyncedAppendLength(*inode);
  size_t keep = 0;
  if (tail > 0 && visit.tear != nullptr && visit.tear->OneIn(2)) {
    keep = static_cast<size_t>(visit.tear->Uniform(tail + 1));
  }
  inode->data.resize(inode->durable_data.size() + keep);
  std::copy(inode->durable_data.begin(), inode->durable_data.end(), inode->data.begin());
  inode->durable_data = inode->data;
}

// Rolls `dir` and everything durably inside it back to its durable state.
void RevertDir(Dir* dir, CrashVisit& visit) {
  if (!visit.dirs.insert(dir).second) return;
  dir->live = dir->durable;
  for (auto& [name, entry] : dir->live) {
    if (entry.dir != nullptr) {
      RevertDir(entry.dir.get(), visit);
    } else {
      RevertFile(entry.file.get(), visit);
    }
  }
}

}  // namespace

// ---- MemEnv ---------------------------------------------------------------------------------

MemEnv::MemEnv(uint64_t seed) : fs_(std::make_shared<FileSystem>()), seed_(seed) {}

MemEnv::~MemEnv() = default;

Result<std::unique_ptr<SequentialFile>> MemEnv::NewSequentialFile(const std::string& path) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, FindFile(*fs_, path));
  std::unique_ptr<SequentialFile> file =
      std::make_unique<MemSequentialFile>(Handle(fs_, std::move(inode)));
  return file;
}

Result<std::unique_ptr<RandomAccessFile>> MemEnv::NewRandomAccessFile(const std::string& path) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, FindFile(*fs_, path));
  std::unique_ptr<RandomAccessFile> file =
      std::make_unique<MemRandomAccessFile>(Handle(fs_, std::move(inode)));
  return file;
}

Result<std::unique_ptr<WritableFile>> MemEnv::NewWritableFile(const std::string& path) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode,
                      FindOrCreateFile(*fs_, path, /*truncate=*/true));
  std::unique_ptr<WritableFile> file =
      std::make_unique<MemWritableFile>(Handle(fs_, std::move(inode)));
  return file;
}

Result<std::unique_ptr<WritableFile>> MemEnv::NewPrivateFile(const std::string& path) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(Location loc, Locate(*fs_, path));
  if (loc.is_dir() || loc.entry != nullptr) return AlreadyExistsError(path + " exists");
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode,
                      FindOrCreateFile(*fs_, path, /*truncate=*/true));
  std::unique_ptr<WritableFile> file =
      std::make_unique<MemWritableFile>(Handle(fs_, std::move(inode)));
  return file;
}

Result<std::unique_ptr<WritableFile>> MemEnv::NewAppendableFile(const std::string& path) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode,
                      FindOrCreateFile(*fs_, path, /*truncate=*/false));
  std::unique_ptr<WritableFile> file =
      std::make_unique<MemWritableFile>(Handle(fs_, std::move(inode)));
  return file;
}

bool MemEnv::FileExists(const std::string& path) {
  MutexLock lock(&fs_->mu);
  Result<Location> loc = Locate(*fs_, path);
  return loc.ok() && (loc->is_root() || loc->entry != nullptr);
}

Result<uint64_t> MemEnv::GetFileSize(const std::string& path) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, FindFile(*fs_, path));
  return static_cast<uint64_t>(inode->data.size());
}

Result<FileStat> MemEnv::Stat(const std::string& path) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, FindFile(*fs_, path));
  return FileStat{static_cast<uint64_t>(inode->data.size()), static_cast<int64_t>(inode->modified),
                  inode->number};
}

Result<std::vector<std::string>> MemEnv::GetChildren(const std::string& dir) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(Dir * d, FindDir(*fs_, dir));
  std::vector<std::string> names;
  names.reserve(d->live.size());
  for (const auto& [name, entry] : d->live) names.push_back(name);
  return names;
}

Status MemEnv::CreateDir(const std::string& dir) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(Location loc, Locate(*fs_, dir));
  if (loc.is_root() || loc.entry != nullptr) return AlreadyExistsError("exists: " + loc.path);
  loc.parent->live[loc.name].dir = std::make_shared<Dir>();
  return Status::Ok();
}

Status MemEnv::RemoveFile(const std::string& path) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(Location loc, Locate(*fs_, path));
  if (loc.is_dir()) return ErrnoToStatus(EISDIR, "remove " + loc.path);
  if (loc.entry == nullptr) return NotFoundError("no such file: " + loc.path);
  loc.parent->live.erase(loc.name);
  return Status::Ok();
}

Status MemEnv::RemoveDir(const std::string& dir) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(Location loc, Locate(*fs_, dir));
  if (loc.is_root()) return InvalidArgumentError("cannot remove the root");
  if (loc.entry == nullptr) return NotFoundError("no such directory: " + loc.path);
  if (!loc.is_dir()) return ErrnoToStatus(ENOTDIR, "rmdir " + loc.path);
  if (!loc.entry->dir->live.empty()) return ErrnoToStatus(ENOTEMPTY, "rmdir " + loc.path);
  loc.parent->live.erase(loc.name);
  return Status::Ok();
}

Status MemEnv::RenameFile(const std::string& from, const std::string& to) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(Location src, Locate(*fs_, from));
  TS_ASSIGN_OR_RETURN(Location dst, Locate(*fs_, to));
  if (src.is_root() || dst.is_root()) return InvalidArgumentError("cannot rename the root");
  if (src.entry == nullptr) return NotFoundError("no such file: " + src.path);
  if (src.path == dst.path) return Status::Ok();
  TS_RETURN_IF_ERROR(CheckRenameTarget(src, dst));
  Entry moved = *src.entry;
  src.parent->live.erase(src.name);
  dst.parent->live[dst.name] = std::move(moved);
  return Status::Ok();
}

Status MemEnv::LinkFile(const std::string& from, const std::string& to) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, FindFile(*fs_, from));
  TS_ASSIGN_OR_RETURN(Location dst, Locate(*fs_, to));
  if (dst.is_root()) return InvalidArgumentError("cannot link over the root");
  if (dst.entry != nullptr) return AlreadyExistsError("link target exists: " + dst.path);
  dst.parent->live[dst.name] = Entry{inode, nullptr};
  return Status::Ok();
}

Status MemEnv::TruncateFile(const std::string& path, uint64_t size) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, FindFile(*fs_, path));
  if (size > kMaxFileBytes) return ResourceExhaustedError("in-memory file size cap exceeded");
  inode->data.resize(static_cast<size_t>(size));
  inode->Touch();
  return Status::Ok();
}

Status MemEnv::SyncDir(const std::string& dir) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(Dir * d, FindDir(*fs_, dir));
  d->durable = d->live;
  return Status::Ok();
}

Result<std::unique_ptr<FileLock>> MemEnv::LockFile(const std::string& path) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitPath(path));
  const std::string normalised = JoinParts(parts);
  TS_RETURN_IF_ERROR(FindOrCreateFile(*fs_, normalised, /*truncate=*/false).status());
  if (!fs_->locked.insert(normalised).second) {
    return FailedPreconditionError("lock already held: " + normalised);
  }
  std::unique_ptr<FileLock> file_lock = std::make_unique<MemFileLock>(fs_, normalised);
  return file_lock;
}

uint64_t MemEnv::NowMicros() { return fs_->now_micros.load(); }

uint64_t MemEnv::RandomSeed() { return seed_; }

void MemEnv::SetNowMicros(uint64_t micros) { fs_->now_micros.store(micros); }

void MemEnv::AdvanceMicros(uint64_t micros) { fs_->now_micros.fetch_add(micros); }

void MemEnv::SimulateCrash(Random* tear) {
  MutexLock lock(&fs_->mu);
  ++fs_->generation;
  fs_->locked.clear();
  CrashVisit visit{tear, {}, {}};
  RevertDir(fs_->root.get(), visit);
}

Status MemEnv::CorruptByte(const std::string& path, uint64_t offset, uint8_t xor_mask) {
  MutexLock lock(&fs_->mu);
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, FindFile(*fs_, path));
  bool flipped = false;
  for (std::vector<uint8_t>* bytes : {&inode->data, &inode->durable_data}) {
    if (offset < bytes->size()) {
      (*bytes)[static_cast<size_t>(offset)] ^= xor_mask;
      flipped = true;
      inode->Touch();
    }
  }
  if (!flipped) return InvalidArgumentError("offset past the end of " + path);
  return Status::Ok();
}

Status MemEnv::RestrictToOwner(const std::string& path) {
  if (!FileExists(path)) return NotFoundError("chmod " + path + ": no such file");
  return Status::Ok();
}

}  // namespace tiersync
