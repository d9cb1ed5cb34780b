#include "access/operator_registry.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "access/operator_test_util.h"
#include "base/fault_env.h"
#include "base/mem_env.h"

namespace tiersync::access {
namespace {

using testing::kNow;
using testing::MakeOperator;

constexpr char kOperatorsPath[] = "/node/operators.json";

class OperatorRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.CreateDir("/node").ok());
    ASSERT_TRUE(env_.SyncDir("/").ok());
    registry_ = Open();
    ASSERT_TRUE(registry_->Bootstrap(root_.op, kNow).ok());
    ASSERT_TRUE(registry_->Add("root", zj_.op, kNow + 1).ok());
  }

  std::unique_ptr<OperatorRegistry> Open() {
    auto r = OperatorRegistry::Open(&env_, kOperatorsPath);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  MemEnv env_;
  testing::KeyedOperator root_ = MakeOperator("root", Role::kNationalAdmin, "110000");
  testing::KeyedOperator zj_ =
      MakeOperator("zj-admin", Role::kProvincialAdmin, "330000", "sm2-sm3");
  std::unique_ptr<OperatorRegistry> registry_;
};

TEST_F(OperatorRegistryTest, SurvivesAReopen) {
  auto again = Open();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->List(), registry_->List());
  auto zj = again->Find("zj-admin");
  ASSERT_TRUE(zj.ok());
  EXPECT_EQ(zj->added_by, "root");
  EXPECT_EQ(zj->added_at, kNow + 1);
  EXPECT_EQ(zj->key, zj_.op.key);
  EXPECT_EQ(zj->key.scheme, "sm2-sm3");
  EXPECT_EQ(again->Find("root")->added_by, kBootstrapAddedBy);
}

TEST_F(OperatorRegistryTest, SurvivesPowerLossOnceAdded) {
  env_.SimulateCrash();
  auto again = Open();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->List().size(), 2u);
}

