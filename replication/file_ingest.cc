#include "replication/file_ingest.h"

#include <atomic>
#include <optional>
#include <thread>

#include "base/bounded_queue.h"
#include "base/sha256.h"
#include "replication/chunker.h"

namespace tiersync::replication {
namespace {

// Chunk buffers go round from the reader to the sink and back, so the pipeline allocates a
// handful of buffers instead of one per chunk (fresh large allocations cost page faults).
class BufferPool {
 public:
  explicit BufferPool(size_t reserve) : reserve_(reserve), free_(kPoolSize) {}
  std::vector<uint8_t> Take() {
    auto v = free_.TryPop();
    if (!v) {
      std::vector<uint8_t> fresh;
      fresh.reserve(reserve_);
      return fresh;
    }
    v->clear();
    return std::move(*v);
  }
  void Give(std::vector<uint8_t> v) {
    if (v.capacity() >= reserve_) free_.TryPush(std::move(v));
  }

 private:
  static constexpr size_t kPoolSize = 80;  // > the queue between the stages
  size_t reserve_;
  BoundedQueue<std::vector<uint8_t>> free_;
};

// Second stage: hash, dedupe, compress and store chunks in order; collects the index.
// One compression context per thread, reused across files: creating a zstd context costs
// more than compressing a small file.
ZstdCodec* Codec() {
  thread_local ZstdCodec codec;
  return &codec;
}

class ChunkSink {
 public:
  ChunkSink(ChunkStore* store, BufferPool* pool) : store_(store), pool_(pool) {}

  Status Add(std::vector<uint8_t> raw) {
    const ChunkId id = Sha256(raw);
    const uint32_t size = static_cast<uint32_t>(raw.size());
    refs_.push_back({id, size});
    TS_ASSIGN_OR_RETURN(bool present, store_->Contains(id));
    if (present) {
      pool_->Give(std::move(raw));
      return Status::Ok();
    }
    PreparedChunk chunk = PrepareChunk(id, &raw, Codec());
    Result<bool> put = store_->Put(chunk);
    const size_t stored = chunk.payload.size();
    pool_->Give(chunk.flags & kFlagZstd ? std::move(raw) : std::move(chunk.payload));
    TS_ASSIGN_OR_RETURN(bool added, std::move(put));
    if (added) {
      ++result_.new_chunks;
      result_.new_raw_bytes += size;
      result_.new_stored_bytes += stored;
    }
    return Status::Ok();
  }

  std::vector<protocol::ChunkRef>& refs() { return refs_; }
  IngestResult& result() { return result_; }

 private:
  ChunkStore* store_;
  BufferPool* pool_;
  std::vector<protocol::ChunkRef> refs_;
  IngestResult result_;
};

// Runs the sink inline or on a worker thread fed through a bounded queue.
class SinkStage {
 public:
  SinkStage(ChunkSink* sink, bool threaded) : sink_(sink) {
    if (threaded) {
      queue_.emplace(64);
      worker_ = std::thread([this] { Drain(); });
    }
  }
  ~SinkStage() { Finish().IgnoreError(); }

  Status Add(std::vector<uint8_t> chunk) {
    if (!queue_) return sink_->Add(std::move(chunk));
    if (failed_.load()) return Status::Ok();  // the error surfaces from Finish()
    queue_->Push(std::move(chunk));
    return Status::Ok();
  }
  bool failed() const { return failed_.load(); }

  // Waits for every chunk to be handled; returns the first error.
  Status Finish() {
    if (worker_.joinable()) {
      queue_->Close();
      worker_.join();
    }
    return error_;
  }

 private:
  void Drain() {
    while (auto chunk = queue_->Pop()) {
      if (failed_.load()) continue;  // keep draining so the producer never blocks
      Status s = sink_->Add(std::move(*chunk));
      if (!s.ok()) {
        error_ = s;
        failed_.store(true);
      }
    }
  }

  ChunkSink* sink_;
  std::optional<BoundedQueue<std::vector<uint8_t>>> queue_;
  std::thread worker_;
  std::atomic<bool> failed_{false};
  Status error_;  // written by the worker before failed_, read after join
};

// First stage: read, hash the whole file, cut chunks.
Status ReadAndChunk(Env* env, const std::string& path, const IngestOptions& options,
                    uint64_t file_size, BufferPool* pool, SinkStage* stage,
                    Sha256Digest* file_sha) {
  TS_ASSIGN_OR_RETURN(auto file, env->NewSequentialFile(path));
  Chunker chunker(options.params);
  Sha256Hasher file_hash;
  // No bigger than the file (plus one byte to see its end): a small file must not pay for
  // zeroing a 4 MiB buffer.
  std::vector<uint8_t> block(std::min<uint64_t>(options.read_block_bytes, file_size + 1));
  std::vector<uint8_t> current = pool->Take();
  uint64_t done = 0;
  for (;;) {
    TS_ASSIGN_OR_RETURN(size_t n, file->Read(block));
    if (n == 0) break;
    std::span<const uint8_t> data(block.data(), n);
    file_hash.Update(data);
    while (!data.empty()) {
      size_t cut = chunker.Scan(data);
      size_t take = cut == Chunker::kNoCut ? data.size() : cut;
      current.insert(current.end(), data.begin(), data.begin() + take);
      data = data.subspan(take);
      if (cut != Chunker::kNoCut) {
        TS_RETURN_IF_ERROR(stage->Add(std::move(current)));
        current = pool->Take();
      }
    }
    done += n;
    if (stage->failed()) break;
    if (options.progress) options.progress(done, file_size);
  }
  if (!current.empty()) TS_RETURN_IF_ERROR(stage->Add(std::move(current)));
  if (done != file_size && !stage->failed()) {
    return FailedPreconditionError(path + " changed size while it was being read");
  }
  *file_sha = file_hash.Finish();
  return Status::Ok();
}

}  // namespace

Result<IngestResult> IngestFile(ChunkStore* store, Env* env, const std::string& path,
                                const IngestOptions& options) {
  TS_RETURN_IF_ERROR(protocol::ValidateChunkerParams(options.params));
  TS_ASSIGN_OR_RETURN(uint64_t file_size, env->GetFileSize(path));
  if (file_size > protocol::kMaxFileBytes) {
    return InvalidArgumentError(path + " is larger than the 1 TiB limit of one file");
  }
  BufferPool pool(options.params.max_size);
  ChunkSink sink(store, &pool);
  Sha256Digest file_sha{};
  Status read_status;
  {
    SinkStage stage(&sink, options.threads >= 2);
    read_status = ReadAndChunk(env, path, options, file_size, &pool, &stage, &file_sha);
    Status sink_status = stage.Finish();
    if (!sink_status.ok()) return sink_status;
  }
  TS_RETURN_IF_ERROR(read_status);
  protocol::ChunkIndex index;
  index.params = options.params;
  index.file_size = file_size;
  index.file_sha256 = file_sha;
  index.chunks = std::move(sink.refs());
  std::vector<uint8_t> encoded = protocol::EncodeChunkIndex(index);
  IngestResult result = sink.result();
  result.index_id = protocol::ChunkIndexId(encoded);
  result.file_size = file_size;
  result.file_sha256 = file_sha;
  result.chunks = index.chunks.size();
  TS_RETURN_IF_ERROR(store->PutIndex(result.index_id, std::move(encoded)));
  if (options.commit) TS_RETURN_IF_ERROR(store->Commit());
  return result;
}

}  // namespace tiersync::replication
