// What a user's miss costs the tiers above (issue 17 item 8): only the chunks a range needs,
// each chunk once however many read it, nothing again once cached, and no HTTP worker waiting
// on the network for an index. The tiers above are a counting MemoryUpstream.
#include "node/miss_proxy.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>

#include "base/mem_env.h"
#include "node/memory_upstream_for_test.h"

namespace tiersync::node {
namespace {

const FileInfo kInfo{"video/mp4", "\"x\"", "no-cache"};

HttpRequest Get(const std::string& range = "") {
  HttpRequest r{"GET", "/v1/files/r/lesson.mp4", "", {}, ""};
  if (!range.empty()) r.headers["range"] = "bytes=" + range;
  return r;
}

// The reply as the server would send it: a deferred one is waited for (its Resume may be
// called from any thread, once).
HttpReply Await(HttpReply reply) {
  if (!reply.wait) return reply;
  auto promise = std::make_shared<std::promise<HttpReply>>();
  auto once = std::make_shared<std::once_flag>();
  std::future<HttpReply> resumed = promise->get_future();
  reply.wait([promise, once](HttpReply r) {
    std::call_once(*once, [&] { promise->set_value(std::move(r)); });
  });
  return resumed.get();
}

// The whole body; "(cut: ...)" if the stream failed.
std::string Body(HttpReply reply) {
  if (!reply.stream) return reply.body;
  std::string out;
  for (;;) {
    auto piece = reply.stream();
    if (!piece.ok()) return "(cut: " + piece.status().ToString() + ")";
    if (piece->empty()) return out;
    out += *piece;
  }
}

class MissProxyTest : public ::testing::Test {
 protected:
  MissProxyTest()
      : file_(TestFile::Make(17, 24 << 20)),
        policy_({{"parent", "http://parent"}, {"national", "http://national"}}) {
    upstream_.Add(file_);
    upstream_.Serve("http://parent");
  }

  // A proxy with a new cache of `quota` bytes (0: none).
  std::unique_ptr<MissProxy> Proxy(uint64_t quota) {
    cache_ = quota > 0 ? FileCache::Open(&env_, "/cache", quota).value() : nullptr;
    return ProxyOver(cache_);
  }
  std::unique_ptr<MissProxy> ProxyOver(std::shared_ptr<FileCache> cache) {
    return std::make_unique<MissProxy>(
        Upstream{&upstream_, &policy_, Env::Default(),
                 [this](const std::string& what) { rejections_.push_back(what); }},
        std::move(cache));
  }
  MissProxy::MissedFile Missed() const {
    return {file_.index_id, file_.index.file_size, file_.index.file_sha256, "r/lesson.mp4"};
  }
  std::string Read(MissProxy& proxy, const std::string& range = "") {
    return Body(Await(proxy.Serve(Get(range), Missed(), kInfo)));
  }
  // The chunk holding byte `at`.
  size_t ChunkAt(uint64_t at) const {
    return std::upper_bound(file_.offsets.begin(), file_.offsets.end(), at) -
           file_.offsets.begin() - 1;
  }

