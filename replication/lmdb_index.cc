#include "replication/lmdb_index.h"

#include <lmdb.h>

#include <cerrno>
#include <cstring>

#include "protocol/little_endian.h"

namespace tiersync::replication {
namespace {

// Every LMDB failure is this machine's (its disk, its database): kLocal.
Status LmdbCode(int rc, std::string msg) {
  switch (rc) {
    case MDB_SUCCESS:
      return Status::Ok();
    case MDB_NOTFOUND:
      return NotFoundError(std::move(msg));
    case MDB_MAP_FULL:
    case ENOSPC:
      return ResourceExhaustedError(std::move(msg));
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
      return CorruptionError(std::move(msg));
    default:
      return IOError(std::move(msg));
  }
}

Status LmdbStatus(int rc, const std::string& what) {
  return LmdbCode(rc, "lmdb " + what + ": " + mdb_strerror(rc)).AsLocal();
}

MDB_val Val(std::span<const uint8_t> b) {
  return MDB_val{b.size(), const_cast<uint8_t*>(b.data())};
}
std::span<const uint8_t> Span(const MDB_val& v) {
  return {static_cast<const uint8_t*>(v.mv_data), v.mv_size};
}

std::array<uint8_t, 4> PackKey(uint32_t pack) {
  return {static_cast<uint8_t>(pack >> 24), static_cast<uint8_t>(pack >> 16),
          static_cast<uint8_t>(pack >> 8), static_cast<uint8_t>(pack)};
}

// A transaction that aborts unless committed.
class Txn {
 public:
  Txn(MDB_env* env, bool write) {
    rc_ = mdb_txn_begin(env, nullptr, write ? 0 : MDB_RDONLY, &txn_);
    if (rc_ != 0) txn_ = nullptr;
  }
  ~Txn() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
  }
  int rc() const { return rc_; }
  MDB_txn* get() const { return txn_; }
  int Commit() {
    int rc = mdb_txn_commit(txn_);
    txn_ = nullptr;
    return rc;
  }

 private:
  MDB_txn* txn_ = nullptr;
  int rc_ = 0;
};

// Calls `fn` on every key/value of `dbi` in one read transaction; stops at the first error.
Status ForEachEntry(
    MDB_env* env, MDB_dbi dbi,
    const std::function<Status(std::span<const uint8_t>, std::span<const uint8_t>)>& fn) {
  Txn txn(env, false);
  if (txn.rc() != 0) return LmdbStatus(txn.rc(), "begin read");
  MDB_cursor* cur = nullptr;
  int rc = mdb_cursor_open(txn.get(), dbi, &cur);
  if (rc != 0) return LmdbStatus(rc, "cursor");
  MDB_val k, v;
  Status s;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && s.ok();
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    s = fn(Span(k), Span(v));
  }
  mdb_cursor_close(cur);
  if (!s.ok()) return s;
  if (rc != MDB_NOTFOUND) return LmdbStatus(rc, "iterate");
  return Status::Ok();
}

}  // namespace

struct LmdbIndex::Handles {
  MDB_env* env = nullptr;
  MDB_dbi chunks = 0, indexes = 0, packs = 0;
  ~Handles() {
    if (env != nullptr) mdb_env_close(env);
  }
};

LmdbIndex::LmdbIndex(std::unique_ptr<Handles> h) : h_(std::move(h)) {}
LmdbIndex::~LmdbIndex() = default;

