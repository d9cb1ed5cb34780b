#include "tests/fault_proxy/faults.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/sha256.h"
#include "protocol/chunk_batch.h"

namespace tiersync::fault_proxy {
namespace {

using protocol::BatchFrameKind;
using protocol::ChunkId;

struct Batch {
  std::vector<ChunkId> ids;
  std::vector<uint8_t> request, response;
};

// Two chunks present, one absent.
Batch MakeBatch() {
  Batch b;
  const std::string a = "first chunk", c = "second chunk";
  b.ids = {Sha256(AsBytes(a)), Sha256(AsBytes(std::string("absent"))), Sha256(AsBytes(c))};
  b.request = protocol::EncodeBatchRequest(b.ids);
  protocol::BatchResponseWriter w;
  w.AddChunk(b.ids[0], AsBytes(a));
  w.AddMissing(b.ids[1], BatchFrameKind::kAbsent);
  w.AddChunk(b.ids[2], AsBytes(c));
  const std::string body = std::move(w).Finish();
  b.response.assign(body.begin(), body.end());
  return b;
}

TEST(FaultsTest, ParsesNamesAndRefusesOthers) {
  EXPECT_EQ(*ParseFault("flip-chunks"), Fault::kFlipChunks);
  EXPECT_EQ(FaultName(*ParseFault("rollback")), "rollback");
  auto bad = ParseFault("lie");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("withhold-chunks"), std::string::npos);
}

TEST(FaultsTest, FlipKeepsFramesButEveryChunkFailsItsId) {
  Batch b = MakeBatch();
  uint64_t tampered = 0;
  auto out = TamperBatch(Fault::kFlipChunks, b.request, b.response, &tampered);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(tampered, 2u);
  auto frames = protocol::DecodeBatchResponse(*out, b.ids);
  ASSERT_TRUE(frames.ok()) << frames.status().ToString();
  ASSERT_EQ(frames->size(), 3u);
  EXPECT_EQ((*frames)[1].kind, BatchFrameKind::kAbsent);
  for (size_t k : {0u, 2u}) {
    EXPECT_EQ((*frames)[k].kind, BatchFrameKind::kChunk);
    EXPECT_NE(Sha256((*frames)[k].bytes), b.ids[k]);
  }
}

TEST(FaultsTest, WithholdAnswersTheFirstChunkAbsentAndKeepsTheRest) {
  Batch b = MakeBatch();
  uint64_t tampered = 0;
  auto out = TamperBatch(Fault::kWithholdChunks, b.request, b.response, &tampered);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(tampered, 1u);
  auto frames = protocol::DecodeBatchResponse(*out, b.ids);
  ASSERT_TRUE(frames.ok());
  EXPECT_EQ((*frames)[0].kind, BatchFrameKind::kAbsent);
  EXPECT_EQ((*frames)[2].kind, BatchFrameKind::kChunk);
  EXPECT_EQ(Sha256((*frames)[2].bytes), b.ids[2]);
}

TEST(FaultsTest, OtherFaultsLeaveBatchesAlone) {
  Batch b = MakeBatch();
  uint64_t tampered = 0;
  for (Fault f : {Fault::kPass, Fault::kRollback, Fault::kFreeze}) {
    auto out = TamperBatch(f, b.request, b.response, &tampered);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, b.response);
  }
  EXPECT_EQ(tampered, 0u);
}

TEST(FaultsTest, UndecodableResponseIsAnError) {
  Batch b = MakeBatch();
  b.response.resize(b.response.size() - 3);
  uint64_t tampered = 0;
  EXPECT_FALSE(TamperBatch(Fault::kFlipChunks, b.request, b.response, &tampered).ok());
}

TEST(FaultsTest, TimestampMemoryReplaysOldestOrFrozen) {
  TimestampMemory m;
  const std::vector<uint8_t> v1 = {'1'}, v2 = {'2'}, v3 = {'3'};
  EXPECT_FALSE(m.Replacement(Fault::kRollback));
  m.Relayed(v1);
  m.Relayed(v2);
  m.Freeze();
  m.Relayed(v3);
  EXPECT_EQ(*m.Replacement(Fault::kRollback), v1);
  EXPECT_EQ(*m.Replacement(Fault::kFreeze), v2);
  EXPECT_FALSE(m.Replacement(Fault::kPass));
}

TEST(FaultsTest, FlipOneByteChangesExactlyOne) {
  std::vector<uint8_t> body = {1, 2, 3, 4};
  auto flipped = FlipOneByte(body);
  int diffs = 0;
  for (size_t i = 0; i < body.size(); ++i) diffs += body[i] != flipped[i];
  EXPECT_EQ(diffs, 1);
  EXPECT_TRUE(FlipOneByte({}).empty());
}

}  // namespace
}  // namespace tiersync::fault_proxy
