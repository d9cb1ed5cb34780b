#include "access/roles.h"

#include <array>
#include <cstddef>

#include "access/operator.h"

namespace tiersync::access {
namespace {

constexpr std::array<std::string_view, 4> kRoleNames = {"national_admin", "provincial_admin",
                                                        "node_operator", "publisher"};
constexpr std::array<std::string_view, 14> kActionNames = {
    "invite",  "revoke",     "pause_child", "resume_child",     "set_limits", "publish",
    "retract", "view_audit", "view_status", "manage_operators", "pause_sync", "resume_sync",
    "scrub",   "gc"};
static_assert(std::size(kActionNames) == std::size(kAllActions));
static_assert(std::size(kRoleNames) == std::size(kAllRoles));

// Index with the Action value. Columns: provincial_admin, node_operator, publisher
// (national_admin reaches everywhere and needs no column).
struct Grants {
  Reach provincial, node_operator, publisher;
};
constexpr Reach N = Reach::kNone, O = Reach::kOwnRegion, P = Reach::kInsidePrefix;
constexpr std::array<Grants, 14> kTable = {{
    {P, N, N},  // invite
    {P, N, N},  // revoke
    {P, N, N},  // pause_child
    {P, N, N},  // resume_child
    {P, O, N},  // set_limits
    {N, N, P},  // publish
    {N, N, P},  // retract
    {P, O, N},  // view_audit
    {P, O, N},  // view_status
    {P, N, N},  // manage_operators
    {P, O, N},  // pause_sync
    {P, O, N},  // resume_sync
    {P, O, N},  // scrub
    {P, O, N},  // gc
}};

template <class E, size_t n>
std::optional<E> FromName(const std::array<std::string_view, n>& names, std::string_view name) {
  for (size_t i = 0; i < n; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view RoleName(Role role) { return kRoleNames.at(static_cast<size_t>(role)); }
std::optional<Role> RoleFromName(std::string_view name) { return FromName<Role>(kRoleNames, name); }

std::string_view ActionName(Action action) { return kActionNames.at(static_cast<size_t>(action)); }
std::optional<Action> ActionFromName(std::string_view name) {
  return FromName<Action>(kActionNames, name);
}

Reach AllowedReach(Role role, Action action) {
  const Grants& g = kTable.at(static_cast<size_t>(action));
  switch (role) {
    case Role::kNationalAdmin:
      return Reach::kAnywhere;
    case Role::kProvincialAdmin:
      return g.provincial;
    case Role::kNodeOperator:
      return g.node_operator;
    case Role::kPublisher:
      return g.publisher;
  }
  return Reach::kNone;
}

Status Authorize(const Operator& who, Action action, std::string_view target_region) {
  if (Status s = CheckRegionCode(target_region); !s.ok()) {
    return s.WithContext("target region '" + std::string(target_region) + "'");
  }
  bool allowed = false;
  switch (AllowedReach(who.role, action)) {
    case Reach::kNone:
      break;
    case Reach::kOwnRegion:
      allowed = target_region == who.scope;
      break;
    case Reach::kInsidePrefix:
      allowed = RegionCovers(who.scope, target_region);
      break;
    case Reach::kAnywhere:
      allowed = true;
      break;
  }
  if (allowed) return Status::Ok();
  return Status(kPermissionDenied, std::string(RoleName(who.role)) + " '" + who.name + "' (" +
                                       who.scope + ") may not " + std::string(ActionName(action)) +
                                       " in " + std::string(target_region));
}

}  // namespace tiersync::access
