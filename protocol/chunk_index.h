// The chunk index: the list of chunks that rebuilds one file.
//
// A chunk index is a content-addressed object: its id is the SHA-256 of its encoded bytes.
// The signed metadata names a file by its chunk-index id (plus the file's own length and
// SHA-256), so every byte below is covered by a signature chain. Normative description:
// docs/formats/chunk-index.md. All integers are little-endian.
//
//   offset size  field
//   0      4     magic "TSCI"
//   4      1     format version (kChunkIndexVersion = 1)
//   5      1     chunker algorithm (1 = FastCDC with the tiersync gear table v1)
//   6      1     normalisation level (0..3)
//   7      1     reserved, must be 0
//   8      4     min chunk size
//   12     4     average (target) chunk size, a power of two
//   16     4     max chunk size
//   20     4     chunk count N
//   24     8     file size in bytes
//   32     32    SHA-256 of the whole file
//   64     N*36  entries: 32-byte chunk id (SHA-256 of the uncompressed chunk), 4-byte size
//
// Decoding is strict: the bytes must be exactly 64 + 36*N long (no trailing data), every
// reserved field zero, the parameters within the limits below, every chunk size in [1, max],
// every chunk but the last at least min, and the sizes must add up to the file size. Any
// violation is kCorruption naming what is wrong; an unknown version or algorithm is
// kNotSupported. Encoding a decoded index gives back the same bytes.
#ifndef TIERSYNC_PROTOCOL_CHUNK_INDEX_H_
#define TIERSYNC_PROTOCOL_CHUNK_INDEX_H_

#include <cstdint>
#include <span>
#include <vector>

#include "base/sha256.h"
#include "base/status.h"

namespace tiersync::protocol {

inline constexpr uint8_t kChunkIndexVersion = 1;
inline constexpr uint8_t kChunkerFastCdcV1 = 1;
inline constexpr size_t kChunkIndexHeaderBytes = 64;
inline constexpr size_t kChunkIndexEntryBytes = 36;

// Limits. A chunk is at most kMaxChunkBytes; a chunker's minimum at least kMinChunkBytesFloor.
inline constexpr uint32_t kMaxChunkBytes = 4u << 20;  // 4 MiB
inline constexpr uint32_t kMinChunkBytesFloor = 64;
inline constexpr uint64_t kMaxFileBytes = 1ull << 40;     // 1 TiB
inline constexpr uint32_t kMaxChunksPerIndex = 1u << 22;  // 4 Mi chunks
inline constexpr size_t kMaxChunkIndexBytes =
    kChunkIndexHeaderBytes + size_t{kMaxChunksPerIndex} * kChunkIndexEntryBytes;  // ~151 MB

using ChunkId = Sha256Digest;

// Content-defined chunking parameters. Recorded in every chunk index so that a file can be
// re-chunked identically (and an index made with other parameters is still readable).
struct ChunkerParams {
  uint8_t algorithm = kChunkerFastCdcV1;
  uint8_t normalization = 2;
  uint32_t min_size = 16 * 1024;
  uint32_t avg_size = 64 * 1024;
  uint32_t max_size = 256 * 1024;

  bool operator==(const ChunkerParams&) const = default;
};

// OK if the parameters are usable: known algorithm, normalisation <= 3, avg a power of two,
// kMinChunkBytesFloor <= min < avg < max <= kMaxChunkBytes.
Status ValidateChunkerParams(const ChunkerParams& p);

struct ChunkRef {
  ChunkId id;
  uint32_t size = 0;
  bool operator==(const ChunkRef&) const = default;
};

struct ChunkIndex {
  ChunkerParams params;
  uint64_t file_size = 0;
  Sha256Digest file_sha256{};
  std::vector<ChunkRef> chunks;

  bool operator==(const ChunkIndex&) const = default;
};

// Encodes an index. REQUIRES: ValidateChunkIndex(index).ok().
std::vector<uint8_t> EncodeChunkIndex(const ChunkIndex& index);

// Checks the structural rules listed above on an in-memory index.
Status ValidateChunkIndex(const ChunkIndex& index);

// Decodes and validates. This is the one entry point for bytes from a parent, a disk or a
// bundle (and the fuzz target's).
Result<ChunkIndex> DecodeChunkIndex(std::span<const uint8_t> bytes);

// The id of an encoded index: SHA-256 of its bytes.
inline ChunkId ChunkIndexId(std::span<const uint8_t> encoded) { return Sha256(encoded); }

}  // namespace tiersync::protocol

#endif  // TIERSYNC_PROTOCOL_CHUNK_INDEX_H_
