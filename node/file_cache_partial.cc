// FileCache::Partial: a file of the proxy cache being filled in any order (node/file_cache.h).
#include "base/bytes.h"
#include "base/hex.h"
#include "node/file_cache.h"

namespace tiersync::node {

FileCache::Partial::Partial(std::weak_ptr<FileCache> cache, protocol::ChunkIndex index,
                            std::vector<uint8_t> index_bytes, std::unique_ptr<WritableFile> out,
                            std::unique_ptr<RandomAccessFile> in)
    : cache_(std::move(cache)),
      index_(std::move(index)),
      index_bytes_(std::move(index_bytes)),
      in_(std::move(in)),
      out_(std::move(out)),
      where_(index_.chunks.size(), -1) {}

bool FileCache::Partial::Has(size_t i) {
  MutexLock lock(&mu_);
  return !dead_ && i < where_.size() && where_[i] >= 0;
}

bool FileCache::Partial::full() {
  MutexLock lock(&mu_);
  return !dead_ && present_ == where_.size();
}

bool FileCache::Partial::CompletesInPlace() {
  MutexLock lock(&mu_);
  return !dead_ && present_ == where_.size() && in_order_ == where_.size();
}

std::optional<std::vector<uint8_t>> FileCache::Partial::Read(size_t i) {
  int64_t at;
  {
    MutexLock lock(&mu_);
    if (dead_ || i >= where_.size() || where_[i] < 0) return std::nullopt;
    at = where_[i];
  }
  // ReadAt is thread-safe, and bytes once appended never change: read outside the lock.
  const protocol::ChunkRef& c = index_.chunks[i];
  std::vector<uint8_t> bytes(c.size);
  auto n = in_->ReadAt(static_cast<uint64_t>(at), bytes);
  if (n.ok() && *n == c.size && Sha256(bytes) == c.id) return bytes;
  MutexLock lock(&mu_);
  if (where_[i] >= 0 && !completing_) {  // damaged on disk: fetch it again (its bytes stay)
    where_[i] = -1;
    --present_;
    if (in_order_ > i) in_order_ = 0;  // the copy is no longer the file
  }
  return std::nullopt;
}

bool FileCache::Partial::Put(size_t i, ByteSpan chunk) {
  auto cache = cache_.lock();
  if (!cache || dead_ || i >= index_.chunks.size()) return false;  // where_'s size
  MutexLock lock(&mu_);
  if (where_[i] >= 0 || completing_) return true;  // another reader kept it first
  if (!cache->Reserve(index_.file_sha256, chunk.size())) return false;
  if (!out_ || !out_->Append(chunk).ok()) {
    cache->Unreserve(index_.file_sha256, chunk.size());
    out_.reset();  // a failed append leaves the file's end unknown: keep nothing more
    return false;
  }
  if (dead_) return false;  // evicted meanwhile: the file is gone, and uncounted
  where_[i] = static_cast<int64_t>(size_);
  size_ += chunk.size();
  ++present_;
  if (in_order_ == i && present_ == i + 1) {
    hasher_.Update(chunk);
    ++in_order_;
  }
  return true;
}

Status FileCache::Partial::Complete() {
  bool in_order;
  {
    MutexLock lock(&mu_);
    if (completed_ || completing_) return Status::Ok();
    if (dead_ || present_ != where_.size()) {
      return FailedPreconditionError("the partial copy is not full");
    }
    // From here on nothing changes where_ or out_ (Put finds every chunk present, Read
    // forgets none), so the file is made outside the lock and readers go on meanwhile.
    completing_ = true;
    in_order = in_order_ == where_.size();
  }
  Status s = in_order ? CompleteInOrder() : CompleteByCopy();
  if (!s.ok()) {
    if (auto cache = cache_.lock()) cache->ForgetPartial(index_.file_sha256);
    return s.WithContext("caching " + ToHex(index_.file_sha256));
  }
  MutexLock lock(&mu_);
  completed_ = true;
  return s;
}

// The chunks were appended in order: the partial copy is the file, and its SHA-256 is known.
Status FileCache::Partial::CompleteInOrder() {
  auto cache = cache_.lock();
  if (!cache) return UnavailableError("the cache is closed");
  if (size_ != index_.file_size || hasher_.Finish() != index_.file_sha256) {
    return CorruptionError("the proxied file does not match its chunk index");
  }
  TS_RETURN_IF_ERROR(out_->Sync());
  TS_RETURN_IF_ERROR(out_->Close());
  out_.reset();
  const std::string path = cache->PathOf(index_.file_sha256);
  TS_RETURN_IF_ERROR(WriteFileAtomically(cache->env_, path + ".idx", index_bytes_));
  TS_RETURN_IF_ERROR(cache->env_->RenameFile(cache->PartialPathOf(index_.file_sha256), path));
  TS_RETURN_IF_ERROR(cache->env_->SyncDir(cache->dir_));
  cache->Promote(index_.file_sha256, size_);
  return Status::Ok();
}

// The chunks came in another order: copied in order into tmp/, each checked again.
Status FileCache::Partial::CompleteByCopy() {
  auto cache = cache_.lock();
  if (!cache) return UnavailableError("the cache is closed");
  const Sha256Digest& sha = index_.file_sha256;
  if (!cache->Reserve(sha, index_.file_size)) {
    return ResourceExhaustedError("no room in the cache quota to assemble the file");
  }
  const std::string tmp = cache->TmpPathOf(sha);
  TS_ASSIGN_OR_RETURN(auto file, cache->env_->NewWritableFile(tmp));
  Sha256Hasher hasher;
  for (size_t i = 0; i < where_.size(); ++i) {
    const protocol::ChunkRef& c = index_.chunks[i];
    std::vector<uint8_t> bytes(c.size);
    auto n = in_->ReadAt(static_cast<uint64_t>(where_[i]), bytes);
    if (!n.ok() || *n != c.size || Sha256(bytes) != c.id) {
      return CorruptionError("chunk " + std::to_string(i) + " of the partial copy is damaged");
    }
    hasher.Update(bytes);
    TS_RETURN_IF_ERROR(file->Append(bytes));
  }
  if (hasher.Finish() != sha) {
    return CorruptionError("the proxied file does not match its chunk index");
  }
  TS_RETURN_IF_ERROR(file->Sync());
  TS_RETURN_IF_ERROR(file->Close());
  const std::string path = cache->PathOf(sha);
  TS_RETURN_IF_ERROR(WriteFileAtomically(cache->env_, path + ".idx", index_bytes_));
  TS_RETURN_IF_ERROR(cache->env_->RenameFile(tmp, path));
  TS_RETURN_IF_ERROR(cache->env_->SyncDir(cache->dir_));
  if (out_) out_->Close().IgnoreError();
  out_.reset();
  cache->env_->RemoveFile(cache->PartialPathOf(sha)).IgnoreError();  // readers keep `in_`
  cache->Promote(sha, index_.file_size);
  return Status::Ok();
}

}  // namespace tiersync::node
