// The tables of a FleetStore and the bytes of their keys and values (normative description:
// docs/formats/fleet-store.md). Pure; used by fleet_store*.cc only. Decoding a stored value
// that does not parse is kCorruption (local damage).
//
//   table             key                                    value
//   nodes             name                                   {"stored_at": N, "state": {...}}
//   nodes_by_region   region (6) name                        ""
//   nodes_by_stored   time(stored_at) name                   ""
//   nodes_by_seen     time(seen_at) name                     ""
//   events            time(at) name                          {"at": N, "name": ..., ...}
//   usage             date NUL reporter NUL resource         views (8 BE) downloads (8 BE)
//   usage_days        date NUL reporter                      {"region": ..., "changed_at": N}
// time(t): 8 bytes big-endian of t with its sign bit flipped, so keys sort by time.
#ifndef TIERSYNC_FLEET_FLEET_RECORDS_H_
#define TIERSYNC_FLEET_FLEET_RECORDS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "fleet/fleet_store.h"

namespace tiersync::fleet::records {

// Indexes into TableNames().
enum Table : int {
  kNodes = 0,
  kNodesByRegion,
  kNodesByStored,
  kNodesBySeen,
  kEvents,
  kUsage,
  kUsageDays,
};
const std::vector<std::string>& TableNames();

// time(t) as above, and back. REQUIRES: key.size() >= 8 for TimeFromKey.
std::string TimeKey(int64_t t);
int64_t TimeFromKey(std::string_view key);

std::string EncodeStoredNode(const FleetStore::StoredNode& n);
Result<FleetStore::StoredNode> DecodeStoredNode(std::string_view value);
// The index keys (table, key) that point at a stored node; their values are empty.
std::vector<std::pair<Table, std::string>> NodeIndexKeys(const FleetStore::StoredNode& n);

std::string EventKey(const FleetStore::Event& e);
std::string EncodeEvent(const FleetStore::Event& e);
Result<FleetStore::Event> DecodeEvent(std::string_view value);

// usage_days key, and the prefix of the usage keys of that (date, reporter): key + NUL.
std::string UsageDayKey(std::string_view date, std::string_view reporter);
std::string UsageKey(std::string_view date, std::string_view reporter, std::string_view resource);
struct UsageKeyParts {
  std::string_view date, reporter, resource;  // resource empty for a usage_days key
};
// Splits a usage or usage_days key; kCorruption if it has the wrong shape.
Result<UsageKeyParts> SplitUsageKey(std::string_view key, bool with_resource);
std::string EncodeCounts(const serving::UsageCounts& c);
Result<serving::UsageCounts> DecodeCounts(std::string_view value);

struct UsageDayMeta {
  std::string region;
  int64_t changed_at = 0;
};
std::string EncodeUsageDayMeta(const UsageDayMeta& m);
Result<UsageDayMeta> DecodeUsageDayMeta(std::string_view value);

}  // namespace tiersync::fleet::records

#endif  // TIERSYNC_FLEET_FLEET_RECORDS_H_
