#include "protocol/chunk_batch.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "base/hex.h"
#include "protocol/little_endian.h"

namespace tiersync::protocol {
namespace {

constexpr uint8_t kChunkBatchMagic[4] = {'T', 'S', 'C', 'B'};

}  // namespace

std::vector<uint8_t> EncodeBatchRequest(std::span<const ChunkId> ids) {
  std::vector<uint8_t> out;
  out.reserve(ids.size() * 32);
  for (const ChunkId& id : ids) out.insert(out.end(), id.begin(), id.end());
  return out;
}

Result<std::vector<ChunkId>> DecodeBatchRequest(std::span<const uint8_t> body) {
  if (body.empty() || body.size() % 32 != 0 || body.size() / 32 > kMaxBatchChunks) {
    return InvalidArgumentError("chunk batch request: expected 1 to " +
                                std::to_string(kMaxBatchChunks) + " ids of 32 bytes, got " +
                                std::to_string(body.size()) + " bytes");
  }
  std::vector<ChunkId> ids(body.size() / 32);
  for (size_t i = 0; i < ids.size(); ++i) std::memcpy(ids[i].data(), &body[i * 32], 32);
  return ids;
}

BatchResponseWriter::BatchResponseWriter() {
  out_.assign(reinterpret_cast<const char*>(kChunkBatchMagic), 4);
  out_.push_back(static_cast<char>(kChunkBatchVersion));
  out_.append(3, '\0');
}

void BatchResponseWriter::Header(const ChunkId& id, BatchFrameKind kind, uint32_t size) {
  out_.append(reinterpret_cast<const char*>(id.data()), id.size());
  out_.push_back(static_cast<char>(kind));
  out_.append(3, '\0');
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>(size >> (8 * i)));
}

void BatchResponseWriter::AddChunk(const ChunkId& id, std::span<const uint8_t> bytes) {
  AddFrame(id, BatchFrameKind::kChunk, bytes);
}

void BatchResponseWriter::AddCompressedChunk(const ChunkId& id,
                                             std::span<const uint8_t> zstd_frame) {
  AddFrame(id, BatchFrameKind::kChunkZstd, zstd_frame);
}

void BatchResponseWriter::AddFrame(const ChunkId& id, BatchFrameKind kind,
                                   std::span<const uint8_t> bytes) {
  if (!CarriesChunk(kind)) return AddMissing(id, kind);
  Header(id, kind, static_cast<uint32_t>(bytes.size()));
  out_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

void BatchResponseWriter::AddMissing(const ChunkId& id, BatchFrameKind kind) {
  Header(id, kind, 0);
}

Result<std::vector<BatchFrame>> DecodeBatchResponse(std::span<const uint8_t> body,
                                                    std::span<const ChunkId> requested) {
  if (body.size() < kBatchHeaderBytes ||
      !std::equal(kChunkBatchMagic, kChunkBatchMagic + 4, body.begin())) {
    return CorruptionError("chunk batch: bad magic");
  }
  if (body[4] != kChunkBatchVersion) {
    return CorruptionError("chunk batch: unknown version " + std::to_string(body[4]));
  }
  if (body[5] != 0 || body[6] != 0 || body[7] != 0) {
    return CorruptionError("chunk batch: reserved header bytes are not zero");
  }
  std::vector<BatchFrame> frames;
  frames.reserve(requested.size());
  size_t pos = kBatchHeaderBytes;
  for (size_t i = 0; i < requested.size(); ++i) {
    const std::string where = "chunk batch frame " + std::to_string(i) + ": ";
    if (body.size() - pos < kBatchFrameHeaderBytes) return CorruptionError(where + "truncated");
    const uint8_t* h = &body[pos];
    BatchFrame f;
    std::memcpy(f.id.data(), h, 32);
    if (f.id != requested[i]) {
      return CorruptionError(where + "id " + ToHex(f.id) + " is not the requested " +
                             ToHex(requested[i]));
    }
    if (h[32] > static_cast<uint8_t>(BatchFrameKind::kChunkZstd)) {
      return CorruptionError(where + "unknown kind " + std::to_string(h[32]));
    }
    f.kind = static_cast<BatchFrameKind>(h[32]);
    if (h[33] != 0 || h[34] != 0 || h[35] != 0) {
      return CorruptionError(where + "reserved bytes are not zero");
    }
    const uint32_t size = GetLe<uint32_t>(h + 36);
    pos += kBatchFrameHeaderBytes;
    if (!CarriesChunk(f.kind)) {
      if (size != 0) return CorruptionError(where + "a missing chunk with a size");
    } else {
      if (size == 0 || size > kMaxChunkBytes) {
        return CorruptionError(where + "chunk size " + std::to_string(size) + " out of range");
      }
      if (body.size() - pos < size) return CorruptionError(where + "truncated chunk");
      f.bytes = body.subspan(pos, size);
      pos += size;
    }
    frames.push_back(f);
  }
  if (pos != body.size()) return CorruptionError("chunk batch: trailing bytes");
  return frames;
}

}  // namespace tiersync::protocol
