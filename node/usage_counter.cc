#include "node/usage_counter.h"

#include <algorithm>
#include <iostream>
#include <map>

#include "base/bytes.h"
#include "node/user_replies.h"
#include "serving/request_path.h"

namespace tiersync::node {
namespace {

using nlohmann::json;

constexpr size_t kMaxUsageFileBytes = 256 << 20;

}  // namespace

UsageCounter::UsageCounter(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}

UsageCounter::~UsageCounter() {
  {
    MutexLock l(&stop_mu_);
    stopping_ = true;
  }
  stop_cv_.SignalAll();
  if (writer_.joinable()) writer_.join();
  Flush().IgnoreError();
}

std::string UsageCounter::Today() const { return serving::UtcDate(NowSeconds(env_)); }

Status UsageCounter::Open() {
  TS_RETURN_IF_ERROR(CreateDirs(env_, dir_));
  Load();
  writer_ = std::thread([this] {
    constexpr uint64_t kFlushEveryMicros =
        std::chrono::duration_cast<std::chrono::microseconds>(kUsageFlushEvery).count();
    MutexLock l(&stop_mu_);
    while (!stopping_) {
      // A spurious wake-up only flushes early.
      stop_cv_.WaitForMicros(&stop_mu_, kFlushEveryMicros);
      l.Unlock();
      Flush().IgnoreError();
      l.Lock();
    }
  });
  return Status::Ok();
}

void UsageCounter::Load() {
  const int64_t now = NowSeconds(env_);
  for (int d = 0; d < kUsageDaysInMemory; ++d) {
    const std::string date = serving::UtcDate(now - int64_t{d} * 86400);
    const std::string file = JoinPath(dir_, date + ".json");
    auto bytes = ReadFileToBytes(env_, file, kMaxUsageFileBytes);
    if (bytes.ok()) {
      auto day = serving::DecodeUsageDay(std::string(bytes->begin(), bytes->end()));
      if (day.ok() && day->date == date) {
        ledger_.Load(std::move(day).value());
      } else {  // kept aside, never overwritten: the counts may still be read by hand
        env_->RenameFile(file, file + ".damaged").IgnoreError();
        std::cerr << "tiersync node: usage/" << date << ".json is damaged; kept as " << date
                  << ".json.damaged, counting that day from zero" << std::endl;
      }
    }
    MutexLock l(&mu_);
    loaded_.insert(date);
  }
}

void UsageCounter::Record(const std::string& id, serving::UsageKind kind) {
  ledger_.Record(Today(), id, kind);
}

serving::UsageDay UsageCounter::DayOf(const std::string& date) {
  {
    MutexLock l(&mu_);
    if (loaded_.count(date) || date == Today()) return ledger_.Day(date);
  }
  auto bytes = ReadFileToBytes(env_, JoinPath(dir_, date + ".json"), kMaxUsageFileBytes);
  if (!bytes.ok()) return serving::UsageDay{date, {}};
  auto day = serving::DecodeUsageDay(std::string(bytes->begin(), bytes->end()));
  return day.ok() ? *day : serving::UsageDay{date, {}};
}

std::vector<serving::UsageDay> UsageCounter::RecentDays(int days) {
  const int64_t now = NowSeconds(env_);
  std::vector<serving::UsageDay> out;
  for (int d = 0; d < days; ++d) {
    serving::UsageDay day = DayOf(serving::UtcDate(now - int64_t{d} * 86400));
    if (!day.resources.empty()) out.push_back(std::move(day));
  }
  return out;
}

HttpReply UsageCounter::Reply(const HttpRequest& request) {
  auto q = serving::QueryParameters(request.target);
  int days = 7;
  if (auto it = q.find("days"); it != q.end() && !it->second.empty() && it->second.size() <= 9 &&
                                it->second.find_first_not_of("0123456789") == std::string::npos) {
    days = static_cast<int>(std::min<uint64_t>(std::stoull(it->second), kMaxUsageDays));
  }
  const int64_t now = NowSeconds(env_);
  json out = json::array();
  for (int d = 0; d < std::max(days, 1); ++d) {
    serving::UsageDay day = DayOf(serving::UtcDate(now - int64_t{d} * 86400));
    json resources = json::object();
    for (const auto& [id, c] : day.resources) {
      resources[id] = {{"views", c.views}, {"downloads", c.downloads}};
    }
    const serving::UsageCounts t = day.Total();
    out.push_back({{"date", day.date},
                   {"views", t.views},
                   {"downloads", t.downloads},
                   {"resources", resources}});
  }
  return UserJson(JsonText({{"days", out}}));
}

Status UsageCounter::Flush() {
  Status first;
  for (const serving::UsageDay& day : ledger_.TakeDirty()) {
    Status s = WriteFileAtomically(env_, JoinPath(dir_, day.date + ".json"),
                                   AsBytes(serving::EncodeUsageDay(day)));
    if (!s.ok()) {
      std::cerr << "tiersync node: cannot write usage for " << day.date << ": " << s.ToString()
                << std::endl;
      ledger_.MarkDirty(day.date);  // try again at the next flush
      if (first.ok()) first = s;
    }
  }
  return first;
}

json UsageCounter::StatusJson(const serving::CatalogIndex* catalog) {
  const int64_t now = NowSeconds(env_);
  serving::UsageDay today = ledger_.Day(Today());
  serving::UsageCounts week;
  std::map<std::string, serving::UsageCounts> per;
  for (int d = 0; d < 7; ++d) {
    serving::UsageDay day = ledger_.Day(serving::UtcDate(now - int64_t{d} * 86400));
    for (const auto& [id, c] : day.resources) {
      per[id].views += c.views;
      per[id].downloads += c.downloads;
      week.views += c.views;
      week.downloads += c.downloads;
    }
  }
  std::vector<std::pair<std::string, serving::UsageCounts>> top(per.begin(), per.end());
  std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
    return std::tie(b.second.downloads, b.second.views, a.first) <
           std::tie(a.second.downloads, a.second.views, b.first);
  });
  if (top.size() > 10) top.resize(10);
  json top_json = json::array();
  for (const auto& [id, c] : top) {
    const catalogs::Resource* r = catalog ? catalog->Find(id) : nullptr;
    top_json.push_back(
        {{"id", id}, {"title", r ? r->title : ""}, {"views", c.views}, {"downloads", c.downloads}});
  }
  const serving::UsageCounts t = today.Total();
  return {{"today", {{"date", today.date}, {"views", t.views}, {"downloads", t.downloads}}},
          {"last_7_days", {{"views", week.views}, {"downloads", week.downloads}}},
          {"top", top_json},
          {"dropped", ledger_.dropped()}};
}

}  // namespace tiersync::node
