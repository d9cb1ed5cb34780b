#include "replication/chunk_store.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_set>

#include "base/layout_version.h"
#include "base/sha256.h"

namespace tiersync::replication {
namespace {

constexpr char kMarkerName[] = "STORE";
constexpr std::string_view kMarkerKind = "tiersync-chunk-store";
constexpr int kStoreVersion = 1;
constexpr char kLockName[] = "LOCK";
constexpr char kPacksDir[] = "packs";

Env* EnvOf(const ChunkStoreOptions& o) { return o.env != nullptr ? o.env : Env::Default(); }

std::string IndexDirOf(const std::string& dir, const ChunkStoreOptions& o) {
  return o.index_dir.empty() ? JoinPath(dir, "index") : o.index_dir;
}

// "pack-00000012.tsp" -> 12; 0 for anything else.
uint32_t ParsePackFileName(const std::string& name) {
  unsigned n = 0;
  char tail[8] = {};
  if (name.size() != 17 || std::sscanf(name.c_str(), "pack-%8u.%3s", &n, tail) != 2 ||
      std::strcmp(tail, "tsp") != 0 || PackFileName(n) != name) {
    return 0;
  }
  return n;
}

ZstdCodec* ReadCodec() {
  thread_local ZstdCodec codec;
  return &codec;
}

}  // namespace

size_t ChunkStore::ChunkIdHash::operator()(const ChunkId& id) const {
  size_t h;
  std::memcpy(&h, id.data(), sizeof(h));  // ids are SHA-256: any 8 bytes are uniform
  return h;
}

ChunkStore::ChunkStore(std::string dir, const ChunkStoreOptions& options,
                       std::unique_ptr<LmdbIndex> index)
    : dir_(std::move(dir)), options_(options), env_(EnvOf(options)), index_(std::move(index)) {}

ChunkStore::~ChunkStore() = default;

Status ChunkStore::Create(const std::string& dir, const ChunkStoreOptions& options) {
  Env* env = EnvOf(options);
  const std::string marker = JoinPath(dir, kMarkerName);
  if (env->FileExists(marker)) return AlreadyExistsError(dir + " already holds a chunk store");
  TS_RETURN_IF_ERROR(CreateDirs(env, dir));
  TS_RETURN_IF_ERROR(CreateDirs(env, JoinPath(dir, kPacksDir)));
  // LMDB works on the real file system whatever Env the packs use.
  const std::string index_dir = IndexDirOf(dir, options);
  TS_RETURN_IF_ERROR(CreateDirs(Env::Default(), index_dir));
  TS_ASSIGN_OR_RETURN(auto index,
                      LmdbIndex::Open(index_dir, /*create=*/true, options.lmdb_map_bytes));
  TS_RETURN_IF_ERROR(env->SyncDir(DirName(dir)));
  TS_RETURN_IF_ERROR(env->SyncDir(dir));
  // The marker goes last: a half-created store is never taken for a store.
  return WriteFileAtomically(env, marker, AsBytes(LayoutMarker(kMarkerKind, kStoreVersion)));
}

Status ChunkStore::CheckFormat(const std::string& dir, Env* env) {
  const std::string marker = JoinPath(dir, kMarkerName);
  auto version = ReadLayoutVersion(env, marker, kMarkerKind);
  if (version.status().code() == StatusCode::kNotFound) {
    return FailedPreconditionError(dir + " is not a tiersync chunk store (no " + kMarkerName +
                                   " file); create one with `tiersync store init " + dir + "`");
  }
  if (!version.ok()) {
    return NotSupportedError(dir + "/STORE names a store format this build does not know");
  }
  return CheckLayoutVersion(*version, kStoreVersion, "chunk store " + dir, marker);
}

Result<std::unique_ptr<ChunkStore>> ChunkStore::Open(const std::string& dir,
                                                     const ChunkStoreOptions& options) {
  Env* env = EnvOf(options);
  TS_RETURN_IF_ERROR(CheckFormat(dir, env));
  std::unique_ptr<FileLock> lock;
  if (options.writable) {
    auto l = env->LockFile(JoinPath(dir, kLockName));
    if (!l.ok()) {
      return Status(
          l.status().code(),
          "chunk store " + dir + " is being written by another process: " + l.status().message());
    }
    lock = std::move(l).value();
  }
  TS_ASSIGN_OR_RETURN(auto index, LmdbIndex::Open(IndexDirOf(dir, options), /*create=*/false,
                                                  options.lmdb_map_bytes));
  auto store = std::make_unique<ChunkStore>(dir, options, std::move(index));
  if (options.writable) {
    store->lock_ = std::move(lock);
    store->codec_ = std::make_unique<ZstdCodec>(options.compression_level);
    TS_RETURN_IF_ERROR(store->RecoverForWriting());
  }
  return store;
}

std::string ChunkStore::PackPath(uint32_t pack) const {
  return JoinPath(JoinPath(dir_, kPacksDir), PackFileName(pack));
}

// Brings the packs back to exactly what the index has committed: removes pack files no commit
// referenced and cuts the uncommitted tail off the last pack, then continues appending there.
Status ChunkStore::RecoverForWriting() {
  TS_ASSIGN_OR_RETURN(auto lengths, index_->PackLengths());
  const std::string packs_dir = JoinPath(dir_, kPacksDir);
  TS_ASSIGN_OR_RETURN(auto names, env_->GetChildren(packs_dir));
  bool removed = false;
  for (const std::string& name : names) {
    uint32_t n = ParsePackFileName(name);
    if (n != 0 && lengths.count(n) == 0) {
      TS_RETURN_IF_ERROR(env_->RemoveFile(JoinPath(packs_dir, name)));
      removed = true;
    }
  }
  if (removed) TS_RETURN_IF_ERROR(env_->SyncDir(packs_dir));
  next_pack_ = lengths.empty() ? 1 : lengths.rbegin()->first + 1;
  if (lengths.empty()) return Status::Ok();
  const auto [last, committed] = *lengths.rbegin();
  auto size = env_->GetFileSize(PackPath(last));
  // A missing or short last pack is damage for `verify` to report; never append after it.
  if (!size.ok() || *size < committed || committed >= options_.max_pack_bytes) {
    return Status::Ok();
  }
  if (*size > committed) TS_RETURN_IF_ERROR(env_->TruncateFile(PackPath(last), committed));
  TS_ASSIGN_OR_RETURN(pack_out_, env_->NewAppendableFile(PackPath(last)));
  pack_no_ = last;
  pack_len_ = committed;
  return Status::Ok();
}

Status ChunkStore::StartPack(uint32_t pack) {
  TS_ASSIGN_OR_RETURN(pack_out_, env_->NewWritableFile(PackPath(pack)));
  TS_RETURN_IF_ERROR(pack_out_->Append(EncodePackHeader(pack)));
  pack_no_ = pack;
  pack_len_ = kPackHeaderBytes;
  next_pack_ = pack + 1;
  pack_dir_dirty_ = true;
  batch_.pack_lengths[pack] = pack_len_;
  return Status::Ok();
}

Status ChunkStore::Fail(Status s) {
  broken_ = s.WithContext("chunk store writer stopped (reopen the store to continue)");
  return broken_;
}

Result<ChunkLocation> ChunkStore::Locate(const ChunkId& id) const {
  {
    MutexLock l(&pending_mu_);
    auto it = pending_.find(id);
    if (it != pending_.end()) return it->second;
  }
  return index_->GetChunk(id);
}

Result<bool> ChunkStore::Contains(const ChunkId& id) const {
  auto loc = Locate(id);
  if (loc.ok()) return true;
  if (loc.status().code() == StatusCode::kNotFound) return false;
  return loc.status();
}

Result<std::shared_ptr<const RandomAccessFile>> ChunkStore::PackFile(uint32_t pack) const {
  MutexLock l(&packs_mu_);
  auto it = open_packs_.find(pack);
  if (it != open_packs_.end()) return it->second;
  auto file = env_->NewRandomAccessFile(PackPath(pack));
  if (!file.ok()) {
    return CorruptionError("pack " + PackFileName(pack) +
                           " named by the index cannot be opened: " + file.status().ToString());
  }
  std::shared_ptr<const RandomAccessFile> shared = std::move(file).value();
  open_packs_[pack] = shared;
  return shared;
}

void ChunkStore::ClosePack(uint32_t pack) {
  MutexLock l(&packs_mu_);
  open_packs_.erase(pack);
}

bool ChunkStore::Moved(const ChunkId& id, const ChunkLocation& loc) const {
  auto now = Locate(id);
  if (!now.ok()) return now.status().code() == StatusCode::kNotFound;
  return now->pack != loc.pack || now->offset != loc.offset;
}

Result<std::vector<uint8_t>> ChunkStore::ReadChunkAt(const ChunkId& id, const ChunkLocation& loc,
                                                     ReadCheck check) const {
  TS_ASSIGN_OR_RETURN(auto file, PackFile(loc.pack));
  if (loc.offset < kRecordHeaderBytes) return CorruptionError("chunk location offset too small");
  // Header and payload apart: the payload of a raw chunk is returned as read, not copied.
  std::array<uint8_t, kRecordHeaderBytes> header{};
  TS_ASSIGN_OR_RETURN(size_t got, file->ReadAt(loc.offset - kRecordHeaderBytes, header));
  if (got != header.size()) {
    return CorruptionError("chunk " + ToHex(id) + ": record header truncated in pack " +
                           std::to_string(loc.pack));
  }
  std::vector<uint8_t> payload(loc.stored_len);
  TS_ASSIGN_OR_RETURN(got, file->ReadAt(loc.offset, payload));
  payload.resize(got);
  return DecodeRecord(id, loc, header, std::move(payload), check, ReadCodec());
}

Result<std::vector<uint8_t>> ChunkStore::ReadChunk(const ChunkId& id, const ChunkLocation& loc,
                                                   ReadCheck check) const {
  auto data = ReadChunkAt(id, loc, check);
  if (data.ok() || !Moved(id, loc)) return data;
  TS_ASSIGN_OR_RETURN(ChunkLocation now, Locate(id));
  return ReadChunkAt(id, now, check);
}

Result<ChunkStore::Stored> ChunkStore::ReadStoredAt(const ChunkId& id,
                                                    const ChunkLocation& loc) const {
  Stored out;
  out.loc = loc;
  TS_ASSIGN_OR_RETURN(auto file, PackFile(out.loc.pack));
  if (out.loc.offset < kRecordHeaderBytes)
    return CorruptionError("chunk location offset too small");
  std::array<uint8_t, kRecordHeaderBytes> header{};
  TS_ASSIGN_OR_RETURN(size_t got, file->ReadAt(out.loc.offset - kRecordHeaderBytes, header));
  out.payload.resize(out.loc.stored_len);
  TS_ASSIGN_OR_RETURN(size_t payload_got, file->ReadAt(out.loc.offset, out.payload));
  if (got != header.size() || payload_got != out.payload.size()) {
    return CorruptionError("chunk " + ToHex(id) + ": record truncated in pack " +
                           std::to_string(out.loc.pack));
  }
  TS_RETURN_IF_ERROR(CheckRecord(id, out.loc, header, out.payload));
  return out;
}

Result<ChunkStore::Stored> ChunkStore::GetStored(const ChunkId& id) const {
  TS_ASSIGN_OR_RETURN(ChunkLocation loc, Locate(id));
  auto stored = ReadStoredAt(id, loc);
  if (stored.ok() || !Moved(id, loc)) return stored;
  TS_ASSIGN_OR_RETURN(loc, Locate(id));
  return ReadStoredAt(id, loc);
}

Result<std::vector<uint8_t>> ChunkStore::Get(const ChunkId& id, ReadCheck check) const {
  TS_ASSIGN_OR_RETURN(ChunkLocation loc, Locate(id));
  return ReadChunk(id, loc, check);
}

Result<std::vector<uint8_t>> ChunkStore::GetIndexBytes(const ChunkId& id) const {
  TS_ASSIGN_OR_RETURN(auto bytes, index_->GetIndex(id));
  if (Sha256(bytes) != id) {
    return CorruptionError("chunk index " + ToHex(id) + ": stored bytes do not match the id");
  }
  return bytes;
}

Result<bool> ChunkStore::Put(const PreparedChunk& chunk) {
  if (!broken_.ok()) return broken_;
  if (!lock_) return FailedPreconditionError("chunk store was opened read-only");
  TS_ASSIGN_OR_RETURN(bool present, Contains(chunk.id));
  if (present) return false;
  TS_RETURN_IF_ERROR(Append(chunk));
  return true;
}

Status ChunkStore::Replace(const PreparedChunk& chunk) {
  if (!broken_.ok()) return broken_;
  if (!lock_) return FailedPreconditionError("chunk store was opened read-only");
  return Append(chunk);
}

Status ChunkStore::Append(const PreparedChunk& chunk) {
  const uint64_t record_len = kRecordHeaderBytes + chunk.payload.size();
  if (pack_out_ == nullptr ||
      (pack_len_ > kPackHeaderBytes && pack_len_ + record_len > options_.max_pack_bytes)) {
    if (pack_out_ != nullptr) {
      // The full pack is finished: make it durable now so Commit only syncs the current one.
      if (Status s = pack_out_->Sync(); !s.ok()) return Fail(s);
    }
    if (Status s = StartPack(next_pack_); !s.ok()) return Fail(s);
  }
  if (Status s = pack_out_->Append(EncodeRecordHeader(chunk)); !s.ok()) return Fail(s);
  if (Status s = pack_out_->Append(chunk.payload); !s.ok()) return Fail(s);
  ChunkLocation loc{pack_no_,
                    chunk.flags,
                    pack_len_ + kRecordHeaderBytes,
                    static_cast<uint32_t>(chunk.payload.size()),
                    chunk.raw_len,
                    chunk.xxh3};
  pack_len_ += record_len;
  batch_.chunks.emplace_back(chunk.id, loc);
  batch_.pack_lengths[pack_no_] = pack_len_;
  {
    MutexLock l(&pending_mu_);
    pending_[chunk.id] = loc;
  }
  pending_bytes_ += record_len;
  if (pending_bytes_ >= options_.auto_commit_bytes) TS_RETURN_IF_ERROR(Commit());
  return Status::Ok();
}

Status ChunkStore::PutIndex(const ChunkId& id, std::vector<uint8_t> encoded) {
  if (!broken_.ok()) return broken_;
  if (!lock_) return FailedPreconditionError("chunk store was opened read-only");
  batch_.indexes.emplace_back(id, std::move(encoded));
  return Status::Ok();
}

Status ChunkStore::Commit() {
  if (!broken_.ok()) return broken_;
  if (batch_.empty()) return Status::Ok();
  // Data first, then the directory entry of a new pack, then the index: the index never
  // names bytes that a power loss could take away. A failed fsync is never retried.
  if (pack_out_ != nullptr) {
    if (Status s = pack_out_->Sync(); !s.ok()) return Fail(s);
  }
  if (pack_dir_dirty_) {
    if (Status s = env_->SyncDir(JoinPath(dir_, kPacksDir)); !s.ok()) return Fail(s);
  }
  if (Status s = index_->Commit(batch_); !s.ok()) return Fail(s);
  batch_ = IndexBatch();
  {
    MutexLock l(&pending_mu_);
    pending_.clear();
  }
  pending_bytes_ = 0;
  pack_dir_dirty_ = false;
  return Status::Ok();
}

Result<StoreStats> ChunkStore::Stats() const {
  StoreStats st;
  TS_RETURN_IF_ERROR(index_->ForEachChunk([&](const ChunkId&, const ChunkLocation& loc) {
    ++st.chunks;
    st.raw_bytes += loc.raw_len;
    st.stored_bytes += loc.stored_len;
    if (loc.flags & kFlagZstd) ++st.compressed_chunks;
  }));
  TS_RETURN_IF_ERROR(
      index_->ForEachIndex([&](const ChunkId&, std::span<const uint8_t>) { ++st.chunk_indexes; }));
  TS_ASSIGN_OR_RETURN(auto lengths, index_->PackLengths());
  st.packs = lengths.size();
  for (const auto& [pack, len] : lengths) st.pack_bytes += len;
  TS_ASSIGN_OR_RETURN(auto usage, index_->Usage());
  st.index_used_bytes = usage.used_bytes;
  st.index_map_bytes = usage.map_bytes;
  return st;
}

}  // namespace tiersync::replication
