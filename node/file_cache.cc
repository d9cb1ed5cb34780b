#include "node/file_cache.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include "base/bytes.h"
#include "base/hex.h"

namespace tiersync::node {
namespace {

constexpr size_t kMaxIndexBytes = protocol::kMaxChunkIndexBytes;

// Reads chunk i of a cached file, checking it against its id.
class CachedChunks : public ChunkSource {
 public:
  CachedChunks(std::unique_ptr<RandomAccessFile> file, const protocol::ChunkIndex& index,
               std::weak_ptr<FileCache> cache)
      : file_(std::move(file)), cache_(std::move(cache)), sha256_(index.file_sha256) {
    uint64_t at = 0;
    for (const auto& c : index.chunks) {
      chunks_.push_back({c.id, at, c.size});
      at += c.size;
    }
  }
  Result<std::vector<uint8_t>> Read(size_t i) override {
    if (i >= chunks_.size()) return InvalidArgumentError("no such chunk");
    const Chunk& c = chunks_[i];
    std::vector<uint8_t> bytes(c.size);
    auto n = file_->ReadAt(c.offset, bytes);
    if (!n.ok() || *n != c.size || Sha256(bytes) != c.id) {
      if (auto cache = cache_.lock()) cache->Drop(sha256_);
      return CorruptionError("cached file " + ToHex(sha256_) + ": chunk " + std::to_string(i) +
                             " is damaged; dropped from the cache");
    }
    return bytes;
  }

 private:
  struct Chunk {
    protocol::ChunkId id;
    uint64_t offset;
    uint32_t size;
  };
  std::unique_ptr<RandomAccessFile> file_;
  std::weak_ptr<FileCache> cache_;
  Sha256Digest sha256_;
  std::vector<Chunk> chunks_;
};

}  // namespace

Result<std::shared_ptr<FileCache>> FileCache::Open(Env* env, std::string dir, uint64_t quota) {
  auto cache = std::make_shared<FileCache>(env, dir, quota);
  for (const char* sub : {"tmp", "partial"}) {  // their chunk maps were in memory
    const std::string path = JoinPath(dir, sub);
    TS_RETURN_IF_ERROR(CreateDirs(env, path));
    if (auto names = env->GetChildren(path); names.ok()) {
      for (const auto& name : *names) env->RemoveFile(JoinPath(path, name)).IgnoreError();
    }
  }
  TS_ASSIGN_OR_RETURN(auto names, env->GetChildren(dir));
  // Oldest first, so each Add() puts the newer in front.
  std::vector<std::pair<int64_t, std::pair<Sha256Digest, uint64_t>>> found;
  for (const std::string& name : names) {
    if (name.size() != 64) continue;
    std::optional<Sha256Digest> sha = Sha256FromHex(name);
    if (!sha) continue;
    auto stat = env->Stat(JoinPath(dir, name));
    if (!stat.ok() || !env->FileExists(JoinPath(dir, name + ".idx"))) {
      env->RemoveFile(JoinPath(dir, name)).IgnoreError();  // a file without its index
      continue;
    }
    found.push_back({stat->mtime_ns, {*sha, stat->size}});
  }
  std::sort(found.begin(), found.end());
  for (const auto& [mtime, f] : found) cache->Add(f.first, f.second);
  return cache;
}

std::string FileCache::PathOf(const Sha256Digest& sha256) const {
  return JoinPath(dir_, ToHex(sha256));
}
std::string FileCache::PartialPathOf(const Sha256Digest& sha256) const {
  return JoinPath(JoinPath(dir_, "partial"), ToHex(sha256));
}
std::string FileCache::TmpPathOf(const Sha256Digest& sha256) const {
  return JoinPath(JoinPath(dir_, "tmp"), ToHex(sha256));
}

void FileCache::Add(const Sha256Digest& sha256, uint64_t size) {
  MutexLock lock(&mu_);
  if (auto it = files_.find(sha256); it != files_.end()) {
    lru_.erase(it->second.pos);
    bytes_ -= it->second.size;
    files_.erase(it);
  }
  lru_.push_front(sha256);
  files_[sha256] = Slot{size, lru_.begin(), nullptr};
  bytes_ += size;
  EvictLocked(&sha256, 0);
}

bool FileCache::EvictLocked(const Sha256Digest* keep, uint64_t need) {
  auto next = lru_.end();  // the entry after the next candidate (list erase keeps it valid)
  while (bytes_ + need > quota_ && next != lru_.begin()) {
    auto victim = std::prev(next);
    if (keep != nullptr && *victim == *keep) {
      next = victim;
      continue;
    }
    RemoveLocked(Sha256Digest(*victim));
    ++evicted_;
  }
  return bytes_ + need <= quota_;
}

// Open readers keep their copy (the file system keeps an open file's bytes).
void FileCache::RemoveLocked(const Sha256Digest& sha256) {
  auto it = files_.find(sha256);
  if (it == files_.end()) return;
  lru_.erase(it->second.pos);
  bytes_ -= it->second.size;
  if (it->second.partial) {
    it->second.partial->Kill();
    env_->RemoveFile(PartialPathOf(sha256)).IgnoreError();
    env_->RemoveFile(TmpPathOf(sha256)).IgnoreError();
  } else {
    env_->RemoveFile(PathOf(sha256)).IgnoreError();
    env_->RemoveFile(PathOf(sha256) + ".idx").IgnoreError();
  }
  files_.erase(it);
}

bool FileCache::Contains(const Sha256Digest& sha256) {
  MutexLock lock(&mu_);
  auto it = files_.find(sha256);
  return it != files_.end() && !it->second.partial;
}

std::optional<FileCache::Entry> FileCache::Find(const Sha256Digest& sha256) {
  {
    MutexLock lock(&mu_);
    auto it = files_.find(sha256);
    if (it == files_.end() || it->second.partial) return std::nullopt;
    lru_.splice(lru_.begin(), lru_, it->second.pos);
  }
  const std::string path = PathOf(sha256);
  auto index_bytes = ReadFileToBytes(env_, path + ".idx", kMaxIndexBytes);
  auto file = env_->NewRandomAccessFile(path);
  if (!index_bytes.ok() || !file.ok()) return std::nullopt;  // evicted meanwhile
  auto index = protocol::DecodeChunkIndex(*index_bytes);
  if (!index.ok() || index->file_sha256 != sha256) {
    Drop(sha256);
    return std::nullopt;
  }
  Entry e{*index, nullptr};
  e.source = std::make_shared<CachedChunks>(std::move(file).value(), e.index, weak_from_this());
  return e;
}

std::shared_ptr<FileCache::Partial> FileCache::OpenPartial(const protocol::ChunkIndex& index,
                                                           std::vector<uint8_t> index_bytes) {
  const Sha256Digest& sha = index.file_sha256;
  MutexLock lock(&mu_);
  if (auto it = files_.find(sha); it != files_.end()) {
    if (!it->second.partial) return nullptr;  // whole already
    lru_.splice(lru_.begin(), lru_, it->second.pos);
    return it->second.partial;
  }
  if (quota_ == 0 || index.file_size > quota_) return nullptr;
  auto out = env_->NewWritableFile(PartialPathOf(sha));
  if (!out.ok()) return nullptr;
  auto in = env_->NewRandomAccessFile(PartialPathOf(sha));
  if (!in.ok()) {
    env_->RemoveFile(PartialPathOf(sha)).IgnoreError();
    return nullptr;
  }
  auto partial = std::make_shared<Partial>(weak_from_this(), index, std::move(index_bytes),
                                           std::move(out).value(), std::move(in).value());
  lru_.push_front(sha);
  files_[sha] = Slot{0, lru_.begin(), partial};
  return partial;
}

std::shared_ptr<FileCache::Partial> FileCache::FindPartial(const Sha256Digest& sha256) {
  MutexLock lock(&mu_);
  auto it = files_.find(sha256);
  if (it == files_.end() || !it->second.partial) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.pos);
  return it->second.partial;
}

