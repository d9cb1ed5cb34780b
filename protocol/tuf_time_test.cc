#include "protocol/tuf_time.h"

#include <gtest/gtest.h>

namespace tiersync::protocol {
namespace {

TEST(TufTimeTest, KnownInstants) {
  EXPECT_EQ(*ParseTufTime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseTufTime("2030-01-01T00:00:00Z"), 1893456000);
  EXPECT_EQ(*ParseTufTime("2024-02-29T12:34:56Z"), 1709210096);
}

TEST(TufTimeTest, FormatRoundTrip) {
  for (int64_t t : {0LL, 1709210096LL, 1893456000LL, 253402300799LL}) {
    EXPECT_EQ(*ParseTufTime(FormatTufTime(t)), t);
  }
  EXPECT_EQ(FormatTufTime(1709210096), "2024-02-29T12:34:56Z");
}

TEST(TufTimeTest, RejectsOtherForms) {
  for (const char* bad :
       {"2030-01-01T00:00:00", "2030-01-01T00:00:00.5Z", "2030-01-01 00:00:00Z",
        "2030-01-01T00:00:00+08:00", "2023-02-29T00:00:00Z", "2030-13-01T00:00:00Z",
        "2030-01-01T24:00:00Z", "1969-12-31T23:59:59Z", "２030-01-01T00:00:00Z", ""}) {
    EXPECT_EQ(ParseTufTime(bad).status().code(), StatusCode::kCorruption) << bad;
  }
}

}  // namespace
}  // namespace tiersync::protocol
