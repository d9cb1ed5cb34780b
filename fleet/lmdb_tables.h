// LmdbTables: one LMDB environment in a directory with a fixed set of named databases
// ("tables"), and transactions over them — the only file of fleet/ that calls liblmdb. Keys and
// values are bytes (std::string_view); what they mean is the caller's business
// (fleet/fleet_records.h).
//
// Map growth (as replication/lmdb_index.h): opened with more than half of the map in use, the
// map is doubled (again while that holds). A write that runs out of map (MDB_MAP_FULL) is
// aborted, the map doubled and the whole write run again — repeatedly, as one batch may need
// more than twice the map, up to kMaxMapBytes; then kResourceExhausted.
//
// Thread safety: every method may be called from any thread. Read transactions run
// concurrently (MDB_NOTLS: not tied to threads); write transactions are serialised by LMDB.
// Growing the map waits until no transaction of this process is open (LMDB's condition), so a
// long reader delays a growing writer. One process per directory.
#ifndef TIERSYNC_FLEET_LMDB_TABLES_H_
#define TIERSYNC_FLEET_LMDB_TABLES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tiersync::fleet {

// LMDB's default key limit; keys longer than this are refused with kInvalidArgument.
inline constexpr size_t kMaxLmdbKeyBytes = 511;

class LmdbTables;

// One transaction. Belongs to the LmdbTables::Read/Write call that made it; byte views handed
// to Scan callbacks are valid only during the callback.
class LmdbTxn {
 public:
  // The value of `key` in table `table` (an index into the names given to Open), or nullopt.
  Result<std::optional<std::string>> Get(int table, std::string_view key) const;
  // Calls fn(key, value) for each key >= `from` in key order until fn returns false or an error
  // (which Scan returns).
  using ScanFn = std::function<Result<bool>(std::string_view key, std::string_view value)>;
  Status Scan(int table, std::string_view from, const ScanFn& fn) const;
  // The number of keys in `table`.
  Result<uint64_t> Count(int table) const;

  // REQUIRES: a write transaction.
  Status Put(int table, std::string_view key, std::string_view value);
  // An absent key is not an error.
  Status Delete(int table, std::string_view key);

 private:
  friend class LmdbTables;
  struct Raw;
  LmdbTxn(const LmdbTables* tables, Raw* raw) : tables_(tables), raw_(raw) {}
  const LmdbTables* tables_;
  Raw* raw_;
};

class LmdbTables {
 public:
  static constexpr uint64_t kMaxMapBytes = uint64_t{16} << 40;  // 16 TiB of address space

  ~LmdbTables();

  // Opens (creating the directory, the environment and the tables if missing) `dir` with the
  // tables `names`. `map_bytes` is the first map size; a bigger one recorded in the file (an
  // earlier growth) is kept.
  static Result<std::unique_ptr<LmdbTables>> Open(const std::string& dir,
                                                  const std::vector<std::string>& names,
                                                  size_t map_bytes);

  // Runs `fn` inside one read transaction (a consistent view).
  Status Read(const std::function<Status(const LmdbTxn&)>& fn) const;
  // Runs `fn` inside one write transaction and commits it if fn returns OK (otherwise nothing
  // of it is visible). `fn` may run more than once (map growth): it must not act outside the
  // transaction, or must reset what it did at its start.
  Status Write(const std::function<Status(LmdbTxn&)>& fn);

  // The current map size in bytes.
  uint64_t map_bytes() const;

  // Use Open(); public only so that std::make_unique can call it.
  struct Handles;
  explicit LmdbTables(std::unique_ptr<Handles> h);

 private:
  friend class LmdbTxn;
  // Doubles the map unless another writer already grew it past `seen_map_bytes`.
  Status Grow(uint64_t seen_map_bytes);
  std::unique_ptr<Handles> h_;
  // A shared lock on resize_mu_, taken through gate_: a pending Grow holds gate_, so that new
  // transactions wait behind it (glibc's rwlock prefers readers: busy readers would starve it).
  std::shared_lock<std::shared_mutex> TxnLock() const;
  // Shared by every open transaction; exclusive while the map is resized.
  mutable std::shared_mutex resize_mu_;
  mutable std::mutex gate_;
};

}  // namespace tiersync::fleet

#endif  // TIERSYNC_FLEET_LMDB_TABLES_H_
