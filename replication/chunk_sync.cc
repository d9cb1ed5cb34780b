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
#include "replication/transfer_engine.h"

namespace tiersync::replication {
namespace {

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

TransferExecutor::TransferExecutor(const SyncContext& ctx) : ctx_(ctx) {}

TransferAnswer TransferExecutor::Execute(const TransferRequest& r, ZstdCodec* codec) {
  TransferAnswer a;
  if (r.index) {
    a.index_answer = FetchIndex(r, &a.index);
  } else {
    a.chunks = FetchChunkBatch(r, codec);
  }
  return a;
}

// The chunk index from the request's source: SHA-256 checked against the id, decoded
// strictly, and checked against the signed file.
SourceAnswer TransferExecutor::FetchIndex(const TransferRequest& r,
                                          std::optional<protocol::ChunkIndex>* out) {
  const PlannedFile& f = *r.index;
  const std::string hex = ToHex(f.index_id);
  auto bytes = ctx_.fetcher->Fetch(ctx_.sources->source(r.source).url + "/v1/indexes/" + hex,
                                   protocol::kMaxChunkIndexBytes);
  if (!bytes.ok()) return {bytes.status()};
  if (Sha256(*bytes) != f.index_id) {
    return {VerificationError("chunk index " + hex + ": SHA-256 mismatch")};
  }
  auto decoded = protocol::DecodeChunkIndex(*bytes);
  if (!decoded.ok()) {
    return {VerificationError("chunk index " + hex + ": " + decoded.status().message())};
  }
  if (Status s = CheckIndexMatchesFile(f, *decoded); !s.ok()) return {s};
  *out = std::move(decoded).value();
  ++ctx_.counters->indexes;
  ctx_.counters->index_bytes += bytes->size();
  return {Status::Ok(), bytes->size()};
}

// The request's chunks from its source; what arrives verified is stored.
ChunksAnswer TransferExecutor::FetchChunkBatch(const TransferRequest& r, ZstdCodec* codec) {
  const Source& src = ctx_.sources->source(r.source);
  std::vector<protocol::ChunkId> ids;
  for (const auto& c : r.chunks) ids.push_back(c.id);
  ChunksAnswer a;
  a.remaining = r.chunks;
  const uint64_t started = ctx_.env->MonotonicMicros();
  auto body = ctx_.fetcher->Post(src.url + "/v1/chunks/batch", protocol::kBatchRequestTypeZstd,
                                 protocol::EncodeBatchRequest(ids),
                                 protocol::kMaxBatchResponseBytes + protocol::kMaxChunkBytes +
                                     protocol::kBatchFrameHeaderBytes * ids.size() + 64);
  if (!body.ok()) {
    a.answer.status = body.status();
    return a;
  }
  a.wire_bytes = body->size();
  a.micros = ctx_.env->MonotonicMicros() - started;
  auto frames = protocol::DecodeBatchResponse(*body, ids);
  if (!frames.ok()) {
    a.answer.status = VerificationError("chunk batch: " + frames.status().message());
    return a;
  }
  std::vector<protocol::ChunkRef> next;
  std::string lie;
  for (size_t k = 0; k < frames->size(); ++k) {
    const auto& f = (*frames)[k];
    const protocol::ChunkRef& ref = r.chunks[k];
    if (!protocol::CarriesChunk(f.kind)) {
      a.answer.lacked += f.kind == protocol::BatchFrameKind::kAbsent;
      next.push_back(ref);
      continue;
    }
    auto chunk = VerifiedChunk(f, ref.size, codec);
    if (!chunk) {
      if (lie.empty()) lie = "chunk " + ToHex(f.id) + ": bytes do not match the id";
      next.push_back(ref);
      continue;
    }
    if (Status s = Store(*chunk, ref.size); !s.ok()) {
      a.answer.status = s;
      return a;
    }
    a.answer.bytes += ref.size;
    ctx_.counters->Received(src.url, ref.size);
  }
  // Frames past the answer's end (a size cap) stay to be fetched.
  next.insert(next.end(), r.chunks.begin() + static_cast<ptrdiff_t>(frames->size()),
              r.chunks.end());
  a.remaining = std::move(next);
  if (!lie.empty()) {
    a.answer.status = VerificationError(lie);
  } else if (a.answer.lacked > 0) {
    a.answer.status = NotFoundError(std::to_string(a.answer.lacked) + " chunks absent");
  } else if (a.answer.bytes == 0 && !a.remaining.empty()) {
    a.answer.status = UnavailableError("chunk batch: an answer without any chunk").AsRemote();
  }
  return a;
}

Status TransferExecutor::Store(const PreparedChunk& chunk, uint32_t size) {
  MutexLock lock(&store_mu_);
  if (ctx_.replace) {
    if (Status s = ctx_.store->Replace(chunk); !s.ok()) return s.AsLocal();
  } else if (auto put = ctx_.store->Put(chunk); !put.ok()) {
    return put.status().AsLocal();
  }
  ++ctx_.counters->chunks;
  ctx_.counters->chunk_bytes += size;
  return Status::Ok();
}

void Deliver(TransferEngine* engine, const TransferRequest& r, TransferAnswer answer,
             int64_t now_us, const TransferProgress& progress) {
  if (r.index) {
    engine->OnIndex(r.id, answer.index_answer, std::move(answer.index), now_us);
    return;
  }
  engine->OnChunks(r.id, answer.chunks, now_us);
  if (progress) progress(engine->stored_bytes(), engine->queued_bytes());
}

namespace {

// The node's scheduler: `parallel` workers take the engine's requests, execute them and
// report the answers. The engine is behind one mutex; the store's writer calls behind the
// executor's own, so hashing and decompressing run on every worker at once.
class ThreadedScheduler final : public TransferScheduler {
 public:
  void Run(TransferEngine* engine, TransferExecutor* executor, Env* env, int parallel,
           const TransferProgress& progress) override {
    Workers w{engine, executor, env, progress};
    std::vector<std::thread> threads;
    for (int t = 1; t < std::max(1, parallel); ++t) threads.emplace_back([&w] { w.Work(); });
    w.Work();
    for (auto& t : threads) t.join();
  }

