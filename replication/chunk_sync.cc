#include "replication/chunk_sync.h"

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
#include "replication/source_walk.h"

namespace tiersync::replication {
namespace {

// A shared token bucket over the Env's clock: callers wait until their bytes fit under the
// rate.
class RateLimit {
 public:
  RateLimit(Env* env, uint64_t bytes_per_second) : env_(env), rate_(bytes_per_second) {}
  void Take(uint64_t bytes) {
    if (rate_ == 0) return;
    uint64_t wait = 0;
    {
      MutexLock lock(&mu_);
      const uint64_t now = env_->MonotonicMicros();
      if (next_ < now) next_ = now;
      next_ += bytes * 1'000'000 / rate_;
      wait = next_ - now;
    }
    if (wait > 0) env_->SleepForMicroseconds(wait);
  }

 private:
  Env* env_;
  uint64_t rate_;
  Mutex mu_;
  uint64_t next_ GUARDED_BY(mu_) = 0;
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
  MutexLock lock(&mu);
  chunk_bytes_by_source[source_url] += bytes;
}

void SyncCounters::Reject(const std::string& what) {
  MutexLock lock(&mu);
  if (rejected.size() < 100) rejected.push_back(what);
}

namespace {

// One chunk index from the first source (in the policy's order) that gives a valid copy.
Result<protocol::ChunkIndex> FetchIndex(const PlannedFile& f, const SyncContext& ctx) {
  const std::string hex = ToHex(f.index_id);
  std::optional<protocol::ChunkIndex> index;
  uint64_t size = 0;
  auto got = AskSources(
      ctx.sources, ctx.env,
      [&](size_t, const Source& src) -> SourceAnswer {
        auto bytes =
            ctx.fetcher->Fetch(src.url + "/v1/indexes/" + hex, protocol::kMaxChunkIndexBytes);
        if (!bytes.ok()) return {bytes.status()};
        if (Sha256(*bytes) != f.index_id) {
          return {VerificationError("chunk index " + hex + ": SHA-256 mismatch")};
        }
        auto decoded = protocol::DecodeChunkIndex(*bytes);
        if (!decoded.ok()) {
          return {VerificationError("chunk index " + hex + ": " + decoded.status().message())};
        }
        if (Status s = CheckIndexMatchesFile(f, *decoded); !s.ok()) return {s};
        index = std::move(decoded).value();
        size = bytes->size();
        return {Status::Ok(), bytes->size()};
      },
      [&](const std::string& what) { ctx.counters->Reject(what); });
  if (!got.ok()) {
    return UnavailableError("chunk index " + hex + " (for " + f.path +
                            ") from no source; last error: " + got.status().ToString());
  }
  ++ctx.counters->indexes;
  ctx.counters->index_bytes += size;
  return std::move(*index);
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

namespace {

// One FetchChunks run: the queue of chunks still to ask for, shared by its workers.
class ChunkFetch {
 public:
  ChunkFetch(const std::vector<protocol::ChunkRef>& missing, const SyncContext& ctx,
             const ChunkSyncOptions& options)
      : ctx_(ctx),
        options_(options),
        queue_(missing.begin(), missing.end()),
        rate_(ctx.env, options.max_bytes_per_second) {
    for (const auto& r : missing) total_ += r.size;
  }

  // Takes batches off the queue until it is empty or the store failed.
  void Work() {
    ZstdCodec codec;
    for (;;) {
      std::vector<protocol::ChunkRef> batch = NextBatch();
      if (batch.empty()) return;
      FetchBatch(std::move(batch), &codec);
    }
  }

  Status Result() {
    MutexLock lock(&mu_);
    if (!store_error_.ok()) return store_error_.WithContext("storing fetched chunks");
    if (!unfetched_.empty()) {
      return UnavailableError(std::to_string(unfetched_.size()) +
                              " chunks could not be fetched from any source (first: " +
                              ToHex(unfetched_.front().id) + ")");
    }
    return Status::Ok();
  }

 private:
  // The next batch: about kBatchSeconds of the first-choice source's measured throughput.
  std::vector<protocol::ChunkRef> NextBatch() {
    const std::vector<size_t> order =
        ctx_.sources->Order(static_cast<int64_t>(ctx_.env->NowMicros() / 1000));
    const uint64_t rate = order.empty() ? 0 : ctx_.sources->Throughput(order.front());
    const uint64_t budget = rate == 0 ? std::min(options_.batch_bytes, kFirstBatchBytes)
                                      : std::clamp(rate * kBatchSeconds, kMinBatchBytes,
                                                   std::max(kMinBatchBytes, options_.batch_bytes));
    MutexLock lock(&mu_);
    std::vector<protocol::ChunkRef> batch;
    uint64_t bytes = 0;
    while (!queue_.empty() && store_error_.ok() && batch.size() < options_.batch_chunks &&
           (batch.empty() || bytes + queue_.front().size <= budget)) {
      bytes += queue_.front().size;
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    return batch;
  }

  void FetchBatch(std::vector<protocol::ChunkRef> pending, ZstdCodec* codec) {
    auto got = AskSources(
        ctx_.sources, ctx_.env,
        [&](size_t i, const Source& src) { return AskOne(i, src, &pending, codec); },
        [&](const std::string& what) { ctx_.counters->Reject(what); });
    MutexLock lock(&mu_);
    if (got.ok()) {
      // A source that sent part of the batch (its size cap) is asked again for the rest.
      queue_.insert(queue_.begin(), pending.begin(), pending.end());
    } else if (got.status().local()) {
      if (store_error_.ok()) store_error_ = got.status();
    } else {
      unfetched_.insert(unfetched_.end(), pending.begin(), pending.end());
    }
  }

  // Asks source `i` for `pending`; what arrives verified is stored and taken out of it.
  SourceAnswer AskOne(size_t i, const Source& src, std::vector<protocol::ChunkRef>* pending,
                      ZstdCodec* codec) {
    std::vector<protocol::ChunkId> ids;
    uint64_t want_bytes = 0;
    for (const auto& r : *pending) {
      ids.push_back(r.id);
      want_bytes += r.size;
    }
    rate_.Take(want_bytes);
    const uint64_t started = ctx_.env->MonotonicMicros();
    auto body = ctx_.fetcher->Post(src.url + "/v1/chunks/batch", protocol::kBatchRequestTypeZstd,
                                   protocol::EncodeBatchRequest(ids),
                                   protocol::kMaxBatchResponseBytes + protocol::kMaxChunkBytes +
                                       protocol::kBatchFrameHeaderBytes * ids.size() + 64);
    if (!body.ok()) return {body.status()};
    ctx_.sources->Measured(i, body->size(), ctx_.env->MonotonicMicros() - started);
    auto frames = protocol::DecodeBatchResponse(*body, ids);
    if (!frames.ok()) return {VerificationError("chunk batch: " + frames.status().message())};
    std::vector<protocol::ChunkRef> next;
    SourceAnswer answer;
    std::string lie;
    for (size_t k = 0; k < frames->size(); ++k) {
      const auto& f = (*frames)[k];
      const protocol::ChunkRef& ref = (*pending)[k];
      if (!protocol::CarriesChunk(f.kind)) {
        answer.lacked += f.kind == protocol::BatchFrameKind::kAbsent;
        next.push_back(ref);
        continue;
      }
      auto chunk = VerifiedChunk(f, ref.size, codec);
      if (!chunk) {
        if (lie.empty()) lie = "chunk " + ToHex(f.id) + ": bytes do not match the id";
        next.push_back(ref);
        continue;
      }
      if (Status s = Store(*chunk, ref.size); !s.ok()) return {s, answer.bytes};
      answer.bytes += ref.size;
      ctx_.counters->Received(src.url, ref.size);
    }
    // Frames past the answer's end (a size cap) stay pending.
    next.insert(next.end(), pending->begin() + static_cast<ptrdiff_t>(frames->size()),
                pending->end());
    *pending = std::move(next);
    if (!lie.empty()) {
      answer.status = VerificationError(lie);
    } else if (answer.lacked > 0) {
      answer.status = NotFoundError(std::to_string(answer.lacked) + " chunks absent");
    } else if (answer.bytes == 0 && !pending->empty()) {
      answer.status = UnavailableError("chunk batch: an answer without any chunk").AsRemote();
    }
    return answer;
  }

  Status Store(const PreparedChunk& chunk, uint32_t size) {
    MutexLock lock(&mu_);
    if (!store_error_.ok()) return store_error_;
    if (auto put = ctx_.store->Put(chunk); !put.ok()) {
      store_error_ = put.status().AsLocal();
      return store_error_;
    }
    done_ += size;
    ++ctx_.counters->chunks;
    ctx_.counters->chunk_bytes += size;
    if (options_.progress) options_.progress(done_, total_);
    return Status::Ok();
  }

  const SyncContext& ctx_;
  const ChunkSyncOptions& options_;
  Mutex mu_;  // guards the queue, the store's writer methods, progress and the results
  std::deque<protocol::ChunkRef> queue_ GUARDED_BY(mu_);
  RateLimit rate_;
  uint64_t total_ = 0;  // set before the workers start
  uint64_t done_ GUARDED_BY(mu_) = 0;
  std::vector<protocol::ChunkRef> unfetched_ GUARDED_BY(mu_);
  Status store_error_ GUARDED_BY(mu_);
};

}  // namespace

Status FetchChunks(const std::vector<protocol::ChunkRef>& missing, const SyncContext& ctx,
                   const ChunkSyncOptions& options) {
  ChunkFetch fetch(missing, ctx, options);
  std::vector<std::thread> threads;
  for (int t = 1; t < std::max(1, options.parallel); ++t) {
    threads.emplace_back([&fetch] { fetch.Work(); });
  }
  fetch.Work();
  // A worker that finds the queue empty stops, but a batch re-queued later by another worker
  // must still be served: drain what is left on this thread.
  for (auto& t : threads) t.join();
  fetch.Work();
  return fetch.Result();
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
