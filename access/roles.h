// Operator roles and what each may do: the authorization table of a node's admin API
// (docs/formats/operators-and-audit.md). Pure: no I/O, no clock.
//
// Every operator has one role and one scope, a 6-digit GB/T 2260 region code. The table:
//
//   action            national_admin  provincial_admin  node_operator     publisher
//   invite            anywhere        inside prefix     -                 -
//   revoke            anywhere        inside prefix     -                 -
//   pause_child       anywhere        inside prefix     -                 -
//   resume_child      anywhere        inside prefix     -                 -
//   set_limits        anywhere        inside prefix     own region        -
//   publish           anywhere        -                 -                 inside prefix
//   retract           anywhere        -                 -                 inside prefix
//   view_audit        anywhere        inside prefix     own region        -
//   view_status       anywhere        inside prefix     own region        -
//   manage_operators  anywhere        inside prefix     -                 -
//   pause_sync        anywhere        inside prefix     own region        -
//   resume_sync       anywhere        inside prefix     own region        -
//   scrub             anywhere        inside prefix     own region        -
//   gc                anywhere        inside prefix     own region        -
//
// "inside prefix": the target region starts with RegionPrefix(scope) — a province's admin
// (scope 330000, prefix "33") acts in 33xxxx, a city's admin (330100, "3301") in 3301xx, a
// county's (330106) in 330106 only. "own region": the target region equals the scope exactly
// (a node operator operates the one node whose registry lists it, and that node's region is
// its scope). A publisher's namespace is regions/<code>/... for every code inside its prefix.
// Administration and publishing are separate duties: an admin does not publish, a publisher
// administers nothing; only national_admin holds both.
//
// The pause_sync .. gc rows are a node's own maintenance (pause/resume its own sync, scrub,
// garbage collection); pause_child/resume_child act on a child's sync.
#ifndef TIERSYNC_ACCESS_ROLES_H_
#define TIERSYNC_ACCESS_ROLES_H_

#include <optional>
#include <string>
#include <string_view>

#include "base/region_code.h"
#include "base/status.h"

namespace tiersync::access {

// base/status.h has no permission code yet; a refusal is this code, with a message naming
// role, operator, scope, action and region. One name to change when base gains one.
inline constexpr StatusCode kPermissionDenied = StatusCode::kFailedPrecondition;

enum class Role { kNationalAdmin, kProvincialAdmin, kNodeOperator, kPublisher };
inline constexpr Role kAllRoles[] = {Role::kNationalAdmin, Role::kProvincialAdmin,
                                     Role::kNodeOperator, Role::kPublisher};

// The stable names, as in the registry file and the audit log: "national_admin",
// "provincial_admin", "node_operator", "publisher".
std::string_view RoleName(Role role);
std::optional<Role> RoleFromName(std::string_view name);

// Values are never renumbered; names are stable (audit logs keep them forever).
enum class Action {
  kInvite,
  kRevoke,
  kPauseChild,
  kResumeChild,
  kSetLimits,
  kPublish,
  kRetract,
  kViewAudit,
  kViewStatus,
  kManageOperators,
  kPauseSync,
  kResumeSync,
  kScrub,
  kGc,
};
inline constexpr Action kAllActions[] = {
    Action::kInvite,          Action::kRevoke,    Action::kPauseChild,
    Action::kResumeChild,     Action::kSetLimits, Action::kPublish,
    Action::kRetract,         Action::kViewAudit, Action::kViewStatus,
    Action::kManageOperators, Action::kPauseSync, Action::kResumeSync,
    Action::kScrub,           Action::kGc};

// "invite", "revoke", "pause_child", "resume_child", "set_limits", "publish", "retract",
// "view_audit", "view_status", "manage_operators", "pause_sync", "resume_sync", "scrub", "gc".
std::string_view ActionName(Action action);
std::optional<Action> ActionFromName(std::string_view name);

// How far a role's grant of an action reaches.
enum class Reach { kNone, kOwnRegion, kInsidePrefix, kAnywhere };
// The table above, one cell.
Reach AllowedReach(Role role, Action action);

// A scope and a target are region codes (CheckRegionCode); "inside" is RegionCovers(scope,
// region) (base/region_code.h).

struct Operator;  // access/operator.h

// OK if `who` may do `action` in `target_region` (a 6-digit code: the region of the node,
// child or namespace acted on).
// Errors: kInvalidArgument if target_region is not a 6-digit code; kPermissionDenied
// otherwise, e.g. "provincial_admin 'zj-admin' (330000) may not revoke in 320000".
Status Authorize(const Operator& who, Action action, std::string_view target_region);

}  // namespace tiersync::access

#endif  // TIERSYNC_ACCESS_ROLES_H_
