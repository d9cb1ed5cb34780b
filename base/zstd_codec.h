// zstd compression with bounded output: the only place tiersync calls libzstd.
//
// Decompression never produces more than the caller's bound, so a "zstd bomb" from a parent
// or a disk costs at most the bound in memory (threats.md A6).
#ifndef TIERSYNC_BASE_ZSTD_CODEC_H_
#define TIERSYNC_BASE_ZSTD_CODEC_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"

namespace tiersync {

// A reusable compression/decompression context. Not thread-safe; one per thread.
class ZstdCodec {
 public:
  // `level` is the zstd compression level (1-3 on hot paths; never 9 there).
  explicit ZstdCodec(int level = 1);
  ~ZstdCodec();
  ZstdCodec(const ZstdCodec&) = delete;
  ZstdCodec& operator=(const ZstdCodec&) = delete;

  // Compresses `src` into `*out` (replacing its contents). Returns true if the frame is
  // smaller than `src`, false (and leaves `*out` unspecified) if compression does not pay.
  bool CompressIfSmaller(std::span<const uint8_t> src, std::vector<uint8_t>* out);

  // Decompresses one zstd frame that must expand to exactly `expected_size` bytes, with
  // `expected_size` <= `max_size`. Anything else (bad frame, other size, trailing bytes, a
  // declared size over the bound) is kCorruption; nothing larger than the bound is allocated.
  Result<std::vector<uint8_t>> Decompress(std::span<const uint8_t> src, size_t expected_size,
                                          size_t max_size);

  // The size one zstd frame declares it expands to (frames this class writes declare it):
  // kCorruption if `src` is not a frame or declares no size. Pair it with Decompress, which
  // checks the declaration against the bytes.
  static Result<size_t> DeclaredSize(std::span<const uint8_t> src);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  int level_;
};

}  // namespace tiersync

#endif  // TIERSYNC_BASE_ZSTD_CODEC_H_
