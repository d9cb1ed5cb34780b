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

std::atomic<uint64_t> tmp_counter{0};

}  // namespace

class FileCache::FileWriter : public FileCache::Writer {
 public:
  FileWriter(std::shared_ptr<FileCache> cache, protocol::ChunkIndex index,
             std::vector<uint8_t> index_bytes, std::unique_ptr<WritableFile> out, std::string tmp)
      : cache_(std::move(cache)),
        index_(std::move(index)),
        index_bytes_(std::move(index_bytes)),
        out_(std::move(out)),
        tmp_(std::move(tmp)) {}
  ~FileWriter() override {
    if (!committed_) {
      if (out_) out_->Close().IgnoreError();
      cache_->env_->RemoveFile(tmp_).IgnoreError();
    }
  }
  Status Append(std::string_view chunk) override {
    hasher_.Update(AsBytes(chunk));
    size_ += chunk.size();
    return out_->Append(AsBytes(chunk));
  }
  Status Commit() override {
    if (size_ != index_.file_size || hasher_.Finish() != index_.file_sha256) {
      return CorruptionError("proxied file does not match its chunk index");
    }
    TS_RETURN_IF_ERROR(out_->Sync());
    TS_RETURN_IF_ERROR(out_->Close());
    out_.reset();
    const std::string path = cache_->PathOf(index_.file_sha256);
    TS_RETURN_IF_ERROR(WriteFileAtomically(cache_->env_, path + ".idx", index_bytes_));
    TS_RETURN_IF_ERROR(cache_->env_->RenameFile(tmp_, path));
    TS_RETURN_IF_ERROR(cache_->env_->SyncDir(cache_->dir_));
    committed_ = true;
    cache_->Add(index_.file_sha256, size_);
    return Status::Ok();
  }

 private:
  std::shared_ptr<FileCache> cache_;
  protocol::ChunkIndex index_;
  std::vector<uint8_t> index_bytes_;
  std::unique_ptr<WritableFile> out_;
  std::string tmp_;
  Sha256Hasher hasher_;
  uint64_t size_ = 0;
  bool committed_ = false;
};

Result<std::shared_ptr<FileCache>> FileCache::Open(Env* env, std::string dir, uint64_t quota) {
  auto cache = std::make_shared<FileCache>(env, dir, quota);
  TS_RETURN_IF_ERROR(CreateDirs(env, JoinPath(dir, "tmp")));
  if (auto tmp = env->GetChildren(JoinPath(dir, "tmp")); tmp.ok()) {
    for (const auto& name : *tmp)
      env->RemoveFile(JoinPath(JoinPath(dir, "tmp"), name)).IgnoreError();
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

void FileCache::Add(const Sha256Digest& sha256, uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = files_.find(sha256); it != files_.end()) {
    lru_.erase(it->second.pos);
    bytes_ -= it->second.size;
    files_.erase(it);
  }
  lru_.push_front(sha256);
  files_[sha256] = Slot{size, lru_.begin()};
  bytes_ += size;
  EvictLocked();
}

void FileCache::EvictLocked() {
  while (bytes_ > quota_ && !lru_.empty()) {
    const Sha256Digest victim = lru_.back();
    lru_.pop_back();
    auto it = files_.find(victim);
    bytes_ -= it->second.size;
    files_.erase(it);
    ++evicted_;
    env_->RemoveFile(PathOf(victim)).IgnoreError();  // open readers keep their copy
    env_->RemoveFile(PathOf(victim) + ".idx").IgnoreError();
  }
}

bool FileCache::Contains(const Sha256Digest& sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.count(sha256) > 0;
}

std::optional<FileCache::Entry> FileCache::Find(const Sha256Digest& sha256) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(sha256);
    if (it == files_.end()) return std::nullopt;
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

std::unique_ptr<FileCache::Writer> FileCache::Create(const protocol::ChunkIndex& index,
                                                     std::vector<uint8_t> index_bytes) {
  if (quota_ == 0 || index.file_size > quota_ || Contains(index.file_sha256)) return nullptr;
  const std::string tmp = JoinPath(JoinPath(dir_, "tmp"),
                                   ToHex(index.file_sha256) + "." + std::to_string(++tmp_counter));
  auto out = env_->NewWritableFile(tmp);
  if (!out.ok()) return nullptr;
  return std::make_unique<FileWriter>(shared_from_this(), index, std::move(index_bytes),
                                      std::move(out).value(), tmp);
}

void FileCache::Drop(const Sha256Digest& sha256) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(sha256);
    if (it == files_.end()) return;
    lru_.erase(it->second.pos);
    bytes_ -= it->second.size;
    files_.erase(it);
    ++damaged_;
  }
  env_->RemoveFile(PathOf(sha256)).IgnoreError();
  env_->RemoveFile(PathOf(sha256) + ".idx").IgnoreError();
}

FileCache::Stats FileCache::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return {files_.size(), bytes_, quota_, evicted_, damaged_};
}

}  // namespace tiersync::node
