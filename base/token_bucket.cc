#include "base/token_bucket.h"

#include <algorithm>

namespace tiersync {

void TokenBucket::Observe(int64_t now_us) {
  if (last_now_us_ != INT64_MIN && now_us < last_now_us_ && next_us_ != INT64_MIN) {
    next_us_ -= last_now_us_ - now_us;
  }
  last_now_us_ = now_us;
}

int64_t TokenBucket::ReadyAt(int64_t now_us) {
  Observe(now_us);
  if (rate_ == 0 || next_us_ <= now_us) return now_us;
  return next_us_;
}

void TokenBucket::Charge(uint64_t bytes, int64_t now_us) {
  Observe(now_us);
  if (rate_ == 0 || bytes == 0) return;
  const int64_t base = std::max(next_us_, now_us - burst_us_);
  next_us_ = base + static_cast<int64_t>(bytes * 1'000'000 / rate_);
}

void TokenBucket::Refund(uint64_t bytes, int64_t now_us) {
  Observe(now_us);
  if (rate_ == 0 || bytes == 0 || next_us_ == INT64_MIN) return;
  next_us_ =
      std::max(next_us_ - static_cast<int64_t>(bytes * 1'000'000 / rate_), now_us - burst_us_);
}

}  // namespace tiersync