  TestFile file_;
  MemEnv env_;
  MemoryUpstream upstream_;
  replication::SourcePolicy policy_;
  std::shared_ptr<FileCache> cache_;
  std::vector<std::string> rejections_;
};

TEST_F(MissProxyTest, SixteenSingleByteRangesCostSixteenChunks) {
  for (uint64_t quota : {uint64_t{0}, uint64_t{1} << 30}) {
    SCOPED_TRACE(quota ? "with a cache" : "without a cache");
    upstream_.chunk_bytes = 0;
    auto proxy = Proxy(quota);
    uint64_t needed = 0;
    for (int k = 0; k < 16; ++k) {
      const uint64_t at = (file_.bytes.size() / 16) * k + 12345;
      ASSERT_EQ(Read(*proxy, std::to_string(at) + "-" + std::to_string(at)),
                file_.bytes.substr(at, 1));
      needed += file_.index.chunks[ChunkAt(at)].size;
    }
    EXPECT_LE(upstream_.chunk_bytes.load(), needed);
    EXPECT_EQ(proxy->stats().chunk_bytes, upstream_.chunk_bytes.load());
  }
}

TEST_F(MissProxyTest, ARangeAcrossChunksCostsThoseChunks) {
  auto proxy = Proxy(0);
  const uint64_t first = 5'000'000, last = 5'300'000;
  ASSERT_EQ(Read(*proxy, std::to_string(first) + "-" + std::to_string(last)),
            file_.bytes.substr(first, last - first + 1));
  uint64_t needed = 0;
  for (size_t i = ChunkAt(first); i <= ChunkAt(last); ++i) needed += file_.index.chunks[i].size;
  EXPECT_EQ(upstream_.chunk_bytes.load(), needed);
}

TEST_F(MissProxyTest, ASecondReadOfTheSameRangesIsServedFromTheCache) {
  auto proxy = Proxy(1 << 30);
  std::vector<std::string> ranges;
  for (int k = 0; k < 16; ++k) {
    const uint64_t at = (file_.bytes.size() / 16) * k + 777;
    ranges.push_back(std::to_string(at) + "-" + std::to_string(at + 100));
  }
  for (const auto& r : ranges) ASSERT_FALSE(Read(*proxy, r).starts_with("(cut"));
  const uint64_t after_first = upstream_.chunk_bytes, indexes = upstream_.index_requests;
  EXPECT_EQ(indexes, 1u) << "the partial copy keeps the index";
  auto again = ProxyOver(cache_);  // nothing in flight: only the partial copy remembers
  for (const auto& r : ranges) ASSERT_FALSE(Read(*again, r).starts_with("(cut"));
  EXPECT_EQ(upstream_.chunk_bytes.load(), after_first);
  EXPECT_EQ(upstream_.index_requests.load(), indexes);
}

TEST_F(MissProxyTest, AFileReadOutOfOrderBecomesACachedFile) {
  auto proxy = Proxy(1 << 30);
  // Ranges of 1 MB from the end to the start.
  const uint64_t size = file_.bytes.size();
  for (uint64_t end = size; end > 0;) {
    const uint64_t begin = end > (1 << 20) ? end - (1 << 20) : 0;
    ASSERT_EQ(Read(*proxy, std::to_string(begin) + "-" + std::to_string(end - 1)),
              file_.bytes.substr(begin, end - begin));
    end = begin;
  }
  EXPECT_EQ(upstream_.chunk_bytes.load(), size) << "every chunk once";
  // Assembled on the proxy's threads: wait for it (bounded).
  for (int i = 0; i < 3000 && !cache_->Contains(file_.index.file_sha256); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(cache_->Contains(file_.index.file_sha256));
  auto entry = cache_->Find(file_.index.file_sha256);
  ASSERT_TRUE(entry);
  HttpReply whole = FileReply(Get(), entry->index, entry->source, kInfo);
  EXPECT_EQ(Sha256(AsBytes(Body(std::move(whole)))), file_.index.file_sha256);
  EXPECT_LE(cache_->stats().bytes, size) << "the partial copy is gone";
}

TEST_F(MissProxyTest, EightReadersOfOneFileFetchItOnce) {
  upstream_.SetDelay(std::chrono::milliseconds(20));  // so that the readers overlap
  auto proxy = Proxy(1 << 30);
  std::vector<std::thread> readers;
  std::vector<Sha256Digest> got(8);
  for (int k = 0; k < 8; ++k) {
    readers.emplace_back([&, k] { got[k] = Sha256(AsBytes(Read(*proxy))); });
  }
  for (auto& t : readers) t.join();
  for (int k = 0; k < 8; ++k) EXPECT_EQ(got[k], file_.index.file_sha256) << "reader " << k;
  EXPECT_EQ(upstream_.index_requests.load(), 1u);
  EXPECT_EQ(upstream_.chunk_bytes.load(), file_.bytes.size());
  EXPECT_GT(proxy->stats().merged, 0u);
  EXPECT_TRUE(cache_->Contains(file_.index.file_sha256));
}

TEST_F(MissProxyTest, EightReadersWithoutACacheStillShareWhatIsOnItsWay) {
  upstream_.SetDelay(std::chrono::milliseconds(20));
  auto proxy = Proxy(0);
  std::vector<std::thread> readers;
  std::vector<std::string> got(8);
  const uint64_t at = 7'000'000;
  for (int k = 0; k < 8; ++k) {
    readers.emplace_back(
        [&, k] { got[k] = Read(*proxy, std::to_string(at) + "-" + std::to_string(at + 9)); });
  }
  for (auto& t : readers) t.join();
  for (int k = 0; k < 8; ++k) EXPECT_EQ(got[k], file_.bytes.substr(at, 10)) << "reader " << k;
  EXPECT_EQ(upstream_.index_requests.load(), 1u);
  EXPECT_EQ(upstream_.chunk_bytes.load(), file_.index.chunks[ChunkAt(at)].size);
}

TEST_F(MissProxyTest, TheIndexIsFetchedOnTheProxysThreadsNotTheCallers) {
  auto proxy = Proxy(0);
  HttpReply reply = proxy->Serve(Get("0-9"), Missed(), kInfo);
  ASSERT_TRUE(reply.wait) << "the reply must be deferred while the index is fetched";
  EXPECT_EQ(Body(Await(std::move(reply))), file_.bytes.substr(0, 10));
  ASSERT_EQ(upstream_.index_threads.size(), 1u);
  EXPECT_FALSE(upstream_.index_threads.count(std::this_thread::get_id()));
}

TEST_F(MissProxyTest, ALyingParentIsRejectedAndTheNextSourceGivesTheFile) {
  upstream_.Lie("http://parent");
  upstream_.Serve("http://national");
  auto proxy = Proxy(1 << 30);
  EXPECT_EQ(Sha256(AsBytes(Read(*proxy))), file_.index.file_sha256);
  EXPECT_EQ(policy_.Snapshot()[0].rejections, 1u);
  ASSERT_EQ(rejections_.size(), 1u);
}

TEST_F(MissProxyTest, NoSourceWithTheIndexIsA502Page) {
  auto proxy = Proxy(0);
  MissProxy::MissedFile other = Missed();
  other.index_id[0] ^= 1;
  HttpRequest browser = Get();
  browser.headers["accept"] = "text/html";
  HttpReply reply = Await(proxy->Serve(browser, other, kInfo));
  EXPECT_EQ(reply.status, 502);
  EXPECT_NE(reply.body.find("未镜像"), std::string::npos) << reply.body;
}

}  // namespace
}  // namespace tiersync::node
