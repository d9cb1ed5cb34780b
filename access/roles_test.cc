#include "access/roles.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "access/operator.h"

namespace tiersync::access {
namespace {

Operator Op(std::string name, Role role, std::string scope) {
  Operator op;
  op.name = std::move(name);
  op.role = role;
  op.scope = std::move(scope);
  return op;
}

// The table of roles.h written out again by name, independently of roles.cc's array.
const std::map<std::string, std::set<std::string>>& Expected() {
  static const auto* table = new std::map<std::string, std::set<std::string>>{
      {"national_admin",
       {"invite", "revoke", "pause_child", "resume_child", "set_limits", "publish", "retract",
        "view_audit", "view_status", "manage_operators", "pause_sync", "resume_sync", "scrub",
        "gc"}},
      {"provincial_admin",
       {"invite", "revoke", "pause_child", "resume_child", "set_limits", "view_audit",
        "view_status", "manage_operators", "pause_sync", "resume_sync", "scrub", "gc"}},
      {"node_operator",
       {"set_limits", "view_audit", "view_status", "pause_sync", "resume_sync", "scrub", "gc"}},
      {"publisher", {"publish", "retract"}},
  };
  return *table;
}

struct Case {
  Operator op;
  std::string inside, outside;
};

std::vector<Case> Cases() {
  return {
      {Op("root", Role::kNationalAdmin, "110000"), "110101", "650102"},
      {Op("zj-admin", Role::kProvincialAdmin, "330000"), "330106", "320000"},
      {Op("xihu-ops", Role::kNodeOperator, "330106"), "330106", "330105"},
      {Op("zj-pub", Role::kPublisher, "330000"), "330102", "320102"},
  };
}

TEST(RolesTest, EveryRoleActionAndScopeFollowsTheTable) {
  int checked = 0;
  for (const Case& c : Cases()) {
    const auto& allowed = Expected().at(std::string(RoleName(c.op.role)));
    for (Action a : kAllActions) {
      const bool in_table = allowed.contains(std::string(ActionName(a)));
      const bool anywhere = c.op.role == Role::kNationalAdmin;
      SCOPED_TRACE(std::string(RoleName(c.op.role)) + " " + std::string(ActionName(a)));
      EXPECT_EQ(Authorize(c.op, a, c.inside).ok(), in_table);
      Status outside = Authorize(c.op, a, c.outside);
      EXPECT_EQ(outside.ok(), in_table && anywhere);
      if (!outside.ok()) {
        EXPECT_EQ(outside.code(), kPermissionDenied);
      }
      checked += 2;
    }
  }
  EXPECT_EQ(checked, 4 * 14 * 2);
}

// Refusals name role, operator, scope, action and region: a provincial admin outside its
// province, a publisher inviting, a node operator revoking.
TEST(RolesTest, RefusalsSayWhoMayNotDoWhatWhere) {
  const struct {
    Operator op;
    Action action;
    std::string_view region, message;
  } cases[] = {
      {Op("zj-admin", Role::kProvincialAdmin, "330000"), Action::kRevoke, "320000",
       "provincial_admin 'zj-admin' (330000) may not revoke in 320000"},
      {Op("zj-pub", Role::kPublisher, "330000"), Action::kInvite, "330106",
       "publisher 'zj-pub' (330000) may not invite in 330106"},
      {Op("xihu-ops", Role::kNodeOperator, "330106"), Action::kRevoke, "330106",
       "node_operator 'xihu-ops' (330106) may not revoke in 330106"},
  };
  for (const auto& c : cases) {
    Status s = Authorize(c.op, c.action, c.region);
    EXPECT_EQ(s.code(), kPermissionDenied);
    EXPECT_EQ(s.message(), c.message);
  }
}

TEST(RolesTest, CityAdminReachesOnlyItsCity) {
  Operator hz = Op("hz-admin", Role::kProvincialAdmin, "330100");
  EXPECT_TRUE(Authorize(hz, Action::kInvite, "330106").ok());
  EXPECT_TRUE(Authorize(hz, Action::kInvite, "330100").ok());
  EXPECT_FALSE(Authorize(hz, Action::kInvite, "330200").ok());
  EXPECT_FALSE(Authorize(hz, Action::kInvite, "330000").ok());  // the province above it
}

TEST(RolesTest, NodeOperatorCannotInviteOrRevokeEvenAtHome) {
  Operator ops = Op("xihu-ops", Role::kNodeOperator, "330106");
  EXPECT_FALSE(Authorize(ops, Action::kInvite, "330106").ok());
  EXPECT_FALSE(Authorize(ops, Action::kRevoke, "330106").ok());
  EXPECT_TRUE(Authorize(ops, Action::kScrub, "330106").ok());
}

TEST(RolesTest, NodeOperatorOfACityNodeActsOnlyOnThatNode) {
  // Its scope is its node's region, not a subtree: the county nodes below are not its own.
  Operator hz_ops = Op("hz-ops", Role::kNodeOperator, "330100");
  EXPECT_TRUE(Authorize(hz_ops, Action::kSetLimits, "330100").ok());
  EXPECT_EQ(Authorize(hz_ops, Action::kSetLimits, "330106").code(), kPermissionDenied);
}

TEST(RolesTest, MalformedTargetRegionIsInvalidArgument) {
  Operator root = Op("root", Role::kNationalAdmin, "110000");
  for (std::string_view bad : {"", "33", "33010x", "3301066"}) {
    EXPECT_EQ(Authorize(root, Action::kViewStatus, bad).code(), StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(RolesTest, ScopeStandsForItsLevel) {
  // scope -> a region inside it, a region outside it
  const std::string_view cases[][3] = {{"330000", "331082", "320000"},
                                       {"330100", "330106", "330200"},
                                       {"330106", "330106", "330105"},
                                       {"110100", "110101", "110000"}};
  for (const auto& [scope, inside, outside] : cases) {
    EXPECT_TRUE(RegionCovers(scope, inside)) << scope;
    EXPECT_FALSE(RegionCovers(scope, outside)) << scope;
  }
}

TEST(RolesTest, NamesRoundTrip) {
  for (Role r : kAllRoles) EXPECT_EQ(RoleFromName(RoleName(r)), r);
  for (Action a : kAllActions) EXPECT_EQ(ActionFromName(ActionName(a)), a);
  EXPECT_EQ(ActionName(Action::kManageOperators), "manage_operators");
  EXPECT_FALSE(RoleFromName("root").has_value());
  EXPECT_FALSE(ActionFromName("delete_everything").has_value());
}

}  // namespace
}  // namespace tiersync::access
