// The report a node sends upward after each sync (POST <parent>/v1/reports, format 2;
// docs/protocol.md "Reports"): what the subscription roll-up needs (ChildReport), and what the
// view from the top needs — the sender's own state, the states of its subtree that changed since
// the parent last accepted a report, and its subtree's usage for the days that changed.
//
// Envelope (TUF style, so that issue 19's node keys sign it without another format change):
//   {"signed": {"_type": "tiersync-report", "format": 2, "name", "tier", "region",
//               "subscription", "rolled_up", "release", "version", "seq", "sent_at",
//               "report_every", "state": {NodeState}, "subtree": [{NodeState}...],
//               "subtree_full": bool, "usage": [{"date", "resources": {...}}...]},
//    "signatures": []}
// A body that is a bare object with "name" and "subscription" is a format 1 report (a child of
// an older version): it carries the roll-up part only.
//
// seq: strictly increasing per sender (its clock in microseconds at composition, or one more
// than the last one it sent); the parent refuses a seq lower than the last it accepted
// (a replay) and acknowledges the same seq again without applying it twice (a retry).
// Usage days are the sender's whole subtree's counts for that day (its own included): a
// parent replaces what the same child said of that day before, so nothing counts twice.
//
// Pure: no I/O. Decoding is strict and bounded (kMaxReport*).
#ifndef TIERSYNC_NODE_FLEET_REPORT_H_
#define TIERSYNC_NODE_FLEET_REPORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "fleet/node_state.h"
#include "node/child_reports.h"
#include "serving/usage.h"

namespace tiersync::node {

inline constexpr int kReportFormat = 2;
// A report body (one page of it) is at most this large; a subtree larger than a page goes up in
// several pages (FleetReport::subtree is then partial and subtree_full false).
inline constexpr size_t kMaxReportBodyBytes = 32 << 20;
// Per report page, so that one compresses to well under the HTTP server's 1 MiB body cap
// (a node state is about 750 bytes of JSON, a usage count about 45).
inline constexpr size_t kMaxReportSubtree = 5'000;  // node states per report page
inline constexpr size_t kMaxReportUsageDays = 32;
inline constexpr size_t kMaxReportUsageRows = 100'000;  // (day, resource) pairs per report

struct FleetReport {
  ChildReport rollup;          // name, tier, region, release, version, subscription, rolled_up
  int format = kReportFormat;  // 1: a bare format-1 report (only `rollup` is set)
  uint64_t seq = 0;
  int64_t sent_at = 0;       // the sender's clock, unix seconds
  int64_t report_every = 0;  // seconds between its reports (its poll interval)
  fleet::NodeState state;    // the sender itself (seen_at and stale_after left 0)
  std::vector<fleet::NodeState> subtree;
  bool subtree_full = false;  // `subtree` is the whole subtree, not the changes
  std::vector<serving::UsageDay> usage;
};

// The body to POST.
std::string EncodeFleetReport(const FleetReport& r);
// A format 1 or format 2 body. kInvalidArgument naming the field for anything malformed or
// over the bounds; kNotSupported for a format above kReportFormat.
Result<FleetReport> DecodeFleetReport(std::string_view body);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_FLEET_REPORT_H_
