// TokenBucket: a byte-rate cap as a pure calculation (time is an argument). Bytes are charged
// after they moved; the bucket answers when the next bytes may move. Up to `burst_us` of
// unused rate is saved (a short pause does not lose its share), never more, so over any
// interval longer than the burst the bytes moved stay within rate × interval + one charge.
//
// A clock set back (a wall clock corrected) moves the bucket back by as much: it never holds
// traffic for the length of the correction.
//
// Not thread-safe (node/rate_limiter.h is the shared, locked one).
#ifndef TIERSYNC_BASE_TOKEN_BUCKET_H_
#define TIERSYNC_BASE_TOKEN_BUCKET_H_

#include <cstdint>

namespace tiersync {

class TokenBucket {
 public:
  // `bytes_per_second` 0: unlimited.
  explicit TokenBucket(uint64_t bytes_per_second = 0, int64_t burst_us = 200'000)
      : rate_(bytes_per_second), burst_us_(burst_us) {}

  // A new rate, from now on (what was charged at the old rate stays charged at it).
  void SetRate(uint64_t bytes_per_second) { rate_ = bytes_per_second; }
  uint64_t rate() const { return rate_; }

  // The earliest time the next bytes may move: `now_us` or earlier when they may move at once.
  int64_t ReadyAt(int64_t now_us);

  // `bytes` moved at `now_us`.
  void Charge(uint64_t bytes, int64_t now_us);
  // `bytes` charged before are given back at `now_us` (what was charged for something that then
  // did not count); never more than the burst is saved.
  void Refund(uint64_t bytes, int64_t now_us);

 private:
  void Observe(int64_t now_us);

  uint64_t rate_;
  int64_t burst_us_;
  int64_t next_us_ = INT64_MIN;  // virtual time: what was charged is paid off at next_us_
  int64_t last_now_us_ = INT64_MIN;
};

}  // namespace tiersync

#endif  // TIERSYNC_BASE_TOKEN_BUCKET_H_
