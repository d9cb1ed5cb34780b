// SourcePolicy: which upstream to ask next (overview.md section 4, "Fallback"). A node lists
// its sources in order — parent, further ancestors, national. Each request goes to the first
// healthy one; a source that fails (down, error status, too slow) is demoted for a backoff
// that doubles with each consecutive failure (capped), and used again when it has passed or
// when it answers. A source that lacks an object is not demoted — it is simply skipped for
// that object. A source that sends bytes failing verification is demoted for the longest
// backoff and the event is counted as an attack (threats.md I8).
//
// Pure (time is passed in) and thread-safe.
#ifndef TIERSYNC_REPLICATION_SOURCE_POLICY_H_
#define TIERSYNC_REPLICATION_SOURCE_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"

namespace tiersync::replication {

struct Source {
  std::string name;  // e.g. "parent 西湖区 (330106)" or "national"
  std::string url;   // base URL of its /v1 API, e.g. http://127.0.0.1:8101
};

struct SourceHealth {
  Source source;
  uint64_t requests = 0;
  uint64_t failures = 0;          // failed requests (down, error, slow)
  uint64_t rejections = 0;        // answers that failed verification
  uint64_t lacked = 0;            // objects asked for that it did not have (404, "absent" frames)
  uint64_t bytes = 0;             // verified bytes received
  uint64_t bytes_per_second = 0;  // measured per request (moving average); 0: not yet
  int consecutive_failures = 0;
  int64_t demoted_until_ms = 0;
  int64_t last_ok_ms = 0;
  std::string last_error;
};

struct SourcePolicyOptions {
  int64_t base_backoff_ms = 2'000;
  int64_t max_backoff_ms = 300'000;
};

class SourcePolicy {
 public:
  explicit SourcePolicy(std::vector<Source> sources, SourcePolicyOptions options = {});

  // Indexes of the sources to try, best first: those not demoted in their configured order,
  // then the demoted ones, soonest-back first (so a request is never refused for want of a
  // healthy source: everything is tried).
  std::vector<size_t> Order(int64_t now_ms) const;

  void Succeeded(size_t i, uint64_t bytes, int64_t now_ms);
  // `error` decides: kNotFound is "does not have it" (no demotion); kVerificationFailed is a
  // rejection (attack counter, longest backoff); anything else is a failure (backoff).
  void Failed(size_t i, const Status& error, int64_t now_ms);
  // The source answered but lacked `objects` of what it was asked (no demotion).
  void Lacked(size_t i, uint64_t objects);
  // Verified bytes from a source whose answer was otherwise a failure (health unchanged).
  void Credit(size_t i, uint64_t bytes);
  // One request to source `i` moved `bytes` in `micros`: updates its measured throughput
  // (a moving average over requests; requests under 64 KiB are too short to say anything).
  void Measured(size_t i, uint64_t bytes, uint64_t micros);
  // The measured throughput of one request to source `i` (bytes per second; 0: unknown).
  uint64_t Throughput(size_t i) const;

  std::vector<SourceHealth> Snapshot() const;
  // Without the lock: the list and each Source are fixed at construction (only the health
  // counters change).
  size_t size() const NO_THREAD_SAFETY_ANALYSIS { return sources_.size(); }
  const Source& source(size_t i) const NO_THREAD_SAFETY_ANALYSIS { return sources_[i].source; }

 private:
  SourcePolicyOptions options_;
  mutable Mutex mu_;
  std::vector<SourceHealth> sources_ GUARDED_BY(mu_);
};

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_SOURCE_POLICY_H_
