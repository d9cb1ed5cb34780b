#include "hub/sample_media.h"

#include <gtest/gtest.h>

#include <vector>

#include "base/sha256.h"
#include "base/zstd_codec.h"

namespace tiersync::hub {
namespace {

std::vector<uint8_t> Generate(SampleKind kind, uint64_t size, uint64_t seed) {
  std::vector<uint8_t> out;
  EXPECT_TRUE(GenerateSample(kind, size, seed, [&](ByteSpan b) {
                out.insert(out.end(), b.begin(), b.end());
                return Status::Ok();
              }).ok());
  return out;
}

TEST(SampleMediaTest, DeterministicAndExactSize) {
  auto a = Generate(SampleKind::kMedia, 3'000'001, 9);
  EXPECT_EQ(a.size(), 3'000'001u);
  EXPECT_EQ(a, Generate(SampleKind::kMedia, 3'000'001, 9));
  EXPECT_NE(a, Generate(SampleKind::kMedia, 3'000'001, 10));
}

TEST(SampleMediaTest, MediaDoesNotCompressTextDoes) {
  ZstdCodec codec(1);
  std::vector<uint8_t> frame;
  EXPECT_FALSE(codec.CompressIfSmaller(Generate(SampleKind::kMedia, 65536, 1), &frame));
  auto text = Generate(SampleKind::kText, 65536, 1);
  ASSERT_TRUE(codec.CompressIfSmaller(text, &frame));
  EXPECT_LT(frame.size(), text.size() / 2);
}

TEST(SampleMediaTest, GoldenDigestNeverChanges) {
  // Benchmarks and fixtures depend on these bytes staying the same across builds.
  EXPECT_EQ(ToHex(Sha256(Generate(SampleKind::kMedia, 1 << 20, 1))),
            "571293e65aeeecc0dcf4e3eea2322e67a592965d7f4be8a770d94ccc2a041126");
  EXPECT_EQ(ToHex(Sha256(Generate(SampleKind::kText, 1 << 20, 1))),
            "715d6eba9863b78d7b0460acb99c19c0343e0be95b5ff6c8bec31554b1d3fc95");
}

TEST(SampleMediaTest, ParseKind) {
  EXPECT_EQ(ParseSampleKind("media"), SampleKind::kMedia);
  EXPECT_EQ(ParseSampleKind("text"), SampleKind::kText);
  EXPECT_FALSE(ParseSampleKind("video"));
}

}  // namespace
}  // namespace tiersync::hub
