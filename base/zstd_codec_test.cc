#include "base/zstd_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/random.h"

namespace tiersync {
namespace {

std::vector<uint8_t> TextLike(size_t n) {
  std::string words = "education resource lesson textbook video ";
  std::vector<uint8_t> out;
  while (out.size() < n) out.insert(out.end(), words.begin(), words.end());
  out.resize(n);
  return out;
}

TEST(ZstdCodecTest, RoundTripCompressible) {
  ZstdCodec codec;
  std::vector<uint8_t> src = TextLike(65536), frame;
  ASSERT_TRUE(codec.CompressIfSmaller(src, &frame));
  EXPECT_LT(frame.size(), src.size());
  auto back = codec.Decompress(frame, src.size(), 1 << 20);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, src);
}

TEST(ZstdCodecTest, AFrameDeclaresItsSizeAndGarbageDeclaresNone) {
  ZstdCodec codec;
  std::vector<uint8_t> src = TextLike(10000), frame;
  ASSERT_TRUE(codec.CompressIfSmaller(src, &frame));
  auto size = ZstdCodec::DeclaredSize(frame);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, src.size());
  EXPECT_EQ(ZstdCodec::DeclaredSize(src).status().code(), StatusCode::kCorruption);
}

TEST(ZstdCodecTest, IncompressibleIsNotCompressed) {
  ZstdCodec codec;
  std::vector<uint8_t> src(65536), frame;
  Random(5).Fill(src);
  EXPECT_FALSE(codec.CompressIfSmaller(src, &frame));
}

TEST(ZstdCodecTest, BombOverBoundIsRejectedBeforeAllocation) {
  ZstdCodec codec;
  std::vector<uint8_t> src(8 << 20, 0), frame;  // 8 MiB of zeros compress to a few hundred bytes
  ASSERT_TRUE(codec.CompressIfSmaller(src, &frame));
  auto r = codec.Decompress(frame, src.size(), 1 << 20);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
}

TEST(ZstdCodecTest, WrongExpectedSizeIsCorruption) {
  ZstdCodec codec;
  std::vector<uint8_t> src = TextLike(10000), frame;
  ASSERT_TRUE(codec.CompressIfSmaller(src, &frame));
  EXPECT_EQ(codec.Decompress(frame, 9999, 1 << 20).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(codec.Decompress(frame, 10001, 1 << 20).status().code(), StatusCode::kCorruption);
}

TEST(ZstdCodecTest, TrailingBytesAreCorruption) {
  ZstdCodec codec;
  std::vector<uint8_t> src = TextLike(10000), frame;
  ASSERT_TRUE(codec.CompressIfSmaller(src, &frame));
  frame.push_back(0);
  EXPECT_EQ(codec.Decompress(frame, src.size(), 1 << 20).status().code(), StatusCode::kCorruption);
}

TEST(ZstdCodecTest, TruncatedFrameIsCorruption) {
  ZstdCodec codec;
  std::vector<uint8_t> src = TextLike(10000), frame;
  ASSERT_TRUE(codec.CompressIfSmaller(src, &frame));
  frame.resize(frame.size() / 2);
  EXPECT_EQ(codec.Decompress(frame, src.size(), 1 << 20).status().code(), StatusCode::kCorruption);
}

TEST(ZstdCodecTest, GarbageIsCorruption) {
  ZstdCodec codec;
  std::vector<uint8_t> junk = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(codec.Decompress(junk, 8, 1 << 20).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tiersync
