// Random: a small, fast, seeded pseudo-random generator (xoshiro256** seeded by splitmix64).
// Deterministic for a given seed on every platform, so that a failing test or simulation seed
// replays exactly. Not for keys or anything secret (those come from OpenSSL).
// Thread safety: none; give each thread its own Random.
#ifndef TIERSYNC_BASE_RANDOM_H_
#define TIERSYNC_BASE_RANDOM_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace tiersync {

// One step of splitmix64: the canonical seeding function for xoshiro.
constexpr uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Random {
 public:
  explicit Random(uint64_t seed) {
    for (auto& s : s_) s = SplitMix64(seed);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t Uniform(uint64_t n) { return Next() % n; }
  // True with probability 1/n. REQUIRES: n > 0.
  bool OneIn(uint64_t n) { return Uniform(n) == 0; }

  // Fills `out` with random bytes.
  void Fill(std::span<uint8_t> out) {
    size_t i = 0;
    for (; i + 8 <= out.size(); i += 8) {
      uint64_t v = Next();
      for (int b = 0; b < 8; ++b) out[i + b] = static_cast<uint8_t>(v >> (8 * b));
    }
    if (i < out.size()) {
      uint64_t v = Next();
      for (; i < out.size(); ++i, v >>= 8) out[i] = static_cast<uint8_t>(v);
    }
  }

 private:
  static constexpr uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace tiersync

#endif  // TIERSYNC_BASE_RANDOM_H_
