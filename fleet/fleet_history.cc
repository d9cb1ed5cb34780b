// FleetStore: the history of state changes (events are appended by PutStates).
#include "fleet/fleet_query.h"
#include "fleet/fleet_records.h"
#include "fleet/fleet_store.h"
#include "fleet/lmdb_tables.h"

namespace tiersync::fleet {

namespace rec = records;

Result<std::vector<FleetStore::Event>> FleetStore::History(int64_t from, int64_t to,
                                                           const std::string& region_prefix,
                                                           size_t limit) const {
  std::vector<Event> out;
  if (limit == 0 || from > to) return out;
  TS_RETURN_IF_ERROR(tables_->Read([&](const LmdbTxn& txn) -> Status {
    out.clear();
    return txn.Scan(rec::kEvents, rec::TimeKey(from),
                    [&](std::string_view k, std::string_view v) -> Result<bool> {
                      if (rec::TimeFromKey(k) > to) return false;
                      TS_ASSIGN_OR_RETURN(Event e, rec::DecodeEvent(v));
                      if (RegionMatches(e.region, region_prefix)) out.push_back(std::move(e));
                      return out.size() < limit;
                    });
  }));
  return out;
}

Result<std::vector<FleetStore::PropagationPoint>> FleetStore::Propagation(
    const std::string& release, const std::string& region_prefix, int64_t bucket_seconds) const {
  if (bucket_seconds <= 0) {
    return InvalidArgumentError("propagation: bucket_seconds must be positive");
  }
  PropagationCounter counter(release, region_prefix, bucket_seconds);
  TS_RETURN_IF_ERROR(tables_->Read([&](const LmdbTxn& txn) -> Status {
    return txn.Scan(rec::kEvents, "", [&](std::string_view, std::string_view v) -> Result<bool> {
      TS_ASSIGN_OR_RETURN(Event e, rec::DecodeEvent(v));
      counter.Add(e);
      return true;
    });
  }));
  return counter.Points();
}

}  // namespace tiersync::fleet