bool FileCache::Reserve(const Sha256Digest& sha256, uint64_t bytes) {
  MutexLock lock(&mu_);
  auto it = files_.find(sha256);
  if (it == files_.end() || !it->second.partial) return false;  // evicted
  if (!EvictLocked(&sha256, bytes)) return false;
  it->second.size += bytes;
  bytes_ += bytes;
  lru_.splice(lru_.begin(), lru_, it->second.pos);
  return true;
}

void FileCache::Unreserve(const Sha256Digest& sha256, uint64_t bytes) {
  MutexLock lock(&mu_);
  auto it = files_.find(sha256);
  if (it == files_.end() || !it->second.partial) return;  // evicted: already uncounted
  it->second.size -= bytes;
  bytes_ -= bytes;
}

void FileCache::Promote(const Sha256Digest& sha256, uint64_t size) {
  {
    MutexLock lock(&mu_);
    if (auto it = files_.find(sha256); it != files_.end() && it->second.partial) {
      lru_.erase(it->second.pos);
      bytes_ -= it->second.size;
      files_.erase(it);
    }
  }
  Add(sha256, size);
}

void FileCache::ForgetPartial(const Sha256Digest& sha256) {
  MutexLock lock(&mu_);
  auto it = files_.find(sha256);
  if (it != files_.end() && it->second.partial) RemoveLocked(sha256);
}

void FileCache::Drop(const Sha256Digest& sha256) {
  MutexLock lock(&mu_);
  auto it = files_.find(sha256);
  if (it == files_.end() || it->second.partial) return;
  RemoveLocked(sha256);
  ++damaged_;
}

FileCache::Stats FileCache::stats() {
  MutexLock lock(&mu_);
  Stats s;
  s.bytes = bytes_;
  s.quota = quota_;
  s.evicted = evicted_;
  s.dropped_damaged = damaged_;
  for (const auto& [sha, slot] : files_) {
    if (slot.partial) {
      ++s.partial_files;
      s.partial_bytes += slot.size;
    } else {
      ++s.files;
    }
  }
  return s;
}

}  // namespace tiersync::node
