#include "catalogs/region_table.h"

#include <gtest/gtest.h>

namespace tiersync::catalogs {
namespace {

TEST(RegionTableTest, BuiltinTablesAreComplete) {
  const RegionTable& t = RegionTable::Builtin();
  EXPECT_EQ(t.AtLevel(RegionLevel::kProvince).size(), 31u);
  EXPECT_EQ(t.AtLevel(RegionLevel::kPrefecture).size(), 342u);
  // 2,978 county rows, three of which repeat a city without counties (东莞, 中山, 儋州).
  EXPECT_EQ(t.AtLevel(RegionLevel::kCounty).size(), 2975u);
  EXPECT_TRUE(t.Find("441900")->also_county);
  EXPECT_EQ(t.Find("441900")->level, RegionLevel::kPrefecture);
  EXPECT_FALSE(t.Find("330100")->also_county);
}

TEST(RegionTableTest, DemoChainZhejiangHangzhouXihu) {
  const RegionTable& t = RegionTable::Builtin();
  auto chain = t.Chain("330106");
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0]->code, "330000");
  EXPECT_EQ(chain[0]->name, "浙江省");
  EXPECT_EQ(chain[1]->code, "330100");
  EXPECT_EQ(chain[1]->name, "杭州市");
  EXPECT_EQ(chain[2]->name, "西湖区");
  EXPECT_EQ(chain[2]->level, RegionLevel::kCounty);
  EXPECT_TRUE(t.IsWithin("330106", "330000"));
  EXPECT_TRUE(t.IsWithin("330100", "330100"));
  EXPECT_FALSE(t.IsWithin("330106", "110000"));
  EXPECT_FALSE(t.IsWithin("999999", "330000"));
  EXPECT_EQ(t.Find("33"), nullptr);  // only 6-digit codes
}

TEST(RegionTableTest, MunicipalityPlaceholders) {
  const RegionTable& t = RegionTable::Builtin();
  const Region* r = t.Find("110100");
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->placeholder);
  EXPECT_EQ(t.Find("110101")->parent, "110100");
  EXPECT_FALSE(t.Find("330100")->placeholder);
}

TEST(RegionTableTest, ChildrenOfAProvince) {
  auto kids = RegionTable::Builtin().Children("330000");
  ASSERT_EQ(kids.size(), 11u);  // 浙江省 has 11 prefecture-level cities
  EXPECT_EQ(kids.front()->code, "330100");
}

const char kProvincesCsv[] = "code,name\n33,\"浙江省\"\n";
const char kCitiesCsv[] = "code,name,provinceCode\n3301,\"杭州市\",33\n";
const char kAreasCsv[] = "code,name,cityCode,provinceCode\n330106,\"西湖区\",3301,33\n";

TEST(RegionTableTest, ParsesMinimalTables) {
  auto t = RegionTable::Parse(kProvincesCsv, kCitiesCsv, kAreasCsv);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->size(), 3u);
}

StatusCode ParseCode(std::string_view p, std::string_view c, std::string_view a) {
  return RegionTable::Parse(p, c, a).status().code();
}

TEST(RegionTableTest, WrongHeader) {
  EXPECT_EQ(ParseCode("id,name\n33,\"浙江省\"\n", kCitiesCsv, kAreasCsv), StatusCode::kCorruption);
}

TEST(RegionTableTest, DuplicateCode) {
  auto r = RegionTable::Parse("code,name\n33,\"浙江省\"\n33,\"浙江\"\n", kCitiesCsv, kAreasCsv);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("provinces.csv:3"), std::string::npos)
      << r.status().ToString();
}

TEST(RegionTableTest, UnknownParent) {
  EXPECT_EQ(ParseCode(kProvincesCsv, "code,name,provinceCode\n3401,\"合肥市\",34\n", kAreasCsv),
            StatusCode::kCorruption);
}

TEST(RegionTableTest, CodeThatDoesNotExtendItsParent) {
  EXPECT_EQ(ParseCode(kProvincesCsv, kCitiesCsv,
                      "code,name,cityCode,provinceCode\n340106,\"西湖区\",3301,33\n"),
            StatusCode::kCorruption);
}

TEST(RegionTableTest, MalformedLines) {
  EXPECT_EQ(ParseCode("code,name\n3x,\"浙江省\"\n", kCitiesCsv, kAreasCsv),
            StatusCode::kCorruption);
  EXPECT_EQ(ParseCode("code,name\n33,\"浙江省\n", kCitiesCsv, kAreasCsv), StatusCode::kCorruption);
  EXPECT_EQ(ParseCode("code,name\n33,\"浙江省\",extra\n", kCitiesCsv, kAreasCsv),
            StatusCode::kCorruption);
  EXPECT_EQ(ParseCode("code,name\n33,\n", kCitiesCsv, kAreasCsv), StatusCode::kCorruption);
  EXPECT_EQ(ParseCode("", kCitiesCsv, kAreasCsv), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tiersync::catalogs
