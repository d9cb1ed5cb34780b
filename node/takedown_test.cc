#include "node/takedown.h"

#include <gtest/gtest.h>

#include "base/mem_env.h"

namespace tiersync::node {
namespace {

namespace tuf = protocol::tuf;
using catalogs::RegionTable;
using catalogs::Resource;
using catalogs::ResourceFile;
using replication::RoleRetraction;

// The hex SHA-256 of a file whose digest is 32 bytes of `byte`.
std::string ToHexByte(uint8_t byte) {
  static const char* kHex = "0123456789abcdef";
  std::string pair = {kHex[byte >> 4], kHex[byte & 15]};
  std::string out;
  for (int i = 0; i < 32; ++i) out += pair;
  return out;
}

ResourceFile File(const std::string& name, uint8_t byte) {
  ResourceFile f;
  f.name = name;
  f.media_type = "video/mp4";
  f.size = 1;
  f.sha256.fill(byte);
  return f;
}

Resource Make(const std::string& id, const std::string& origin, const std::string& provider,
              std::vector<ResourceFile> files) {
  Resource r;
  r.id = id;
  r.origin = origin;
  r.provider = provider;
  r.title = id;
  r.placements = {{"k12", "专题教育", ""}};
  r.files = std::move(files);
  return r;
}

RoleRetraction National(tuf::Retraction::Kind kind, std::string value) {
  return RoleRetraction{"targets", {}, {kind, std::move(value), "harmful", 1'800'000'000}};
}

// A province's role, delegated by the national targets for its namespace only.
RoleRetraction Province(tuf::Retraction::Kind kind, std::string value) {
  tuf::DelegatedRole d;
  d.name = "330000";
  d.paths = std::vector<std::string>{"regions/330000/*/*"};
  return RoleRetraction{"330000", {d}, {kind, std::move(value), "local reason", 1'800'000'500}};
}

Takedowns Resolve(std::vector<RoleRetraction> rs, const std::vector<Resource>& resources) {
  TakedownResolver resolver(std::move(rs), RegionTable::Builtin());
  for (const auto& r : resources) resolver.Add(r);
  return resolver.Finish();
}

const std::vector<Resource>& Catalog() {
  static const std::vector<Resource> c = {
      Make("k12-a", "national", "甲出版社", {File("a.mp4", 1), File("shared.pdf", 9)}),
      Make("k12-b", "national", "乙出版社", {File("b.mp4", 2), File("shared.pdf", 9)}),
      Make("k12-c", "national", "甲出版社", {File("c.mp4", 3)}),
      Make("330000-0001", "330000", "浙江省教育厅", {File("z.mp4", 4)}),
  };
  return c;
}

TEST(TakedownTest, TheNationalRoleWithdrawsByResourceProviderAndDigest) {
  Takedowns t = Resolve({National(tuf::Retraction::Kind::kResource, "k12-a")}, Catalog());
  ASSERT_EQ(t.resources.size(), 1u);
  EXPECT_EQ(t.resources.at("k12-a").reason, "harmful");
  EXPECT_EQ(t.files.size(), 2u);
  EXPECT_TRUE(t.files.count("national/k12-a/a.mp4"));
  EXPECT_TRUE(t.files.count("national/k12-a/shared.pdf"));
  // shared.pdf's bytes are still served by k12-b: only a.mp4's bytes are to be forgotten.
  EXPECT_EQ(t.digests, std::set<std::string>{ToHexByte(1)});
  EXPECT_TRUE(t.refused.empty());

  t = Resolve({National(tuf::Retraction::Kind::kProvider, "甲出版社")}, Catalog());
  EXPECT_EQ(t.resources.size(), 2u);
  EXPECT_TRUE(t.resources.count("k12-a") && t.resources.count("k12-c"));
  EXPECT_EQ(t.resources.at("k12-c").kind, "provider");

  t = Resolve({National(tuf::Retraction::Kind::kSha256, std::string(64, '0'))}, Catalog());
  EXPECT_TRUE(t.resources.empty() && t.files.empty());  // matches nothing
  t = Resolve({National(tuf::Retraction::Kind::kSha256, ToHexByte(9))}, Catalog());
  EXPECT_TRUE(t.resources.empty());  // a file, not a resource
  EXPECT_EQ(t.files.size(), 2u);     // in both resources
  EXPECT_EQ(t.digests.size(), 1u);
  // The national role reaches regional content too.
  t = Resolve({National(tuf::Retraction::Kind::kResource, "330000-0001")}, Catalog());
  EXPECT_TRUE(t.resources.count("330000-0001"));
}

TEST(TakedownTest, AProvinceWithdrawsOnlyInsideItsNamespace) {
  Takedowns t = Resolve({Province(tuf::Retraction::Kind::kResource, "330000-0001")}, Catalog());
  EXPECT_TRUE(t.resources.count("330000-0001"));
  EXPECT_TRUE(t.refused.empty());
  // National content: refused, reported, still served.
  t = Resolve({Province(tuf::Retraction::Kind::kResource, "k12-a"),
               Province(tuf::Retraction::Kind::kProvider, "甲出版社"),
               Province(tuf::Retraction::Kind::kSha256, ToHexByte(2))},
              Catalog());
  EXPECT_TRUE(t.resources.empty());
  EXPECT_TRUE(t.files.empty());
  EXPECT_TRUE(t.digests.empty());
  ASSERT_EQ(t.refused.size(), 4u);  // k12-a, the provider's two, b.mp4's digest
  for (const auto& line : t.refused) {
    EXPECT_NE(line.find("role 330000"), std::string::npos) << line;
    EXPECT_NE(line.find("refused"), std::string::npos) << line;
  }
}

TEST(TakedownTest, ListRoundTripsAndReadsEmptyWhenAbsent) {
  Takedowns t = Resolve({National(tuf::Retraction::Kind::kProvider, "甲出版社"),
                         Province(tuf::Retraction::Kind::kResource, "k12-b")},
                        Catalog());
  ASSERT_FALSE(t.empty());
  auto back = DecodeTakedowns(EncodeTakedowns(t));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, t);
  EXPECT_EQ(DecodeTakedowns("{\"format\": \"tiersync-takedowns 2\"}").status().code(),
            StatusCode::kNewerFormat);
  EXPECT_EQ(DecodeTakedowns("[]").status().code(), StatusCode::kCorruption);
  MemEnv env;
  auto none = ReadTakedowns(&env, "/releases/1-abc");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace tiersync::node
