// ChildrenThrottle: the pace at which a node serves the tiers below it ([children] in
// node.toml; docs/operators/node.md "Time windows and bandwidth"). A county whose uplink also
// carries its offices' day caps what its schools pull during the day and lets them have the
// link at night.
//
// What is paced: every reply to a child's replication requests — signed metadata
// (/v1/metadata/), the catalog's git fetch (/v1/catalog.git/), chunk indexes (/v1/indexes/),
// chunks (/v1/chunks/) and chunk batches (/v1/chunks/batch) — all children together, at the cap of
// the hour (inside the windows, or outside them; node/rate_limiter.h). The body goes out in
// pieces of kPieceBytes, each waiting its turn, on the server's upstream pool (a paced child
// never holds a worker that serves users). Users' files and content URLs (/v1/files/,
// /v1/targets/), status, reports and the push long-poll are not paced.
//
// Priority content ignores the cap: a request for nothing but chunks or chunk indexes of the
// served release's priority files (an emergency package) is sent at once. Which those are
// this node knows from its own verified catalog and store (SetPriority), not from the child.
//
// Thread-safe.
#ifndef TIERSYNC_NODE_CHILDREN_THROTTLE_H_
#define TIERSYNC_NODE_CHILDREN_THROTTLE_H_

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/env.h"
#include "base/mutex.h"
#include "catalogs/resource.h"
#include "node/http_server.h"
#include "node/rate_limiter.h"
#include "replication/chunk_store.h"

namespace tiersync::node {

// The chunks and chunk indexes (hex ids) of a release's priority files.
struct PriorityContent {
  std::unordered_set<std::string> chunks;
  std::unordered_set<std::string> indexes;
};

// The priority content of `files` (the served release's priority files) whose chunk index
// `store` holds.
std::shared_ptr<const PriorityContent> PriorityContentOf(
    const replication::ChunkStore& store, const std::vector<catalogs::ResourceFile>& files);

// The [children] settings of `config` as a policy. REQUIRES: ParseNodeConfig checked them.
RatePolicy ChildrenRatePolicyOf(const NodeConfig& config);

class ChildrenThrottle {
 public:
  static constexpr size_t kPieceBytes = 16 * 1024;

  ChildrenThrottle(Env* env, RatePolicy policy);

  // A reload: applies to the next piece.
  void SetPolicy(RatePolicy policy);
  // The served release's priority content (after each switch).
  void SetPriority(std::shared_ptr<const PriorityContent> priority) EXCLUDES(mu_);

  // Whether `request` is one this class paces (a child's replication request).
  static bool Paced(const HttpRequest& request);
  // `reply` to `request`, paced when a cap is in force and the request is not for priority
  // content only; unchanged otherwise (and for HEAD, errors and bodiless replies).
  HttpReply Pace(const HttpRequest& request, HttpReply reply);

  // {"window_open", "windows", "cap_bytes_per_second", "paced_bytes" (sent under the cap),
  //  "priority_bytes" (sent at once as priority content)}.
  nlohmann::json StatusJson();

 private:
  bool PriorityOnly(const HttpRequest& request) EXCLUDES(mu_);

  Env* const env_;
  std::shared_ptr<RateLimiter> limiter_;  // shared with the pieces of replies in flight
  Mutex mu_;
  std::shared_ptr<const PriorityContent> priority_ GUARDED_BY(mu_);
  std::atomic<uint64_t> priority_bytes_{0};
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_CHILDREN_THROTTLE_H_