 private:
  struct Workers {
    Workers(TransferEngine* e, TransferExecutor* x, Env* env, const TransferProgress& p)
        : engine(e), executor(x), env(env), progress(p) {}

    void Work() {
      ZstdCodec codec;
      MutexLock lock(&mu);
      for (;;) {
        const int64_t now = static_cast<int64_t>(env->NowMicros());
        TransferStep step = engine->Next(now);
        switch (step.kind) {
          case TransferStep::Kind::kDone:
            cv.SignalAll();
            return;
          case TransferStep::Kind::kIdle:
            cv.Wait(&mu);
            continue;
          case TransferStep::Kind::kRequest:
            break;
        }
        lock.Unlock();
        TransferAnswer answer = executor->Execute(step.request, &codec);
        lock.Lock();
        Deliver(engine, step.request, std::move(answer), static_cast<int64_t>(env->NowMicros()),
                progress);
        cv.SignalAll();
      }
    }

    Mutex mu;
    TransferEngine* engine GUARDED_BY(mu);
    TransferExecutor* executor;
    Env* env;
    const TransferProgress& progress;
    CondVar cv;
  };
};

TransferOptions EngineOptions(const ChunkSyncOptions& o, const SyncContext& ctx) {
  TransferOptions t;
  t.batch_bytes = o.batch_bytes;
  t.batch_chunks = o.batch_chunks;
  t.max_in_flight = ctx.scheduler ? ctx.scheduler->InFlight(o.parallel)
                                  : static_cast<size_t>(std::max(1, o.parallel));
  t.ordinary_allowed = o.ordinary_allowed;
  return t;
}

// Runs `engine` to its end with the context's scheduler (the node's threads by default).
void RunEngine(TransferEngine* engine, const SyncContext& ctx, int parallel,
               const TransferProgress& progress) {
  ThreadedScheduler threads;
  TransferScheduler* scheduler = ctx.scheduler ? ctx.scheduler : &threads;
  TransferExecutor executor(ctx);
  scheduler->Run(engine, &executor, ctx.env, parallel, progress);
  for (const auto& what : engine->rejected()) ctx.counters->Reject(what);
}

}  // namespace

Result<std::map<protocol::ChunkId, protocol::ChunkIndex>> LoadIndexes(
    const std::vector<PlannedFile>& files, const SyncContext& ctx, int parallel) {
  std::map<protocol::ChunkId, protocol::ChunkIndex> out;
  std::vector<PlannedFile> remote;  // one file per index the store lacks
  std::set<protocol::ChunkId> asked;
  for (const PlannedFile& f : files) {
    if (out.count(f.index_id) || asked.count(f.index_id)) continue;
    if (auto local = LoadChunkIndex(*ctx.store, f.index_id); local.ok()) {
      TS_RETURN_IF_ERROR(CheckIndexMatchesFile(f, *local));
      out.emplace(f.index_id, std::move(local).value());
      continue;
    }
    asked.insert(f.index_id);
    remote.push_back(f);
  }
  ChunkSyncOptions options;
  options.parallel = parallel;
  TransferEngine engine(ctx.sources, EngineOptions(options, ctx));
  engine.AddIndexes(remote);
  RunEngine(&engine, ctx, parallel, nullptr);
  TS_RETURN_IF_ERROR(engine.Result());
  out.merge(engine.TakeIndexes());
  return out;
}

Status FetchChunks(const std::vector<protocol::ChunkRef>& missing, const SyncContext& ctx,
                   const ChunkSyncOptions& options, size_t priority,
                   std::vector<protocol::ChunkRef>* deferred) {
  TransferEngine engine(ctx.sources, EngineOptions(options, ctx));
  priority = std::min(priority, missing.size());
  const auto split = missing.begin() + static_cast<ptrdiff_t>(priority);
  engine.AddChunks({missing.begin(), split}, /*priority=*/true);
  engine.AddChunks({split, missing.end()});
  RunEngine(&engine, ctx, options.parallel, options.progress);
  if (deferred != nullptr) {
    deferred->insert(deferred->end(), engine.deferred().begin(), engine.deferred().end());
  }
  return engine.Result();
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
