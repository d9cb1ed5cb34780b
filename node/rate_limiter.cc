#include "node/rate_limiter.h"

#include <time.h>

namespace tiersync::node {

RatePolicy RatePolicyFrom(const std::vector<std::string>& windows, uint64_t inside_bytes_per_second,
                          uint64_t outside_bytes_per_second) {
  RatePolicy p;
  auto parsed = TimeWindows::Parse(windows);
  if (parsed.ok()) p.windows = std::move(parsed).value();
  p.inside_bytes_per_second = inside_bytes_per_second;
  p.outside_bytes_per_second = outside_bytes_per_second;
  return p;
}

RatePolicy RatePolicyOf(const NodeConfig& config) {
  return RatePolicyFrom(config.windows, config.max_bytes_per_second,
                        config.outside_bytes_per_second);
}

int64_t MachineUtcOffsetSeconds(int64_t unix_seconds) {
  const time_t t = static_cast<time_t>(unix_seconds);
  struct tm local {};
  if (localtime_r(&t, &local) == nullptr) return 0;
  return local.tm_gmtoff;
}

RateLimiter::RateLimiter(Env* env, RatePolicy policy) : env_(env) { SetPolicy(std::move(policy)); }

void RateLimiter::SetPolicy(RatePolicy policy) {
  MutexLock lock(&mu_);
  policy_ = std::move(policy);
  bucket_.SetRate(CapLocked(static_cast<int64_t>(env_->NowMicros())));
}

bool RateLimiter::OpenLocked(int64_t now_us) {
  if (policy_.windows.always_open()) return true;
  return policy_.windows.OpenAt(
      LocalMinuteOfDay(now_us, MachineUtcOffsetSeconds(now_us / 1'000'000)));
}

uint64_t RateLimiter::CapLocked(int64_t now_us) {
  return OpenLocked(now_us) ? policy_.inside_bytes_per_second : policy_.outside_bytes_per_second;
}

int64_t RateLimiter::WaitMicros() {
  MutexLock lock(&mu_);
  const int64_t now = static_cast<int64_t>(env_->NowMicros());
  // The cap of the hour: a window that opened or closed since the last read applies now.
  bucket_.SetRate(CapLocked(now));
  return bucket_.ReadyAt(now) - now;
}

void RateLimiter::Charge(uint64_t bytes) {
  MutexLock lock(&mu_);
  charged_ += bytes;
  bucket_.Charge(bytes, static_cast<int64_t>(env_->NowMicros()));
}

bool RateLimiter::Capped() {
  MutexLock lock(&mu_);
  return CapLocked(static_cast<int64_t>(env_->NowMicros())) > 0;
}

bool RateLimiter::WindowOpen() {
  MutexLock lock(&mu_);
  return OpenLocked(static_cast<int64_t>(env_->NowMicros()));
}

uint64_t RateLimiter::charged_bytes() const {
  MutexLock lock(&mu_);
  return charged_;
}

nlohmann::json RateLimiter::StatusJson() {
  MutexLock lock(&mu_);
  const int64_t now = static_cast<int64_t>(env_->NowMicros());
  return {{"window_open", OpenLocked(now)},
          {"windows", policy_.windows.Specs()},
          {"cap_bytes_per_second", CapLocked(now)},
          {"received_bytes", charged_}};
}

}  // namespace tiersync::node
