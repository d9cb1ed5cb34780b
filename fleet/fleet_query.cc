#include "fleet/fleet_query.h"

#include <map>
#include <utility>

namespace tiersync::fleet {
namespace {

// The 6-digit group code of `region` one level below a prefix of `prefix_len` digits, or
// nullopt when the prefix is a whole code (one group per node).
std::optional<std::string> GroupCode(const std::string& region, size_t prefix_len) {
  size_t keep = prefix_len < 2 ? 2 : prefix_len < 4 ? 4 : 6;
  if (prefix_len >= 6) return std::nullopt;
  std::string code = region.substr(0, keep);
  code.resize(6, '0');
  return code;
}

void Count(RegionGroup* g, const NodeState& s, int64_t now, uint64_t latest_version) {
  ++g->nodes;
  if (s.version >= latest_version) ++g->latest;
  // In the order of enum Health.
  uint64_t* const by_health[] = {&g->ok, &g->lagging, &g->failing, &g->rejecting, &g->down};
  ++*by_health[static_cast<size_t>(JudgeHealth(s, now, latest_version).health)];
  g->store_bytes += s.store_bytes;
  g->quota_bytes += s.quota_bytes;
  g->fs_size_bytes += s.fs_size_bytes;
  g->fs_avail_bytes += s.fs_avail_bytes;
}

}  // namespace

std::vector<RegionGroup> Summarize(const std::vector<FleetStore::StoredNode>& nodes,
                                   const std::string& region_prefix, int64_t now,
                                   uint64_t latest_version) {
  std::map<std::pair<std::string, std::string>, RegionGroup> groups;  // (region, name)
  for (const FleetStore::StoredNode& n : nodes) {
    const NodeState& s = n.state;
    if (!RegionMatches(s.region, region_prefix)) continue;
    std::optional<std::string> code = GroupCode(s.region, region_prefix.size());
    std::pair<std::string, std::string> key =
        code ? std::pair{*code, std::string()} : std::pair{s.region, s.name};
    RegionGroup& g = groups[key];
    g.region = key.first;
    g.name = key.second;
    Count(&g, s, now, latest_version);
  }
  std::vector<RegionGroup> out;
  out.reserve(groups.size());
  for (auto& [key, g] : groups) out.push_back(std::move(g));
  return out;
}

void PropagationCounter::Add(const FleetStore::Event& e) {
  if (!first_) {
    if (e.release != release_) return;
    first_ = e.at;
    version_ = e.version;
  }
  if (e.version < version_ || !RegionMatches(e.region, prefix_)) return;
  if (counted_.insert(e.name).second) reached_.push_back(e.at);
}

Result<std::vector<FleetStore::PropagationPoint>> PropagationCounter::Points() const {
  if (bucket_ <= 0) return InvalidArgumentError("propagation: bucket_seconds must be positive");
  std::vector<FleetStore::PropagationPoint> out;
  if (!first_ || reached_.empty()) return out;
  const uint64_t buckets = static_cast<uint64_t>((reached_.back() - *first_) / bucket_) + 1;
  if (buckets > kMaxPropagationPoints) {
    return InvalidArgumentError("propagation: " + std::to_string(buckets) + " points of " +
                                std::to_string(bucket_) + " s, more than " +
                                std::to_string(kMaxPropagationPoints));
  }
  size_t i = 0;
  for (uint64_t k = 0; k < buckets; ++k) {
    const int64_t at = *first_ + static_cast<int64_t>(k) * bucket_;
    while (i < reached_.size() && reached_[i] < at + bucket_) ++i;
    out.push_back({at, i});
  }
  return out;
}

}  // namespace tiersync::fleet
