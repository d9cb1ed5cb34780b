// PushListener: a node's ear for new releases (overview.md section 4, step 5). It long-polls
// its first-choice source, GET <source>/v1/events?after=V&wait=S (docs/protocol.md): the source
// answers {"version": W} at once when it serves W > V, otherwise when the hold of S seconds
// ends (with its current version). When W is newer than both the served release and the last
// announcement, the sync loop is woken.
//
// It keeps its own health state, apart from the sync's SourcePolicy (whose order it only
// reads): a hold that ends without news is a quiet parent, not a failure — an idle federation
// shows no error for hours. Only a source that cannot be reached, answers an error or cuts the
// connection counts; then the listener waits 2–4 s (jittered) and asks the next in order.
// Announcements are unauthenticated hints: one too high only silences push until the served
// release changes; the poll backstop still syncs.
//
// Thread-safe: Run() on its own thread; StatusJson() from any.
#ifndef TIERSYNC_NODE_PUSH_LISTENER_H_
#define TIERSYNC_NODE_PUSH_LISTENER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/env.h"
#include "base/fetcher.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "replication/source_policy.h"

namespace tiersync::node {

// How long a long-poll asks the source to hold (seconds); the listener's fetcher must wait
// longer than this for a byte (kHoldSeconds + a margin) — see node_server.cc.
inline constexpr int kPushHoldSeconds = 25;

struct PushListenerOptions {
  Env* env;
  Fetcher* fetcher;  // its stall timeout is above kPushHoldSeconds
  const replication::SourcePolicy* sources;
  std::function<uint64_t()> served_version;  // the timestamp version served now
  std::function<void()> wake;                // a newer release was announced
  std::function<bool()> stopping;            // checked between polls
};

class PushListener {
 public:
  explicit PushListener(PushListenerOptions options);

  // Listens until stopping() is true (checked after each poll).
  void Run();

  // {"source", "last_announced", "polls", "quiet_polls", "failures", "last_error"}.
  nlohmann::json StatusJson() const;

  // One poll of source `url` for a release newer than `after`: the announced version (0 if
  // none was announced), or the failure. A hold that ends with the current version, or an old
  // server's hold that outlasts the fetcher's wait, is "nothing new": 0.
  Result<uint64_t> PollOnce(const std::string& url, uint64_t after);

 private:
  PushListenerOptions o_;
  mutable Mutex mu_;
  std::string source_ GUARDED_BY(mu_);
  std::string last_error_ GUARDED_BY(mu_);
  uint64_t last_announced_ GUARDED_BY(mu_) = 0;
  uint64_t polls_ GUARDED_BY(mu_) = 0;
  uint64_t quiet_polls_ GUARDED_BY(mu_) = 0;
  uint64_t failures_ GUARDED_BY(mu_) = 0;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_PUSH_LISTENER_H_
