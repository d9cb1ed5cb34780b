#include "replication/chunk_sync.h"

#include <chrono>
#include <deque>
#include <optional>
#include <set>
#include <thread>

#include "base/hex.h"
#include "base/sha256.h"
#include "base/xxh3.h"
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

// The chunk a frame carries, ready to store, if it is `size` bytes whose SHA-256 is the
// frame's id (a zstd frame decompressed first, within the size); nullopt otherwise. A zstd
// frame smaller than the chunk is stored as it came (no second compression).
std::optional<PreparedChunk> VerifiedChunk(const protocol::BatchFrame& f, uint32_t size,
                                           ZstdCodec* codec) {
  if (f.kind == protocol::BatchFrameKind::kChunk) {
    if (f.bytes.size() != size || Sha256(f.bytes) != f.id) return std::nullopt;
    std::vector<uint8_t> raw(f.bytes.begin(), f.bytes.end());
    return PrepareChunk(f.id, &raw, codec);
  }
  auto raw = codec->Decompress(f.bytes, size, protocol::kMaxChunkBytes);
  if (!raw.ok() || Sha256(*raw) != f.id) return std::nullopt;
  if (f.bytes.size() >= raw->size()) return PrepareChunk(f.id, &*raw, codec);
  PreparedChunk chunk;
  chunk.id = f.id;
  chunk.raw_len = size;
  chunk.flags = kFlagZstd;
  chunk.payload.assign(f.bytes.begin(), f.bytes.end());
  chunk.xxh3 = Xxh3_64(chunk.payload);
  return chunk;
}

}  // namespace

void SyncCounters::Received(const std::string& source_url, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu);
  chunk_bytes_by_source[source_url] += bytes;
}

void SyncCounters::Reject(const std::string& what) {
  std::lock_guard<std::mutex> lock(mu);
  if (rejected.size() < 100) rejected.push_back(what);
}

namespace {

// One chunk index from the first source (in the policy's order) that gives a valid copy.
Result<protocol::ChunkIndex> FetchIndex(const PlannedFile& f, const SyncContext& ctx) {
  const std::string hex = ToHex(f.index_id);
  Status last = UnavailableError("no sources");
  for (size_t i : ctx.sources->Order(NowMs(ctx.env))) {
    const Source& src = ctx.sources->source(i);
    auto bytes = ctx.fetcher->Fetch(src.url + "/v1/indexes/" + hex, protocol::kMaxChunkIndexBytes);
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
    return index;
  }
  return UnavailableError("chunk index " + hex + " (for " + f.path +
                          ") from no source; last error: " + last.ToString());
}

}  // namespace

Result<std::map<protocol::ChunkId, protocol::ChunkIndex>> LoadIndexes(
    const std::vector<PlannedFile>& files, const SyncContext& ctx, int parallel) {
  std::map<protocol::ChunkId, protocol::ChunkIndex> out;
  std::vector<const PlannedFile*> remote;  // one file per index the store lacks
  std::set<protocol::ChunkId> asked;
  for (const PlannedFile& f : files) {
    if (out.count(f.index_id) || asked.count(f.index_id)) continue;
    if (auto local = LoadChunkIndex(*ctx.store, f.index_id); local.ok()) {
      TS_RETURN_IF_ERROR(CheckIndexMatchesFile(f, *local));
      out.emplace(f.index_id, std::move(local).value());
      continue;
    }
    asked.insert(f.index_id);
    remote.push_back(&f);
  }
  // Fetched `parallel` at a time; the first failure (in the files' order) is the answer.
  std::vector<std::optional<Result<protocol::ChunkIndex>>> got(remote.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    while (!failed) {
      const size_t i = next++;
      if (i >= remote.size()) return;
      got[i].emplace(FetchIndex(*remote[i], ctx));  // a claimed index is always fetched
      if (!got[i]->ok()) failed = true;
    }
  };
  std::vector<std::thread> threads;
  const int extra = std::min<int>(std::max(1, parallel), static_cast<int>(remote.size())) - 1;
  for (int t = 0; t < extra; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  // Indexes are claimed in order, so every one before an unclaimed one was fetched: the first
  // failure is met before any index that was never asked for.
  for (size_t i = 0; i < remote.size(); ++i) {
    if (!got[i]->ok()) return got[i]->status();
    out.emplace(remote[i]->index_id, std::move(*got[i]).value());
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
      auto body = ctx.fetcher->Post(src.url + "/v1/chunks/batch", protocol::kBatchRequestTypeZstd,
                                    protocol::EncodeBatchRequest(ids),
                                    protocol::kMaxBatchResponseBytes + protocol::kMaxChunkBytes +
                                        protocol::kBatchFrameHeaderBytes * ids.size() + 64);
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
        if (!protocol::CarriesChunk(f.kind)) {
          absent += f.kind == protocol::BatchFrameKind::kAbsent;
          next.push_back(pending[k]);
          continue;
        }
        auto chunk = VerifiedChunk(f, pending[k].size, codec);
        if (!chunk) {
          if (lie.empty())
            lie = "chunk " + ToHex(f.id) + " from " + src.name + ": bytes do not match the id";
          next.push_back(pending[k]);
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        if (!store_error.ok()) return;
        if (auto put = ctx.store->Put(*chunk); !put.ok()) {
          store_error = put.status();
          return;
        }
        good += pending[k].size;
        done += pending[k].size;
        ++ctx.counters->chunks;
        ctx.counters->chunk_bytes += pending[k].size;
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
