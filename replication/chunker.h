// FastCDC content-defined chunker, fed bytes (after casync's ca_chunker_scan).
//
// The chunker holds no data, only the rolling state of the chunk being scanned; the caller
// keeps the bytes. Cut points depend only on content, so an insertion changes only the chunks
// around it. Algorithm: FastCDC (Xia et al., USENIX ATC 2016) with normalised chunking:
//   * no cut before min_size bytes (cut-point skipping: the gear hash starts at min_size);
//   * between min_size and avg_size a cut needs (hash & mask_s) == 0, where mask_s has
//     log2(avg) + normalization bits set (harder);
//   * between avg_size and max_size a cut needs (hash & mask_l) == 0, mask_l having
//     log2(avg) - normalization bits (easier);
//   * a cut is forced at max_size.
// The gear table and the masks are part of the on-disk format ("FastCDC v1" in the chunk
// index): changing them changes every chunk id, so they are pinned by a golden test.
#ifndef TIERSYNC_REPLICATION_CHUNKER_H_
#define TIERSYNC_REPLICATION_CHUNKER_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "protocol/chunk_index.h"

namespace tiersync::replication {

class Chunker {
 public:
  // REQUIRES: protocol::ValidateChunkerParams(params).ok()
  explicit Chunker(const protocol::ChunkerParams& params);

  // Scans `data`, the next bytes of the stream. Returns the number of bytes of `data` that
  // complete the current chunk (a cut point after data[0..n)), or kNoCut if the whole of
  // `data` belongs to the current chunk and more bytes are needed. After a cut the chunker
  // starts a new chunk; feed it the remaining data[n..] next.
  static constexpr size_t kNoCut = static_cast<size_t>(-1);
  size_t Scan(std::span<const uint8_t> data);

  // Bytes of the current, not yet cut chunk that have been scanned.
  size_t pending() const { return pos_; }

  const protocol::ChunkerParams& params() const { return params_; }

 private:
  // Resets the state for a new chunk and returns `consumed`.
  size_t StartNextChunk(size_t consumed);

  protocol::ChunkerParams params_;
  uint64_t mask_s_;
  uint64_t mask_l_;
  size_t pos_ = 0;     // bytes of the current chunk scanned so far
  uint64_t hash_ = 0;  // gear hash over the current chunk's bytes since min_size
};

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_CHUNKER_H_
