// ReportIntake: POST /v1/reports of a node or of the hub (docs/protocol.md "Reports"). Takes a
// child's report (node/fleet_report.h, format 1 or 2, plain JSON or a zstd frame with
// Content-Type application/zstd) and keeps
//   - its roll-up part (subscriptions) in ChildReports, which plans this node's syncs;
//   - its state, its subtree's states and its subtree's usage in the FleetStore, which the
//     federation view (node/federation_api.h) reads and the next report upward forwards.
//
// Refused, with the reason in words:
//   400  a body that does not decode, a subscription that does not parse, bounds exceeded;
//   403  a report whose node, or any node of whose subtree, lies outside this node's region
//        (a province hears only of its own province; the national hub of every region);
//   409  a report older than the last one accepted from the same child (a replay);
//   503  a new child beyond kMaxChildren; 500 when it cannot be stored.
// A retry of the last accepted report (same seq) is acknowledged and applied once.
//
// The reply: {"ok": true, "seq": N, "full": bool} — full asks the child to send its whole
// subtree next time (this node held nothing of it, e.g. its store was replaced).
//
// Down detection: the child's own state is stored with seen_at = now and stale_after =
// 3 report periods + kReportSlackSeconds; the states it forwards as it vouches for them
// (node/upward_report.h).
//
// Thread-safe (the server's workers call Accept concurrently).
#ifndef TIERSYNC_NODE_REPORT_INTAKE_H_
#define TIERSYNC_NODE_REPORT_INTAKE_H_

#include <string>

#include "base/env.h"
#include "fleet/fleet_store.h"
#include "node/child_reports.h"
#include "node/http_server.h"

namespace tiersync::node {

inline constexpr int64_t kReportSlackSeconds = 10;

class ReportIntake {
 public:
  // Nothing is owned; all outlive the intake. `region` is this node's GB/T 2260 code ("" for
  // the national hub: every region is its own).
  ReportIntake(Env* env, ChildReports* children, fleet::FleetStore* store, std::string name,
               std::string region);

  HttpReply Accept(const HttpRequest& request);

 private:
  bool InRegion(const std::string& code) const;

  Env* env_;
  ChildReports* children_;
  fleet::FleetStore* store_;
  const std::string name_;
  const std::string prefix_;  // fleet::RegionPrefix(region): what every reported code starts with
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_REPORT_INTAKE_H_
