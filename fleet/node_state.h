// NodeState: what one node of the federation says about itself in a report (issue 20,
// "seeing the federation"), as every tier above it keeps it (fleet/fleet_store.h), and the
// health an upper tier judges from it. Pure: no I/O, no clock (`now` is passed in).
//
// JSON form (NodeStateJson / NodeStateFromJson; docs/formats/fleet-store.md):
//   {"name": "xihu-no1", "tier": "school", "region": "330106", "parent": "xihu",
//    "release": "r12", "version": 42, "switched_at": 1767225600, "deferred": 0,
//    "sync_ok": true, "last_error": "",
//    "sources": [{"name": "parent", "url": "https://...", "ok": true, "failures": 0,
//                 "last_error": ""}],
//    "rejections": 0, "last_rejection": "", "store_bytes": 1, "quota_bytes": 0,
//    "fs_size_bytes": 2, "fs_avail_bytes": 1, "software": "0.1.0",
//    "reported_at": 1767225660, "seen_at": 1767225661, "stale_after": 180}
// Every member is written. Reading is strict about what is there (types, sizes, the tier
// vocabulary, 6-digit regions, release names "r<N>") and lenient about what is not: `name`,
// `tier` and `region` are required, any other missing member keeps its default, and unknown
// members are ignored (tiers run mixed versions; a newer child may say more).
#ifndef TIERSYNC_FLEET_NODE_STATE_H_
#define TIERSYNC_FLEET_NODE_STATE_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/region_code.h"
#include "base/status.h"

namespace tiersync::fleet {

inline constexpr size_t kMaxNodeNameBytes = 128;
inline constexpr size_t kMaxStateStringBytes = 4096;  // any other string member
inline constexpr size_t kMaxSources = 16;

// One upstream of a node, as the node sees it.
struct SourceState {
  std::string name, url;   // "parent", "national", ...
  bool ok = true;          // its last use succeeded
  uint64_t failures = 0;   // consecutive failures
  std::string last_error;  // in words, "" if none
  bool operator==(const SourceState&) const = default;
};

struct NodeState {
  std::string name;         // unique node name (node.toml name), 1..128 bytes, no control chars
  std::string tier;         // "national" | "province" | "city" | "county" | "school"
  std::string region;       // 6-digit GB/T 2260 code
  std::string parent;       // the node it reports to ("" for the top)
  std::string release;      // "r12"; "" before its first sync
  uint64_t version = 0;     // TUF timestamp version it serves
  int64_t switched_at = 0;  // unix s
  uint64_t deferred = 0;    // wanted files waiting for a sync window
  bool sync_ok = true;      // its last sync cycle succeeded
  std::string last_error;   // in words
  std::vector<SourceState> sources;
  uint64_t rejections = 0;  // answers it rejected as forged/corrupt (total since start)
  // What it rejected in its latest sync cycle, in words; "" if that cycle rejected nothing.
  // REPORTER CONTRACT: clear it once a cycle rejects nothing (JudgeHealth says "rejecting"
  // while it is set).
  std::string last_rejection;
  uint64_t store_bytes = 0, quota_bytes = 0;       // quota 0: none
  uint64_t fs_size_bytes = 0, fs_avail_bytes = 0;  // the filesystem of its store
  std::string software;                            // tiersync version string
  int64_t reported_at = 0;                         // when the node made the report (its clock)
  int64_t seen_at = 0;      // when its parent received it (the parent's clock)
  int64_t stale_after = 0;  // seconds after seen_at without a newer report: down
  bool operator==(const NodeState&) const = default;
};

// The JSON object described above.
nlohmann::json NodeStateJson(const NodeState& s);
// NodeStateJson(s).dump().
std::string EncodeNodeState(const NodeState& s);
// Strict reading (see the file comment): kInvalidArgument naming the member ("sources[2].url:
// longer than 4096 bytes").
Result<NodeState> NodeStateFromJson(const nlohmann::json& j);
// Parses text first; kInvalidArgument if it is not JSON.
Result<NodeState> DecodeNodeState(std::string_view text);

// The checks NodeStateFromJson applies to single members, for callers that build records
// themselves. OK or kInvalidArgument naming the problem.
Status CheckNodeName(std::string_view name);
using ::tiersync::CheckRegionCode;  // base/region_code.h
bool IsTierName(std::string_view tier);

enum class Health { kOk, kLagging, kFailing, kRejecting, kDown };
// "ok", "lagging", "failing", "rejecting", "down".
std::string_view HealthName(Health h);

struct HealthVerdict {
  Health health = Health::kOk;
  std::string why;     // English words
  std::string why_zh;  // Chinese
};

// The health of `s` at `now` (the judging tier's clock), against the newest release version
// the judging tier knows (`latest_version`; 0: unknown, nothing lags). The first rule that
// holds decides:
//   down       now > seen_at + stale_after   "no report for 7 min (expected within 180 s)"
//   failing    !sync_ok                       "sync failing: <last_error>"
//   rejecting  last_rejection != ""           "rejected forged or corrupt data (3 in all): ..."
//              (its latest cycle succeeded, from another source or despite the rejection —
//              a security event at a source, reported until a cycle rejects nothing)
//   lagging    version < latest_version       "serves r11, latest is r12" (with
//              `latest_release`), else "serves r11 (version 40), latest version is 42"
//   ok                                        "serves r12"
// A record with stale_after <= 0 is never judged down.
HealthVerdict JudgeHealth(const NodeState& s, int64_t now, uint64_t latest_version,
                          std::string_view latest_release = "");

// Region codes and the part of the country each stands for: base/region_code.h.
using ::tiersync::RegionMatches;
using ::tiersync::RegionPrefix;

}  // namespace tiersync::fleet

#endif  // TIERSYNC_FLEET_NODE_STATE_H_
