// FleetStore: what one upper tier (or the hub) knows of its subtree (issue 20): the latest
// state of every node, a history of state changes, and usage (views and downloads per resource
// and day) as reported by its direct children and itself. One LMDB environment in a directory
// (fleet/lmdb_tables.h); tables, keys, values and retention: docs/formats/fleet-store.md.
//
// Clocks: `now` is always this tier's clock, passed in (never read here). A record's
// `reported_at` is the node's clock, its `seen_at` the clock of the parent that received it;
// `stored_at` (this tier's `now` when the record was stored) is what deltas upward are cut by.
//
// Every write is one LMDB write transaction: all of it or (on error) nothing of it is visible.
//
// Thread safety: every method may be called from any thread at any time. Reads run
// concurrently (read transactions, MDB_NOTLS); writes are serialised. One FleetStore per
// directory at a time (dir/LOCK).
#ifndef TIERSYNC_FLEET_FLEET_STORE_H_
#define TIERSYNC_FLEET_FLEET_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "fleet/node_state.h"
#include "serving/usage.h"

namespace tiersync::fleet {

class LmdbTables;
class LmdbTxn;

// The store's layout version, in its marker file FLEET ("tiersync-fleet 1").
inline constexpr int kFleetStoreVersion = 1;

inline constexpr uint64_t kMaxFleetNodes = 1'000'000;
// A resource id in usage (catalog ids are 3-64 characters; this bounds the LMDB key).
inline constexpr size_t kMaxUsageResourceIdBytes = 256;
// Propagation answers at most this many points.
inline constexpr size_t kMaxPropagationPoints = 100'000;

struct FleetOptions {
  int64_t history_days = 30;  // state-change events kept
  int64_t usage_days = 400;   // usage days kept (the ministry rewards providers yearly)
  int64_t forget_days = 30;   // a node not seen (seen_at) for this long is removed from nodes
  size_t initial_map_bytes = 64 << 20;  // grown as fleet/lmdb_tables.h says
};

class FleetStore {
 public:
  ~FleetStore();

  // Opens the store in `dir`, creating the directory, the tables and the marker FLEET if
  // missing, and holds dir/LOCK while open: kFailedPrecondition if another FleetStore (in this
  // or another process) has it open; kNewerFormat if FLEET names a newer layout.
  static Result<std::unique_ptr<FleetStore>> Open(const std::string& dir,
                                                  const FleetOptions& o = {});

  // ---- Latest state per node ----

  // Upserts the latest state per node name, in one write transaction for the whole batch.
  // A state whose (reported_at, seen_at) is older than the stored one for its name is ignored
  // (a late retry never overwrites newer news), and so is an exact repeat; the same report
  // with other contents (a forwarding tier's newer verdict: its stale_after) replaces it. A
  // stored state keeps `now` as its stored_at. When release, version, sync_ok, rejections or
  // "down" (JudgeHealth at `now`) differ from the stored record, or the node is new, a history
  // event is appended at the state's seen_at (`now` if 0); a node that comes back from down
  // first gets a "down" event at the moment it went down (its old seen_at + stale_after + 1).
  // Errors (nothing stored): kInvalidArgument naming a state whose name, tier or region is
  // malformed (CheckNodeName, IsTierName, CheckRegionCode); kResourceExhausted naming the
  // first new node beyond kMaxFleetNodes; LMDB errors.
  Status PutStates(const std::vector<NodeState>& states, int64_t now);

  // The stored state of `name`, or nullopt.
  Result<std::optional<NodeState>> Node(const std::string& name) const;

  struct NodeQuery {
    // "" all; "33"; "3301"; "330106": the node's 6-digit region starts with it
    // (RegionPrefix of a region code gives the prefix it stands for).
    std::string region_prefix;
    std::string tier;          // "" any
    std::string release;       // "" any
    int64_t stored_since = 0;  // only records stored at or after this (this tier's clock)
    std::string after;         // pagination: only names > after
    size_t limit = 1000;       // at most this many (0: none)
  };
  struct StoredNode {
    NodeState state;
    int64_t stored_at = 0;  // this tier's clock when the record was stored
    bool operator==(const StoredNode&) const = default;
  };
  // The nodes matching every condition of `q`, in name order (byte order), at most q.limit:
  // the next page is asked with `after` = the last name of this one.
  Result<std::vector<StoredNode>> Nodes(const NodeQuery& q) const;

  // The number of nodes stored (0 if the store cannot be read).
  size_t node_count() const;

  // ---- History ----

