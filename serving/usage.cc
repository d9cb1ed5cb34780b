#include "serving/usage.h"

#include <ctime>
#include <nlohmann/json.hpp>

namespace tiersync::serving {

using nlohmann::json;

UsageCounts UsageDay::Total() const {
  UsageCounts t;
  for (const auto& [id, c] : resources) {
    t.views += c.views;
    t.downloads += c.downloads;
  }
  return t;
}

std::string UtcDate(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string EncodeUsageDay(const UsageDay& day) {
  json j = {{"format", "tiersync-usage 1"}, {"date", day.date}, {"resources", json::object()}};
  for (const auto& [id, c] : day.resources) {
    j["resources"][id] = {{"views", c.views}, {"downloads", c.downloads}};
  }
  return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<UsageDay> DecodeUsageDay(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || j.value("format", "") != "tiersync-usage 1") {
    return InvalidArgumentError("not a tiersync-usage 1 file");
  }
  UsageDay day;
  if (!j.contains("date") || !j["date"].is_string()) return InvalidArgumentError("no date");
  day.date = j["date"].get<std::string>();
  if (day.date.size() != 10) return InvalidArgumentError("date is not YYYY-MM-DD");
  if (!j.contains("resources") || !j["resources"].is_object()) {
    return InvalidArgumentError("no resources object");
  }
  for (const auto& [id, c] : j["resources"].items()) {
    if (!c.is_object()) return InvalidArgumentError("resources." + id + ": not an object");
    UsageCounts counts;
    for (auto [name, field] :
         {std::pair{"views", &counts.views}, std::pair{"downloads", &counts.downloads}}) {
      if (!c.contains(name)) continue;
      if (!c[name].is_number_unsigned()) {
        return InvalidArgumentError("resources." + id + "." + name + ": not a count");
      }
      *field = c[name].get<uint64_t>();
    }
    day.resources.emplace(id, counts);
  }
  return day;
}

void UsageLedger::Record(const std::string& date, const std::string& id, UsageKind kind) {
  MutexLock lock(&mu_);
  UsageDay& day = days_[date];
  day.date = date;
  auto it = day.resources.find(id);
  if (it == day.resources.end()) {
    if (day.resources.size() >= kMaxUsageResourcesPerDay) {
      ++dropped_;
      return;
    }
    it = day.resources.emplace(id, UsageCounts{}).first;
  }
  (kind == UsageKind::kView ? it->second.views : it->second.downloads) += 1;
  dirty_.insert(date);
}

void UsageLedger::Load(UsageDay day) {
  MutexLock lock(&mu_);
  UsageDay& mine = days_[day.date];
  mine.date = day.date;
  for (auto& [id, c] : day.resources) {
    UsageCounts& m = mine.resources[id];
    m.views += c.views;
    m.downloads += c.downloads;
  }
}

UsageDay UsageLedger::Day(const std::string& date) const {
  MutexLock lock(&mu_);
  auto it = days_.find(date);
  if (it == days_.end()) return UsageDay{date, {}};
  return it->second;
}

std::vector<UsageDay> UsageLedger::TakeDirty() {
  MutexLock lock(&mu_);
  std::vector<UsageDay> out;
  for (const std::string& d : dirty_) out.push_back(days_[d]);
  dirty_.clear();
  return out;
}

void UsageLedger::MarkDirty(const std::string& date) {
  MutexLock lock(&mu_);
  if (days_.count(date)) dirty_.insert(date);
}

uint64_t UsageLedger::dropped() const {
  MutexLock lock(&mu_);
  return dropped_;
}

}  // namespace tiersync::serving
