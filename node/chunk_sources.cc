#include "node/chunk_sources.h"

#include <iostream>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/sha256.h"
#include "protocol/chunk_batch.h"

namespace tiersync::node {

StoreChunks::StoreChunks(const replication::ChunkStore* store, const protocol::ChunkIndex& index,
                         replication::ReadCheck check)
    : store_(store), check_(check) {
  ids_.reserve(index.chunks.size());
  for (const auto& c : index.chunks) ids_.push_back(c.id);
}

Result<std::vector<uint8_t>> StoreChunks::Read(size_t i) {
  if (i >= ids_.size()) return InvalidArgumentError("no such chunk");
  return store_->Get(ids_[i], check_);
}

bool AllChunksPresent(const replication::ChunkStore& store, const protocol::ChunkIndex& index) {
  for (const auto& c : index.chunks) {
    auto has = store.Contains(c.id);
    if (!has.ok() || !*has) return false;
  }
  return true;
}

Result<FetchedIndex> FetchIndex(replication::Fetcher* fetcher,
                                const std::vector<std::string>& sources,
                                const protocol::ChunkId& index_id, uint64_t size,
                                const Sha256Digest& sha256) {
  Status last = NotFoundError("no source configured");
  for (size_t s = 0; s < sources.size(); ++s) {
    auto bytes = fetcher->Fetch(sources[s] + "/v1/indexes/" + ToHex(index_id),
                                protocol::kMaxChunkIndexBytes);
    if (!bytes.ok()) {
      last = bytes.status().WithContext(sources[s]);
      continue;
    }
    if (Sha256(*bytes) != index_id) {
      last = VerificationError(sources[s] + ": chunk index does not match its id");
      continue;
    }
    auto index = protocol::DecodeChunkIndex(*bytes);
    if (!index.ok() || index->file_size != size || index->file_sha256 != sha256) {
      last = VerificationError(sources[s] + ": chunk index is not the catalog's file");
      continue;
    }
    return FetchedIndex{std::move(index).value(), std::move(bytes).value(), s};
  }
  return last;
}

UpstreamChunks::UpstreamChunks(replication::Fetcher* fetcher, std::vector<std::string> sources,
                               size_t first, protocol::ChunkIndex index,
                               std::unique_ptr<FileCache::Writer> writer)
    : fetcher_(fetcher),
      sources_(std::move(sources)),
      current_(first),
      index_(std::move(index)),
      writer_(std::move(writer)) {}

// Asks `source` for chunks first.. (up to a batch) and keeps those that check out.
Status UpstreamChunks::FetchFrom(size_t source, size_t first) {
  std::vector<protocol::ChunkId> ids;
  size_t bytes = 0;
  for (size_t i = first; i < index_.chunks.size() && ids.size() < kProxyBatchChunks &&
                         (ids.empty() || bytes + index_.chunks[i].size <= kProxyBatchBytes);
       ++i) {
    ids.push_back(index_.chunks[i].id);
    bytes += index_.chunks[i].size;
  }
  std::vector<uint8_t> request = protocol::EncodeBatchRequest(ids);
  TS_ASSIGN_OR_RETURN(auto body, fetcher_->Post(sources_[source] + "/v1/chunks/batch",
                                                "application/x-tiersync-chunk-ids", request,
                                                protocol::kMaxBatchResponseBytes + (1 << 20)));
  TS_ASSIGN_OR_RETURN(auto frames, protocol::DecodeBatchResponse(body, ids));
  for (size_t k = 0; k < frames.size(); ++k) {
    const auto& f = frames[k];
    if (f.kind != protocol::BatchFrameKind::kChunk) continue;
    if (f.bytes.size() != index_.chunks[first + k].size || Sha256(f.bytes) != f.id) {
      return VerificationError(sources_[source] + ": chunk " + ToHex(f.id) +
                               " does not match its id");
    }
    buffered_[first + k].assign(f.bytes.begin(), f.bytes.end());
  }
  if (!buffered_.count(first)) return NotFoundError(sources_[source] + " lacks the chunk");
  return Status::Ok();
}

Result<std::vector<uint8_t>> UpstreamChunks::Read(size_t i) {
  if (i >= index_.chunks.size()) return InvalidArgumentError("no such chunk");
  buffered_.erase(buffered_.begin(), buffered_.lower_bound(i));  // bound what is held
  if (!buffered_.count(i)) {
    Status last = NotFoundError("no source has the chunk");
    bool got = false;
    for (size_t tried = 0; tried < sources_.size() && !got; ++tried) {
      const size_t s = (current_ + tried) % sources_.size();
      Status st = FetchFrom(s, i);
      if (st.ok()) {
        current_ = s;
        got = true;
      } else {
        last = st;
      }
    }
    if (!got) {
      writer_.reset();
      std::cerr << "tiersync node: proxy: " << last.ToString() << std::endl;
      return last;
    }
  }
  std::vector<uint8_t> chunk = std::move(buffered_[i]);
  buffered_.erase(i);
  if (writer_) {
    if (i == next_write_ && writer_->Append(AsChars(chunk)).ok()) {
      ++next_write_;
    } else {
      writer_.reset();  // not read in order from the start (a range), or the disk refused
    }
  }
  return chunk;
}

void UpstreamChunks::Finished() {
  if (!writer_ || next_write_ != index_.chunks.size()) return;
  Status s = writer_->Commit();
  if (!s.ok()) std::cerr << "tiersync node: proxy cache: " << s.ToString() << std::endl;
  writer_.reset();
}

}  // namespace tiersync::node
