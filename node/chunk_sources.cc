#include "node/chunk_sources.h"

#include "base/hex.h"
#include "base/sha256.h"
#include "protocol/chunk_batch.h"

namespace tiersync::node {

using replication::Source;
using replication::SourceAnswer;

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

Result<FetchedIndex> FetchIndex(const Upstream& up, const protocol::ChunkId& index_id,
                                uint64_t size, const Sha256Digest& sha256) {
  std::optional<FetchedIndex> got;
  auto ask = [&](size_t, const Source& src) -> SourceAnswer {
    auto bytes = up.fetcher->Fetch(src.url + "/v1/indexes/" + ToHex(index_id),
                                   protocol::kMaxChunkIndexBytes);
    if (!bytes.ok()) return {bytes.status().AsRemote()};
    if (Sha256(*bytes) != index_id) {
      return {VerificationError("chunk index " + ToHex(index_id) + " does not match its id")};
    }
    auto index = protocol::DecodeChunkIndex(*bytes);
    if (!index.ok() || index->file_size != size || index->file_sha256 != sha256) {
      return {VerificationError("chunk index " + ToHex(index_id) + " is not the catalog's file")};
    }
    const uint64_t n = bytes->size();
    got = FetchedIndex{std::move(index).value(), std::move(bytes).value(), src.url};
    return {Status::Ok(), n};
  };
  auto asked = replication::AskSources(up.sources, up.env, ask, up.rejected);
  if (!asked.ok()) return asked.status();
  return std::move(*got);
}

std::vector<size_t> PlanBatch(const protocol::ChunkIndex& index, size_t first, size_t want_last,
                              bool sequential, const std::function<bool(size_t)>& taken) {
  std::vector<size_t> batch{first};
  uint64_t bytes = index.chunks[first].size, ahead = 0;
  for (size_t j = first + 1; j < index.chunks.size() && batch.size() < kProxyBatchChunks; ++j) {
    const uint32_t size = index.chunks[j].size;
    if (taken(j) || bytes + size > kProxyBatchBytes) break;
    if (j > want_last) {
      if (!sequential || ahead + size > kReadAheadBytes) break;
      ahead += size;
    }
    batch.push_back(j);
    bytes += size;
  }
  return batch;
}

Result<std::map<size_t, std::vector<uint8_t>>> FetchChunks(const Upstream& up,
                                                           const protocol::ChunkIndex& index,
                                                           const std::vector<size_t>& wanted) {
  std::map<size_t, std::vector<uint8_t>> got;
  // Asks one source for what the sources before it did not give.
  auto ask = [&](size_t, const Source& src) -> SourceAnswer {
    std::vector<size_t> numbers;
    std::vector<protocol::ChunkId> ids;
    for (size_t i : wanted) {
      if (got.count(i)) continue;
      numbers.push_back(i);
      ids.push_back(index.chunks[i].id);
    }
    auto body = up.fetcher->Post(src.url + "/v1/chunks/batch", protocol::kBatchRequestType,
                                 protocol::EncodeBatchRequest(ids),
                                 protocol::kMaxBatchResponseBytes + (1 << 20));
    if (!body.ok()) return {body.status().AsRemote()};
    auto frames = protocol::DecodeBatchResponse(*body, ids);
    if (!frames.ok()) return {frames.status().AsRemote()};
    SourceAnswer answer;
    for (size_t k = 0; k < frames->size(); ++k) {
      const protocol::BatchFrame& f = (*frames)[k];
      if (f.kind != protocol::BatchFrameKind::kChunk) {
        ++answer.lacked;  // absent, or not sent (the server's cap): ask the next source
        continue;
      }
      if (f.bytes.size() != index.chunks[numbers[k]].size || Sha256(f.bytes) != f.id) {
        answer.status = VerificationError("chunk " + ToHex(f.id) + " does not match its id");
        return answer;  // the chunks checked before it are kept, and credited
      }
      got[numbers[k]].assign(f.bytes.begin(), f.bytes.end());
      answer.bytes += f.bytes.size();
    }
    return answer;
  };
  auto asked = replication::AskSources(up.sources, up.env, ask, up.rejected);
  if (!got.count(wanted.front())) {
    return asked.ok() ? NotFoundError("no source has chunk " + std::to_string(wanted.front()))
                      : asked.status();
  }
  return got;
}

}  // namespace tiersync::node
