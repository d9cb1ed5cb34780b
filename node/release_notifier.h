// ReleaseNotifier: push between tiers, the answer to GET /v1/events (docs/protocol.md).
//
// A child long-polls its parent:
//   child -> parent: GET /v1/events?after=V&wait=S
//   parent -> child: 200 {"version": W}
// The answer comes
//   * at once, when the parent serves a release whose timestamp version W > V;
//   * as soon as Publish(W) is called with W > V while the request is held;
//   * when the hold ends, after S seconds (clamped to [kMinWait, kMaxWait], and by the server
//     to ServerLimits::max_hold; kDefaultWait when wait= is absent), with the version served
//     then (W <= V: nothing new; ask again).
// Every answer is a normal 200: a hold that ends is not an error, and the client must wait
// longer than S (plus a round trip) before it counts the parent as down.
//
// Waiters: each held request is one entry with an id of its own. It leaves the list when it is
// answered, when its hold ends, or when the client closes the connection while held (the
// server calls HttpReply::abandon), so the list holds only the clients waiting now. Beyond
// kMaxWaiters at once, new ones get 503.
//
// Thread safety: every method may be called from any thread.
#ifndef TIERSYNC_NODE_RELEASE_NOTIFIER_H_
#define TIERSYNC_NODE_RELEASE_NOTIFIER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string_view>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "node/http_server.h"

namespace tiersync::node {

// What a GET /v1/events request asks.
struct EventsQuery {
  static constexpr std::chrono::seconds kDefaultWait{25};
  uint64_t after = 0;  // the version the client has
  std::chrono::seconds wait = kDefaultWait;
};

// Parses "after=N" and "wait=S" (in any order) out of the query of a request target. A missing
// or malformed after= is 0 (answered at once once anything is served); a missing or malformed
// wait= is kDefaultWait.
EventsQuery ParseEventsQuery(std::string_view target);

// Parses "after=N" out of a request target; 0 if absent or malformed.
uint64_t AfterParameter(std::string_view target);

class ReleaseNotifier {
 public:
  static constexpr size_t kMaxWaiters = 4096;
  static constexpr std::chrono::seconds kMinWait{1};
  static constexpr std::chrono::seconds kMaxWait{3600};  // the server's max_hold cuts it further

  // Announces `version` to every waiter if it is newer than the last one published.
  void Publish(uint64_t version);
  // The last version published (0: none yet).
  uint64_t version() const;
  // The reply to GET /v1/events?after=<query.after>&wait=<query.wait>: the version at once, or
  // a deferred reply (HttpReply::wait) held for query.wait at most.
  HttpReply Wait(const EventsQuery& query);
  HttpReply Wait(uint64_t after) { return Wait(EventsQuery{after}); }
  // How many requests are held now.
  size_t waiting() const;

 private:
  mutable Mutex mu_;
  uint64_t version_ GUARDED_BY(mu_) = 0;
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
  std::map<uint64_t, HttpReply::Resume> waiters_ GUARDED_BY(mu_);  // by id
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_RELEASE_NOTIFIER_H_
