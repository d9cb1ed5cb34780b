// AuditEntry: one line of a node's audit log (access/audit_log.h) and its encoding.
//
// A line is one JSON object (no newline inside: control characters are escaped), members in
// this order:
//   {"seq":42,"time":"2026-01-05T08:30:00Z","operator":"zj-admin","role":"provincial_admin",
//    "action":"revoke","target":"node xihu-no1 (330106)","from":"10.3.4.5",
//    "outcome":"ok","prev":"<64 hex digits>"}
//   seq      1 for the first line, then +1 a line
//   time     RFC 3339 UTC, whole seconds, the node's clock when the line was written
//   operator the authenticated operator, or the name a refused request claimed ("" if none)
//   role     its role name (access/roles.h); "unauthenticated" when authentication failed;
//            "system" for the log's own events
//   action   an action name (access/roles.h) or another stable word ("audit_repair")
//   target   free text: the node, child, region or path acted on
//   from     the client's address
//   outcome  "ok" or "refused: <why>"
//   prev     lower-case hex SHA-256 of the previous line's bytes (without its newline);
//            64 zeros on the first line
// Free-text members are cut to their limits below on writing (a cut string ends in "...");
// invalid UTF-8 is replaced by U+FFFD.
#ifndef TIERSYNC_ACCESS_AUDIT_ENTRY_H_
#define TIERSYNC_ACCESS_AUDIT_ENTRY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/sha256.h"
#include "base/status.h"

namespace tiersync::access {

inline constexpr size_t kMaxAuditNameBytes = 128;  // operator, role, action, from
inline constexpr size_t kMaxAuditTextBytes = 512;  // target, outcome
// Above any line the limits allow (escaping may make a byte six).
inline constexpr size_t kMaxAuditLineBytes = 16 << 10;
inline constexpr std::string_view kZeroHash =
    "0000000000000000000000000000000000000000000000000000000000000000";
inline constexpr std::string_view kRoleUnauthenticated = "unauthenticated";
inline constexpr std::string_view kRoleSystem = "system";

struct AuditEntry {
  uint64_t seq = 0;
  int64_t time = 0;  // unix seconds
  std::string operator_name;
  std::string role;
  std::string action;
  std::string target;
  std::string from;
  std::string outcome;  // "ok" or "refused: <why>"
  std::string prev;     // hex
  bool operator==(const AuditEntry&) const = default;
};

// The line of `e`, without a newline. REQUIRES: 0 <= e.time < year 10000.
std::string EncodeAuditLine(const AuditEntry& e);

// Parses a line (without its newline): a JSON object with exactly the members above, of the
// right types, a valid time and a 64-hex-digit prev. kCorruption naming the problem.
Result<AuditEntry> DecodeAuditLine(std::string_view line);

// Lower-case hex SHA-256 of a line's bytes: the next line's prev.
std::string AuditLineHash(std::string_view line);

}  // namespace tiersync::access

#endif  // TIERSYNC_ACCESS_AUDIT_ENTRY_H_
