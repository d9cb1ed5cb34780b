#include "catalogs/taxonomy.h"

#include <gtest/gtest.h>

namespace tiersync::catalogs {
namespace {

TEST(TaxonomyTest, BuiltinHasThePlatformsBoardsAndVocabularies) {
  const Taxonomy& t = Taxonomy::Builtin();
  ASSERT_NE(t.FindPlatform("k12"), nullptr);
  EXPECT_EQ(t.FindPlatform("k12")->name, "国家中小学智慧教育平台");
  const Board* special = t.FindBoard("k12", "专题教育");
  ASSERT_NE(special, nullptr);
  EXPECT_EQ(special->categories.size(), 9u);
  // The six K-12 boards of the source carry 36 second-level columns minus 课程教学's own.
  size_t columns = 0;
  for (const char* b : {"专题教育", "课后服务", "教师研修", "家庭教育", "教改实践经验"}) {
    columns += t.FindBoard("k12", b)->categories.size();
  }
  EXPECT_EQ(columns, 33u);
  EXPECT_EQ(t.FindBoard("k12", "专业资源库"), nullptr);
  ASSERT_NE(t.FindBoard("vocational", "教材资源中心"), nullptr);
  EXPECT_TRUE(t.FindBoard("vocational", "教材资源中心")->categories.empty());
  // Version-2 boards sit in several platforms.
  for (const char* p : {"k12", "vocational", "higher"}) EXPECT_NE(t.FindBoard(p, "体育"), nullptr);
  EXPECT_EQ(t.editions().size(), 19u);
  EXPECT_TRUE(t.HasEdition("人教版"));
  EXPECT_FALSE(t.HasEdition("人教板"));
  ASSERT_NE(t.FindStage("初中"), nullptr);
  EXPECT_EQ(t.FindStage("初中")->first_grade, 7);
  EXPECT_TRUE(t.HasSubject("数学"));
}

TEST(TaxonomyTest, ParseRefusesBrokenDocuments) {
  EXPECT_FALSE(Taxonomy::Parse("{}").ok());
  EXPECT_FALSE(Taxonomy::Parse(R"({"format": "tiersync-taxonomy 2"})").ok());
  Result<Taxonomy> dup = Taxonomy::Parse(R"({"format": "tiersync-taxonomy 1",
    "platforms": [{"id": "a", "name": "A", "boards": []}, {"id": "a", "name": "B", "boards": []}],
    "stages": [], "editions": [], "subjects": []})");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("repeats a"), std::string::npos);
}

}  // namespace
}  // namespace tiersync::catalogs
