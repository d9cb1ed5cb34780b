// Chunk batches: many chunks in one HTTP exchange between tiers (docs/protocol.md).
//
// Request (POST /v1/chunks/batch, application/x-tiersync-chunk-ids): the ids, 32 bytes each,
// back to back; 1..kMaxBatchChunks of them.
//
// Response (application/x-tiersync-chunk-batch), all integers little-endian:
//   offset size  field
//   0      4     magic "TSCB"
//   4      1     format version (kChunkBatchVersion = 1)
//   5      3     reserved, must be 0
//   then one frame per requested id, in request order:
//   0      32    chunk id (must equal the requested one)
//   32     1     kind: 0 = the chunk's bytes follow; 1 = this source does not have it;
//                2 = not sent in this response (the batch hit the server's size cap: ask again);
//                3 = the chunk follows as one zstd frame (only to a request of
//                    kBatchRequestTypeZstd: a server sends the frame it stores, as stored)
//   33     3     reserved, must be 0
//   36     4     size N: the chunk's size for kind 0, the frame's for kind 3
//                (1..kMaxChunkBytes), else 0
//   40     N     the chunk's bytes, or its zstd frame
// Decoding is strict (no trailing bytes, frames in order, reserved bytes zero). It does not
// check the bytes against their ids, nor decompress a frame: the caller does (the transport
// never vouches for content).
#ifndef TIERSYNC_PROTOCOL_CHUNK_BATCH_H_
#define TIERSYNC_PROTOCOL_CHUNK_BATCH_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "protocol/chunk_index.h"

namespace tiersync::protocol {

inline constexpr size_t kMaxBatchChunks = 1024;
inline constexpr uint8_t kChunkBatchVersion = 1;
// A response's header, and each frame's besides the chunk's bytes.
inline constexpr size_t kBatchHeaderBytes = 8;
inline constexpr size_t kBatchFrameHeaderBytes = 40;
// What a server puts in one response at most (it marks the rest kNotSent).
inline constexpr size_t kMaxBatchResponseBytes = 32u << 20;

// The request's content type; with the parameter, the client also takes kChunkZstd frames
// (servers that predate them ignore it and send kChunk frames only).
inline constexpr char kBatchRequestType[] = "application/x-tiersync-chunk-ids";
inline constexpr char kBatchRequestTypeZstd[] = "application/x-tiersync-chunk-ids; frames=zstd";

enum class BatchFrameKind : uint8_t { kChunk = 0, kAbsent = 1, kNotSent = 2, kChunkZstd = 3 };

// True for the frames that carry a chunk (kChunk, kChunkZstd).
inline bool CarriesChunk(BatchFrameKind kind) {
  return kind == BatchFrameKind::kChunk || kind == BatchFrameKind::kChunkZstd;
}

struct BatchFrame {
  ChunkId id{};
  BatchFrameKind kind = BatchFrameKind::kAbsent;
  // kChunk: the chunk, kChunkZstd: its zstd frame (a view into the response)
  std::span<const uint8_t> bytes;
};

std::vector<uint8_t> EncodeBatchRequest(std::span<const ChunkId> ids);
// kInvalidArgument unless `body` is 1..kMaxBatchChunks whole ids.
Result<std::vector<ChunkId>> DecodeBatchRequest(std::span<const uint8_t> body);

// Builds a response frame by frame (server side), as the string an HTTP reply sends.
class BatchResponseWriter {
 public:
  BatchResponseWriter();
  // Room for `bytes` of response up front (no copies as the response grows).
  void Reserve(size_t bytes) { out_.reserve(bytes); }
  void AddChunk(const ChunkId& id, std::span<const uint8_t> bytes);
  // A chunk as one zstd frame (kChunkZstd).
  void AddCompressedChunk(const ChunkId& id, std::span<const uint8_t> zstd_frame);
  // Any frame: AddChunk, AddCompressedChunk or AddMissing by `kind` (bytes: none for missing).
  void AddFrame(const ChunkId& id, BatchFrameKind kind, std::span<const uint8_t> bytes);
  void AddMissing(const ChunkId& id, BatchFrameKind kind);
  size_t size() const { return out_.size(); }
  std::string Finish() && { return std::move(out_); }

 private:
  void Header(const ChunkId& id, BatchFrameKind kind, uint32_t size);
  std::string out_;
};

// Decodes a response to a request for `requested`. kCorruption naming the problem if the
// bytes are not exactly one well-formed frame per requested id, in order.
Result<std::vector<BatchFrame>> DecodeBatchResponse(std::span<const uint8_t> body,
                                                    std::span<const ChunkId> requested);

}  // namespace tiersync::protocol

#endif  // TIERSYNC_PROTOCOL_CHUNK_BATCH_H_
