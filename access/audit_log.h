// AuditLog: a node's append-only record of every admin request, allowed or refused (who, in
// which role, what, on what, from where, with what outcome): the audit trail 等级保护
// (MLPS 2.0) asks of a system's administrators. Lines are access/audit_entry.h; each carries
// the SHA-256 of the line before it, so an edited, deleted or reordered line breaks the chain
// (VerifyAuditLog), and an auditor who notes the head (last seq and its line's hash) can later
// prove that nothing before it changed, the end included.
//
// Size: a line is about 300 bytes; a school node (tens of admin requests a day) writes a few
// MB a year, a busy provincial node (thousands a day, dashboards included) a few hundred MB.
// Rotation is out of scope.
//
// Durability: Append writes the line and its newline in one append and fdatasyncs the file
// (Env's WritableFile::Sync) before it returns OK; the file's creation is made durable with a
// sync of its directory. A failed write or sync fails the log for good (fsyncgate: nothing is
// retried and trusted): every later Append returns the first error, and the node should
// refuse admin actions until restarted. A crash in the middle of an append can leave a torn
// last line (no newline): Open cuts it off, makes the cut durable and records the cut as an
// event of its own (action "audit_repair", role "system") — the torn line was never reported
// written. Anything else wrong with the last line fails Open (kCorruption): nothing is
// silently kept or dropped.
//
// One process appends: Open takes an exclusive lock on `path + ".lock"`.
//
// Thread safety: Append, Query and the accessors may be called from several threads. Appends
// are serialized by one lock (seq strictly increasing, one line at a time); Query reads the
// lines committed when it starts without holding the lock while reading.
#ifndef TIERSYNC_ACCESS_AUDIT_LOG_H_
#define TIERSYNC_ACCESS_AUDIT_LOG_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "access/audit_entry.h"
#include "base/env.h"
#include "base/mutex.h"
#include "base/status.h"

namespace tiersync::access {

inline constexpr size_t kMaxAuditPage = 1000;
// A query reads at most this much of the log; a page that stops there says where to go on.
inline constexpr uint64_t kMaxAuditScanBytes = 64 << 20;

// Which entries a query wants; every set filter must match.
struct AuditQuery {
  int64_t since = 0;                                    // time >= since (unix s)
  int64_t until = std::numeric_limits<int64_t>::max();  // time <= until
  std::string operator_name;                            // "" = any
  std::string action;                                   // "" = any
  uint64_t before_seq = 0;  // only entries with seq < before_seq; 0 = from the newest
  size_t limit = 100;       // 1..kMaxAuditPage (clamped)
};

struct AuditPage {
  std::vector<AuditEntry> entries;  // newest first
  // Pass as before_seq for the next page; 0 when the log has nothing older to read.
  uint64_t next_before_seq = 0;
};

class AuditLog {
 public:
  // Opens or creates the log at `path` (its directory must exist). `env` must outlive it.
  // Errors, naming the file: kFailedPrecondition (another AuditLog holds the lock),
  // kCorruption (the last complete line does not decode, or a line is longer than
  // kMaxAuditLineBytes), the Env's errors.
  static Result<std::unique_ptr<AuditLog>> Open(Env* env, std::string path);

  // Appends `entry` with seq, time (the Env's clock) and prev filled in here; returns the seq
  // given. Durable when OK. Errors: the write's or sync's (sticky, see above).
  Result<uint64_t> Append(AuditEntry entry) EXCLUDES(mu_);

  // The entries matching `q`, newest first, at most q.limit of them.
  // Errors: kCorruption for a line that does not decode (naming its seq neighbourhood), the
  // Env's read errors.
  Result<AuditPage> Query(const AuditQuery& q) const EXCLUDES(mu_);

  // The seq of the last line (0 for an empty log) and its hash (kZeroHash for an empty log).
  uint64_t last_seq() const EXCLUDES(mu_);
  std::string head() const EXCLUDES(mu_);
  const std::string& path() const { return path_; }

 private:
  AuditLog(Env* env, std::string path) : env_(env), path_(std::move(path)) {}
  // Cuts a torn last line; finds the last line's seq and hash.
  Status Recover() EXCLUDES(mu_);
  Result<uint64_t> AppendLocked(AuditEntry entry) REQUIRES(mu_);

  Env* const env_;
  const std::string path_;
  std::unique_ptr<FileLock> lock_;
  mutable Mutex mu_;
  std::unique_ptr<WritableFile> file_ GUARDED_BY(mu_);
  Status failed_ GUARDED_BY(mu_);
  uint64_t size_ GUARDED_BY(mu_) = 0;  // bytes of complete lines
  uint64_t last_seq_ GUARDED_BY(mu_) = 0;
  std::string head_ GUARDED_BY(mu_) = std::string(kZeroHash);
};

// What VerifyAuditLog found.
struct AuditVerification {
  bool intact = true;
  uint64_t lines = 0;  // lines that verify (those before the break, if any)
  // When intact: the last line's seq and hash (an anchor to note for the next audit).
  uint64_t last_seq = 0;
  std::string head = std::string(kZeroHash);
  uint64_t broken_line = 0;  // 1-based line number of the first break; 0 when intact
  std::string problem;       // what is wrong there, in words
};

// A (seq, hash) pair an auditor noted earlier: the line with that seq must still hash to it.
struct AuditAnchor {
  uint64_t seq = 0;
  std::string hash;
};

// Walks the hash chain of the log at `path` from its first line and reports the first broken
// link: a line that does not decode or has no newline (torn), a seq that does not follow
// (a line deleted, lines reordered: reported at the first line out of place), a prev that is
// not the hash of the line before (reported at the line that was changed: the earlier of the
// two when the line after the break still links to its successor, else the later one), a
// first line whose prev is not all zeros (lines deleted at the front), or an `anchor` whose
// line is missing or different. An edit of the very last line is found only through an anchor
// on it. Errors only for reading (Env's); what is broken is in the result.
Result<AuditVerification> VerifyAuditLog(Env* env, const std::string& path,
                                         const std::optional<AuditAnchor>& anchor = {});

}  // namespace tiersync::access

#endif  // TIERSYNC_ACCESS_AUDIT_LOG_H_
