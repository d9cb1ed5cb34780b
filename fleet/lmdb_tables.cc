#include "fleet/lmdb_tables.h"

#include <lmdb.h>

#include <cerrno>

#include "base/env.h"

namespace tiersync::fleet {
namespace {

// Every LMDB failure happens on this machine (its disk, its database): kLocal.
Status FromLmdb(int rc, const std::string& what) {
  std::string msg = "lmdb " + what + ": " + mdb_strerror(rc);
  Status s;
  if (rc == MDB_MAP_FULL || rc == ENOSPC) {
    s = ResourceExhaustedError(std::move(msg));
  } else if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID) {
    s = CorruptionError(std::move(msg));
  } else if (rc == MDB_READERS_FULL || rc == MDB_MAP_RESIZED) {
    s = UnavailableError(std::move(msg));
  } else if (rc == MDB_BAD_VALSIZE) {
    s = InvalidArgumentError(std::move(msg));
  } else {
    s = IOError(std::move(msg));
  }
  return s.AsLocal();
}

MDB_val Val(std::string_view b) { return MDB_val{b.size(), const_cast<char*>(b.data())}; }
std::string_view View(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

// A transaction aborted when it goes out of scope unless committed (Commit releases it).
struct TxnAbort {
  void operator()(MDB_txn* t) const { mdb_txn_abort(t); }
};
using TxnPtr = std::unique_ptr<MDB_txn, TxnAbort>;

Result<TxnPtr> Begin(MDB_env* env, bool write) {
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(env, nullptr, write ? 0 : MDB_RDONLY, &txn); rc != 0) {
    return FromLmdb(rc, write ? "begin write" : "begin read");
  }
  return TxnPtr(txn);
}

int Commit(TxnPtr txn) { return mdb_txn_commit(txn.release()); }

struct MapInfo {
  uint64_t used = 0, map = 0;
};
MapInfo Info(MDB_env* env) {
  MDB_envinfo info;
  MDB_stat stat;
  if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &stat) != 0) return {};
  return {(static_cast<uint64_t>(info.me_last_pgno) + 1) * stat.ms_psize,
          static_cast<uint64_t>(info.me_mapsize)};
}

}  // namespace

struct LmdbTables::Handles {
  MDB_env* env = nullptr;
  std::vector<MDB_dbi> dbis;
  ~Handles() {
    if (env != nullptr) mdb_env_close(env);
  }
};

struct LmdbTxn::Raw {
  MDB_txn* txn = nullptr;
  bool write = false;
  bool map_full = false;  // a put ran out of map: the write is run again in a bigger one
};

LmdbTables::LmdbTables(std::unique_ptr<Handles> h) : h_(std::move(h)) {}
LmdbTables::~LmdbTables() = default;

Result<std::unique_ptr<LmdbTables>> LmdbTables::Open(const std::string& dir,
                                                     const std::vector<std::string>& names,
                                                     size_t map_bytes) {
  TS_RETURN_IF_ERROR(CreateDirs(Env::Default(), dir));
  auto h = std::make_unique<Handles>();
  if (int rc = mdb_env_create(&h->env); rc != 0) return FromLmdb(rc, "env create");
  mdb_env_set_maxdbs(h->env, static_cast<MDB_dbi>(names.size()));
  mdb_env_set_mapsize(h->env, map_bytes);
  // MDB_NOTLS: read transactions are not tied to threads (readers run on worker threads).
  if (int rc = mdb_env_open(h->env, dir.c_str(), MDB_NOTLS, 0644); rc != 0) {
    return FromLmdb(rc, "open " + dir);
  }
  int dead = 0;
  mdb_reader_check(h->env, &dead);  // clear reader slots of crashed processes
  // Growth at open, while no transaction is open.
  for (MapInfo i = Info(h->env); i.map != 0 && i.used > i.map / 2 && i.map * 2 <= kMaxMapBytes;
       i = Info(h->env)) {
    if (int rc = mdb_env_set_mapsize(h->env, i.map * 2); rc != 0) {
      return FromLmdb(rc, "grow the map of " + dir);
    }
  }
  TS_ASSIGN_OR_RETURN(TxnPtr txn, Begin(h->env, /*write=*/true));
  for (const std::string& name : names) {
    MDB_dbi dbi = 0;
    if (int rc = mdb_dbi_open(txn.get(), name.c_str(), MDB_CREATE, &dbi); rc != 0) {
      return FromLmdb(rc, "open table " + name);
    }
    h->dbis.push_back(dbi);
  }
  if (int rc = Commit(std::move(txn)); rc != 0) return FromLmdb(rc, "commit");
  return std::make_unique<LmdbTables>(std::move(h));
}

uint64_t LmdbTables::map_bytes() const { return Info(h_->env).map; }

std::shared_lock<std::shared_mutex> LmdbTables::TxnLock() const {
  std::lock_guard gate(gate_);
  return std::shared_lock(resize_mu_);
}

Status LmdbTables::Read(const std::function<Status(const LmdbTxn&)>& fn) const {
  std::shared_lock lock = TxnLock();
  TS_ASSIGN_OR_RETURN(TxnPtr txn, Begin(h_->env, /*write=*/false));
  LmdbTxn::Raw raw{txn.get(), false};
  return fn(LmdbTxn(this, &raw));
}

