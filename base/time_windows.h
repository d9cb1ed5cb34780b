// TimeWindows: the hours of the day a node moves ordinary content ("22:00-06:00"), as a pure
// calculation: the minute of the day comes in as an argument (LocalMinuteOfDay converts a
// clock reading with the machine's UTC offset, which the caller looks up).
//
// A window "HH:MM-HH:MM" starts at its first minute and ends before its second; one whose end
// is not after its start runs past midnight ("22:00-06:00"); "00:00-24:00" is the whole day.
// No windows at all: always open.
#ifndef TIERSYNC_BASE_TIME_WINDOWS_H_
#define TIERSYNC_BASE_TIME_WINDOWS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace tiersync {

inline constexpr int kMinutesPerDay = 24 * 60;

struct TimeWindow {
  int from = 0;  // minutes after midnight, [0, 1440)
  int to = 0;    // (0, 1440]; not after `from`: the window wraps past midnight
};

class TimeWindows {
 public:
  TimeWindows() = default;
  // Each spec "HH:MM-HH:MM"; kInvalidArgument names the one that is not.
  static Result<TimeWindows> Parse(const std::vector<std::string>& specs);

  bool always_open() const { return windows_.empty(); }
  bool OpenAt(int minute_of_day) const;
  // Minutes from `minute_of_day` until a window opens (0 when one is open now).
  int MinutesUntilOpen(int minute_of_day) const;
  // The specs, normalised ("22:00-06:00"), as Parse takes them.
  std::vector<std::string> Specs() const;

 private:
  std::vector<TimeWindow> windows_;
};

// The minute of the day of `unix_us` in the zone `utc_offset_seconds` east of UTC.
int LocalMinuteOfDay(int64_t unix_us, int64_t utc_offset_seconds);

}  // namespace tiersync

#endif  // TIERSYNC_BASE_TIME_WINDOWS_H_
