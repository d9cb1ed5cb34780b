#include "replication/chunker.h"

#include <algorithm>
#include <array>
#include <bit>

#include "base/random.h"

namespace tiersync::replication {
namespace {

// The gear table of FastCDC v1: 256 pseudo-random 64-bit values from splitmix64 seeded with
// the constant below. Frozen: it defines every chunk boundary tiersync has ever written.
constexpr uint64_t kGearSeed = 0x7469657273796e63ULL;  // "tiersync"

constexpr std::array<uint64_t, 256> MakeGear() {
  std::array<uint64_t, 256> g{};
  uint64_t state = kGearSeed;
  for (auto& v : g) v = SplitMix64(state);
  return g;
}
constexpr std::array<uint64_t, 256> kGear = MakeGear();

// A mask with `bits` bits set at the top of the word. The gear hash shifts left by one per
// byte, so its top bits mix the most recent 64 bytes: the window of the rolling hash.
uint64_t TopBits(int bits) {
  bits = std::clamp(bits, 1, 63);
  return ~uint64_t{0} << (64 - bits);
}

}  // namespace

Chunker::Chunker(const protocol::ChunkerParams& params) : params_(params) {
  int avg_bits = std::countr_zero(params.avg_size);
  mask_s_ = TopBits(avg_bits + params.normalization);
  mask_l_ = TopBits(avg_bits - params.normalization);
}

size_t Chunker::Scan(std::span<const uint8_t> data) {
  const size_t min = params_.min_size, avg = params_.avg_size, max = params_.max_size;
  const uint8_t* p = data.data();
  const size_t n = data.size();
  size_t i = 0;
  // Cut-point skipping: bytes below the minimum size are not hashed.
  if (pos_ < min) {
    size_t skip = std::min(min - pos_, n);
    i = skip;
    pos_ += skip;
    if (pos_ < min) return kNoCut;
  }
  uint64_t h = hash_;
  while (i < n) {
    // Below the average size the harder mask applies, above it the easier one.
    const bool below_avg = pos_ < avg;
    const uint64_t mask = below_avg ? mask_s_ : mask_l_;
    const size_t end = std::min(n, i + (below_avg ? avg : max) - pos_);
    const size_t start = i;
    for (; i < end; ++i) {
      h = (h << 1) + kGear[p[i]];
      if ((h & mask) == 0) return StartNextChunk(i + 1);
    }
    pos_ += i - start;
    if (pos_ >= max) return StartNextChunk(i);
  }
  hash_ = h;
  return kNoCut;
}

size_t Chunker::StartNextChunk(size_t consumed) {
  pos_ = 0;
  hash_ = 0;
  return consumed;
}

}  // namespace tiersync::replication
