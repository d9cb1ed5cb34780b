#include "base/time_windows.h"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace tiersync {
namespace {

// "HH:MM" with HH in [0, 24] (24 only as "24:00", for an end).
bool ParseClock(std::string_view s, int* minutes) {
  if (s.size() != 5 || s[2] != ':') return false;
  int h = 0, m = 0;
  auto r1 = std::from_chars(s.data(), s.data() + 2, h);
  auto r2 = std::from_chars(s.data() + 3, s.data() + 5, m);
  if (r1.ec != std::errc() || r1.ptr != s.data() + 2) return false;
  if (r2.ec != std::errc() || r2.ptr != s.data() + 5) return false;
  if (h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0)) return false;
  *minutes = h * 60 + m;
  return true;
}

std::string Clock(int minutes) {
  const int h = minutes / 60, m = minutes % 60;
  return {char('0' + h / 10), char('0' + h % 10), ':', char('0' + m / 10), char('0' + m % 10)};
}

bool Inside(const TimeWindow& w, int minute) {
  if (w.from < w.to) return minute >= w.from && minute < w.to;
  return minute >= w.from || minute < w.to;  // past midnight
}

}  // namespace

Result<TimeWindows> TimeWindows::Parse(const std::vector<std::string>& specs) {
  TimeWindows out;
  for (const auto& spec : specs) {
    const auto dash = spec.find('-');
    TimeWindow w;
    if (dash == std::string::npos || !ParseClock(std::string_view(spec).substr(0, dash), &w.from) ||
        !ParseClock(std::string_view(spec).substr(dash + 1), &w.to) || w.from == kMinutesPerDay ||
        w.from == w.to) {
      return InvalidArgumentError("time window \"" + spec +
                                  "\" is not HH:MM-HH:MM (local time, e.g. 22:00-06:00; the two "
                                  "times differ; 24:00 only as an end)");
    }
    if (w.to == 0) w.to = kMinutesPerDay;  // "22:00-00:00": until midnight
    out.windows_.push_back(w);
  }
  return out;
}

bool TimeWindows::OpenAt(int minute_of_day) const {
  if (windows_.empty()) return true;
  for (const auto& w : windows_) {
    if (Inside(w, minute_of_day)) return true;
  }
  return false;
}

int TimeWindows::MinutesUntilOpen(int minute_of_day) const {
  if (OpenAt(minute_of_day)) return 0;
  int best = kMinutesPerDay;
  for (const auto& w : windows_) {
    best = std::min(best, (w.from - minute_of_day + kMinutesPerDay) % kMinutesPerDay);
  }
  return best;
}

std::vector<std::string> TimeWindows::Specs() const {
  std::vector<std::string> out;
  for (const auto& w : windows_) out.push_back(Clock(w.from) + "-" + Clock(w.to));
  return out;
}

int LocalMinuteOfDay(int64_t unix_us, int64_t utc_offset_seconds) {
  const int64_t local_s = unix_us / 1'000'000 + utc_offset_seconds;
  const int64_t day_s = ((local_s % 86'400) + 86'400) % 86'400;
  return static_cast<int>(day_s / 60);
}

}  // namespace tiersync
