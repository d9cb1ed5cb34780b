#include "replication/chunk_sync.h"

#include <chrono>
#include <deque>
#include <thread>

#include "base/hex.h"
#include "base/sha256.h"
#include "base/zstd_codec.h"
#include "protocol/chunk_batch.h"
#include "replication/file_restore.h"
#include "replication/pack_format.h"

namespace tiersync::replication {
namespace {

int64_t NowMs(Env* env) { return static_cast<int64_t>(env->NowMicros() / 1000); }

// A shared token bucket: callers wait until their bytes fit under the rate.
class RateLimit {
 public:
  explicit RateLimit(uint64_t bytes_per_second) : rate_(bytes_per_second) {}
  void Take(uint64_t bytes) {
    if (rate_ == 0) return;
    std::chrono::steady_clock::time_point until;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto now = std::chrono::steady_clock::now();
      if (next_ < now) next_ = now;
      next_ += std::chrono::microseconds(bytes * 1'000'000 / rate_);
      until = next_;
    }
    std::this_thread::sleep_until(until);
  }

 private:
  uint64_t rate_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point next_{};
};

}  // namespace

void SyncCounters::Received(const std::string& source_url, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu);
  chunk_bytes_by_source[source_url] += bytes;
}

void SyncCounters::Reject(const std::string& what) {
  std::lock_guard<std::mutex> lock(mu);
  if (rejected.size() < 100) rejected.push_back(what);
}

Result<std::map<protocol::ChunkId, protocol::ChunkIndex>> LoadIndexes(
    const std::vector<PlannedFile>& files, const SyncContext& ctx) {
  std::map<protocol::ChunkId, protocol::ChunkIndex> out;
  for (const PlannedFile& f : files) {
    if (out.count(f.index_id)) continue;
    if (auto local = LoadChunkIndex(*ctx.store, f.index_id); local.ok()) {
      TS_RETURN_IF_ERROR(CheckIndexMatchesFile(f, *local));
      out.emplace(f.index_id, std::move(local).value());
      continue;
    }
    const std::string hex = ToHex(f.index_id);
    Status last = UnavailableError("no sources");
    bool found = false;
    for (size_t i : ctx.sources->Order(NowMs(ctx.env))) {
      const Source& src = ctx.sources->source(i);
      auto bytes =
          ctx.fetcher->Fetch(src.url + "/v1/indexes/" + hex, protocol::kMaxChunkIndexBytes);
      Status s = bytes.status();
      Result<protocol::ChunkIndex> index = s;
      if (s.ok() && Sha256(*bytes) != f.index_id) {
        s = VerificationError("chunk index " + hex + " from " + src.name + ": SHA-256 mismatch");
      } else if (s.ok()) {
        index = protocol::DecodeChunkIndex(*bytes);
        s = index.ok() ? CheckIndexMatchesFile(f, *index)
                       : VerificationError("chunk index " + hex + " from " + src.name + ": " +
                                           index.status().message());
      }
      if (!s.ok()) {
        if (s.code() == StatusCode::kVerificationFailed)
          ctx.counters->Reject(src.name + ": " + s.message());
        ctx.sources->Failed(i, s, NowMs(ctx.env));
        last = s;
        continue;
      }
      ctx.sources->Succeeded(i, bytes->size(), NowMs(ctx.env));
      ++ctx.counters->indexes;
      ctx.counters->index_bytes += bytes->size();
      out.emplace(f.index_id, std::move(index).value());
      found = true;
      break;
    }
    if (!found) {
      return UnavailableError("chunk index " + hex + " (for " + f.path +
                              ") from no source; last error: " + last.ToString());
    }
  }
  return out;
}

