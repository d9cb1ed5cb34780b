// AskSources: the one way a node asks its upstreams for something (overview.md section 4,
// "Fallback is per request"): metadata, the catalog, chunk indexes, chunk batches and a user's
// miss all go through it, so every answer is judged and recorded the same way.
//
// The sources are tried in SourcePolicy order (healthy ones first, in configured order). Each
// try is the caller's `ask`, which fetches, verifies and returns a SourceAnswer; AskSources
// records it in the policy and decides whether to go on:
//   OK                      the source gave what was asked: Succeeded; stop, return its index
//   kNotFound or lacked > 0 the source does not have (all of) it: Lacked, no demotion; next
//   kVerificationFailed     the source sent bytes that failed verification: a rejection
//                           (longest backoff, counted as an attack, reported to `rejected`);
//                           next
//   local() failure         this machine failed (its disk, its store): stop at once and return
//                           it, blaming no source (a full disk is not the parent's fault)
//   any other failure       down, slow, refused: Failed (doubling backoff); next
// Verified bytes of a partial answer (`bytes` with a non-OK status) are credited to the source.
// When no source answers OK, the result is the last failure, with the source's name as
// context; kNotFound only if every source lacked it.
#ifndef TIERSYNC_REPLICATION_SOURCE_WALK_H_
#define TIERSYNC_REPLICATION_SOURCE_WALK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "replication/source_policy.h"

namespace tiersync::replication {

struct SourceAnswer {
  Status status;        // OK: everything asked for arrived and verified
  uint64_t bytes = 0;   // verified bytes received from the source (also on partial answers)
  uint64_t lacked = 0;  // objects the source said it does not have (an "absent" frame, a 404)
};

// What to try and whom to tell. `ask` may be called from any thread but is called for one
// source at a time here; `rejected` (may be empty) receives "<source name>: <reason>".
using AskFunction = std::function<SourceAnswer(size_t index, const Source& source)>;
using RejectionSink = std::function<void(const std::string& what)>;

// One request's walk over the sources, without I/O: the decisions AskSources makes, for a
// driver that asks asynchronously (the transfer engine, replication/transfer_engine.h). Made
// with the policy's order at the time the request starts; Current() is the source to ask,
// Answer() records its answer in the policy and says what to do next.
class SourceWalk {
 public:
  enum class Verdict {
    kDone,  // the source answered OK and lacked nothing: Current() is the one that answered
    kNext,  // ask Current() (the next source) — unless Exhausted()
    kStop,  // a local failure: stop at once (Failure() is it)
  };
  explicit SourceWalk(std::vector<size_t> order) : order_(std::move(order)) {}

  // REQUIRES: !Exhausted().
  size_t Current() const { return order_[next_]; }
  bool Exhausted() const { return next_ >= order_.size(); }
  Verdict Answer(SourcePolicy* policy, const SourceAnswer& answer, int64_t now_ms,
                 const RejectionSink& rejected);
  // The walk's failure: a local error, the last source's (with its name as context), or
  // kNotFound only if every source lacked it.
  Status Failure() const;

 private:
  std::vector<size_t> order_;
  size_t next_ = 0;
  Status last_ = UnavailableError("no sources configured");
  bool all_lacked_ = true;
};

// Returns the index of the source that answered OK. `env` gives the clock for the policy.
Result<size_t> AskSources(SourcePolicy* policy, Env* env, const AskFunction& ask,
                          const RejectionSink& rejected = nullptr);

// Records one answer of source `i` in `policy` as AskSources does (for callers that ask one
// chosen source, e.g. a push long-poll).
void RecordAnswer(SourcePolicy* policy, size_t i, const SourceAnswer& answer, int64_t now_ms,
                  const RejectionSink& rejected = nullptr);

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_SOURCE_WALK_H_