TEST_F(OperatorRegistryTest, RefusesADuplicateName) {
  auto dup = MakeOperator("zj-admin", Role::kPublisher, "330000");
  EXPECT_EQ(registry_->Add("root", dup.op, kNow).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(registry_->Disable("root", "zj-admin", kNow).ok());
  // A disabled operator keeps its name.
  EXPECT_EQ(registry_->Add("root", dup.op, kNow).code(), StatusCode::kAlreadyExists);
}

TEST_F(OperatorRegistryTest, HoldsSeveralOperatorsOfOneRole) {
  auto js = MakeOperator("js-admin", Role::kProvincialAdmin, "320000");
  auto root2 = MakeOperator("root2", Role::kNationalAdmin, "110000", "sm2-sm3");
  EXPECT_TRUE(registry_->Add("root", js.op, kNow).ok());
  EXPECT_TRUE(registry_->Add("root", root2.op, kNow).ok());
  EXPECT_EQ(registry_->List().size(), 4u);
}

TEST_F(OperatorRegistryTest, ProvincialAdminMayNotAddANationalAdmin) {
  auto usurper = MakeOperator("usurper", Role::kNationalAdmin, "330000");
  Status s = registry_->Add("zj-admin", usurper.op, kNow);
  EXPECT_EQ(s.code(), kPermissionDenied);
  EXPECT_NE(s.message().find("may not manage a national_admin"), std::string::npos);
  EXPECT_EQ(registry_->Find("usurper").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Open()->List().size(), 2u);
}

TEST_F(OperatorRegistryTest, ProvincialAdminAddsOnlyInsideItsScope) {
  auto xihu = MakeOperator("xihu-ops", Role::kNodeOperator, "330106");
  auto nanjing = MakeOperator("nj-ops", Role::kNodeOperator, "320102");
  EXPECT_TRUE(registry_->Add("zj-admin", xihu.op, kNow).ok());
  Status s = registry_->Add("zj-admin", nanjing.op, kNow);
  EXPECT_EQ(s.code(), kPermissionDenied);
  EXPECT_EQ(s.message(), "provincial_admin 'zj-admin' (330000) may not manage_operators in 320102");
}

TEST_F(OperatorRegistryTest, OnlyAdminsManageOperators) {
  auto xihu = MakeOperator("xihu-ops", Role::kNodeOperator, "330106");
  ASSERT_TRUE(registry_->Add("root", xihu.op, kNow).ok());
  auto other = MakeOperator("other", Role::kNodeOperator, "330106");
  EXPECT_EQ(registry_->Add("xihu-ops", other.op, kNow).code(), kPermissionDenied);
  EXPECT_EQ(registry_->Add("nobody", other.op, kNow).code(), kPermissionDenied);
}

TEST_F(OperatorRegistryTest, DisabledOperatorCanNoLongerManage) {
  ASSERT_TRUE(registry_->Disable("root", "zj-admin", kNow + 5).ok());
  auto zj = Open()->Find("zj-admin");
  ASSERT_TRUE(zj.ok());
  EXPECT_TRUE(zj->disabled);
  EXPECT_EQ(zj->disabled_by, "root");
  EXPECT_EQ(zj->disabled_at, kNow + 5);
  auto xihu = MakeOperator("xihu-ops", Role::kNodeOperator, "330106");
  EXPECT_EQ(registry_->Add("zj-admin", xihu.op, kNow).code(), kPermissionDenied);
}

TEST_F(OperatorRegistryTest, ProvincialAdminMayNotDisableTheNationalAdmin) {
  EXPECT_EQ(registry_->Disable("zj-admin", "root", kNow).code(), kPermissionDenied);
  EXPECT_EQ(registry_->Disable("root", "root", kNow).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->Disable("root", "ghost", kNow).code(), StatusCode::kNotFound);
}

TEST_F(OperatorRegistryTest, BootstrapOnlyIntoAnEmptyRegistry) {
  auto second = MakeOperator("second", Role::kNationalAdmin, "110000");
  EXPECT_EQ(registry_->Bootstrap(second.op, kNow).code(), StatusCode::kFailedPrecondition);
}

TEST_F(OperatorRegistryTest, RefusesBadOperators) {
  auto bad = MakeOperator("bad name", Role::kNodeOperator, "330106");
  EXPECT_EQ(registry_->Add("root", bad.op, kNow).code(), StatusCode::kInvalidArgument);
  bad.op.name = "ok-name";
  bad.op.scope = "33";
  EXPECT_EQ(registry_->Add("root", bad.op, kNow).code(), StatusCode::kInvalidArgument);
  bad.op.scope = "330106";
  bad.op.key.public_value = "00";
  EXPECT_EQ(registry_->Add("root", bad.op, kNow).code(), StatusCode::kInvalidArgument);
}

TEST_F(OperatorRegistryTest, AFailedWriteChangesNothing) {
  FaultEnv faulty(&env_, 1);
  auto r = OperatorRegistry::Open(&faulty, kOperatorsPath);
  ASSERT_TRUE(r.ok());
  faulty.FailAllSyncs(true);
  auto xihu = MakeOperator("xihu-ops", Role::kNodeOperator, "330106");
  EXPECT_FALSE((*r)->Add("root", xihu.op, kNow).ok());
  EXPECT_EQ((*r)->Find("xihu-ops").status().code(), StatusCode::kNotFound);
  faulty.FailAllSyncs(false);
  EXPECT_TRUE((*r)->Add("root", xihu.op, kNow).ok());
}

TEST_F(OperatorRegistryTest, LoadErrorsNameTheFile) {
  const std::string text =
      "{\"format\": \"tiersync-operators\", \"version\": 1, \"operators\": "
      "[{\"name\": \"x\"}]}";
  ASSERT_TRUE(
      WriteFileAtomically(&env_, kOperatorsPath,
                          ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()))
          .ok());
  auto r = OperatorRegistry::Open(&env_, kOperatorsPath);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find(kOperatorsPath), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("operators[0]"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace tiersync::access