Status FetchChunks(const std::vector<protocol::ChunkRef>& missing, const SyncContext& ctx,
                   const ChunkSyncOptions& options) {
  std::mutex mu;  // guards the queue, the store's writer methods, progress and `unfetched`
  std::deque<std::vector<protocol::ChunkRef>> queue;
  for (auto& b : SplitIntoBatches(missing, options.batch_bytes, options.batch_chunks)) {
    queue.push_back(std::move(b));
  }
  uint64_t total = 0, done = 0;
  for (const auto& r : missing) total += r.size;
  std::vector<protocol::ChunkRef> unfetched;
  Status store_error;
  RateLimit rate(options.max_bytes_per_second);

  auto fetch_batch = [&](std::vector<protocol::ChunkRef> pending, ZstdCodec* codec) {
    for (size_t i : ctx.sources->Order(NowMs(ctx.env))) {
      if (pending.empty()) break;
      const Source& src = ctx.sources->source(i);
      std::vector<protocol::ChunkId> ids;
      uint64_t want_bytes = 0;
      for (const auto& r : pending) {
        ids.push_back(r.id);
        want_bytes += r.size;
      }
      rate.Take(want_bytes);
      auto body =
          ctx.fetcher->Post(src.url + "/v1/chunks/batch", "application/x-tiersync-chunk-ids",
                            protocol::EncodeBatchRequest(ids),
                            protocol::kMaxBatchResponseBytes + 64 * ids.size() + 64);
      if (!body.ok()) {
        ctx.sources->Failed(i, body.status(), NowMs(ctx.env));
        continue;
      }
      auto frames = protocol::DecodeBatchResponse(*body, ids);
      if (!frames.ok()) {
        Status s =
            VerificationError("chunk batch from " + src.name + ": " + frames.status().message());
        ctx.counters->Reject(s.message());
        ctx.sources->Failed(i, s, NowMs(ctx.env));
        continue;
      }
      std::vector<protocol::ChunkRef> next;
      uint64_t good = 0, absent = 0;
      std::string lie;
      for (size_t k = 0; k < frames->size(); ++k) {
        const auto& f = (*frames)[k];
        if (f.kind != protocol::BatchFrameKind::kChunk) {
          absent += f.kind == protocol::BatchFrameKind::kAbsent;
          next.push_back(pending[k]);
          continue;
        }
        if (f.bytes.size() != pending[k].size || Sha256(f.bytes) != f.id) {
          if (lie.empty())
            lie = "chunk " + ToHex(f.id) + " from " + src.name + ": bytes do not match the id";
          next.push_back(pending[k]);
          continue;
        }
        std::vector<uint8_t> raw(f.bytes.begin(), f.bytes.end());
        PreparedChunk chunk = PrepareChunk(f.id, &raw, codec);
        std::lock_guard<std::mutex> lock(mu);
        if (!store_error.ok()) return;
        if (auto put = ctx.store->Put(chunk); !put.ok()) {
          store_error = put.status();
          return;
        }
        good += f.bytes.size();
        done += f.bytes.size();
        ++ctx.counters->chunks;
        ctx.counters->chunk_bytes += f.bytes.size();
        if (options.progress) options.progress(done, total);
      }
      if (good > 0) ctx.counters->Received(src.url, good);
      if (absent > 0) ctx.sources->Lacked(i, absent);
      if (!lie.empty()) {
        ctx.counters->Reject(lie);
        ctx.sources->Failed(i, VerificationError(lie), NowMs(ctx.env));
      } else {
        ctx.sources->Succeeded(i, good, NowMs(ctx.env));
      }
      // A source that sent part of the batch (its size cap) is asked again for the rest.
      if (good > 0 && !next.empty() && lie.empty() && next.size() < pending.size()) {
        std::lock_guard<std::mutex> lock(mu);
        queue.push_back(std::move(next));
        return;
      }
      pending = std::move(next);
    }
    if (!pending.empty()) {
      std::lock_guard<std::mutex> lock(mu);
      unfetched.insert(unfetched.end(), pending.begin(), pending.end());
    }
  };

  auto worker = [&] {
    ZstdCodec codec;
    for (;;) {
      std::vector<protocol::ChunkRef> batch;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (queue.empty() || !store_error.ok()) return;
        batch = std::move(queue.front());
        queue.pop_front();
      }
      fetch_batch(std::move(batch), &codec);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < std::max(1, options.parallel); ++t) threads.emplace_back(worker);
  worker();
  // A worker that finds the queue empty stops, but a batch re-queued later by another worker
  // must still be served: drain what is left on this thread.
  for (auto& t : threads) t.join();
  worker();
  if (!store_error.ok()) return store_error.WithContext("storing fetched chunks");
  if (!unfetched.empty()) {
    return UnavailableError(std::to_string(unfetched.size()) +
                            " chunks could not be fetched from any source (first: " +
                            ToHex(unfetched.front().id) + ")");
  }
  return Status::Ok();
}

Status StoreIndexes(const std::vector<PlannedFile>& files,
                    const std::map<protocol::ChunkId, protocol::ChunkIndex>& indexes,
                    ChunkStore* store) {
  for (const PlannedFile& f : files) {
    if (store->GetIndexBytes(f.index_id).ok()) continue;
    TS_RETURN_IF_ERROR(
        store->PutIndex(f.index_id, protocol::EncodeChunkIndex(indexes.at(f.index_id))));
  }
  return Status::Ok();
}

}  // namespace tiersync::replication
