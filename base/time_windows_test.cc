#include "base/time_windows.h"

#include <gtest/gtest.h>

namespace tiersync {
namespace {

int At(int h, int m) { return h * 60 + m; }

TEST(TimeWindowsTest, NoWindowsIsAlwaysOpen) {
  TimeWindows w;
  EXPECT_TRUE(w.always_open());
  EXPECT_TRUE(w.OpenAt(At(12, 0)));
  EXPECT_EQ(w.MinutesUntilOpen(At(12, 0)), 0);
}

TEST(TimeWindowsTest, AWindowPastMidnight) {
  auto w = TimeWindows::Parse({"22:00-06:00"});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE(w->OpenAt(At(22, 0)));
  EXPECT_TRUE(w->OpenAt(At(23, 59)));
  EXPECT_TRUE(w->OpenAt(At(0, 0)));
  EXPECT_TRUE(w->OpenAt(At(5, 59)));
  EXPECT_FALSE(w->OpenAt(At(6, 0)));
  EXPECT_FALSE(w->OpenAt(At(21, 59)));
  EXPECT_EQ(w->MinutesUntilOpen(At(8, 0)), 14 * 60);
  EXPECT_EQ(w->Specs(), std::vector<std::string>{"22:00-06:00"});
}

TEST(TimeWindowsTest, SeveralWindowsAndTheWholeDay) {
  auto w = TimeWindows::Parse({"12:00-13:30", "22:00-24:00"});
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w->OpenAt(At(12, 15)));
  EXPECT_FALSE(w->OpenAt(At(13, 30)));
  EXPECT_TRUE(w->OpenAt(At(23, 59)));
  EXPECT_FALSE(w->OpenAt(At(0, 0)));
  EXPECT_EQ(w->MinutesUntilOpen(At(14, 0)), 8 * 60);
  EXPECT_EQ(w->MinutesUntilOpen(At(1, 0)), 11 * 60);
  auto evening = TimeWindows::Parse({"22:00-00:00"});  // until midnight
  ASSERT_TRUE(evening.ok());
  EXPECT_TRUE(evening->OpenAt(At(23, 59)));
  EXPECT_FALSE(evening->OpenAt(At(0, 0)));
  EXPECT_EQ(evening->Specs(), std::vector<std::string>{"22:00-24:00"});
  auto day = TimeWindows::Parse({"00:00-24:00"});
  ASSERT_TRUE(day.ok());
  EXPECT_TRUE(day->OpenAt(0));
  EXPECT_TRUE(day->OpenAt(kMinutesPerDay - 1));
}

TEST(TimeWindowsTest, MalformedSpecsAreRefusedByName) {
  for (const char* bad : {"22-06", "22:00", "25:00-06:00", "22:00-22:00", "24:00-06:00",
                          "2a:00-06:00", "22:60-06:00", " 22:00-06:00"}) {
    auto w = TimeWindows::Parse({bad});
    ASSERT_FALSE(w.ok()) << bad;
    EXPECT_NE(w.status().message().find(bad), std::string::npos) << w.status().ToString();
  }
}

TEST(TimeWindowsTest, LocalMinuteOfDayUsesTheOffset) {
  // 2026-12-06 22:30:00 UTC is 06:30 the next morning in China (UTC+8).
  const int64_t t = int64_t{1796596200} * 1'000'000;
  EXPECT_EQ(LocalMinuteOfDay(t, 0), At(22, 30));
  EXPECT_EQ(LocalMinuteOfDay(t, 8 * 3600), At(6, 30));
  EXPECT_EQ(LocalMinuteOfDay(t, -5 * 3600), At(17, 30));
}

}  // namespace
}  // namespace tiersync
