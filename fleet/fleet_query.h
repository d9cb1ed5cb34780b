// Pure summaries over what a FleetStore returns: the region breakdown a dashboard shows
// (Summarize) and the propagation curve of one release (PropagationCounter, fed history
// events in time order). No I/O, no clock.
#ifndef TIERSYNC_FLEET_FLEET_QUERY_H_
#define TIERSYNC_FLEET_FLEET_QUERY_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "fleet/fleet_store.h"

namespace tiersync::fleet {

struct RegionGroup {
  // 6-digit code of the group: province "330000", city "330100", county "330106"; at a
  // 6-digit prefix, the node's own region.
  std::string region;
  // Only at a 6-digit prefix (one group per node: schools share their county's code): the
  // node's name; "" otherwise.
  std::string name;
  uint64_t nodes = 0, latest = 0, ok = 0, lagging = 0, failing = 0, rejecting = 0, down = 0;
  uint64_t store_bytes = 0, quota_bytes = 0, fs_size_bytes = 0, fs_avail_bytes = 0;
  bool operator==(const RegionGroup&) const = default;
};

// Groups the nodes under `region_prefix` one level below it: "" -> provinces ("330000"), a
// 2-digit prefix ("33") -> cities ("330100"), a 4-digit one ("3301") -> counties ("330106"),
// a 6-digit one -> one group per node (with `name`). Odd lengths group like the next even one
// below ("3" -> provinces). A node at the level of the prefix itself forms its own group (the
// province node "330000" under "33"). Nodes outside the prefix are left out. Health by
// JudgeHealth(state, now, latest_version); `latest` counts nodes with version >=
// latest_version. Byte totals are sums. Ordered by region, then name.
std::vector<RegionGroup> Summarize(const std::vector<FleetStore::StoredNode>& nodes,
                                   const std::string& region_prefix, int64_t now,
                                   uint64_t latest_version);

// The curve of FleetStore::Propagation, computed from events fed in time order. The release's
// version is that of the first event naming it (timestamp versions only grow, and a release
// keeps its name while its timestamp is re-signed). Not thread-safe (a plain object).
class PropagationCounter {
 public:
  PropagationCounter(std::string release, std::string region_prefix, int64_t bucket_seconds)
      : release_(std::move(release)), prefix_(std::move(region_prefix)), bucket_(bucket_seconds) {}

  // REQUIRES: events in time order (FleetStore's history order).
  void Add(const FleetStore::Event& e);
  // The points (see FleetStore::Propagation). kInvalidArgument if bucket_seconds <= 0 or the
  // curve would have more than kMaxPropagationPoints points.
  Result<std::vector<FleetStore::PropagationPoint>> Points() const;

 private:
  std::string release_, prefix_;
  int64_t bucket_;
  std::optional<int64_t> first_;   // the first event naming the release
  uint64_t version_ = 0;           // the version of that event: the release's version
  std::set<std::string> counted_;  // nodes reached
  std::vector<int64_t> reached_;   // when each was reached, in time order
};

}  // namespace tiersync::fleet

#endif  // TIERSYNC_FLEET_FLEET_QUERY_H_
