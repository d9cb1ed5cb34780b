#include "base/zstd_codec.h"

#include <zstd.h>

#include <string>

namespace tiersync {

struct ZstdCodec::Ctx {
  // Created on first use: a codec that only compresses never pays for a decompression
  // context, and vice versa.
  ZSTD_CCtx* cctx = nullptr;
  ZSTD_DCtx* dctx = nullptr;
  ZSTD_CCtx* Compressor() { return cctx != nullptr ? cctx : (cctx = ZSTD_createCCtx()); }
  ZSTD_DCtx* Decompressor() { return dctx != nullptr ? dctx : (dctx = ZSTD_createDCtx()); }
  ~Ctx() {
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
  }
};

ZstdCodec::ZstdCodec(int level) : ctx_(std::make_unique<Ctx>()), level_(level) {}
ZstdCodec::~ZstdCodec() = default;

bool ZstdCodec::CompressIfSmaller(std::span<const uint8_t> src, std::vector<uint8_t>* out) {
  if (src.empty()) return false;
  // A frame only pays if it is strictly smaller than the input: give zstd exactly that much
  // room, so incompressible data fails fast with "dstSize_tooSmall".
  out->resize(src.size() - 1);
  size_t n = ZSTD_compressCCtx(ctx_->Compressor(), out->data(), out->size(), src.data(), src.size(),
                               level_);
  if (ZSTD_isError(n)) return false;
  out->resize(n);
  return true;
}

Result<size_t> ZstdCodec::DeclaredSize(std::span<const uint8_t> src) {
  unsigned long long declared = ZSTD_getFrameContentSize(src.data(), src.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) return CorruptionError("not a zstd frame");
  if (declared == ZSTD_CONTENTSIZE_UNKNOWN) {
    return CorruptionError("the zstd frame does not declare its size");
  }
  return static_cast<size_t>(declared);
}

Result<std::vector<uint8_t>> ZstdCodec::Decompress(std::span<const uint8_t> src,
                                                   size_t expected_size, size_t max_size) {
  if (expected_size > max_size) {
    return CorruptionError("zstd frame claims " + std::to_string(expected_size) +
                           " bytes, over the limit of " + std::to_string(max_size));
  }
  unsigned long long declared = ZSTD_getFrameContentSize(src.data(), src.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) return CorruptionError("not a zstd frame");
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != expected_size) {
    return CorruptionError("zstd frame declares " + std::to_string(declared) + " bytes, expected " +
                           std::to_string(expected_size));
  }
  size_t frame = ZSTD_findFrameCompressedSize(src.data(), src.size());
  if (ZSTD_isError(frame) || frame != src.size()) {
    return CorruptionError("zstd frame is truncated or followed by trailing bytes");
  }
  // One byte of slack lets us tell "exactly expected_size" from "more than that".
  std::vector<uint8_t> out(expected_size + 1);
  size_t n =
      ZSTD_decompressDCtx(ctx_->Decompressor(), out.data(), out.size(), src.data(), src.size());
  if (ZSTD_isError(n)) {
    return CorruptionError(std::string("zstd: ") + ZSTD_getErrorName(n));
  }
  if (n != expected_size) {
    return CorruptionError("zstd frame expands to " + std::to_string(n) + " bytes, expected " +
                           std::to_string(expected_size));
  }
  out.resize(n);
  return out;
}

}  // namespace tiersync
