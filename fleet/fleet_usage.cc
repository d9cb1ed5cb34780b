// FleetStore: usage per (date, reporter, resource), replaced per (date, reporter).
#include <functional>
#include <map>
#include <set>

#include "fleet/fleet_records.h"
#include "fleet/fleet_store.h"
#include "fleet/lmdb_tables.h"

namespace tiersync::fleet {

namespace rec = records;

namespace {

using Resources = std::map<std::string, serving::UsageCounts>;

bool IsDate(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  return true;
}

Status CheckResourceId(std::string_view id) {
  bool ok = !id.empty() && id.size() <= kMaxUsageResourceIdBytes;
  for (unsigned char c : id) ok = ok && c >= 0x20 && c != 0x7f;
  if (!ok) return InvalidArgumentError("usage: bad resource id \"" + std::string(id) + "\"");
  return Status::Ok();
}

Status CheckUsageDay(const serving::UsageDay& day) {
  if (!IsDate(day.date)) return InvalidArgumentError("usage: bad date \"" + day.date + "\"");
  if (day.resources.size() > serving::kMaxUsageResourcesPerDay) {
    return InvalidArgumentError("usage: " + day.date + " has more than " +
                                std::to_string(serving::kMaxUsageResourcesPerDay) + " resources");
  }
  for (const auto& [id, counts] : day.resources) TS_RETURN_IF_ERROR(CheckResourceId(id));
  return Status::Ok();
}

// The stored resources of one (date, reporter).
Result<Resources> StoredResources(const LmdbTxn& txn, const std::string& day_key) {
  const std::string prefix = day_key + '\0';
  Resources out;
  TS_RETURN_IF_ERROR(
      txn.Scan(rec::kUsage, prefix, [&](std::string_view k, std::string_view v) -> Result<bool> {
        if (!k.starts_with(prefix)) return false;
        TS_ASSIGN_OR_RETURN(serving::UsageCounts c, rec::DecodeCounts(v));
        out.emplace(std::string(k.substr(prefix.size())), c);
        return true;
      }));
  return out;
}

using RowFn = std::function<void(FleetStore::UsageRow)>;

// Calls `fn` for every stored row matching `q`, in key order (date, reporter, resource).
Status ScanUsage(const LmdbTxn& txn, const FleetStore::UsageQuery& q, const RowFn& fn) {
  std::string day_key, region;  // the usage_days record of the rows at hand
  return txn.Scan(rec::kUsage, q.from, [&](std::string_view k, std::string_view v) -> Result<bool> {
    TS_ASSIGN_OR_RETURN(rec::UsageKeyParts p, rec::SplitUsageKey(k, true));
    if (!q.to.empty() && p.date > q.to) return false;
    if (!q.resource.empty() && p.resource != q.resource) return true;
    if (std::string key = rec::UsageDayKey(p.date, p.reporter); key != day_key) {
      TS_ASSIGN_OR_RETURN(std::optional<std::string> meta, txn.Get(rec::kUsageDays, key));
      if (!meta) return CorruptionError("fleet store: usage rows without their day record");
      TS_ASSIGN_OR_RETURN(rec::UsageDayMeta m, rec::DecodeUsageDayMeta(*meta));
      day_key = std::move(key);
      region = std::move(m.region);
    }
    if (!RegionMatches(region, q.region_prefix)) return true;
    TS_ASSIGN_OR_RETURN(serving::UsageCounts c, rec::DecodeCounts(v));
    fn({std::string(p.date), std::string(p.resource), std::string(p.reporter), region, c});
    return true;
  });
}

// Rows summed per (date, resource), appended to `days` (dates in order).
RowFn SumInto(std::map<std::string, serving::UsageDay>* days) {
  return [days](FleetStore::UsageRow r) {
    serving::UsageDay& d = (*days)[r.date];
    d.date = r.date;
    serving::UsageCounts& c = d.resources[r.resource];
    c.views += r.counts.views;
    c.downloads += r.counts.downloads;
  };
}

std::vector<serving::UsageDay> Values(std::map<std::string, serving::UsageDay> days) {
  std::vector<serving::UsageDay> out;
  out.reserve(days.size());
  for (auto& [date, day] : days) out.push_back(std::move(day));
  return out;
}

}  // namespace

Status FleetStore::PutUsage(const std::string& reporter, const std::string& reporter_region,
                            const std::vector<serving::UsageDay>& days, int64_t now) {
  TS_RETURN_IF_ERROR(CheckNodeName(reporter).WithContext("usage: reporter"));
  TS_RETURN_IF_ERROR(CheckRegionCode(reporter_region).WithContext("usage: reporter region"));
  for (const serving::UsageDay& day : days) TS_RETURN_IF_ERROR(CheckUsageDay(day));
  return tables_->Write([&](LmdbTxn& txn) -> Status {
    for (const serving::UsageDay& day : days) {
      TS_RETURN_IF_ERROR(PutUsageDay(txn, reporter, reporter_region, day, now));
    }
    return Status::Ok();
  });
}

Status FleetStore::PutUsageDay(LmdbTxn& txn, const std::string& reporter, const std::string& region,
                               const serving::UsageDay& day, int64_t now) {
  const std::string day_key = rec::UsageDayKey(day.date, reporter);
  TS_ASSIGN_OR_RETURN(std::optional<std::string> meta, txn.Get(rec::kUsageDays, day_key));
  TS_ASSIGN_OR_RETURN(Resources stored, StoredResources(txn, day_key));
  if (!meta && day.resources.empty()) return Status::Ok();
  if (meta) {
    TS_ASSIGN_OR_RETURN(rec::UsageDayMeta m, rec::DecodeUsageDayMeta(*meta));
    if (m.region == region && stored == day.resources) return Status::Ok();  // a repeat
  }
  for (const auto& [id, counts] : stored) {
    TS_RETURN_IF_ERROR(txn.Delete(rec::kUsage, rec::UsageKey(day.date, reporter, id)));
  }
  for (const auto& [id, counts] : day.resources) {
    TS_RETURN_IF_ERROR(
        txn.Put(rec::kUsage, rec::UsageKey(day.date, reporter, id), rec::EncodeCounts(counts)));
  }
  return txn.Put(rec::kUsageDays, day_key, rec::EncodeUsageDayMeta({region, now}));
}

Result<std::vector<FleetStore::UsageRow>> FleetStore::Usage(const UsageQuery& q) const {
  std::vector<UsageRow> out;
  TS_RETURN_IF_ERROR(tables_->Read([&](const LmdbTxn& txn) -> Status {
    return ScanUsage(txn, q, [&](UsageRow r) { out.push_back(std::move(r)); });
  }));
  return out;
}

Result<std::vector<serving::UsageDay>> FleetStore::UsageByDay(const UsageQuery& q) const {
  std::map<std::string, serving::UsageDay> days;
  TS_RETURN_IF_ERROR(
      tables_->Read([&](const LmdbTxn& txn) { return ScanUsage(txn, q, SumInto(&days)); }));
  return Values(std::move(days));
}

Result<std::vector<serving::UsageDay>> FleetStore::UsageChangedSince(int64_t since) const {
  std::map<std::string, serving::UsageDay> days;
  TS_RETURN_IF_ERROR(tables_->Read([&](const LmdbTxn& txn) -> Status {
    std::set<std::string> changed;
    TS_RETURN_IF_ERROR(
        txn.Scan(rec::kUsageDays, "", [&](std::string_view k, std::string_view v) -> Result<bool> {
          TS_ASSIGN_OR_RETURN(rec::UsageDayMeta m, rec::DecodeUsageDayMeta(v));
          TS_ASSIGN_OR_RETURN(rec::UsageKeyParts p, rec::SplitUsageKey(k, false));
          if (m.changed_at >= since) changed.emplace(p.date);
          return true;
        }));
    for (const std::string& date : changed) {
      days[date].date = date;  // a day whose rows all went away is forwarded empty
      TS_RETURN_IF_ERROR(ScanUsage(txn, {date, date, "", ""}, SumInto(&days)));
    }
    return Status::Ok();
  }));
  return Values(std::move(days));
}

}  // namespace tiersync::fleet
