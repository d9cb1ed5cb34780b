// FleetStore: opening, node states and retention. History: fleet_history.cc; usage:
// fleet_usage.cc.
#include "fleet/fleet_store.h"

#include <algorithm>
#include <tuple>

#include "base/env.h"
#include "base/layout_version.h"
#include "fleet/fleet_records.h"
#include "fleet/lmdb_tables.h"

namespace tiersync::fleet {

namespace rec = records;

namespace {

constexpr int64_t kDay = 86400;

Status CheckState(const NodeState& s) {
  Status st = CheckNodeName(s.name);
  if (st.ok() && !IsTierName(s.tier)) st = InvalidArgumentError("not a tier: \"" + s.tier + "\"");
  if (st.ok()) st = CheckRegionCode(s.region);
  if (!st.ok()) return st.WithContext("node state \"" + s.name.substr(0, kMaxNodeNameBytes) + "\"");
  return Status::Ok();
}

// `a` replaces `b`: a later report, or the same report with a newer verdict of the tier that
// forwards it (stale_after: vouched alive, or judged down; node/upward_report.h).
bool Newer(const NodeState& a, const NodeState& b) {
  const auto ta = std::tie(a.reported_at, a.seen_at), tb = std::tie(b.reported_at, b.seen_at);
  return ta > tb || (ta == tb && !(a == b));
}

bool IsDown(const NodeState& s, int64_t now) {
  return JudgeHealth(s, now, 0).health == Health::kDown;
}

FleetStore::Event MakeEvent(const NodeState& s, int64_t at, int64_t now) {
  HealthVerdict v = JudgeHealth(s, now, 0);
  return {at,
          s.name,
          s.tier,
          s.region,
          s.release,
          s.version,
          s.sync_ok,
          std::string(HealthName(v.health)),
          std::move(v.why)};
}

Result<std::optional<FleetStore::StoredNode>> GetNode(const LmdbTxn& txn, const std::string& name) {
  if (!CheckNodeName(name).ok()) return std::optional<FleetStore::StoredNode>();
  TS_ASSIGN_OR_RETURN(std::optional<std::string> value, txn.Get(rec::kNodes, name));
  if (!value) return std::optional<FleetStore::StoredNode>();
  TS_ASSIGN_OR_RETURN(FleetStore::StoredNode n, rec::DecodeStoredNode(*value));
  return std::optional(std::move(n));
}

Status DeleteNode(LmdbTxn& txn, const FleetStore::StoredNode& n) {
  for (const auto& [table, key] : rec::NodeIndexKeys(n)) TS_RETURN_IF_ERROR(txn.Delete(table, key));
  return txn.Delete(rec::kNodes, n.state.name);
}

bool Matches(const FleetStore::NodeQuery& q, const FleetStore::StoredNode& n) {
  return RegionMatches(n.state.region, q.region_prefix) &&
         (q.tier.empty() || n.state.tier == q.tier) &&
         (q.release.empty() || n.state.release == q.release) && n.stored_at >= q.stored_since &&
         n.state.name > q.after;
}

// The names an index table offers for `q` (a superset of the answer), sorted.
Result<std::vector<std::string>> IndexedNames(const LmdbTxn& txn, const FleetStore::NodeQuery& q) {
  const bool by_time = q.stored_since != 0;
  const std::string from = by_time ? rec::TimeKey(q.stored_since) : q.region_prefix;
  std::vector<std::string> names;
  TS_RETURN_IF_ERROR(txn.Scan(by_time ? rec::kNodesByStored : rec::kNodesByRegion, from,
                              [&](std::string_view key, std::string_view) -> Result<bool> {
                                if (!by_time && !key.starts_with(q.region_prefix)) return false;
                                std::string_view name = key.substr(by_time ? 8 : 6);
                                if (name > q.after) names.emplace_back(name);
                                return true;
                              }));
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

FleetStore::FleetStore(std::unique_ptr<LmdbTables> tables, const FleetOptions& o)
    : tables_(std::move(tables)), options_(o) {}
FleetStore::~FleetStore() = default;

namespace {

constexpr char kMarkerName[] = "FLEET";
constexpr char kMarkerKind[] = "tiersync-fleet";
constexpr char kLockName[] = "LOCK";

// Creates `dir`, takes its lock and checks its marker; `fresh` says the marker is missing
// (written after the tables, so that a half-made store is made again).
Result<std::unique_ptr<FileLock>> LockAndCheck(Env* env, const std::string& dir, bool* fresh) {
  TS_RETURN_IF_ERROR(CreateDirs(env, dir));
  auto lock = env->LockFile(JoinPath(dir, kLockName));
  if (!lock.ok()) return lock.status().WithContext("fleet store " + dir + " is open elsewhere");
  const std::string marker = JoinPath(dir, kMarkerName);
  Result<int> version = ReadLayoutVersion(env, marker, kMarkerKind);
  *fresh = version.status().code() == StatusCode::kNotFound;
  if (!*fresh) {
    if (!version.ok()) return version.status();
    TS_RETURN_IF_ERROR(
        CheckLayoutVersion(*version, kFleetStoreVersion, "fleet store " + dir, marker));
  }
  return std::move(lock).value();
}

}  // namespace

Result<std::unique_ptr<FleetStore>> FleetStore::Open(const std::string& dir,
                                                     const FleetOptions& o) {
  Env* env = Env::Default();  // LMDB works on the real file system
  bool fresh = false;
  TS_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> lock, LockAndCheck(env, dir, &fresh));
  TS_ASSIGN_OR_RETURN(std::unique_ptr<LmdbTables> tables,
                      LmdbTables::Open(dir, rec::TableNames(), o.initial_map_bytes));
  if (fresh) {
    TS_RETURN_IF_ERROR(WriteFileAtomically(env, JoinPath(dir, kMarkerName),
                                           AsBytes(LayoutMarker(kMarkerKind, kFleetStoreVersion))));
  }
  auto store = std::make_unique<FleetStore>(std::move(tables), o);
  store->lock_ = std::move(lock);
  return store;
}

Status FleetStore::PutStates(const std::vector<NodeState>& states, int64_t now) {
  for (const NodeState& s : states) TS_RETURN_IF_ERROR(CheckState(s));
  return tables_->Write([&](LmdbTxn& txn) -> Status {
    TS_ASSIGN_OR_RETURN(uint64_t count, txn.Count(rec::kNodes));
    for (const NodeState& s : states) TS_RETURN_IF_ERROR(PutState(txn, s, now, &count));
    return Status::Ok();
  });
}

Status FleetStore::PutState(LmdbTxn& txn, const NodeState& s, int64_t now, uint64_t* count) {
  TS_ASSIGN_OR_RETURN(std::optional<StoredNode> old, GetNode(txn, s.name));
  if (old && !Newer(s, old->state)) return Status::Ok();
  if (!old && ++*count > kMaxFleetNodes) {
    return ResourceExhaustedError("fleet store: node \"" + s.name + "\" would be one more than " +
                                  std::to_string(kMaxFleetNodes) + " nodes (kMaxFleetNodes)");
  }
  TS_RETURN_IF_ERROR(AppendEvents(txn, old, s, now));
  if (old) TS_RETURN_IF_ERROR(DeleteNode(txn, *old));
  StoredNode n{s, now};
  for (const auto& [table, key] : rec::NodeIndexKeys(n))
    TS_RETURN_IF_ERROR(txn.Put(table, key, ""));
  return txn.Put(rec::kNodes, s.name, rec::EncodeStoredNode(n));
}

Status FleetStore::AppendEvents(LmdbTxn& txn, const std::optional<StoredNode>& old,
                                const NodeState& s, int64_t now) {
  const bool down_changed = old && IsDown(old->state, now) != IsDown(s, now);
  if (old && !down_changed && old->state.release == s.release && old->state.version == s.version &&
      old->state.sync_ok == s.sync_ok && old->state.rejections == s.rejections) {
    return Status::Ok();
  }
  if (down_changed && IsDown(old->state, now)) {
    // Back from down: say when it went down (its last report's seen_at + stale_after).
    const NodeState& o = old->state;
    Event down = MakeEvent(o, o.seen_at + o.stale_after + 1, now);
    TS_RETURN_IF_ERROR(txn.Put(rec::kEvents, rec::EventKey(down), rec::EncodeEvent(down)));
  }
  Event e = MakeEvent(s, s.seen_at != 0 ? s.seen_at : now, now);
  return txn.Put(rec::kEvents, rec::EventKey(e), rec::EncodeEvent(e));
}

Result<std::optional<NodeState>> FleetStore::Node(const std::string& name) const {
  std::optional<NodeState> out;
  TS_RETURN_IF_ERROR(tables_->Read([&](const LmdbTxn& txn) -> Status {
    TS_ASSIGN_OR_RETURN(std::optional<StoredNode> n, GetNode(txn, name));
    if (n) out = std::move(n->state);
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<FleetStore::StoredNode>> FleetStore::Nodes(const NodeQuery& q) const {
  std::vector<StoredNode> out;
  if (q.limit == 0) return out;
  auto take = [&](const StoredNode& n) {
    if (Matches(q, n)) out.push_back(n);
    return out.size() < q.limit;
  };
  TS_RETURN_IF_ERROR(tables_->Read([&](const LmdbTxn& txn) -> Status {
    if (q.stored_since == 0 && q.region_prefix.empty()) {  // all names in order: no index
      return txn.Scan(rec::kNodes, q.after,
                      [&](std::string_view, std::string_view v) -> Result<bool> {
                        TS_ASSIGN_OR_RETURN(StoredNode n, rec::DecodeStoredNode(v));
                        return take(n);
                      });
    }
    TS_ASSIGN_OR_RETURN(std::vector<std::string> names, IndexedNames(txn, q));
    for (const std::string& name : names) {
      TS_ASSIGN_OR_RETURN(std::optional<StoredNode> n, GetNode(txn, name));
      if (!n) return CorruptionError("fleet store: index names a missing node " + name);
      if (!take(*n)) break;
    }
    return Status::Ok();
  }));
  return out;
}

size_t FleetStore::node_count() const {
  uint64_t count = 0;
  Status s = tables_->Read([&](const LmdbTxn& txn) -> Status {
    TS_ASSIGN_OR_RETURN(count, txn.Count(rec::kNodes));
    return Status::Ok();
  });
  return s.ok() ? count : 0;
}

namespace {

// Deletes the keys of `table` before `end` (key order); returns how many.
Result<uint64_t> DeleteBefore(LmdbTxn& txn, rec::Table table, const std::string& end) {
  std::vector<std::string> keys;
  TS_RETURN_IF_ERROR(txn.Scan(table, "", [&](std::string_view k, std::string_view) -> Result<bool> {
    if (k >= end) return false;
    keys.emplace_back(k);
    return true;
  }));
  for (const std::string& k : keys) TS_RETURN_IF_ERROR(txn.Delete(table, k));
  return keys.size();
}

Result<uint64_t> ForgetNodes(LmdbTxn& txn, int64_t seen_before) {
  std::vector<std::string> names;
  TS_RETURN_IF_ERROR(
      txn.Scan(rec::kNodesBySeen, "", [&](std::string_view k, std::string_view) -> Result<bool> {
        if (rec::TimeFromKey(k) >= seen_before) return false;
        names.emplace_back(k.substr(8));
        return true;
      }));
  for (const std::string& name : names) {
    TS_ASSIGN_OR_RETURN(std::optional<FleetStore::StoredNode> n, GetNode(txn, name));
    if (n) TS_RETURN_IF_ERROR(DeleteNode(txn, *n));
  }
  return names.size();
}

// The distinct dates of usage_days keys before `end_date`.
Result<uint64_t> CountUsageDates(const LmdbTxn& txn, const std::string& end_date) {
  uint64_t dates = 0;
  std::string last;
  TS_RETURN_IF_ERROR(
      txn.Scan(rec::kUsageDays, "", [&](std::string_view k, std::string_view) -> Result<bool> {
        TS_ASSIGN_OR_RETURN(rec::UsageKeyParts p, rec::SplitUsageKey(k, false));
        if (p.date >= end_date) return false;
        if (p.date != last) ++dates;
        last = p.date;
        return true;
      }));
  return dates;
}

}  // namespace

Result<FleetStore::Expired> FleetStore::Expire(int64_t now) {
  Expired out;
  const std::string usage_end = serving::UtcDate(now - options_.usage_days * kDay);
  TS_RETURN_IF_ERROR(tables_->Write([&](LmdbTxn& txn) -> Status {
    out = {};
    TS_ASSIGN_OR_RETURN(out.events, DeleteBefore(txn, rec::kEvents,
                                                 rec::TimeKey(now - options_.history_days * kDay)));
    TS_ASSIGN_OR_RETURN(out.usage_days, CountUsageDates(txn, usage_end));
    TS_RETURN_IF_ERROR(DeleteBefore(txn, rec::kUsage, usage_end).status());
    TS_RETURN_IF_ERROR(DeleteBefore(txn, rec::kUsageDays, usage_end).status());
    TS_ASSIGN_OR_RETURN(out.nodes, ForgetNodes(txn, now - options_.forget_days * kDay));
    return Status::Ok();
  }));
  return out;
}

nlohmann::json EventJson(const FleetStore::Event& e) {
  return {{"at", e.at},           {"name", e.name},       {"tier", e.tier},
          {"region", e.region},   {"release", e.release}, {"version", e.version},
          {"sync_ok", e.sync_ok}, {"health", e.health},   {"why", e.why}};
}

}  // namespace tiersync::fleet
