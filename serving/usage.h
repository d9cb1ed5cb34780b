// Usage counting: views and downloads per resource and per UTC day — the ministry rewards
// providers by usage. Pure: the ledger is in memory; the node writes each day's counts as one
// JSON file (EncodeUsageDay) and reads them back (DecodeUsageDay).
//
// Day file (usage/<YYYY-MM-DD>.json):
//   {"format": "tiersync-usage 1", "date": "2026-12-03",
//    "resources": {"<id>": {"views": 3, "downloads": 1}, ...}}
#ifndef TIERSYNC_SERVING_USAGE_H_
#define TIERSYNC_SERVING_USAGE_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"

namespace tiersync::serving {

inline constexpr size_t kMaxUsageResourcesPerDay = 1'000'000;

struct UsageCounts {
  uint64_t views = 0;
  uint64_t downloads = 0;
  bool operator==(const UsageCounts&) const = default;
};

struct UsageDay {
  std::string date;  // YYYY-MM-DD (UTC)
  std::map<std::string, UsageCounts> resources;
  UsageCounts Total() const;
  bool operator==(const UsageDay&) const = default;
};

enum class UsageKind { kView, kDownload };

// "YYYY-MM-DD" of a Unix time, UTC.
std::string UtcDate(int64_t unix_seconds);

std::string EncodeUsageDay(const UsageDay& day);
// kInvalidArgument naming the problem if `json` is not a day file.
Result<UsageDay> DecodeUsageDay(std::string_view json);

// The counts of the days a node keeps in memory. Thread-safe.
class UsageLedger {
 public:
  // Adds one event on `date`. Beyond kMaxUsageResourcesPerDay distinct ids a day, events for
  // new ids are dropped (and counted in dropped()).
  void Record(const std::string& date, const std::string& id, UsageKind kind);
  // Replaces or adds a day read back from disk (counts already recorded in memory are added).
  void Load(UsageDay day);
  // The day's counts (empty if none).
  UsageDay Day(const std::string& date) const;
  // Days changed since the last TakeDirty(), with their counts.
  std::vector<UsageDay> TakeDirty();
  // Marks `date` changed again (its file could not be written).
  void MarkDirty(const std::string& date);
  uint64_t dropped() const;

 private:
  mutable Mutex mu_;
  std::map<std::string, UsageDay> days_ GUARDED_BY(mu_);
  std::set<std::string> dirty_ GUARDED_BY(mu_);
  uint64_t dropped_ GUARDED_BY(mu_) = 0;
};

}  // namespace tiersync::serving

#endif  // TIERSYNC_SERVING_USAGE_H_
