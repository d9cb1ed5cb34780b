// The chunk store's on-disk records: pack files and index entries. Normative description:
// docs/formats/chunk-store.md. All integers little-endian.
//
// A pack file (packs/pack-NNNNNNNN.tsp) is append-only:
//   header (16 bytes):  "TSPACK01" | u32 pack number | u32 reserved (0)
//   records, each:      record header (56 bytes) | payload (stored_len bytes)
//   record header:      "TSCK" | u8 flags | 3 reserved (0) | u32 stored_len | u32 raw_len |
//                       32-byte chunk id | u64 XXH3-64 of the payload
// flags bit 0 = payload is one zstd frame (otherwise the raw chunk). Records are
// self-describing so that the index can be rebuilt from the packs alone.
//
// The LMDB index maps a chunk id to a ChunkLocation (32 bytes):
//   u32 pack | u8 flags | 3 reserved | u64 payload offset | u32 stored_len | u32 raw_len |
//   u64 XXH3-64 of the payload
// Only bytes up to a pack's committed length (recorded in the index in the same transaction)
// are ever referenced; anything after it is an interrupted write and is cut off by the next
// writer.
#ifndef TIERSYNC_REPLICATION_PACK_FORMAT_H_
#define TIERSYNC_REPLICATION_PACK_FORMAT_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/zstd_codec.h"
#include "protocol/chunk_index.h"

namespace tiersync::replication {

using protocol::ChunkId;

inline constexpr size_t kPackHeaderBytes = 16;
inline constexpr size_t kRecordHeaderBytes = 56;
inline constexpr size_t kLocationBytes = 32;
inline constexpr uint8_t kFlagZstd = 1;

struct ChunkLocation {
  uint32_t pack = 0;
  uint8_t flags = 0;
  uint64_t offset = 0;  // of the payload within the pack file
  uint32_t stored_len = 0;
  uint32_t raw_len = 0;
  uint64_t xxh3 = 0;  // of the payload
  bool operator==(const ChunkLocation&) const = default;
};

std::array<uint8_t, kLocationBytes> EncodeLocation(const ChunkLocation& loc);
// kCorruption on a wrong length, non-zero reserved bytes, unknown flags or lengths over
// protocol::kMaxChunkBytes.
Result<ChunkLocation> DecodeLocation(std::span<const uint8_t> bytes);

std::array<uint8_t, kPackHeaderBytes> EncodePackHeader(uint32_t pack);
std::string PackFileName(uint32_t pack);  // "pack-00000001.tsp"

// A chunk ready to be appended: its id, how it is stored and the checksum of what is stored.
struct PreparedChunk {
  ChunkId id{};
  uint32_t raw_len = 0;
  uint8_t flags = 0;
  std::vector<uint8_t> payload;  // zstd frame or raw bytes
  uint64_t xxh3 = 0;
};

// Decides how to store `*raw` (compressed only when that makes it smaller) and checksums it.
// `id` must be SHA-256(*raw); the caller has computed it already to look for duplicates.
// Chunks of 16 KiB or more are first tested on a 4 KiB sample from their middle: if the sample
// does not shrink by 3%, the chunk is stored raw without compressing it whole (video does not
// compress, and the test costs a tenth of the attempt). When stored raw, the payload takes
// over *raw's buffer (*raw is left empty); otherwise *raw is untouched, so the caller can reuse
// buffers either way. `codec` may be null (never compress).
PreparedChunk PrepareChunk(const ChunkId& id, std::vector<uint8_t>* raw, ZstdCodec* codec);

// The record header for `chunk`.
std::array<uint8_t, kRecordHeaderBytes> EncodeRecordHeader(const PreparedChunk& chunk);

enum class ReadCheck {
  kChecksum,  // XXH3 of the stored bytes (every read)
  kFull,      // plus SHA-256 of the uncompressed bytes against the id
};

// Checks a record read as its header and its payload apart against `loc` and `id` and the
// payload's XXH3, without decompressing it. kCorruption naming the pack and offset.
Status CheckRecord(const ChunkId& id, const ChunkLocation& loc, std::span<const uint8_t> header,
                   std::span<const uint8_t> payload);
// Turns a record read from disk (header + payload) back into the chunk's bytes, checking the
// header against `loc` and `id`, the payload's XXH3, decompression bounds, and with kFull the
// SHA-256. Any mismatch is kCorruption with a message naming the pack and offset.
Result<std::vector<uint8_t>> DecodeRecord(const ChunkId& id, const ChunkLocation& loc,
                                          std::span<const uint8_t> record, ReadCheck check,
                                          ZstdCodec* codec);
// The same for a record read as its header and its payload apart: a raw (uncompressed)
// payload becomes the result without a copy.
Result<std::vector<uint8_t>> DecodeRecord(const ChunkId& id, const ChunkLocation& loc,
                                          std::span<const uint8_t> header,
                                          std::vector<uint8_t> payload, ReadCheck check,
                                          ZstdCodec* codec);

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_PACK_FORMAT_H_
