#include "replication/transfer_engine.h"

#include <gtest/gtest.h>

#include <vector>

namespace tiersync::replication {
namespace {

using Kind = TransferStep::Kind;

protocol::ChunkRef Chunk(uint8_t n, uint32_t size) {
  protocol::ChunkRef r;
  r.id.fill(n);
  r.size = size;
  return r;
}

PlannedFile File(uint8_t n) {
  PlannedFile f;
  f.path = "f" + std::to_string(n);
  f.index_id.fill(n);
  return f;
}

// Every answer the engine gets here is made by hand: no fetcher, no store, no clock.
class TransferEngineTest : public ::testing::Test {
 protected:
  SourcePolicy policy_{{{"county", "http://c"}, {"city", "http://m"}, {"national", "http://n"}},
                       {/*base_backoff_ms=*/1000, /*max_backoff_ms=*/8000}};

  static ChunksAnswer AllStored(const TransferRequest& r) {
    ChunksAnswer a;
    a.answer.bytes = r.bytes;
    return a;
  }
  // Runs the engine to its end, answering each request with `answer` at time `now`.
  template <typename F>
  std::vector<TransferRequest> Drain(TransferEngine* e, F answer, int64_t now = 1'000'000) {
    std::vector<TransferRequest> sent;
    for (int guard = 0; guard < 1000; ++guard) {
      TransferStep s = e->Next(now);
      if (s.kind == Kind::kDone) return sent;
      EXPECT_EQ(s.kind, Kind::kRequest);
      if (s.kind != Kind::kRequest) return sent;
      sent.push_back(s.request);
      e->OnChunks(s.request.id, answer(s.request), now);
    }
    ADD_FAILURE() << "the engine never finished";
    return sent;
  }
};

TEST_F(TransferEngineTest, ChunksGoInOrderInBatchesToTheFirstSource) {
  TransferEngine e(&policy_, {.batch_bytes = 8 << 20, .batch_chunks = 2, .max_in_flight = 1});
  e.AddChunks({Chunk(1, 10), Chunk(2, 10), Chunk(3, 10)});
  auto sent = Drain(&e, AllStored);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].chunks, (std::vector<protocol::ChunkRef>{Chunk(1, 10), Chunk(2, 10)}));
  EXPECT_EQ(sent[1].chunks, (std::vector<protocol::ChunkRef>{Chunk(3, 10)}));
  EXPECT_EQ(sent[0].source, 0u);
  EXPECT_TRUE(e.Result().ok());
  EXPECT_EQ(e.stored_bytes(), 30u);
}

TEST_F(TransferEngineTest, InFlightIsBoundedAndIdleWaitsForAnAnswer) {
  TransferEngine e(&policy_, {.batch_chunks = 1, .max_in_flight = 2});
  e.AddChunks({Chunk(1, 10), Chunk(2, 10), Chunk(3, 10)});
  TransferStep a = e.Next(0), b = e.Next(0), c = e.Next(0);
  ASSERT_EQ(a.kind, Kind::kRequest);
  ASSERT_EQ(b.kind, Kind::kRequest);
  EXPECT_EQ(c.kind, Kind::kIdle);
  e.OnChunks(b.request.id, AllStored(b.request), 0);
  EXPECT_EQ(e.Next(0).kind, Kind::kRequest);
}

