#include "protocol/chunk_batch.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/sha256.h"

namespace tiersync::protocol {
namespace {

ChunkId Id(uint8_t b) {
  ChunkId id{};
  id.fill(b);
  return id;
}

TEST(ChunkBatchTest, RequestRoundTripAndLimits) {
  std::vector<ChunkId> ids = {Id(1), Id(2)};
  auto decoded = DecodeBatchRequest(EncodeBatchRequest(ids));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, ids);
  EXPECT_EQ(DecodeBatchRequest({}).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> odd(33, 0);
  EXPECT_EQ(DecodeBatchRequest(odd).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> many((kMaxBatchChunks + 1) * 32, 0);
  EXPECT_EQ(DecodeBatchRequest(many).status().code(), StatusCode::kInvalidArgument);
}

TEST(ChunkBatchTest, ResponseRoundTrip) {
  std::vector<uint8_t> a = {1, 2, 3};
  std::vector<ChunkId> ids = {Id(1), Id(2), Id(3)};
  BatchResponseWriter w;
  w.AddChunk(ids[0], a);
  w.AddMissing(ids[1], BatchFrameKind::kAbsent);
  w.AddMissing(ids[2], BatchFrameKind::kNotSent);
  const std::string body = std::move(w).Finish();
  auto frames = DecodeBatchResponse(AsBytes(body), ids);
  ASSERT_TRUE(frames.ok()) << frames.status().ToString();
  ASSERT_EQ(frames->size(), 3u);
  EXPECT_EQ((*frames)[0].kind, BatchFrameKind::kChunk);
  EXPECT_EQ(std::vector<uint8_t>((*frames)[0].bytes.begin(), (*frames)[0].bytes.end()), a);
  EXPECT_EQ((*frames)[1].kind, BatchFrameKind::kAbsent);
  EXPECT_EQ((*frames)[2].kind, BatchFrameKind::kNotSent);
}

TEST(ChunkBatchTest, ZstdFramesRoundTripAndAreChunks) {
  std::vector<uint8_t> frame = {0x28, 0xb5, 0x2f, 0xfd, 7};  // what it holds is not checked here
  std::vector<ChunkId> ids = {Id(1), Id(2)};
  BatchResponseWriter w;
  w.AddFrame(ids[0], BatchFrameKind::kChunkZstd, frame);
  w.AddFrame(ids[1], BatchFrameKind::kAbsent, {});
  const std::string body = std::move(w).Finish();
  auto frames = DecodeBatchResponse(AsBytes(body), ids);
  ASSERT_TRUE(frames.ok()) << frames.status().ToString();
  EXPECT_EQ((*frames)[0].kind, BatchFrameKind::kChunkZstd);
  EXPECT_TRUE(CarriesChunk((*frames)[0].kind));
  EXPECT_EQ(std::vector<uint8_t>((*frames)[0].bytes.begin(), (*frames)[0].bytes.end()), frame);
  EXPECT_FALSE(CarriesChunk((*frames)[1].kind));
  // A kind past kChunkZstd is refused.
  std::string bad = body;
  bad[8 + 32] = 4;
  auto refused = DecodeBatchResponse(AsBytes(bad), ids);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("unknown kind 4"), std::string::npos);
}

TEST(ChunkBatchTest, MalformedResponsesAreRefusedWithTheReason) {
  std::vector<ChunkId> ids = {Id(1)};
  BatchResponseWriter w;
  w.AddChunk(ids[0], std::vector<uint8_t>{9, 9});
  const std::string finished = std::move(w).Finish();
  const std::vector<uint8_t> good(finished.begin(), finished.end());
  auto expect = [&](std::vector<uint8_t> body, std::span<const ChunkId> want,
                    const std::string& says) {
    auto r = DecodeBatchResponse(body, want);
    ASSERT_FALSE(r.ok()) << says;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find(says), std::string::npos) << r.status().ToString();
  };
  auto bad = good;
  bad[0] = 'X';
  expect(bad, ids, "magic");
  bad = good;
  bad.push_back(0);
  expect(bad, ids, "trailing");
  bad = good;
  bad.pop_back();
  expect(bad, ids, "truncated chunk");
  std::vector<ChunkId> other = {Id(7)};
  expect(good, other, "is not the requested");
  bad = good;
  bad[8 + 32] = 5;
  expect(bad, ids, "unknown kind");
  bad = good;
  bad[8 + 36] = 0;  // size 0
  bad[8 + 37] = 0;
  expect(bad, ids, "out of range");
  std::vector<ChunkId> two = {Id(1), Id(2)};
  expect(good, two, "frame 1: truncated");
}

}  // namespace
}  // namespace tiersync::protocol