  struct Event {
    int64_t at = 0;  // seen_at of the state (see PutStates)
    std::string name, tier, region, release;
    uint64_t version = 0;
    bool sync_ok = true;
    // HealthName of JudgeHealth(state, now of PutStates, 0): "ok", "failing", "rejecting" or
    // "down" — never "lagging" (the store does not know the latest release; compare versions).
    std::string health;
    std::string why;  // its English words (added: the dashboard shows them)
    bool operator==(const Event&) const = default;
  };
  // The events with from <= at <= to whose region starts with `region_prefix`, in time order
  // (then name order), at most `limit`.
  Result<std::vector<Event>> History(int64_t from, int64_t to, const std::string& region_prefix,
                                     size_t limit) const;

  // The propagation of one release: buckets of `bucket_seconds` from the first event naming
  // `release`; the release's version is that first event's. Point k
  // is at first + k * bucket_seconds and counts the nodes (region under `region_prefix`) that
  // served that version or a later one by the end of its bucket — each node once, from its
  // first such event; points are cumulative and run to the bucket of the last node reached.
  // Empty if no kept event names the release. kInvalidArgument if bucket_seconds <= 0 or
  // more than kMaxPropagationPoints points would be needed.
  struct PropagationPoint {
    int64_t at = 0;
    uint64_t nodes = 0;
    bool operator==(const PropagationPoint&) const = default;
  };
  Result<std::vector<PropagationPoint>> Propagation(const std::string& release,
                                                    const std::string& region_prefix,
                                                    int64_t bucket_seconds) const;

  // ---- Usage ----

  // Stores what `reporter` (a direct child's name, or this node's own name) reports for each
  // of `days`, replacing what it reported before for that day (all resources of the day: a
  // resource it no longer lists is gone) — retries and restarts never count twice. Different
  // reporters add up. `reporter_region` (6 digits) is kept with each day for the region
  // breakdown. A day whose counts and region equal the stored ones is left alone (its change
  // time stays). kInvalidArgument for a malformed reporter, region, date (YYYY-MM-DD) or
  // resource id (1..kMaxUsageResourceIdBytes bytes, no control characters), or more than
  // serving::kMaxUsageResourcesPerDay resources in a day; nothing is stored then.
  Status PutUsage(const std::string& reporter, const std::string& reporter_region,
                  const std::vector<serving::UsageDay>& days, int64_t now);

  struct UsageQuery {
    std::string from, to;       // dates inclusive "YYYY-MM-DD"; "" open-ended
    std::string region_prefix;  // on the reporter's region; "" all
    std::string resource;       // "" all
  };
  struct UsageRow {
    std::string date, resource, reporter, reporter_region;
    serving::UsageCounts counts;
    bool operator==(const UsageRow&) const = default;
  };
  // The stored rows matching `q`, ordered by date, reporter, resource.
  Result<std::vector<UsageRow>> Usage(const UsageQuery& q) const;
  // The same summed over reporters: per date (in date order) and resource. This is what a tier
  // forwards upward as its subtree's usage.
  Result<std::vector<serving::UsageDay>> UsageByDay(const UsageQuery& q) const;
  // The days with a reporter whose counts changed at or after `since` (this tier's clock),
  // each whole and summed over all its reporters: the delta to forward upward (replace
  // semantics upward too).
  Result<std::vector<serving::UsageDay>> UsageChangedSince(int64_t since) const;

  // ---- Retention ----

  // At `now`, drops history events with at < now - history_days, usage days (UTC dates)
  // before the date of now - usage_days, and nodes with seen_at < now - forget_days (days of
  // 86,400 s). One write transaction. Returns what was dropped (usage_days: distinct dates).
  struct Expired {
    uint64_t events = 0, usage_days = 0, nodes = 0;
  };
  Result<Expired> Expire(int64_t now);

  // Use Open(); public only so that std::make_unique can call it.
  FleetStore(std::unique_ptr<LmdbTables> tables, const FleetOptions& o);

 private:
  Status PutState(LmdbTxn& txn, const NodeState& s, int64_t now, uint64_t* count);
  Status AppendEvents(LmdbTxn& txn, const std::optional<StoredNode>& old, const NodeState& s,
                      int64_t now);
  Status PutUsageDay(LmdbTxn& txn, const std::string& reporter, const std::string& region,
                     const serving::UsageDay& day, int64_t now);

  std::unique_ptr<LmdbTables> tables_;
  const FleetOptions options_;
  std::unique_ptr<FileLock> lock_;
};

// An event as JSON: {"at", "name", "tier", "region", "release", "version", "sync_ok",
// "health", "why"} (how the store keeps it, and how the federation view shows it).
nlohmann::json EventJson(const FleetStore::Event& e);

}  // namespace tiersync::fleet

#endif  // TIERSYNC_FLEET_FLEET_STORE_H_
