// ChildReports: the report intake of a node (POST /v1/reports, docs/protocol.md). Each child
// node reports after every sync: its name, tier, region, release, its own subscription and
// `rolled_up`, the union of its subtree's subscriptions (catalogs/subscription_rollup.h). The
// latest report of each child is kept in memory for planning, status and the report upward,
// and written to children/<hash of name>.json so that a restart (or a one-shot `node sync`)
// plans for the same subtree.
//
// Limits: kMaxChildren children (a new one beyond that: 503), bodies capped by the HTTP
// server, the subscription parsed before it is accepted (400 naming the error).
//
// Thread-safe: Accept() is called from the server's workers, the readers from the sync loop
// and the status view.
#ifndef TIERSYNC_NODE_CHILD_REPORTS_H_
#define TIERSYNC_NODE_CHILD_REPORTS_H_

#include <map>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "node/http_server.h"
#include "node/node_dir.h"

namespace tiersync::node {

inline constexpr size_t kMaxChildren = 1000;

struct ChildReport {
  std::string name, tier, region, release;
  uint64_t version = 0;
  std::string subscription;  // the child's own
  std::string rolled_up;     // its subtree's union (its own included)
  int64_t received_at = 0;   // seconds since the epoch
  uint64_t seq = 0;          // format 2 reports (node/fleet_report.h); 0: format 1
};

class ChildReports {
 public:
  // Nothing is owned; `env` and `paths` must outlive the object.
  ChildReports(Env* env, const NodePaths& paths);

  // Reads the reports saved under children/ (unreadable ones are skipped).
  void Load();

  // The reply to POST /v1/reports for a format 1 report (node/report_intake.h takes both).
  HttpReply Accept(const HttpRequest& request);

  // Checks `r`'s subscriptions (kInvalidArgument naming the field).
  static Status Check(const ChildReport& r);
  // Stores `r` (received now) as its child's latest report: true. False if `r` repeats the
  // seq of the last one stored for that child (a retry: nothing is written again).
  // kFailedPrecondition if its seq is below that one (a replay of an older report);
  // kResourceExhausted for a new child beyond kMaxChildren; kIOError if it cannot be written.
  Result<bool> Put(ChildReport r);
  // The seq of the last report stored for child `name` (0: none, or format 1).
  uint64_t LastSeq(const std::string& name) const;

  // The subtrees' subscriptions, one text per child (rolled_up, or the subscription of a child
  // too old to roll up), in name order.
  std::vector<std::string> Subscriptions() const;
  std::vector<ChildReport> Reports() const;
  size_t size() const;

 private:
  Env* env_;
  const NodePaths& paths_;
  mutable Mutex mu_;
  std::map<std::string, ChildReport> reports_ GUARDED_BY(mu_);  // by file name
  Mutex write_mu_;  // one report written at a time; taken before mu_
};

// The report a child sends (and its parent parses): JSON as described above.
std::string EncodeChildReport(const ChildReport& r);
// A report as kept in children/: the report with "format": kChildReportFileFormat (from node
// layout 2; a file without format is format 1).
inline constexpr std::string_view kChildReportFileFormat = "tiersync-child-report 1";
std::string EncodeChildReportFile(const ChildReport& r);
Result<ChildReport> DecodeChildReport(std::string_view json);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_CHILD_REPORTS_H_
