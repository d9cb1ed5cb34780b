// OfflinePolicy: what a node may serve its users once it cannot update (overview.md section 2:
// offline operation past metadata expiry is an explicit, signed policy, shown to users as
// staleness — never a silent bypass of expiry). Judged at every users' request against the
// node's clock, from the served release's metadata:
//   fresh    no metadata of the release has expired;
//   stale    the earliest expiry has passed, by no more than the offline grace the release's
//            newest root signs (protocol/tuf_metadata.h, kOfflineGraceField): the node serves,
//            and every users' reply says since when it is stale (X-Tiersync-Stale-Since; the
//            web UI shows it; status "serving.freshness");
//   expired  past the grace (no grace signed: at expiry): users' files (/v1/files, /v1/open,
//            /v1/resolve) are refused (503, naming the expiry and what to do: let the node
//            sync, or import a bundle); the catalog still answers, so users see why.
// Children are not judged here (nor the content-addressed /v1/targets/ they fetch): they
// check expiry themselves, as any TUF client.
#ifndef TIERSYNC_NODE_OFFLINE_POLICY_H_
#define TIERSYNC_NODE_OFFLINE_POLICY_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "base/env.h"
#include "base/status.h"

namespace tiersync::node {

// What a served release's metadata say about its validity.
struct ReleaseValidity {
  int64_t expires = 0;         // the earliest "expires" of its metadata (roots aside)
  uint64_t grace_seconds = 0;  // the offline grace its newest root signs (0: none)
};

struct Freshness {
  enum class State { kFresh, kStale, kExpired };
  State state = State::kFresh;
  int64_t expires = 0;      // stale since (when not fresh)
  int64_t grace_until = 0;  // served until
};

// Pure.
Freshness JudgeFreshness(int64_t now, const ReleaseValidity& validity);

// Reads the metadata of a release directory (`dir`/metadata: every file as signed; verified
// when it was written): the earliest expiry of the timestamp, snapshot and targets files, and
// the grace of the highest N.root.json. kCorruption if a file does not parse.
Result<ReleaseValidity> ReadReleaseValidity(Env* env, const std::string& dir);

// {"state": "fresh"|"stale"|"expired", "expires", "grace_until"} (times as TUF UTC strings).
nlohmann::json FreshnessJson(const Freshness& f);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_OFFLINE_POLICY_H_