TEST_F(TransferEngineTest, WhatASourceLacksIsAskedOfTheNextWithoutDemotingIt) {
  TransferEngine e(&policy_, {.max_in_flight = 1});
  e.AddChunks({Chunk(1, 10), Chunk(2, 10)});
  auto sent = Drain(&e, [](const TransferRequest& r) {
    ChunksAnswer a;
    if (r.source == 0) {  // the county has chunk 1 only
      a.answer = {NotFoundError("1 absent"), 10, 1};
      a.remaining = {Chunk(2, 10)};
    } else {
      a.answer.bytes = r.bytes;
    }
    return a;
  });
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].source, 1u);
  EXPECT_EQ(sent[1].chunks, (std::vector<protocol::ChunkRef>{Chunk(2, 10)}));
  EXPECT_TRUE(e.Result().ok());
  EXPECT_EQ(policy_.Snapshot()[0].failures, 0u);
  EXPECT_EQ(policy_.Order(1'000), (std::vector<size_t>{0, 1, 2}));
}

TEST_F(TransferEngineTest, ALieIsRejectedAndTheNextSourceAsked) {
  TransferEngine e(&policy_, {.max_in_flight = 1});
  e.AddChunks({Chunk(1, 10)});
  auto sent = Drain(&e, [](const TransferRequest& r) {
    ChunksAnswer a;
    if (r.source == 0) {
      a.answer.status = VerificationError("chunk 01..: bytes do not match the id");
      a.remaining = r.chunks;
    } else {
      a.answer.bytes = r.bytes;
    }
    return a;
  });
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(e.Result().ok());
  ASSERT_EQ(e.rejected().size(), 1u);
  EXPECT_EQ(e.rejected()[0], "county: chunk 01..: bytes do not match the id");
  EXPECT_EQ(policy_.Snapshot()[0].rejections, 1u);
}

TEST_F(TransferEngineTest, ChunksNoSourceHasAreCountedAndTheRestStillFetched) {
  TransferEngine e(&policy_, {.batch_chunks = 1, .max_in_flight = 1});
  e.AddChunks({Chunk(1, 10), Chunk(2, 10)});
  Drain(&e, [](const TransferRequest& r) {
    ChunksAnswer a;
    if (r.chunks[0] == Chunk(1, 10)) {
      a.answer.status = UnavailableError("503").AsRemote();
      a.remaining = r.chunks;
    } else {
      a.answer.bytes = r.bytes;
    }
    return a;
  });
  Status s = e.Result();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("1 chunks could not be fetched"), std::string::npos) << s.ToString();
  EXPECT_EQ(e.stored_bytes(), 10u);
}

TEST_F(TransferEngineTest, ALocalFailureStopsEverythingAndBlamesNoSource) {
  TransferEngine e(&policy_, {.batch_chunks = 1, .max_in_flight = 2});
  e.AddChunks({Chunk(1, 10), Chunk(2, 10), Chunk(3, 10)});
  TransferStep a = e.Next(0), b = e.Next(0);
  ChunksAnswer full;
  full.answer.status = ResourceExhaustedError("No space left on device").AsLocal();
  full.remaining = a.request.chunks;
  e.OnChunks(a.request.id, full, 0);
  EXPECT_EQ(e.Next(0).kind, Kind::kIdle) << "b is still in flight";
  e.OnChunks(b.request.id, AllStored(b.request), 0);
  EXPECT_EQ(e.Next(0).kind, Kind::kDone) << "chunk 3 is never asked for";
  EXPECT_TRUE(e.Result().local());
  EXPECT_EQ(e.Result().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(policy_.Snapshot()[0].failures, 0u);
}

TEST_F(TransferEngineTest, ASizeCappedAnswerIsContinuedFirstWithAFreshWalk) {
  TransferEngine e(&policy_, {.max_in_flight = 1});
  e.AddChunks({Chunk(1, 10), Chunk(2, 10), Chunk(3, 10)});
  TransferStep s = e.Next(0);
  ASSERT_EQ(s.request.chunks.size(), 3u);
  ChunksAnswer capped;
  capped.answer.bytes = 10;
  capped.remaining = {Chunk(2, 10), Chunk(3, 10)};
  e.OnChunks(s.request.id, capped, 0);
  TransferStep t = e.Next(0);
  ASSERT_EQ(t.kind, Kind::kRequest);
  EXPECT_EQ(t.request.source, 0u) << "the capping source is not demoted";
  EXPECT_EQ(t.request.chunks, capped.remaining);
}

TEST_F(TransferEngineTest, BatchesFollowTheMeasuredThroughput) {
  TransferEngine e(&policy_, {.batch_bytes = 8 << 20, .batch_chunks = 10'000, .max_in_flight = 1});
  std::vector<protocol::ChunkRef> many;
  for (int i = 0; i < 2000; ++i) many.push_back(Chunk(static_cast<uint8_t>(i), 16 << 10));
  e.AddChunks(many);
  TransferStep first = e.Next(0);
  EXPECT_EQ(first.request.bytes, kFirstBatchBytes) << "nothing measured yet";
  ChunksAnswer slow = AllStored(first.request);
  slow.wire_bytes = first.request.bytes;
  slow.micros = 8'000'000;  // 1 MiB in 8 s: a 1 Mbit/s school
  e.OnChunks(first.request.id, slow, 0);
  TransferStep second = e.Next(0);
  const uint64_t rate = policy_.Throughput(0);
  ASSERT_GT(rate, 0u);
  EXPECT_LE(second.request.bytes, std::max(kMinBatchBytes, rate * kBatchSeconds));
  EXPECT_LT(second.request.bytes, first.request.bytes * 2) << "no 8 MiB batch on a slow link";
}

TEST_F(TransferEngineTest, PriorityChunksGoFirstWhateverTheOrderTheyWereAdded) {
  TransferEngine e(&policy_, {.batch_chunks = 1, .max_in_flight = 1});
  e.AddChunks({Chunk(1, 10), Chunk(2, 10)});
  e.AddChunks({Chunk(3, 10)}, /*priority=*/true);
  auto sent = Drain(&e, AllStored);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].chunks, (std::vector<protocol::ChunkRef>{Chunk(3, 10)}));
  EXPECT_EQ(sent[1].chunks, (std::vector<protocol::ChunkRef>{Chunk(1, 10)}));
}

TEST_F(TransferEngineTest, OutsideAWindowOnlyPriorityChunksAreSentAndTheRestIsDeferred) {
  TransferEngine e(
      &policy_,
      {.batch_chunks = 1, .max_in_flight = 1, .ordinary_allowed = [](int64_t) { return false; }});
  e.AddChunks({Chunk(1, 10), Chunk(2, 10)});
  e.AddChunks({Chunk(3, 10)}, /*priority=*/true);
  auto sent = Drain(&e, AllStored);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].chunks, (std::vector<protocol::ChunkRef>{Chunk(3, 10)}));
  EXPECT_TRUE(e.Result().ok()) << "deferred is not failed: " << e.Result().ToString();
  EXPECT_EQ(e.deferred(), (std::vector<protocol::ChunkRef>{Chunk(1, 10), Chunk(2, 10)}));
}

