#include "replication/source_policy.h"

#include <algorithm>

namespace tiersync::replication {

SourcePolicy::SourcePolicy(std::vector<Source> sources, SourcePolicyOptions options)
    : options_(options) {
  for (auto& s : sources) {
    SourceHealth h;
    h.source = std::move(s);
    sources_.push_back(std::move(h));
  }
}

std::vector<size_t> SourcePolicy::Order(int64_t now_ms) const {
  MutexLock lock(&mu_);
  std::vector<size_t> healthy, demoted;
  for (size_t i = 0; i < sources_.size(); ++i) {
    (sources_[i].demoted_until_ms > now_ms ? demoted : healthy).push_back(i);
  }
  std::stable_sort(demoted.begin(), demoted.end(), [&](size_t a, size_t b) {
    mu_.AssertHeld();  // called by stable_sort, here
    return sources_[a].demoted_until_ms < sources_[b].demoted_until_ms;
  });
  healthy.insert(healthy.end(), demoted.begin(), demoted.end());
  return healthy;
}

void SourcePolicy::Succeeded(size_t i, uint64_t bytes, int64_t now_ms) {
  MutexLock lock(&mu_);
  SourceHealth& h = sources_[i];
  ++h.requests;
  h.bytes += bytes;
  h.consecutive_failures = 0;
  h.demoted_until_ms = 0;
  h.last_ok_ms = now_ms;
}

void SourcePolicy::Failed(size_t i, const Status& error, int64_t now_ms) {
  MutexLock lock(&mu_);
  SourceHealth& h = sources_[i];
  ++h.requests;
  if (error.code() == StatusCode::kNotFound) {
    ++h.lacked;
    return;
  }
  h.last_error = error.ToString();
  if (error.code() == StatusCode::kVerificationFailed) {
    ++h.rejections;
    h.demoted_until_ms = now_ms + options_.max_backoff_ms;
    return;
  }
  ++h.failures;
  int shift = std::min(h.consecutive_failures++, 20);
  h.demoted_until_ms =
      now_ms + std::min(options_.max_backoff_ms, options_.base_backoff_ms << shift);
}

void SourcePolicy::Lacked(size_t i, uint64_t objects) {
  MutexLock lock(&mu_);
  sources_[i].lacked += objects;
}

void SourcePolicy::Credit(size_t i, uint64_t bytes) {
  MutexLock lock(&mu_);
  sources_[i].bytes += bytes;
}

void SourcePolicy::Measured(size_t i, uint64_t bytes, uint64_t micros) {
  if (bytes < (64u << 10) || micros == 0) return;
  const uint64_t rate = bytes * 1'000'000 / micros;
  MutexLock lock(&mu_);
  uint64_t& avg = sources_[i].bytes_per_second;
  avg = avg == 0 ? rate : (avg * 3 + rate) / 4;
}

uint64_t SourcePolicy::Throughput(size_t i) const {
  MutexLock lock(&mu_);
  return sources_[i].bytes_per_second;
}

std::vector<SourceHealth> SourcePolicy::Snapshot() const {
  MutexLock lock(&mu_);
  return sources_;
}

}  // namespace tiersync::replication
