// UsageCounter: views and downloads per resource and per day (docs/serving.md, "Usage"), kept
// in <node>/usage/<YYYY-MM-DD>.json: the last kUsageDaysInMemory days are read at Open(),
// changed days written atomically every kUsageFlushEvery by a thread of its own and at
// destruction. A day file that does not parse is kept aside as <date>.json.damaged. Thread-safe.
#ifndef TIERSYNC_NODE_USAGE_COUNTER_H_
#define TIERSYNC_NODE_USAGE_COUNTER_H_

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "base/env.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "node/http_server.h"
#include "serving/catalog_index.h"
#include "serving/usage.h"

namespace tiersync::node {

inline constexpr int kUsageDaysInMemory = 8;
inline constexpr int kMaxUsageDays = 366;  // GET /v1/usage?days=N, at most
inline constexpr auto kUsageFlushEvery = std::chrono::seconds(10);

class UsageCounter {
 public:
  // `env` is not owned and must outlive the counter; `dir` is <node>/usage.
  UsageCounter(Env* env, std::string dir);
  ~UsageCounter();  // stops the writer and writes the changed days
  UsageCounter(const UsageCounter&) = delete;
  UsageCounter& operator=(const UsageCounter&) = delete;

  // Creates the directory, reads the last days, starts the writer.
  Status Open();
  // Counts one view or download of resource `id` today (UTC).
  void Record(const std::string& id, serving::UsageKind kind);
  // Writes the changed days now; the first failure (those days are tried again later).
  Status Flush();
  // The last `days` days (today first), each with its counts; days without any are left out.
  std::vector<serving::UsageDay> RecentDays(int days);
  // GET /v1/usage?days=N.
  HttpReply Reply(const HttpRequest& request);
  // "usage" of /v1/status: today, the last 7 days, the top resources (titles from `catalog`,
  // which may be null).
  nlohmann::json StatusJson(const serving::CatalogIndex* catalog);

 private:
  std::string Today() const;
  void Load();
  serving::UsageDay DayOf(const std::string& date);

  Env* env_;
  const std::string dir_;
  serving::UsageLedger ledger_;
  Mutex mu_;
  std::set<std::string> loaded_ GUARDED_BY(mu_);
  Mutex stop_mu_;
  CondVar stop_cv_;
  bool stopping_ GUARDED_BY(stop_mu_) = false;
  std::thread writer_;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_USAGE_COUNTER_H_