TEST_F(TransferEngineTest, AWindowThatClosesMidwayStopsOrdinaryRequestsAndRetries) {
  int64_t close_at = 2'000'000;
  TransferEngine e(&policy_, {.batch_chunks = 1,
                              .max_in_flight = 1,
                              .ordinary_allowed = [&](int64_t now) { return now < close_at; }});
  e.AddChunks({Chunk(1, 10), Chunk(2, 10), Chunk(3, 10)});
  TransferStep a = e.Next(1'000'000);
  ASSERT_EQ(a.kind, Kind::kRequest);
  // The first source fails; its retry (to the next source) comes after the window closed.
  e.OnChunks(a.request.id, {{UnavailableError("down")}, a.request.chunks, 0, 0}, 1'500'000);
  EXPECT_EQ(e.Next(2'000'000).kind, Kind::kDone);
  EXPECT_TRUE(e.Result().ok());
  EXPECT_EQ(e.deferred().size(), 3u);
}

TEST_F(TransferEngineTest, IndexesWalkTheSourcesAndAMissingOneEndsThePhase) {
  TransferEngine e(&policy_, {.max_in_flight = 1});
  e.AddIndexes({File(1), File(2), File(3)});
  int requests = 0;
  for (;;) {
    TransferStep s = e.Next(0);
    if (s.kind == Kind::kDone) break;
    ASSERT_EQ(s.kind, Kind::kRequest);
    ASSERT_TRUE(s.request.index);
    ++requests;
    if (s.request.index->path == "f1") {
      e.OnIndex(s.request.id, {Status::Ok(), 100}, protocol::ChunkIndex{}, 0);
    } else {
      e.OnIndex(s.request.id, {NotFoundError("404")}, std::nullopt, 0);
    }
  }
  EXPECT_EQ(requests, 4) << "f1 once, f2 of each of the three sources, f3 never";
  Status s = e.Result();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("(for f2) from no source"), std::string::npos) << s.ToString();
  EXPECT_EQ(e.TakeIndexes().size(), 1u);
}

TEST_F(TransferEngineTest, NoSourcesMeansNothingIsSentAndTheRunFails) {
  SourcePolicy none({});
  TransferEngine e(&none, {});
  e.AddChunks({Chunk(1, 10)});
  EXPECT_EQ(e.Next(0).kind, Kind::kDone);
  EXPECT_EQ(e.Result().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tiersync::replication
