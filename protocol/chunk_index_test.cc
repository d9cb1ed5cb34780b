#include "protocol/chunk_index.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

namespace tiersync::protocol {
namespace {

ChunkIndex SampleIndex() {
  ChunkIndex index;
  index.params = ChunkerParams{kChunkerFastCdcV1, 2, 1024, 4096, 16384};
  uint32_t sizes[] = {5000, 1024, 16384, 7};
  for (uint32_t i = 0; i < 4; ++i) {
    ChunkRef c;
    c.id.fill(static_cast<uint8_t>(i + 1));
    c.size = sizes[i];
    index.chunks.push_back(c);
    index.file_size += sizes[i];
  }
  index.file_sha256.fill(0xAB);
  return index;
}

TEST(ChunkIndexTest, RoundTripIsByteExact) {
  ChunkIndex index = SampleIndex();
  ASSERT_TRUE(ValidateChunkIndex(index).ok());
  std::vector<uint8_t> bytes = EncodeChunkIndex(index);
  EXPECT_EQ(bytes.size(), kChunkIndexHeaderBytes + 4 * kChunkIndexEntryBytes);
  auto decoded = DecodeChunkIndex(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, index);
  EXPECT_EQ(EncodeChunkIndex(*decoded), bytes);
}

TEST(ChunkIndexTest, EmptyFileHasNoChunks) {
  ChunkIndex index;
  index.file_sha256 = Sha256({});
  auto decoded = DecodeChunkIndex(EncodeChunkIndex(index));
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->chunks.empty());
  EXPECT_EQ(decoded->file_size, 0u);
}

// Named corruptions: each must be rejected with a status that says what is wrong.
StatusCode DecodeCode(const std::vector<uint8_t>& b) { return DecodeChunkIndex(b).status().code(); }

TEST(ChunkIndexTest, TruncatedHeader) {
  auto b = EncodeChunkIndex(SampleIndex());
  b.resize(40);
  EXPECT_EQ(DecodeCode(b), StatusCode::kCorruption);
}

TEST(ChunkIndexTest, TruncatedEntry) {
  auto b = EncodeChunkIndex(SampleIndex());
  b.pop_back();
  EXPECT_EQ(DecodeCode(b), StatusCode::kCorruption);
}

TEST(ChunkIndexTest, TrailingData) {
  auto b = EncodeChunkIndex(SampleIndex());
  b.push_back(0);
  auto r = DecodeChunkIndex(b);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("trailing"), std::string::npos);
}

TEST(ChunkIndexTest, BadMagic) {
  auto b = EncodeChunkIndex(SampleIndex());
  b[0] = 'X';
  EXPECT_EQ(DecodeCode(b), StatusCode::kCorruption);
}

TEST(ChunkIndexTest, FutureVersionIsNotSupported) {
  auto b = EncodeChunkIndex(SampleIndex());
  b[4] = 2;
  EXPECT_EQ(DecodeCode(b), StatusCode::kNotSupported);
}

TEST(ChunkIndexTest, UnknownChunkerIsNotSupported) {
  auto b = EncodeChunkIndex(SampleIndex());
  b[5] = 9;
  EXPECT_EQ(DecodeCode(b), StatusCode::kNotSupported);
}

TEST(ChunkIndexTest, NonZeroReserved) {
  auto b = EncodeChunkIndex(SampleIndex());
  b[7] = 1;
  EXPECT_EQ(DecodeCode(b), StatusCode::kCorruption);
}

TEST(ChunkIndexTest, SizesDoNotAddUpToFileSize) {
  auto b = EncodeChunkIndex(SampleIndex());
  b[24] ^= 1;  // file size
  auto r = DecodeChunkIndex(b);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("add up"), std::string::npos);
}

TEST(ChunkIndexTest, ChunkCountLiesAboutLength) {
  auto b = EncodeChunkIndex(SampleIndex());
  b[20] = 5;
  EXPECT_EQ(DecodeCode(b), StatusCode::kCorruption);
}

TEST(ChunkIndexTest, HugeChunkCountRejectedWithoutAllocation) {
  auto b = EncodeChunkIndex(SampleIndex());
  b[20] = b[21] = b[22] = b[23] = 0xFF;
  EXPECT_EQ(DecodeCode(b), StatusCode::kCorruption);
}

TEST(ChunkIndexTest, ChunkLargerThanMax) {
  ChunkIndex index = SampleIndex();
  index.chunks[0].size = index.params.max_size + 1;
  index.file_size += index.params.max_size + 1 - 5000;
  EXPECT_EQ(DecodeCode(EncodeChunkIndex(index)), StatusCode::kCorruption);
}

TEST(ChunkIndexTest, ZeroSizeChunk) {
  ChunkIndex index = SampleIndex();
  index.file_size -= index.chunks.back().size;
  index.chunks.back().size = 0;
  EXPECT_EQ(DecodeCode(EncodeChunkIndex(index)), StatusCode::kCorruption);
}

TEST(ChunkIndexTest, InnerChunkShorterThanMin) {
  ChunkIndex index = SampleIndex();
  index.chunks[1].size = 10;
  index.file_size -= 1014;
  EXPECT_EQ(DecodeCode(EncodeChunkIndex(index)), StatusCode::kCorruption);
}

TEST(ChunkIndexTest, ParamsOutOfOrder) {
  auto b = EncodeChunkIndex(SampleIndex());
  b[8] = 0x00;
  b[9] = 0x40;  // min = 16384 > avg 4096
  EXPECT_EQ(DecodeCode(b), StatusCode::kCorruption);
}

TEST(ChunkIndexTest, ParamsValidation) {
  EXPECT_TRUE(ValidateChunkerParams(ChunkerParams{}).ok());
  EXPECT_FALSE(ValidateChunkerParams(ChunkerParams{kChunkerFastCdcV1, 2, 1024, 3000, 8192}).ok());
  EXPECT_FALSE(ValidateChunkerParams(ChunkerParams{kChunkerFastCdcV1, 4, 1024, 4096, 8192}).ok());
  EXPECT_FALSE(
      ValidateChunkerParams(ChunkerParams{kChunkerFastCdcV1, 2, 1024, 4096, kMaxChunkBytes + 1})
          .ok());
}

// Golden fixture: a chunk index written by the first release of the format. It must decode
// with every later build, to the same values, and re-encode to the same bytes. Never edit it;
// add a new fixture for a new format version instead.
TEST(ChunkIndexTest, GoldenV1FixtureDecodes) {
  std::ifstream in(std::string(TIERSYNC_TESTDATA_DIR) + "/chunk_index/v1/sample.tsci",
                   std::ios::binary);
  ASSERT_TRUE(in.good()) << "missing golden fixture";
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  auto index = DecodeChunkIndex(bytes);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(*index, SampleIndex());
  EXPECT_EQ(ToHex(ChunkIndexId(bytes)),
            "e16e4abe40c618f9720d49766db6a83816a479aa5ca850d3e23021dfbcbea12f");
  EXPECT_EQ(EncodeChunkIndex(*index), bytes);
}

}  // namespace
}  // namespace tiersync::protocol