Result<std::unique_ptr<LmdbIndex>> LmdbIndex::Open(const std::string& dir, bool create,
                                                   size_t map_bytes) {
  auto h = std::make_unique<Handles>();
  int rc = mdb_env_create(&h->env);
  if (rc != 0) return LmdbStatus(rc, "env create");
  mdb_env_set_maxdbs(h->env, 4);
  mdb_env_set_mapsize(h->env, map_bytes);
  // MDB_NOTLS: read transactions are not tied to threads (readers run on worker threads).
  rc = mdb_env_open(h->env, dir.c_str(), MDB_NOTLS, 0644);
  if (rc != 0) return LmdbStatus(rc, "open " + dir);
  int dead = 0;
  mdb_reader_check(h->env, &dead);  // clear reader slots of crashed processes
  // Growth, while no transaction of this process is open (LMDB's condition for it).
  for (;;) {
    MDB_envinfo info;
    MDB_stat stat;
    if (mdb_env_info(h->env, &info) != 0 || mdb_env_stat(h->env, &stat) != 0) break;
    const uint64_t used = (static_cast<uint64_t>(info.me_last_pgno) + 1) * stat.ms_psize;
    const uint64_t map = info.me_mapsize;
    if (used <= map / 2 || map * 2 > kMaxMapBytes) break;
    rc = mdb_env_set_mapsize(h->env, map * 2);
    if (rc != 0) return LmdbStatus(rc, "grow the map of " + dir);
  }
  Txn txn(h->env, /*write=*/true);
  if (txn.rc() != 0) return LmdbStatus(txn.rc(), "begin");
  unsigned flags = create ? MDB_CREATE : 0;
  for (auto [name, dbi] : {std::pair{"chunks", &h->chunks}, std::pair{"indexes", &h->indexes},
                           std::pair{"packs", &h->packs}}) {
    rc = mdb_dbi_open(txn.get(), name, flags, dbi);
    if (rc == MDB_NOTFOUND) {
      return FailedPreconditionError(dir + " is not a tiersync chunk-store index");
    }
    if (rc != 0) return LmdbStatus(rc, std::string("open database ") + name);
  }
  rc = txn.Commit();
  if (rc != 0) return LmdbStatus(rc, "commit");
  return std::make_unique<LmdbIndex>(std::move(h));
}

Result<ChunkLocation> LmdbIndex::GetChunk(const ChunkId& id) const {
  Txn txn(h_->env, false);
  if (txn.rc() != 0) return LmdbStatus(txn.rc(), "begin read");
  MDB_val k = Val(id), v;
  int rc = mdb_get(txn.get(), h_->chunks, &k, &v);
  if (rc != 0) return LmdbStatus(rc, "get chunk " + ToHex(id));
  return DecodeLocation(Span(v));
}

Result<std::vector<uint8_t>> LmdbIndex::GetIndex(const ChunkId& id) const {
  Txn txn(h_->env, false);
  if (txn.rc() != 0) return LmdbStatus(txn.rc(), "begin read");
  MDB_val k = Val(id), v;
  int rc = mdb_get(txn.get(), h_->indexes, &k, &v);
  if (rc != 0) return LmdbStatus(rc, "get chunk index " + ToHex(id));
  auto s = Span(v);
  return std::vector<uint8_t>(s.begin(), s.end());
}

Result<std::map<uint32_t, uint64_t>> LmdbIndex::PackLengths() const {
  std::map<uint32_t, uint64_t> out;
  Txn txn(h_->env, false);
  if (txn.rc() != 0) return LmdbStatus(txn.rc(), "begin read");
  MDB_cursor* cur = nullptr;
  int rc = mdb_cursor_open(txn.get(), h_->packs, &cur);
  if (rc != 0) return LmdbStatus(rc, "cursor");
  MDB_val k, v;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (k.mv_size != 4 || v.mv_size != 8) {
      mdb_cursor_close(cur);
      return CorruptionError("pack length record has a wrong size");
    }
    auto kb = Span(k);
    uint32_t pack = uint32_t{kb[0]} << 24 | uint32_t{kb[1]} << 16 | uint32_t{kb[2]} << 8 | kb[3];
    out[pack] = protocol::GetLe<uint64_t>(Span(v).data());
  }
  mdb_cursor_close(cur);
  if (rc != MDB_NOTFOUND) return LmdbStatus(rc, "iterate packs");
  return out;
}

