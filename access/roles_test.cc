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

TEST(RolesTest, ProvincialAdminOutsideItsProvinceIsRefusedByName) {
  Status s = Authorize(Op("zj-admin", Role::kProvincialAdmin, "330000"), Action::kRevoke, "320000");
  EXPECT_EQ(s.code(), kPermissionDenied);
  EXPECT_EQ(s.message(), "provincial_admin 'zj-admin' (330000) may not revoke in 320000");
}

TEST(RolesTest, CityAdminReachesOnlyItsCity) {
  Operator hz = Op("hz-admin", Role::kProvincialAdmin, "330100");
  EXPECT_TRUE(Authorize(hz, Action::kInvite, "330106").ok());
  EXPECT_TRUE(Authorize(hz, Action::kInvite, "330100").ok());
  EXPECT_FALSE(Authorize(hz, Action::kInvite, "330200").ok());
  EXPECT_FALSE(Authorize(hz, Action::kInvite, "330000").ok());  // the province above it
}

TEST(RolesTest, PublisherCannotInvite) {
  Status s = Authorize(Op("zj-pub", Role::kPublisher, "330000"), Action::kInvite, "330106");
  EXPECT_EQ(s.code(), kPermissionDenied);
  EXPECT_EQ(s.message(), "publisher 'zj-pub' (330000) may not invite in 330106");
}

TEST(RolesTest, NodeOperatorCannotInviteOrRevokeEvenAtHome) {
  Operator ops = Op("xihu-ops", Role::kNodeOperator, "330106");
  EXPECT_FALSE(Authorize(ops, Action::kInvite, "330106").ok());
  EXPECT_FALSE(Authorize(ops, Action::kRevoke, "330106").ok());
  EXPECT_TRUE(Authorize(ops, Action::kScrub, "330106").ok());
}

TEST(RolesTest, MalformedTargetRegionIsInvalidArgument) {
  Operator root = Op("root", Role::kNationalAdmin, "110000");
  for (std::string_view bad : {"", "33", "33010x", "3301066"}) {
    EXPECT_EQ(Authorize(root, Action::kViewStatus, bad).code(), StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(RolesTest, RegionPrefixes) {
  EXPECT_EQ(RegionPrefixOf("330000"), "33");
  EXPECT_EQ(RegionPrefixOf("330100"), "3301");
  EXPECT_EQ(RegionPrefixOf("330106"), "330106");
  EXPECT_EQ(RegionPrefixOf("110100"), "1101");
  EXPECT_EQ(RegionPrefixOf("abc"), "abc");
  EXPECT_TRUE(RegionInside("330106", "330000"));
  EXPECT_FALSE(RegionInside("320106", "330000"));
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
