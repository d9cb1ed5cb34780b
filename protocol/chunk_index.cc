#include "protocol/chunk_index.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "protocol/little_endian.h"

namespace tiersync::protocol {
namespace {

constexpr uint8_t kChunkIndexMagic[4] = {'T', 'S', 'C', 'I'};

Status Corrupt(const std::string& what) { return CorruptionError("chunk index: " + what); }

bool IsPowerOfTwo(uint32_t x) { return x != 0 && (x & (x - 1)) == 0; }

}  // namespace

Status ValidateChunkerParams(const ChunkerParams& p) {
  if (p.algorithm != kChunkerFastCdcV1) {
    return NotSupportedError("chunker algorithm " + std::to_string(p.algorithm) + " is unknown");
  }
  if (p.normalization > 3) return InvalidArgumentError("normalisation level must be 0..3");
  if (!IsPowerOfTwo(p.avg_size))
    return InvalidArgumentError("average chunk size must be a power of two");
  if (p.min_size < kMinChunkBytesFloor || p.min_size >= p.avg_size || p.avg_size >= p.max_size ||
      p.max_size > kMaxChunkBytes) {
    return InvalidArgumentError("chunk sizes must satisfy " + std::to_string(kMinChunkBytesFloor) +
                                " <= min < avg < max <= " + std::to_string(kMaxChunkBytes) +
                                " (got " + std::to_string(p.min_size) + "/" +
                                std::to_string(p.avg_size) + "/" + std::to_string(p.max_size) +
                                ")");
  }
  return Status::Ok();
}

Status ValidateChunkIndex(const ChunkIndex& index) {
  Status params = ValidateChunkerParams(index.params);
  if (params.code() == StatusCode::kNotSupported) return params;
  if (!params.ok()) return Corrupt(params.message());
  if (index.file_size > kMaxFileBytes) return Corrupt("file size over the limit");
  if (index.chunks.size() > kMaxChunksPerIndex) return Corrupt("too many chunks");
  uint64_t total = 0;
  for (size_t i = 0; i < index.chunks.size(); ++i) {
    uint32_t size = index.chunks[i].size;
    bool last = i + 1 == index.chunks.size();
    if (size == 0 || size > index.params.max_size) {
      return Corrupt("chunk " + std::to_string(i) + " has size " + std::to_string(size) +
                     ", outside [1, max]");
    }
    if (!last && size < index.params.min_size) {
      return Corrupt("chunk " + std::to_string(i) + " is shorter than the minimum chunk size");
    }
    total += size;
  }
  if (total != index.file_size) {
    return Corrupt("chunk sizes add up to " + std::to_string(total) + ", file size is " +
                   std::to_string(index.file_size));
  }
  return Status::Ok();
}

std::vector<uint8_t> EncodeChunkIndex(const ChunkIndex& index) {
  std::vector<uint8_t> out;
  out.reserve(kChunkIndexHeaderBytes + index.chunks.size() * kChunkIndexEntryBytes);
  out.insert(out.end(), std::begin(kChunkIndexMagic), std::end(kChunkIndexMagic));
  out.push_back(kChunkIndexVersion);
  out.push_back(index.params.algorithm);
  out.push_back(index.params.normalization);
  out.push_back(0);
  PutLe<uint32_t>(&out, index.params.min_size);
  PutLe<uint32_t>(&out, index.params.avg_size);
  PutLe<uint32_t>(&out, index.params.max_size);
  PutLe<uint32_t>(&out, static_cast<uint32_t>(index.chunks.size()));
  PutLe<uint64_t>(&out, index.file_size);
  out.insert(out.end(), index.file_sha256.begin(), index.file_sha256.end());
  for (const ChunkRef& c : index.chunks) {
    out.insert(out.end(), c.id.begin(), c.id.end());
    PutLe<uint32_t>(&out, c.size);
  }
  return out;
}

Result<ChunkIndex> DecodeChunkIndex(std::span<const uint8_t> b) {
  if (b.size() < kChunkIndexHeaderBytes) return Corrupt("shorter than its header");
  if (b.size() > kMaxChunkIndexBytes) return Corrupt("larger than the size limit");
  if (std::memcmp(b.data(), kChunkIndexMagic, 4) != 0) return Corrupt("bad magic");
  if (b[4] != kChunkIndexVersion) {
    return NotSupportedError("chunk index format version " + std::to_string(b[4]) +
                             " is not supported by this build");
  }
  if (b[7] != 0) return Corrupt("reserved byte is not zero");
  ChunkIndex index;
  index.params.algorithm = b[5];
  index.params.normalization = b[6];
  index.params.min_size = GetLe<uint32_t>(&b[8]);
  index.params.avg_size = GetLe<uint32_t>(&b[12]);
  index.params.max_size = GetLe<uint32_t>(&b[16]);
  uint32_t count = GetLe<uint32_t>(&b[20]);
  index.file_size = GetLe<uint64_t>(&b[24]);
  std::copy_n(&b[32], 32, index.file_sha256.begin());
  if (count > kMaxChunksPerIndex) return Corrupt("chunk count over the limit");
  if (b.size() != kChunkIndexHeaderBytes + size_t{count} * kChunkIndexEntryBytes) {
    return Corrupt("length " + std::to_string(b.size()) + " does not match chunk count " +
                   std::to_string(count) + " (truncated or trailing data)");
  }
  index.chunks.resize(count);
  const uint8_t* p = b.data() + kChunkIndexHeaderBytes;
  for (ChunkRef& c : index.chunks) {
    std::copy_n(p, 32, c.id.begin());
    c.size = GetLe<uint32_t>(p + 32);
    p += kChunkIndexEntryBytes;
  }
  TS_RETURN_IF_ERROR(ValidateChunkIndex(index));
  return index;
}

}  // namespace tiersync::protocol
