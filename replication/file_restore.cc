#include "replication/file_restore.h"

#include "base/sha256.h"

namespace tiersync::replication {

Result<protocol::ChunkIndex> LoadChunkIndex(const ChunkStore& store, const protocol::ChunkId& id) {
  auto bytes = store.GetIndexBytes(id);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) {
      return NotFoundError("no file with chunk-index id " + ToHex(id) + " in this store");
    }
    return bytes.status();
  }
  auto index = protocol::DecodeChunkIndex(*bytes);
  if (!index.ok()) return index.status().WithContext("chunk index " + ToHex(id));
  return index;
}

Status RestoreFile(const ChunkStore& store, const protocol::ChunkId& index_id,
                   const std::function<Status(ByteSpan)>& sink) {
  TS_ASSIGN_OR_RETURN(protocol::ChunkIndex index, LoadChunkIndex(store, index_id));
  Sha256Hasher file_hash;
  uint64_t offset = 0;
  for (size_t i = 0; i < index.chunks.size(); ++i) {
    const protocol::ChunkRef& ref = index.chunks[i];
    auto data = store.Get(ref.id, ReadCheck::kFull);
    if (!data.ok() || data->size() != ref.size) {
      Status s = data.ok() ? CorruptionError("chunk has the wrong size") : data.status();
      return s.WithContext("chunk " + std::to_string(i) + " of " +
                           std::to_string(index.chunks.size()) + " at file offset " +
                           std::to_string(offset));
    }
    file_hash.Update(*data);
    TS_RETURN_IF_ERROR(sink(*data));
    offset += data->size();
  }
  if (offset != index.file_size || file_hash.Finish() != index.file_sha256) {
    return CorruptionError("restored file does not match the SHA-256 in its chunk index");
  }
  return Status::Ok();
}

}  // namespace tiersync::replication
