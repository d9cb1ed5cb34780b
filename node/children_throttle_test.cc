#include "node/children_throttle.h"

#include <gtest/gtest.h>

#include "base/hex.h"
#include "base/mem_env.h"
#include "protocol/chunk_batch.h"

namespace tiersync::node {
namespace {

constexpr uint64_t kCap = 256 * 1024;

// Drains `reply`'s body; the bytes.
std::string Drain(HttpReply& reply) {
  if (!reply.stream) return reply.body;
  std::string out;
  for (;;) {
    auto piece = reply.stream();
    EXPECT_TRUE(piece.ok()) << piece.status().ToString();
    if (!piece.ok() || piece->empty()) return out;
    EXPECT_LE(piece->size(), ChildrenThrottle::kPieceBytes);
    out += *piece;
  }
}

HttpRequest GetRequest(std::string target) {
  HttpRequest r;
  r.method = "GET";
  r.target = std::move(target);
  return r;
}

HttpReply Body(size_t n) {
  HttpReply r;
  r.body = std::string(n, 'x');
  return r;
}

class ChildrenThrottleTest : public ::testing::Test {
 protected:
  ChildrenThrottleTest() { env_.SetNowMicros(1'800'000'000ull * 1'000'000); }
  RatePolicy Capped(uint64_t inside, uint64_t outside = 0) {
    RatePolicy p;
    p.inside_bytes_per_second = inside;
    p.outside_bytes_per_second = outside;
    return p;
  }
  MemEnv env_;
};

TEST_F(ChildrenThrottleTest, RepliesGoOutAtTheCap) {
  ChildrenThrottle t(&env_, Capped(kCap));
  const uint64_t start = env_.NowMicros();
  uint64_t sent = 0;
  for (int i = 0; i < 4; ++i) {  // four chunk requests, 1 MiB in all
    HttpReply r = t.Pace(GetRequest("/v1/chunks/" + std::string(64, 'a')), Body(256 * 1024));
    ASSERT_TRUE(r.stream);
    EXPECT_TRUE(r.upstream);
    EXPECT_EQ(r.length, 256u * 1024);
    sent += Drain(r).size();
  }
  EXPECT_EQ(sent, 1u << 20);
  const double seconds = static_cast<double>(env_.NowMicros() - start) / 1e6;
  // 1 MiB at 256 KiB/s: 4 s, less the bucket's initial burst.
  EXPECT_GT(seconds, 3.0);
  EXPECT_LT(seconds, 4.4);
  EXPECT_EQ(t.StatusJson()["paced_bytes"], 1u << 20);
}

TEST_F(ChildrenThrottleTest, UncappedErrorsHeadAndUsersAreNotPaced) {
  ChildrenThrottle uncapped(&env_, Capped(0));
  HttpReply r = uncapped.Pace(GetRequest("/v1/chunks/" + std::string(64, 'a')), Body(1 << 20));
  EXPECT_FALSE(r.stream);
  ChildrenThrottle t(&env_, Capped(kCap));
  HttpReply missing = Body(100);
  missing.status = 404;
  EXPECT_FALSE(t.Pace(GetRequest("/v1/chunks/x"), std::move(missing)).stream);
  HttpRequest head = GetRequest("/v1/metadata/timestamp.json");
  head.method = "HEAD";
  EXPECT_FALSE(t.Pace(head, Body(100)).stream);
  EXPECT_TRUE(ChildrenThrottle::Paced(GetRequest("/v1/metadata/timestamp.json")));
  EXPECT_TRUE(
      ChildrenThrottle::Paced(GetRequest("/v1/catalog.git/info/refs?service=git-upload-pack")));
  EXPECT_FALSE(ChildrenThrottle::Paced(GetRequest("/v1/files/k12-a/a.mp4")));
  EXPECT_FALSE(ChildrenThrottle::Paced(GetRequest("/v1/targets/national/k12-a/x.a.mp4")));
  EXPECT_FALSE(ChildrenThrottle::Paced(GetRequest("/v1/events?after=3")));
}

TEST_F(ChildrenThrottleTest, PriorityContentIsSentAtOnceAndOnlyIt) {
  ChildrenThrottle t(&env_, Capped(kCap));
  protocol::ChunkId pri{}, ord{};
  pri.fill(1);
  ord.fill(2);
  auto p = std::make_shared<PriorityContent>();
  p->chunks.insert(ToHex(pri));
  p->indexes.insert(std::string(64, 'c'));
  t.SetPriority(p);
  auto batch = [&](std::vector<protocol::ChunkId> ids) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/v1/chunks/batch";
    auto body = protocol::EncodeBatchRequest(ids);
    r.body.assign(body.begin(), body.end());
    return r;
  };
  EXPECT_FALSE(t.Pace(batch({pri}), Body(1 << 20)).stream);
  EXPECT_FALSE(t.Pace(GetRequest("/v1/chunks/" + ToHex(pri)), Body(1 << 20)).stream);
  EXPECT_FALSE(t.Pace(GetRequest("/v1/indexes/" + std::string(64, 'c')), Body(1000)).stream);
  EXPECT_EQ(t.StatusJson()["priority_bytes"], 2u * (1 << 20) + 1000);
  // A batch with one ordinary chunk, or ordinary chunks and indexes: paced.
  EXPECT_TRUE(t.Pace(batch({pri, ord}), Body(1 << 20)).stream);
  EXPECT_TRUE(t.Pace(GetRequest("/v1/chunks/" + ToHex(ord)), Body(1 << 20)).stream);
  EXPECT_TRUE(t.Pace(GetRequest("/v1/indexes/" + std::string(64, 'd')), Body(1000)).stream);
}

TEST_F(ChildrenThrottleTest, AStreamedBodyIsCutIntoPacedPieces) {
  ChildrenThrottle t(&env_, Capped(kCap));
  HttpReply r;
  r.length = 3 * 100'000;
  int calls = 0;
  r.stream = [&calls]() -> Result<std::string> {
    return ++calls <= 3 ? std::string(100'000, 'y') : std::string();
  };
  HttpReply paced = t.Pace(GetRequest("/v1/catalog.git/git-upload-pack"), std::move(r));
  EXPECT_EQ(paced.length, 300'000u);
  EXPECT_EQ(Drain(paced), std::string(300'000, 'y'));
}

}  // namespace
}  // namespace tiersync::node