Status LmdbTables::Write(const std::function<Status(LmdbTxn&)>& fn) {
  for (;;) {
    const uint64_t seen = map_bytes();
    {
      std::shared_lock lock = TxnLock();
      TS_ASSIGN_OR_RETURN(TxnPtr txn, Begin(h_->env, /*write=*/true));
      LmdbTxn::Raw raw{txn.get(), true};
      LmdbTxn t(this, &raw);
      Status s = fn(t);
      if (!raw.map_full) {
        if (!s.ok()) return s;
        const int rc = Commit(std::move(txn));
        if (rc == 0) return Status::Ok();
        if (rc != MDB_MAP_FULL) return FromLmdb(rc, "commit");
      }
    }  // aborted, and no transaction of this one is open: the map may grow
    TS_RETURN_IF_ERROR(Grow(seen));
  }
}

Status LmdbTables::Grow(uint64_t seen_map_bytes) {
  std::lock_guard gate(gate_);
  std::unique_lock lock(resize_mu_);
  if (map_bytes() > seen_map_bytes) return Status::Ok();  // another writer grew it
  if (seen_map_bytes * 2 > kMaxMapBytes) {
    return FromLmdb(MDB_MAP_FULL, "the map is at its largest");
  }
  if (int rc = mdb_env_set_mapsize(h_->env, seen_map_bytes * 2); rc != 0) {
    return FromLmdb(rc, "grow the map");
  }
  return Status::Ok();
}

namespace {

Status CheckTable(const std::vector<MDB_dbi>& dbis, int table) {
  if (table < 0 || static_cast<size_t>(table) >= dbis.size()) {
    return InvalidArgumentError("no table " + std::to_string(table));
  }
  return Status::Ok();
}

Status CheckKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxLmdbKeyBytes) {
    return InvalidArgumentError("key of " + std::to_string(key.size()) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

Result<std::optional<std::string>> LmdbTxn::Get(int table, std::string_view key) const {
  TS_RETURN_IF_ERROR(CheckTable(tables_->h_->dbis, table));
  TS_RETURN_IF_ERROR(CheckKey(key));
  MDB_val k = Val(key), v;
  int rc = mdb_get(raw_->txn, tables_->h_->dbis[table], &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string>();
  if (rc != 0) return FromLmdb(rc, "get");
  return std::optional<std::string>(View(v));
}

Status LmdbTxn::Scan(int table, std::string_view from, const ScanFn& fn) const {
  TS_RETURN_IF_ERROR(CheckTable(tables_->h_->dbis, table));
  MDB_cursor* cur = nullptr;
  if (int rc = mdb_cursor_open(raw_->txn, tables_->h_->dbis[table], &cur); rc != 0) {
    return FromLmdb(rc, "cursor");
  }
  MDB_val k = Val(from), v;
  int rc = mdb_cursor_get(cur, &k, &v, from.empty() ? MDB_FIRST : MDB_SET_RANGE);
  Status s;
  for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    Result<bool> more = fn(View(k), View(v));
    if (!more.ok()) s = more.status();
    if (!more.ok() || !*more) break;
  }
  mdb_cursor_close(cur);
  if (!s.ok()) return s;
  if (rc != 0 && rc != MDB_NOTFOUND) return FromLmdb(rc, "iterate");
  return Status::Ok();
}

Result<uint64_t> LmdbTxn::Count(int table) const {
  TS_RETURN_IF_ERROR(CheckTable(tables_->h_->dbis, table));
  MDB_stat stat;
  if (int rc = mdb_stat(raw_->txn, tables_->h_->dbis[table], &stat); rc != 0) {
    return FromLmdb(rc, "stat");
  }
  return uint64_t{stat.ms_entries};
}

Status LmdbTxn::Put(int table, std::string_view key, std::string_view value) {
  TS_RETURN_IF_ERROR(CheckTable(tables_->h_->dbis, table));
  TS_RETURN_IF_ERROR(CheckKey(key));
  if (!raw_->write) return FailedPreconditionError("put in a read transaction");
  MDB_val k = Val(key), v = Val(value);
  int rc = mdb_put(raw_->txn, tables_->h_->dbis[table], &k, &v, 0);
  if (rc == MDB_MAP_FULL) raw_->map_full = true;
  if (rc != 0) return FromLmdb(rc, "put");
  return Status::Ok();
}

Status LmdbTxn::Delete(int table, std::string_view key) {
  TS_RETURN_IF_ERROR(CheckTable(tables_->h_->dbis, table));
  TS_RETURN_IF_ERROR(CheckKey(key));
  if (!raw_->write) return FailedPreconditionError("delete in a read transaction");
  MDB_val k = Val(key);
  int rc = mdb_del(raw_->txn, tables_->h_->dbis[table], &k, nullptr);
  if (rc == MDB_MAP_FULL) raw_->map_full = true;  // a delete may split pages too
  if (rc != 0 && rc != MDB_NOTFOUND) return FromLmdb(rc, "delete");
  return Status::Ok();
}

}  // namespace tiersync::fleet
