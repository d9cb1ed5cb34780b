#include "identity/node_identity.h"

#include <gtest/gtest.h>

#include "identity/test_federation.h"

namespace tiersync::identity {
namespace {

using identity_testing::kSchool;

const NodeIdentity kNational{"national", "000000", "national-ca"};
const NodeIdentity kZhejiang{"province", "330000", "zhejiang"};
const NodeIdentity kJiangsu{"province", "320000", "jiangsu"};
const NodeIdentity kHangzhou{"city", "330100", "hangzhou"};
const NodeIdentity kXihu{"county", "330106", "xihu"};

TEST(NodeIdentityTest, WellFormedIdentities) {
  for (const NodeIdentity& id : {kNational, kZhejiang, kHangzhou, kXihu, kSchool}) {
    EXPECT_TRUE(CheckIdentity(id).ok()) << Describe(id);
  }
  EXPECT_TRUE(CheckIdentity({"school", "330106", "西湖区第一小学"}).ok());
}

TEST(NodeIdentityTest, MalformedIdentities) {
  EXPECT_EQ(CheckIdentity({"town", "330106", "x"}).message(), "tier: not a tier: \"town\"");
  EXPECT_EQ(CheckIdentity({"national", "330000", "x"}).message(),
            "region: the national tier's region is 000000");
  EXPECT_EQ(CheckIdentity({"province", "330100", "x"}).message(),
            "region: a province's region ends in 0000");
  EXPECT_EQ(CheckIdentity({"city", "330000", "x"}).message(),
            "region: a city's region ends in 00 (not 0000)");
  EXPECT_EQ(CheckIdentity({"school", "000000", "x"}).message(),
            "region: 000000 is the national tier's");
  EXPECT_EQ(CheckIdentity({"school", "33010", "x"}).message(), "region: not a 6-digit region code");
  EXPECT_EQ(CheckIdentity({"school", "330106", ""}).message(), "name: empty");
  EXPECT_EQ(CheckIdentity({"school", "330106", "a\nb"}).message(), "name: has a control character");
  EXPECT_EQ(CheckIdentity({"school", "330106", std::string(65, 'a')}).message(),
            "name: longer than 64 characters");
  std::string chinese;
  for (int i = 0; i < 64; ++i) chinese += "学";
  EXPECT_TRUE(CheckIdentity({"school", "330106", chinese}).ok());  // 64 characters, 192 bytes
}

TEST(NodeIdentityTest, ScopeAllowsTheTreeDownwards) {
  EXPECT_TRUE(CheckScope(kNational, kZhejiang).ok());
  EXPECT_TRUE(CheckScope(kZhejiang, kHangzhou).ok());
  EXPECT_TRUE(CheckScope(kHangzhou, kXihu).ok());
  EXPECT_TRUE(CheckScope(kXihu, kSchool).ok());
  EXPECT_TRUE(CheckScope(kZhejiang, kSchool).ok());  // skipping tiers is allowed
}

TEST(NodeIdentityTest, ScopeRefusesAnotherProvincesRegion) {
  Status s = CheckScope(kJiangsu, kXihu);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "county 'xihu' (330106) is not inside its issuer province 'jiangsu' (320000)");
}

TEST(NodeIdentityTest, ScopeRefusesTierInversion) {
  EXPECT_EQ(CheckScope(kXihu, {"city", "330100", "hangzhou2"}).message(),
            "city 'hangzhou2' (330100) is not below its issuer county 'xihu' (330106)");
  EXPECT_EQ(CheckScope(kZhejiang, {"province", "330000", "zj2"}).message(),
            "province 'zj2' (330000) is not below its issuer province 'zhejiang' (330000)");
  EXPECT_FALSE(CheckScope(kSchool, {"school", "330106", "s2"}).ok());
}

TEST(NodeIdentityTest, ScopeRefusesMalformedIdentities) {
  EXPECT_EQ(CheckScope(kXihu, {"school", "330106", ""}).message(), "subject: name: empty");
  EXPECT_EQ(CheckScope({"county", "000000", "x"}, kSchool).message(),
            "issuer: region: 000000 is the national tier's");
}

}  // namespace
}  // namespace tiersync::identity