Result<LmdbIndex::MapUsage> LmdbIndex::Usage() const {
  MDB_envinfo info;
  MDB_stat stat;
  if (int rc = mdb_env_info(h_->env, &info); rc != 0) return LmdbStatus(rc, "env info");
  if (int rc = mdb_env_stat(h_->env, &stat); rc != 0) return LmdbStatus(rc, "env stat");
  return MapUsage{(static_cast<uint64_t>(info.me_last_pgno) + 1) * stat.ms_psize,
                  static_cast<uint64_t>(info.me_mapsize)};
}

Status LmdbIndex::ForEachChunk(
    const std::function<void(const ChunkId&, const ChunkLocation&)>& fn) const {
  return ForEachEntry(h_->env, h_->chunks,
                      [&](std::span<const uint8_t> key, std::span<const uint8_t> val) -> Status {
                        if (key.size() != 32) return CorruptionError("chunk key has a wrong size");
                        TS_ASSIGN_OR_RETURN(ChunkLocation loc, DecodeLocation(val));
                        ChunkId id;
                        std::copy_n(key.begin(), 32, id.begin());
                        fn(id, loc);
                        return Status::Ok();
                      });
}

Status LmdbIndex::ForEachIndex(
    const std::function<void(const ChunkId&, std::span<const uint8_t>)>& fn) const {
  return ForEachEntry(h_->env, h_->indexes,
                      [&](std::span<const uint8_t> key, std::span<const uint8_t> val) -> Status {
                        if (key.size() != 32)
                          return CorruptionError("chunk index key has a wrong size");
                        ChunkId id;
                        std::copy_n(key.begin(), 32, id.begin());
                        fn(id, val);
                        return Status::Ok();
                      });
}

Status LmdbIndex::Commit(const IndexBatch& batch) {
  Txn txn(h_->env, true);
  if (txn.rc() != 0) return LmdbStatus(txn.rc(), "begin write");
  for (const auto& [id, loc] : batch.chunks) {
    auto enc = EncodeLocation(loc);
    MDB_val k = Val(id), v = Val(enc);
    int rc = mdb_put(txn.get(), h_->chunks, &k, &v, 0);
    if (rc != 0) return LmdbStatus(rc, "put chunk");
  }
  for (const auto& [id, bytes] : batch.indexes) {
    MDB_val k = Val(id), v = Val(bytes);
    int rc = mdb_put(txn.get(), h_->indexes, &k, &v, 0);
    if (rc != 0) return LmdbStatus(rc, "put chunk index");
  }
  for (const auto& [pack, len] : batch.pack_lengths) {
    auto key = PackKey(pack);
    std::vector<uint8_t> val;
    protocol::PutLe<uint64_t>(&val, len);
    MDB_val k = Val(key), v = Val(val);
    int rc = mdb_put(txn.get(), h_->packs, &k, &v, 0);
    if (rc != 0) return LmdbStatus(rc, "put pack length");
  }
  auto del = [&](MDB_dbi dbi, std::span<const uint8_t> key) {
    MDB_val k = Val(key);
    int rc = mdb_del(txn.get(), dbi, &k, nullptr);
    return rc == MDB_NOTFOUND ? 0 : rc;
  };
  for (const ChunkId& id : batch.deleted_chunks) {
    if (int rc = del(h_->chunks, id); rc != 0) return LmdbStatus(rc, "delete chunk");
  }
  for (const ChunkId& id : batch.deleted_indexes) {
    if (int rc = del(h_->indexes, id); rc != 0) return LmdbStatus(rc, "delete chunk index");
  }
  for (uint32_t pack : batch.deleted_packs) {
    if (int rc = del(h_->packs, PackKey(pack)); rc != 0) return LmdbStatus(rc, "delete pack");
  }
  int rc = txn.Commit();
  if (rc != 0) return LmdbStatus(rc, "commit");
  return Status::Ok();
}

}  // namespace tiersync::replication
