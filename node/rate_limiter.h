// RateLimiter: the node's cap on the bytes its sync fetches, one per node, shared by every
// request of the sync — metadata, the catalog's git fetch, chunk indexes and chunk batches,
// from all worker threads — so the cap holds for them together (docs/operators/node.md,
// "Time windows and bandwidth"). The HTTP fetcher asks it before each read of a response body
// and charges what it read: the bytes are held at the socket, so the parent's sending is paced
// by TCP flow control, not just averaged after the fact.
//
// Inside the sync windows (or always, without windows) the cap is `inside_bytes_per_second`;
// outside them `outside_bytes_per_second` (what moves then is metadata, the catalog and
// priority content: ordinary content waits for a window, node/node_sync.h). 0: no cap.
// Users' misses, the push long-poll and reports are not capped (their own fetchers).
//
// Thread-safe. The local time of day is the machine's (its UTC offset, looked up with
// localtime_r).
#ifndef TIERSYNC_NODE_RATE_LIMITER_H_
#define TIERSYNC_NODE_RATE_LIMITER_H_

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/env.h"
#include "base/mutex.h"
#include "base/time_windows.h"
#include "base/token_bucket.h"
#include "node/node_config.h"

namespace tiersync::node {

struct RatePolicy {
  TimeWindows windows;
  uint64_t inside_bytes_per_second = 0;
  uint64_t outside_bytes_per_second = 0;
};

// A policy from the settings' values. REQUIRES: `windows` parse (ParseNodeConfig checked them).
RatePolicy RatePolicyFrom(const std::vector<std::string>& windows, uint64_t inside_bytes_per_second,
                          uint64_t outside_bytes_per_second);

// The [sync] settings of `config` as a policy. REQUIRES: config.windows parsed (ParseNodeConfig
// checked them).
RatePolicy RatePolicyOf(const NodeConfig& config);

// The machine's offset from UTC at `unix_seconds` (localtime_r's tm_gmtoff).
int64_t MachineUtcOffsetSeconds(int64_t unix_seconds);

class RateLimiter {
 public:
  RateLimiter(Env* env, RatePolicy policy);

  // A reload: the new windows and caps apply to the next read.
  void SetPolicy(RatePolicy policy) EXCLUDES(mu_);

  // Microseconds to wait before reading more (0: read now).
  int64_t WaitMicros() EXCLUDES(mu_);
  // `bytes` were read.
  void Charge(uint64_t bytes) EXCLUDES(mu_);

  // Whether a cap is in force now (inside or outside the windows, as it is now).
  bool Capped() EXCLUDES(mu_);
  // Whether a sync window is open now (ordinary content may be fetched); true without windows.
  bool WindowOpen() EXCLUDES(mu_);
  // Bytes charged since the start (every capped read).
  uint64_t charged_bytes() const EXCLUDES(mu_);
  // For status: {"window_open", "windows", "cap_bytes_per_second" (now; 0: none),
  // "received_bytes" (charged_bytes: what the sync read off its sockets, compressed or not)}.
  nlohmann::json StatusJson() EXCLUDES(mu_);

 private:
  bool OpenLocked(int64_t now_us) REQUIRES(mu_);
  // The cap at `now_us`: inside or outside the windows (0: none).
  uint64_t CapLocked(int64_t now_us) REQUIRES(mu_);

  Env* const env_;
  mutable Mutex mu_;
  RatePolicy policy_ GUARDED_BY(mu_);
  TokenBucket bucket_ GUARDED_BY(mu_);
  uint64_t charged_ GUARDED_BY(mu_) = 0;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_RATE_LIMITER_H_
