// For tests of the miss path: an upstream tier in memory, behind the Fetcher seam, that
// serves chunk indexes (GET <url>/v1/indexes/<id>) and chunk batches (POST
// <url>/v1/chunks/batch) of the files added to it, and counts what it sends. Several base URLs
// may be served, each holding all files, none, or lying about chunks. Thread-safe.
#ifndef TIERSYNC_NODE_MEMORY_UPSTREAM_FOR_TEST_H_
#define TIERSYNC_NODE_MEMORY_UPSTREAM_FOR_TEST_H_

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/bytes.h"
#include "base/fetcher.h"
#include "base/hex.h"
#include "base/mutex.h"
#include "base/random.h"
#include "base/sha256.h"
#include "base/thread_annotations.h"
#include "protocol/chunk_batch.h"
#include "protocol/chunk_index.h"

namespace tiersync::node {

// A file of random bytes cut into chunks of 20..120 KiB (seeded), with its index.
struct TestFile {
  std::string bytes;
  protocol::ChunkIndex index;
  std::vector<uint8_t> index_bytes;
  protocol::ChunkId index_id{};
  std::vector<uint64_t> offsets;  // chunk i starts at offsets[i]

  static TestFile Make(uint64_t seed, size_t size) {
    TestFile f;
    Random rng(seed);
    f.bytes.resize(size);
    rng.Fill({reinterpret_cast<uint8_t*>(f.bytes.data()), size});
    for (size_t at = 0; at < size;) {
      const size_t n = std::min<size_t>(size - at, (20 << 10) + rng.Uniform(100 << 10));
      f.offsets.push_back(at);
      f.index.chunks.push_back(
          {Sha256(AsBytes(std::string_view(f.bytes).substr(at, n))), static_cast<uint32_t>(n)});
      at += n;
    }
    f.index.file_size = size;
    f.index.file_sha256 = Sha256(AsBytes(f.bytes));
    f.index_bytes = protocol::EncodeChunkIndex(f.index);
    f.index_id = Sha256(f.index_bytes);
    return f;
  }
  std::string Chunk(size_t i) const { return bytes.substr(offsets[i], index.chunks[i].size); }
};

class MemoryUpstream : public Fetcher {
 public:
  // `url` serves every file added (its base URL, e.g. "http://parent").
  void Serve(const std::string& url) { served_.insert(url); }
  // `url` answers every chunk with wrong bytes (a lying tier).
  void Lie(const std::string& url) { lying_.insert(url); }
  void Add(const TestFile& f) {
    MutexLock l(&mu_);
    indexes_[ToHex(f.index_id)] = f.index_bytes;
    for (size_t i = 0; i < f.index.chunks.size(); ++i) chunks_[f.index.chunks[i].id] = f.Chunk(i);
  }
  // Each answer waits this long first (so that concurrent requests overlap).
  void SetDelay(std::chrono::milliseconds d) { delay_ = d; }

  Result<std::vector<uint8_t>> Fetch(const std::string& url, size_t max_bytes) override {
    {
      MutexLock l(&mu_);
      index_threads.insert(std::this_thread::get_id());
    }
    Wait();
    ++index_requests;
    const size_t at = url.find("/v1/indexes/");
    if (at == std::string::npos || !served_.count(url.substr(0, at))) {
      return NotFoundError("404 " + url).AsRemote();
    }
    MutexLock l(&mu_);
    auto it = indexes_.find(url.substr(at + 12));
    if (it == indexes_.end()) return NotFoundError("404 " + url).AsRemote();
    index_bytes += it->second.size();
    return it->second;
  }

  Result<std::vector<uint8_t>> Post(const std::string& url, std::string_view content_type,
                                    std::span<const uint8_t> body, size_t max_bytes) override {
    Wait();
    ++batch_requests;
    const size_t at = url.find("/v1/chunks/batch");
    if (at == std::string::npos) return NotFoundError("404 " + url).AsRemote();
    const std::string base = url.substr(0, at);
    if (!served_.count(base) && !lying_.count(base)) {
      return UnavailableError("connection refused: " + url).AsRemote();
    }
    auto ids = protocol::DecodeBatchRequest(body);
    if (!ids.ok()) return InvalidArgumentError("bad batch").AsRemote();
    protocol::BatchResponseWriter out;
    MutexLock l(&mu_);
    for (const auto& id : *ids) {
      auto it = chunks_.find(id);
      if (it == chunks_.end()) {
        out.AddMissing(id, protocol::BatchFrameKind::kAbsent);
        continue;
      }
      std::string bytes = it->second;
      if (lying_.count(base)) bytes[0] ^= 1;
      out.AddChunk(id, AsBytes(bytes));
      chunk_bytes += bytes.size();
      ++chunks_sent;
    }
    std::string response = std::move(out).Finish();
    return std::vector<uint8_t>(response.begin(), response.end());
  }

  std::set<std::thread::id> index_threads;  // who asked for indexes (read when quiet)
  std::atomic<uint64_t> index_requests{0}, index_bytes{0}, batch_requests{0}, chunk_bytes{0},
      chunks_sent{0};

 private:
  void Wait() {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
  }

  Mutex mu_;
  std::set<std::string> served_, lying_;  // set up before any request
  std::map<std::string, std::vector<uint8_t>> indexes_ GUARDED_BY(mu_);
  std::map<protocol::ChunkId, std::string> chunks_ GUARDED_BY(mu_);
  std::chrono::milliseconds delay_{0};
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_MEMORY_UPSTREAM_FOR_TEST_H_
