#include "replication/pack_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "base/random.h"
#include "base/sha256.h"

namespace tiersync::replication {
namespace {

std::vector<uint8_t> Record(const PreparedChunk& c) {
  auto h = EncodeRecordHeader(c);
  std::vector<uint8_t> r(h.size() + c.payload.size());
  std::copy(h.begin(), h.end(), r.begin());
  std::copy(c.payload.begin(), c.payload.end(), r.begin() + h.size());
  return r;
}

ChunkLocation LocationOf(const PreparedChunk& c) {
  return {7, c.flags, 1000, static_cast<uint32_t>(c.payload.size()), c.raw_len, c.xxh3};
}

TEST(PackFormatTest, LocationRoundTrip) {
  ChunkLocation loc{3, kFlagZstd, 123456789, 4000, 65536, 0x1122334455667788ULL};
  auto enc = EncodeLocation(loc);
  auto dec = DecodeLocation(enc);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(*dec, loc);
}

TEST(PackFormatTest, LocationWithUnknownFlagsIsCorruption) {
  ChunkLocation loc{3, 0, 1, 1, 1, 0};
  auto enc = EncodeLocation(loc);
  enc[4] = 0x80;
  EXPECT_EQ(DecodeLocation(enc).status().code(), StatusCode::kCorruption);
}

TEST(PackFormatTest, CompressibleChunkIsStoredCompressedAndDecodes) {
  ZstdCodec codec;
  std::vector<uint8_t> raw(65536, 'a');
  ChunkId id = Sha256(raw);
  PreparedChunk c = PrepareChunk(id, &raw, &codec);
  EXPECT_EQ(c.flags, kFlagZstd);
  EXPECT_LT(c.payload.size(), raw.size());
  auto back = DecodeRecord(id, LocationOf(c), Record(c), ReadCheck::kFull, &codec);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, raw);
}

TEST(PackFormatTest, RandomChunkIsStoredRaw) {
  ZstdCodec codec;
  std::vector<uint8_t> raw(65536);
  Random(1).Fill(raw);
  const std::vector<uint8_t> copy = raw;
  PreparedChunk c = PrepareChunk(Sha256(raw), &raw, &codec);
  EXPECT_EQ(c.flags, 0);
  EXPECT_EQ(c.payload, copy);
  EXPECT_TRUE(raw.empty());  // the payload took over the buffer
}

TEST(PackFormatTest, FlippedPayloadByteIsChecksumMismatch) {
  ZstdCodec codec;
  std::vector<uint8_t> raw(5000);
  Random(2).Fill(raw);
  ChunkId id = Sha256(raw);
  PreparedChunk c = PrepareChunk(id, &raw, &codec);
  auto rec = Record(c);
  rec[kRecordHeaderBytes + 100] ^= 1;
  auto r = DecodeRecord(id, LocationOf(c), rec, ReadCheck::kChecksum, &codec);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("checksum"), std::string::npos);
}

TEST(PackFormatTest, RecordOfAnotherChunkIsRejected) {
  ZstdCodec codec;
  std::vector<uint8_t> raw(5000, 'x');
  PreparedChunk c = PrepareChunk(Sha256(raw), &raw, &codec);
  ChunkId other{};
  other.fill(9);
  auto r = DecodeRecord(other, LocationOf(c), Record(c), ReadCheck::kChecksum, &codec);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
}

TEST(PackFormatTest, TruncatedRecordIsCorruption) {
  ZstdCodec codec;
  std::vector<uint8_t> raw(5000, 'x');
  ChunkId id = Sha256(raw);
  PreparedChunk c = PrepareChunk(id, &raw, &codec);
  auto rec = Record(c);
  rec.pop_back();
  EXPECT_EQ(DecodeRecord(id, LocationOf(c), rec, ReadCheck::kChecksum, &codec).status().code(),
            StatusCode::kCorruption);
}

TEST(PackFormatTest, ConsistentForgeryCaughtOnlyByFullCheck) {
  // A record whose checksum was recomputed over wrong content passes the XXH3 check; only
  // the SHA-256 of kFull catches it. This is why verify and restore use kFull.
  ZstdCodec codec;
  std::vector<uint8_t> raw(5000, 'x'), wrong(5000, 'y');
  ChunkId id = Sha256(raw);
  PreparedChunk forged = PrepareChunk(id, &wrong, nullptr);
  auto rec = Record(forged);
  EXPECT_TRUE(DecodeRecord(id, LocationOf(forged), rec, ReadCheck::kChecksum, &codec).ok());
  EXPECT_EQ(DecodeRecord(id, LocationOf(forged), rec, ReadCheck::kFull, &codec).status().code(),
            StatusCode::kCorruption);
}

TEST(PackFormatTest, PackFileNames) {
  EXPECT_EQ(PackFileName(1), "pack-00000001.tsp");
  EXPECT_EQ(PackFileName(123456), "pack-00123456.tsp");
}

}  // namespace
}  // namespace tiersync::replication
