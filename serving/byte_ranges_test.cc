#include "serving/byte_ranges.h"

#include <gtest/gtest.h>

namespace tiersync::serving {
namespace {

using Kind = RangeRequest::Kind;

std::vector<ByteRange> Ranges(std::string_view h, uint64_t size) {
  RangeRequest r = ParseRange(h, size);
  EXPECT_EQ(r.kind, RangeRequest::kRanges) << h;
  return r.ranges;
}

TEST(ByteRangesTest, SingleRanges) {
  EXPECT_EQ(Ranges("bytes=0-499", 1000), (std::vector<ByteRange>{{0, 499}}));
  EXPECT_EQ(Ranges("bytes=500-", 1000), (std::vector<ByteRange>{{500, 999}}));      // open
  EXPECT_EQ(Ranges("bytes=-100", 1000), (std::vector<ByteRange>{{900, 999}}));      // suffix
  EXPECT_EQ(Ranges("bytes=-5000", 1000), (std::vector<ByteRange>{{0, 999}}));       // long suffix
  EXPECT_EQ(Ranges("bytes=900-5000", 1000), (std::vector<ByteRange>{{900, 999}}));  // clamped
  EXPECT_EQ(Ranges(" Bytes = 0-0 ", 1000), (std::vector<ByteRange>{{0, 0}}));
}

TEST(ByteRangesTest, HugeNumbersAreSafe) {
  EXPECT_EQ(Ranges("bytes=0-18446744073709551615", 1000), (std::vector<ByteRange>{{0, 999}}));
  EXPECT_EQ(Ranges("bytes=0-99999999999999999999999", 1000), (std::vector<ByteRange>{{0, 999}}));
  EXPECT_EQ(Ranges("bytes=-99999999999999999999999", 1000), (std::vector<ByteRange>{{0, 999}}));
  EXPECT_EQ(ParseRange("bytes=18446744073709551615-", 1000).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=99999999999999999999999-", 1000).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=18446744073709551614-18446744073709551615", 1000).kind,
            Kind::kUnsatisfiable);
}

TEST(ByteRangesTest, Unsatisfiable) {
  EXPECT_EQ(ParseRange("bytes=1000-", 1000).kind, Kind::kUnsatisfiable);  // past the end
  EXPECT_EQ(ParseRange("bytes=1000-2000", 1000).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 1000).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=0-0", 0).kind, Kind::kUnsatisfiable);  // empty file
  EXPECT_EQ(ParseRange("bytes=-10", 0).kind, Kind::kUnsatisfiable);
  // One satisfiable range is enough.
  EXPECT_EQ(Ranges("bytes=5000-6000,0-1", 1000), (std::vector<ByteRange>{{0, 1}}));
}

TEST(ByteRangesTest, MultipleRangesAreSortedAndMerged) {
  EXPECT_EQ(Ranges("bytes=500-599,0-99", 1000), (std::vector<ByteRange>{{0, 99}, {500, 599}}));
  // Overlapping and adjacent ranges join.
  EXPECT_EQ(Ranges("bytes=0-99,50-149,150-199", 1000), (std::vector<ByteRange>{{0, 199}}));
  EXPECT_EQ(Ranges("bytes=0-10,-10,5-", 100), (std::vector<ByteRange>{{0, 99}}));
  EXPECT_EQ(Ranges("bytes=0-1,,3-4", 100), (std::vector<ByteRange>{{0, 1}, {3, 4}}));
}

TEST(ByteRangesTest, TooManyRangesGetTheWholeFile) {
  std::string h = "bytes=";
  for (int i = 0; i < 17; ++i) h += std::to_string(i * 10) + "-" + std::to_string(i * 10) + ",";
  EXPECT_EQ(ParseRange(h, 1000).kind, Kind::kIgnore);
  // Many ranges that merge into few are fine.
  std::string merged = "bytes=";
  for (int i = 0; i < 50; ++i) merged += "0-" + std::to_string(i) + ",";
  EXPECT_EQ(Ranges(merged, 1000), (std::vector<ByteRange>{{0, 49}}));
  EXPECT_EQ(ParseRange("bytes=" + std::string(2000, '1') + "-", 1000).kind, Kind::kIgnore);
}

TEST(ByteRangesTest, MalformedHeadersAreIgnored) {
  for (const char* h : {"", "bytes", "items=0-1", "bytes=", "bytes=abc", "bytes=1-a", "bytes=5-3",
                        "bytes=--1", "bytes=0x10-", "bytes=1", "bytes=+1-2"}) {
    EXPECT_EQ(ParseRange(h, 1000).kind, Kind::kIgnore) << h;
  }
}

TEST(ByteRangesTest, ContentRangeHeaders) {
  EXPECT_EQ(ContentRange({0, 499}, 1234), "bytes 0-499/1234");
  EXPECT_EQ(UnsatisfiedContentRange(1234), "bytes */1234");
}

TEST(ByteRangesTest, MultipartBodyLengthAddsUp) {
  MultipartBody b = BuildMultipart({{0, 9}, {20, 29}}, 100, "video/mp4", "XYZ");
  EXPECT_EQ(b.content_type, "multipart/byteranges; boundary=XYZ");
  ASSERT_EQ(b.pieces.size(), 3u);
  EXPECT_EQ(b.pieces[0].literal,
            "--XYZ\r\nContent-Type: video/mp4\r\nContent-Range: bytes 0-9/100\r\n\r\n");
  EXPECT_EQ(b.pieces[1].literal.substr(0, 7), "\r\n--XYZ");
  EXPECT_EQ(b.pieces[2].literal, "\r\n--XYZ--\r\n");
  EXPECT_FALSE(b.pieces[2].has_range);
  uint64_t total = 0;
  for (const auto& p : b.pieces) total += p.literal.size() + (p.has_range ? p.range.length() : 0);
  EXPECT_EQ(b.total, total);
}

}  // namespace
}  // namespace tiersync::serving
