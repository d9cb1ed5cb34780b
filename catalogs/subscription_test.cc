#include "catalogs/subscription.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tiersync::catalogs {
namespace {

const Taxonomy& Tax() { return Taxonomy::Builtin(); }
const RegionTable& Regions() { return RegionTable::Builtin(); }

// Parses `text` and matches `r`; a parse failure fails the test.
bool Match(std::string_view text, const Resource& r) {
  auto s = Subscription::Parse(text, Tax(), Regions());
  if (!s.ok()) {
    ADD_FAILURE() << "parse of \"" << text << "\" failed: " << s.status().ToString();
    return false;
  }
  return s->Matches(r);
}

// The error message Parse() gives for `text` (and checks it is kInvalidArgument), or
// "<parsed>" if it parsed.
std::string ParseError(std::string_view text) {
  auto s = Subscription::Parse(text, Tax(), Regions());
  if (s.ok()) return "<parsed>";
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << s.status().ToString();
  return s.status().message();
}

ResourceFile File(std::string name) {
  ResourceFile f;
  f.name = std::move(name);
  f.media_type = "application/octet-stream";
  f.size = 1;
  return f;
}

// A K-12 primary-school Chinese lesson with every facet set.
Resource ChineseLesson() {
  Resource r;
  r.id = "k12-lesson-0001";
  r.title = "古诗三首";
  r.provider = "人民教育出版社";
  r.placements = {{"k12", "课程教学", "小学"}};
  r.facets.stage = "小学";
  r.facets.grade = 3;
  r.facets.subject = "语文";
  r.facets.edition = "人教版";
  r.facets.volume = "三年级上册";
  r.facets.lesson = "第5课 古诗三首";
  r.facets.tags = {"古诗", "朗读"};
  r.files = {File("video.mp4")};
  return r;
}

Resource CourseLesson(std::string stage, int grade, std::string edition) {
  Resource r = ChineseLesson();
  r.placements = {{"k12", "课程教学", stage}};
  r.facets.stage = std::move(stage);
  r.facets.grade = grade;
  r.facets.edition = std::move(edition);
  return r;
}

// A resource with only a placement: no facets, no provider.
Resource Bare(std::string platform, std::string board, std::string category) {
  Resource r;
  r.id = "k12-bare-0001";
  r.title = "bare";
  r.placements = {{std::move(platform), std::move(board), std::move(category)}};
  r.files = {File("a.pdf")};
  return r;
}

Resource FromRegion(std::string origin) {
  Resource r = Bare("k12", "专题教育", "党史学习");
  r.id = origin + "-0001";
  r.origin = std::move(origin);
  return r;
}

TEST(SubscriptionTest, EmptySubscriptionMatchesNothing) {
  for (std::string_view text : {"", "\n\n", "# only a comment\n   \n\t# another\n"}) {
    auto s = Subscription::Parse(text, Tax(), Regions());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->rule_count(), 0u);
    EXPECT_FALSE(s->Matches(ChineseLesson())) << text;
    EXPECT_FALSE(s->Matches(Resource{})) << text;
    EXPECT_EQ(s->text(), text);
  }
  EXPECT_TRUE(Match("all", Resource{}));
}

TEST(SubscriptionTest, IssueExampleK12CourseTeachingPlusTopicEducation) {
  const std::string text =
      "# K-12 course teaching, 人教版 and 北师大版, grades 1-9, plus all 专题教育\n"
      "platform = k12 and board = 课程教学 and edition in (人教版, 北师大版) and grade in (1..9)\n"
      "board = 专题教育\n";
  auto s = Subscription::Parse(text, Tax(), Regions());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->rule_count(), 2u);
  EXPECT_TRUE(s->Matches(CourseLesson("小学", 1, "人教版")));
  EXPECT_TRUE(s->Matches(CourseLesson("初中", 9, "北师大版")));
  EXPECT_FALSE(s->Matches(CourseLesson("高中", 10, "人教版")));
  EXPECT_FALSE(s->Matches(CourseLesson("小学", 3, "沪教版")));
  EXPECT_TRUE(s->Matches(Bare("k12", "专题教育", "党史学习")));
  EXPECT_FALSE(s->Matches(Bare("k12", "课后服务", "科普教育")));
  EXPECT_FALSE(s->Matches(Bare("vocational", "体育", "体育课程")));
  // 课程教学 without an edition is not wanted by the first rule.
  Resource no_edition = CourseLesson("小学", 2, "");
  EXPECT_FALSE(s->Matches(no_edition));
}

TEST(SubscriptionTest, EachFieldEqualsNotEqualsAndNot) {
  struct Case {
    std::string field;
    std::string yes;  // the ChineseLesson()'s value
    std::string no;   // another valid value
  };
  const std::vector<Case> cases = {
      {"platform", "k12", "vocational"},
      {"board", "课程教学", "专题教育"},
      {"category", "小学", "初中"},
      {"stage", "小学", "初中"},
      {"grade", "3", "4"},
      {"subject", "语文", "数学"},
      {"edition", "人教版", "北师大版"},
      {"volume", "三年级上册", "三年级下册"},
      {"lesson", "\"第5课 古诗三首\"", "第6课"},
      {"tag", "朗读", "书法"},
      {"origin", "national", "330000"},
      {"language", "zh-CN", "en"},
      {"provider", "人民教育出版社", "北京出版社"},
  };
  const Resource r = ChineseLesson();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    EXPECT_TRUE(Match(c.field + " = " + c.yes, r));
    EXPECT_FALSE(Match(c.field + " = " + c.no, r));
    EXPECT_FALSE(Match(c.field + " != " + c.yes, r));
    EXPECT_TRUE(Match(c.field + " != " + c.no, r));
    EXPECT_FALSE(Match("not " + c.field + " = " + c.yes, r));
    EXPECT_TRUE(Match("not (" + c.field + " = " + c.no + ")", r));
    EXPECT_TRUE(Match(c.field + " in (" + c.no + ", " + c.yes + ")", r));
    EXPECT_FALSE(Match(c.field + " in (" + c.no + ")", r));
    EXPECT_TRUE(Match(c.field + "=" + c.yes, r));  // no spaces needed around '='
  }
}

TEST(SubscriptionTest, GradeRangesAndLists) {
  auto s = Subscription::Parse("grade in (1..6, 9)", Tax(), Regions());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  for (int g = 1; g <= 12; ++g) {
    Resource r = ChineseLesson();
    r.facets.grade = g;
    EXPECT_EQ(s->Matches(r), g <= 6 || g == 9) << g;
  }
  Resource r = ChineseLesson();
  r.facets.grade = 12;
  EXPECT_TRUE(Match("grade in (10..12)", r));
  EXPECT_TRUE(Match("grade in (12..12)", r));
  EXPECT_FALSE(Match("grade in (1..11)", r));
  EXPECT_TRUE(Match("grade = 12", r));
  EXPECT_TRUE(Match("grade = \"12\"", r));
  r.facets.grade = 7;
  EXPECT_TRUE(Match("grade in (7..7)", r));
  EXPECT_TRUE(Match("grade in (1, 3, 5..8)", r));
  EXPECT_FALSE(Match("grade in (1..6, 8..12)", r));
}

TEST(SubscriptionTest, PlacementFieldsAreJudgedOnePlacementAtATime) {
  Resource r = ChineseLesson();
  r.placements = {{"k12", "课程教学", "小学"}, {"vocational", "体育", "体育课程"}};
  EXPECT_TRUE(Match("platform = k12 and board = 课程教学", r));
  EXPECT_TRUE(Match("platform = vocational and board = 体育 and category = 体育课程", r));
  // Each half holds for some placement, but no one placement satisfies both.
  EXPECT_FALSE(Match("platform = k12 and board = 体育", r));
  EXPECT_FALSE(Match("platform = vocational and category = 小学", r));
  EXPECT_FALSE(Match("board = 课程教学 and category = 体育课程", r));
  EXPECT_FALSE(Match("platform = k12 and not board = 课程教学", r));
  // Either placement may satisfy an 'or'.
  EXPECT_TRUE(Match("platform = k12 and board = 体育 or board = 体育", r));
  EXPECT_TRUE(
      Match("(platform = k12 and board = 体育) or (platform = vocational and board = 体育)", r));
  // != and not are judged per placement too: the vocational placement is not k12.
  EXPECT_TRUE(Match("platform != k12", r));
  EXPECT_FALSE(Match("not platform in (k12, vocational)", r));
  // Other fields hold for every placement.
  EXPECT_TRUE(Match("platform = vocational and grade = 3 and subject = 语文", r));
  EXPECT_FALSE(Match("platform = vocational and grade = 4", r));
  // The same rules on two resources, one per placement, would match.
  Resource k12 = r;
  k12.placements = {r.placements[0]};
  EXPECT_FALSE(Match("platform = k12 and board = 体育", k12));
}

TEST(SubscriptionTest, ResourceWithoutPlacements) {
  Resource r = ChineseLesson();
  r.placements.clear();
  EXPECT_FALSE(Match("platform = k12", r));
  EXPECT_TRUE(Match("platform != k12", r));
  EXPECT_TRUE(Match("subject = 语文", r));
  EXPECT_TRUE(Match("all", r));
}

TEST(SubscriptionTest, UnsetFacetsEqualNothing) {
  // 教材资源中心 has no categories: the placement's category is empty.
  Resource r = Bare("vocational", "教材资源中心", "");
  r.language = "";
  for (std::string_view field :
       {"stage", "subject", "edition", "volume", "lesson", "tag", "provider", "language"}) {
    SCOPED_TRACE(field);
    const std::string f(field);
    // Values valid for every field (stage, subject and edition are checked against the
    // taxonomy).
    const std::string v = field == "stage"     ? "小学"
                          : field == "subject" ? "语文"
                          : field == "edition" ? "人教版"
                                               : "x";
    EXPECT_FALSE(Match(f + " = " + v, r));
    EXPECT_TRUE(Match(f + " != " + v, r));
    EXPECT_FALSE(Match(f + " in (" + v + ")", r));
    EXPECT_TRUE(Match("not " + f + " in (" + v + ")", r));
  }
  EXPECT_FALSE(Match("category = 小学", r));
  EXPECT_TRUE(Match("category != 小学", r));
  EXPECT_FALSE(Match("grade = 1", r));
  EXPECT_TRUE(Match("grade != 1", r));
  EXPECT_FALSE(Match("grade in (1..12)", r));
  EXPECT_TRUE(Match("not grade in (1..12)", r));
  // An empty tag in the list is unset too.
  r.facets.tags = {"", "朗读"};
  EXPECT_TRUE(Match("tag = 朗读", r));
  EXPECT_FALSE(Match("tag = 古诗", r));
}

TEST(SubscriptionTest, TagsMatchAnyTag) {
  Resource r = ChineseLesson();  // tags 古诗, 朗读
  EXPECT_TRUE(Match("tag = 古诗", r));
  EXPECT_TRUE(Match("tag = 朗读", r));
  EXPECT_TRUE(Match("tag in (书法, 朗读)", r));
  EXPECT_FALSE(Match("tag in (书法, 作文)", r));
  EXPECT_FALSE(Match("tag != 朗读", r));  // not (some tag is 朗读)
  EXPECT_TRUE(Match("tag = 古诗 and tag = 朗读", r));
}

TEST(SubscriptionTest, OriginExactAndWithin) {
  const Resource xihu = FromRegion("330106");      // 浙江省 杭州市 西湖区
  const Resource hangzhou = FromRegion("330100");  // 杭州市
  const Resource zhejiang = FromRegion("330000");
  const Resource dongcheng = FromRegion("110101");  // 北京市 东城区
  const Resource national = Bare("k12", "专题教育", "党史学习");

  EXPECT_TRUE(Match("origin within 330000", xihu));
  EXPECT_TRUE(Match("origin within 330000", hangzhou));
  EXPECT_TRUE(Match("origin within 330000", zhejiang));
  EXPECT_FALSE(Match("origin within 330000", dongcheng));
  EXPECT_FALSE(Match("origin within 330000", national));

  EXPECT_TRUE(Match("origin within 330100", xihu));
  EXPECT_TRUE(Match("origin within 330100", hangzhou));
  EXPECT_FALSE(Match("origin within 330100", zhejiang));
  EXPECT_TRUE(Match("origin within 330106", xihu));
  EXPECT_FALSE(Match("origin within 330106", hangzhou));
  EXPECT_TRUE(Match("origin within \"330106\"", xihu));

  EXPECT_TRUE(Match("origin = 330000", zhejiang));
  EXPECT_FALSE(Match("origin = 330000", xihu));
  EXPECT_TRUE(Match("origin = national", national));
  EXPECT_FALSE(Match("origin = national", zhejiang));
  EXPECT_TRUE(Match("not origin within 330000", national));
  // A typical county mirror: everything national plus its own chain's regional resources.
  const std::string county = "origin = national\norigin in (330000, 330100, 330106)\n";
  EXPECT_TRUE(Match(county, national));
  EXPECT_TRUE(Match(county, hangzhou));
  EXPECT_FALSE(Match(county, FromRegion("330102")));  // 上城区, a sibling county
  EXPECT_FALSE(Match(county, dongcheng));
}

TEST(SubscriptionTest, AllAndPriority) {
  Resource urgent = Bare("k12", "专题教育", "生命与安全教育");
  urgent.priority = true;
  const Resource normal = Bare("k12", "专题教育", "生命与安全教育");
  EXPECT_TRUE(Match("all", normal));
  EXPECT_TRUE(Match("all", Resource{}));
  EXPECT_TRUE(Match("priority", urgent));
  EXPECT_FALSE(Match("priority", normal));
  EXPECT_TRUE(Match("not priority", normal));
  EXPECT_FALSE(Match("priority and board = 课程教学", urgent));
  EXPECT_FALSE(Match("not all", normal));
}

TEST(SubscriptionTest, AndBindsTighterThanOr) {
  const Resource lesson = ChineseLesson();  // 课程教学, grade 3, 语文
  // board = 专题教育 or (board = 课程教学 and grade = 9)
  EXPECT_FALSE(Match("board = 专题教育 or board = 课程教学 and grade = 9", lesson));
  EXPECT_TRUE(Match("board = 专题教育 or board = 课程教学 and grade = 3", lesson));
  EXPECT_TRUE(Match("board = 课程教学 and grade = 9 or board = 专题教育",
                    Bare("k12", "专题教育", "党史学习")));
  EXPECT_TRUE(Match("(board = 专题教育 or board = 课程教学) and grade = 3", lesson));
  EXPECT_FALSE(Match("(board = 专题教育 or board = 课程教学) and grade = 9", lesson));
  // not binds tightest.
  EXPECT_FALSE(Match("not grade = 3 and subject = 语文", lesson));
  EXPECT_TRUE(Match("not (grade = 4 and subject = 语文)", lesson));
  EXPECT_TRUE(Match("not not grade = 3", lesson));
}

TEST(SubscriptionTest, AnyRuleMatches) {
  const std::string text = "grade = 9\nsubject = 数学\ntag = 朗读\n";
  auto s = Subscription::Parse(text, Tax(), Regions());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->rule_count(), 3u);
  EXPECT_TRUE(s->Matches(ChineseLesson()));  // by the third rule only
  Resource r = ChineseLesson();
  r.facets.tags.clear();
  EXPECT_FALSE(s->Matches(r));
}

TEST(SubscriptionTest, CommentsBlankLinesAndQuoting) {
  Resource r = ChineseLesson();
  r.facets.tags = {"a # b", "say \"hi\" \\ now", "and", "(x, y)"};
  const std::string text =
      "\xEF\xBB\xBF# a byte-order mark and a comment\r\n"
      "\r\n"
      "   # indented comment\n"
      "tag = \"a # b\"   # trailing comment\r\n"
      "tag = \"say \\\"hi\\\" \\\\ now\"\n"
      "tag = \"and\"\n"
      "tag in (\"(x, y)\")\n";
  auto s = Subscription::Parse(text, Tax(), Regions());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->rule_count(), 4u);
  EXPECT_EQ(s->text(), text);
  EXPECT_TRUE(s->Matches(r));
  for (std::string_view tag : {"a # b", "say \"hi\" \\ now", "and", "(x, y)"}) {
    Resource one = r;
    one.facets.tags = {std::string(tag)};
    EXPECT_TRUE(s->Matches(one)) << tag;
  }
  Resource other = r;
  other.facets.tags = {"a", "say \"hi\" \\\\ now", "x, y"};
  EXPECT_FALSE(s->Matches(other));
  // '#' ends the rule outside quotes: "a" is the value.
  Resource a = r;
  a.facets.tags = {"a"};
  EXPECT_TRUE(Match("tag = a# b", a));
  // U+3000 (ideographic space) separates words like a space.
  EXPECT_TRUE(
      Match("edition = 人教版\xE3\x80\x80"
            "and\xE3\x80\x80"
            "grade = 3",
            ChineseLesson()));
  // A category with quotation marks in its name is a bare word.
  EXPECT_TRUE(Match("category = 落实“双减”", Bare("k12", "教改实践经验", "落实“双减”")));
}

TEST(SubscriptionTest, SyntaxErrorsNameLineAndColumn) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"platform = k12\nboard 课程教学",
       "subscription line 2, column 7: expected '=', '!=' or 'in' after the field name, found "
       "\"课程教学\""},
      {"origin 330000",
       "subscription line 1, column 8: expected '=', '!=', 'in' or 'within' after the field "
       "name, found \"330000\""},
      {"platform =", "subscription line 1, column 11: expected a value, found end of line"},
      {"platform = (k12)", "subscription line 1, column 12: expected a value, found '('"},
      {"(platform = k12", "subscription line 1, column 1: '(' is not closed"},
      {"platform = k12)",
       "subscription line 1, column 15: expected 'and', 'or' or end of line, found ')'"},
      {"(grade = 1 grade = 2)",
       "subscription line 1, column 12: expected 'and', 'or' or ')', found \"grade\""},
      {"grade = 3 or", "subscription line 1, column 13: expected a condition, found end of line"},
      {"and all", "subscription line 1, column 1: expected a condition, found 'and'"},
      {"= 3", "subscription line 1, column 1: expected a condition, found '='"},
      {"\"platform\" = k12",
       "subscription line 1, column 1: expected a condition, found a quoted string (field "
       "names are not quoted)"},
      {"grade in 1", "subscription line 1, column 10: expected '(' after 'in', found \"1\""},
      {"grade in ()", "subscription line 1, column 11: empty 'in' list"},
      {"grade in (1, 2", "subscription line 1, column 10: '(' is not closed"},
      {"grade in (1 2)",
       "subscription line 1, column 13: expected ',' or ')' in 'in' list, found \"2\""},
      {"grade in (1 .. 9)",
       "subscription line 1, column 13: expected ',' or ')' in 'in' list, found \"..\" (write "
       "a range without spaces: 1..9)"},
      {"grade in (1,)", "subscription line 1, column 13: expected a value, found ')'"},
      {"tag = \"abc", "subscription line 1, column 7: quoted string is not closed"},
      {"tag = \"a\\nb\"",
       "subscription line 1, column 9: unknown escape in quoted string (only \\\" and \\\\)"},
      {"tag ! x", "subscription line 1, column 5: '!' must be followed by '='"},
      {"tag = and",
       "subscription line 1, column 7: expected a value, found 'and' (quote it to "
       "use it as a value)"},
      {"tag = \"\"", "subscription line 1, column 7: empty value"},
      {"stage within 330000", "subscription line 1, column 7: 'within' is only for origin"},
      {"tag = a\x01", "subscription line 1, column 8: control character U+0001"},
      {"tag = \"a\tb\"", "subscription line 1, column 9: control character in quoted string"},
      {"all\n\ntag = \xFF", "subscription line 3, column 7: invalid UTF-8"},
      {"tag = \xED\xA0\x80", "subscription line 1, column 7: invalid UTF-8"},  // a surrogate
      {"edition in （人教版，北师大版）",
       "subscription line 1, column 12: expected '(' after 'in', found \"（人教版，北师大版）\" "
       "(full-width '（': the syntax uses ASCII ( ) , = !)"},
      // Columns count code points: 板块 starts at character 33 (byte 39).
      {"edition = 人教版 and stage = 小学 or 板块 = x",
       "subscription line 1, column 33: unknown field \"板块\""},
      {"colour = red", "subscription line 1, column 1: unknown field \"colour\""},
  };
  for (const auto& [text, message] : cases) {
    EXPECT_EQ(ParseError(text), message) << text;
  }
}

TEST(SubscriptionTest, KeywordsAndFieldNamesAreCaseSensitive) {
  EXPECT_EQ(ParseError("Platform = k12"),
            "subscription line 1, column 1: unknown field \"Platform\" (field names and "
            "keywords are lowercase)");
  EXPECT_EQ(ParseError("ALL"),
            "subscription line 1, column 1: unknown field \"ALL\" (field names and keywords "
            "are lowercase)");
  EXPECT_EQ(ParseError("platform = k12 AND grade = 3"),
            "subscription line 1, column 16: expected 'and', 'or' or end of line, found "
            "\"AND\" (keywords are lowercase)");
  EXPECT_EQ(ParseError("grade IN (1)"),
            "subscription line 1, column 7: expected '=', '!=' or 'in' after the field name, "
            "found \"IN\" (keywords are lowercase)");
  EXPECT_EQ(ParseError("all"), "<parsed>");
}

TEST(SubscriptionTest, TaxonomyTyposAreRejected) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"edition = 人教板", "subscription line 1, column 11: unknown edition \"人教板\""},
      {"edition in (人教版, 北师大)", "subscription line 1, column 18: unknown edition \"北师大\""},
      {"platform = K12", "subscription line 1, column 12: unknown platform \"K12\""},
      {"board = 课程", "subscription line 1, column 9: unknown board \"课程\""},
      {"category = 小学校", "subscription line 1, column 12: unknown category \"小学校\""},
      {"stage = 小學", "subscription line 1, column 9: unknown stage \"小學\""},
      {"subject = 数学课", "subscription line 1, column 11: unknown subject \"数学课\""},
      {"all\n# ok\nsubject != \"数学 \"",
       "subscription line 3, column 12: unknown subject \"数学 \""},
  };
  for (const auto& [text, message] : cases) {
    EXPECT_EQ(ParseError(text), message) << text;
  }
  // Names from every part of the taxonomy are accepted.
  for (std::string_view ok :
       {"platform in (k12, vocational, higher, graduate)", "board = 教材资源中心",
        "board = 导师发展", "category in (体育课程, 哲学, 家庭教育指导)",
        "stage in (小学, 初中, 高中)", "edition in (国家统编, 川教版)", "subject in (生物学, 俄语)",
        "volume = 任何册", "lesson = 任意", "provider = 某单位", "language = en"}) {
    EXPECT_EQ(ParseError(ok), "<parsed>") << ok;
  }
}

TEST(SubscriptionTest, GradeValuesAreChecked) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"grade = 0",
       "subscription line 1, column 9: grade must be an integer from 1 to 12, found \"0\""},
      {"grade = 13",
       "subscription line 1, column 9: grade must be an integer from 1 to 12, found \"13\""},
      {"grade = three",
       "subscription line 1, column 9: grade must be an integer from 1 to 12, found \"three\""},
      {"grade = 3.5",
       "subscription line 1, column 9: grade must be an integer from 1 to 12, found \"3.5\""},
      {"grade = -1",
       "subscription line 1, column 9: grade must be an integer from 1 to 12, found \"-1\""},
      {"grade = 1..9", "subscription line 1, column 9: a range is only allowed in an 'in' list"},
      {"grade in (9..1)",
       "subscription line 1, column 11: range 9..1 is empty (low end above high end)"},
      {"grade in (0..9)", "subscription line 1, column 11: grade 0 is not in 1..12"},
      {"grade in (1, 10..13)", "subscription line 1, column 18: grade 13 is not in 1..12"},
      {"grade in (1..)",
       "subscription line 1, column 11: grade must be an integer from 1 to 12, found \"1..\""},
      {"subject in (1..3)", "subscription line 1, column 13: ranges are only allowed for grade"},
      {"grade = \"1..3\"",
       "subscription line 1, column 9: grade must be an integer from 1 to 12, found quoted "
       "\"1..3\""},
  };
  for (const auto& [text, message] : cases) {
    EXPECT_EQ(ParseError(text), message) << text;
  }
  // A volume may contain ".." when it is not two integers.
  EXPECT_EQ(ParseError("volume = a..b"), "<parsed>");
}

TEST(SubscriptionTest, OriginValuesAreChecked) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"origin = 999999",
       "subscription line 1, column 10: unknown origin \"999999\" (expected national or a "
       "region code)"},
      {"origin in (national, Beijing)",
       "subscription line 1, column 22: unknown origin \"Beijing\" (expected national or a "
       "region code)"},
      {"origin = 33",
       "subscription line 1, column 10: unknown origin \"33\" (expected national or a region "
       "code)"},
      {"origin within national",
       "subscription line 1, column 15: 'within' needs a region code, not national (use "
       "origin = national)"},
      {"origin within 330199", "subscription line 1, column 15: unknown region code \"330199\""},
      {"origin within (330000)",
       "subscription line 1, column 15: expected a region code after 'within', found '('"},
  };
  for (const auto& [text, message] : cases) {
    EXPECT_EQ(ParseError(text), message) << text;
  }
  EXPECT_EQ(ParseError("origin in (national, 110101, 441900)"), "<parsed>");
}

TEST(SubscriptionTest, SizeAndRuleLimits) {
  // 64 KiB of comments parse; one byte more is refused before parsing.
  std::string text(kMaxSubscriptionBytes, ' ');
  text[0] = '#';
  auto ok = Subscription::Parse(text, Tax(), Regions());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->rule_count(), 0u);
  text.push_back(' ');
  auto too_big = Subscription::Parse(text, Tax(), Regions());
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(too_big.status().message(),
            "subscription: text is 65537 bytes; at most 65536 are allowed");

  std::string rules;
  for (size_t i = 0; i < kMaxSubscriptionRules; ++i) rules += "all\n# comment\n\n";
  auto thousand = Subscription::Parse(rules, Tax(), Regions());
  ASSERT_TRUE(thousand.ok()) << thousand.status().ToString();
  EXPECT_EQ(thousand->rule_count(), kMaxSubscriptionRules);
  rules += "  priority\n";
  EXPECT_EQ(ParseError(rules), "subscription line 3001, column 3: more than 1000 rules");
}

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(SubscriptionTest, NestingDepthIsLimited) {
  const int max = kMaxSubscriptionDepth;
  EXPECT_TRUE(Match(Repeat("(", max) + "all" + Repeat(")", max), ChineseLesson()));
  EXPECT_EQ(ParseError(Repeat("(", max + 1) + "all" + Repeat(")", max + 1)),
            "subscription line 1, column 33: parentheses and 'not' nested more than 32 deep");
  EXPECT_TRUE(Match(Repeat("not ", max) + "all", ChineseLesson()));  // an even number of nots
  EXPECT_FALSE(Match(Repeat("not ", max - 1) + "all", ChineseLesson()));
  EXPECT_EQ(ParseError(Repeat("not ", max + 1) + "all"),
            "subscription line 1, column 129: parentheses and 'not' nested more than 32 deep");
  // 'not' and '(' count together: 16 × "not (" is 32 deep.
  EXPECT_TRUE(Match(Repeat("not (", max / 2) + "all" + Repeat(")", max / 2), ChineseLesson()));
  EXPECT_EQ(ParseError(Repeat("not (", max / 2) + "not all" + Repeat(")", max / 2)),
            "subscription line 1, column 81: parentheses and 'not' nested more than 32 deep");
  // Long flat chains are not nesting.
  EXPECT_TRUE(Match(Repeat("grade = 3 and ", 2000) + "all", ChineseLesson()));
  EXPECT_TRUE(Match(Repeat("grade = 4 or ", 2000) + "all", ChineseLesson()));
}

TEST(SubscriptionTest, HostileNestingIsRefusedWithoutCrashing) {
  // Far deeper than any stack could recurse, within the size cap.
  for (const std::string& text :
       {Repeat("(", 60000), Repeat("not ", 16000) + "all", Repeat("(not ", 12000) + "all",
        Repeat("(", 30000) + "all" + Repeat(")", 30000), Repeat("grade in (", 6000)}) {
    auto s = Subscription::Parse(text, Tax(), Regions());
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(SubscriptionTest, CopiesOutliveTheOriginal) {
  std::optional<Subscription> copy;
  {
    auto s = Subscription::Parse("grade = 3 # three", Tax(), Regions());
    ASSERT_TRUE(s.ok());
    copy = *s;
  }
  EXPECT_TRUE(copy->Matches(ChineseLesson()));
  EXPECT_EQ(copy->text(), "grade = 3 # three");
  EXPECT_EQ(copy->rule_count(), 1u);
}

TEST(SubscriptionTest, MatchesIgnoresReviewRetiredAndLink) {
  Resource r = ChineseLesson();
  r.retired = true;
  r.review = ReviewState::kDraft;
  r.link = ExternalLink{"https://example.org/x", "example"};
  EXPECT_TRUE(Match("subject = 语文", r));
}

TEST(SubscriptionTest, SelectWantedServedMatchingFilesSortedByPath) {
  const RegionTable& regions = Regions();
  std::vector<Resource> release;
  auto add = [&](std::string id, std::string origin, std::vector<std::string> files) {
    Resource r = ChineseLesson();
    r.id = std::move(id);
    r.origin = std::move(origin);
    r.files.clear();
    for (std::string& f : files) r.files.push_back(File(std::move(f)));
    release.push_back(r);
    return &release.back();
  };
  release.reserve(16);
  add("k12-zz-0001", "national", {"video.mp4", "notes.pdf"});
  add("330106-0001", "330106", {"a.mp4"})->priority = true;
  add("k12-retired", "national", {"x.mp4"})->retired = true;
  add("k12-draft", "national", {"x.mp4"})->review = ReviewState::kDraft;
  add("k12-submitted", "national", {"x.mp4"})->review = ReviewState::kSubmitted;
  add("k12-rejected", "national", {"x.mp4"})->review = ReviewState::kRejected;
  // A link with a file (malformed on purpose): it must be skipped because it is a link.
  add("k12-link", "national", {"x.mp4"})->link = ExternalLink{"https://example.org/", ""};
  add("k12-other-grade", "national", {"x.mp4"})->facets.grade = 4;
  add("k12-aa-0001", "national", {"b.pdf"});
  add("110101-0001", "110101", {"c.pdf"});  // not wanted: the rule names 浙江

  auto s = Subscription::Parse("grade = 3 and (origin = national or origin within 330000)", Tax(),
                               regions);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const std::vector<WantedFile> wanted = SelectWanted(release, *s, regions);

  std::vector<std::string> got;
  for (const WantedFile& w : wanted) {
    got.push_back(w.target_path + " " + w.resource_id + " " + w.file.name +
                  (w.priority ? " priority" : ""));
  }
  const std::vector<std::string> expected = {
      "national/k12-aa-0001/b.pdf k12-aa-0001 b.pdf",
      "national/k12-zz-0001/notes.pdf k12-zz-0001 notes.pdf",
      "national/k12-zz-0001/video.mp4 k12-zz-0001 video.mp4",
      "regions/330000/330100/330106/330106-0001/a.mp4 330106-0001 a.mp4 priority",
  };
  EXPECT_EQ(got, expected);
  // Each entry carries the resource's file and its TargetPath().
  ASSERT_EQ(wanted.size(), 4u);
  EXPECT_EQ(wanted[1].file, release[0].files[1]);
  EXPECT_EQ(wanted[3].target_path, TargetPath(release[1], release[1].files[0], regions));

  auto nothing = Subscription::Parse("", Tax(), regions);
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(SelectWanted(release, *nothing, regions).empty());
  auto everything = Subscription::Parse("all", Tax(), regions);
  ASSERT_TRUE(everything.ok());
  // Served resources only: 2 + 1 + 1 (other grade) + 1 + 1 (110101) files.
  EXPECT_EQ(SelectWanted(release, *everything, regions).size(), 6u);

  // One record at a time: the same files, in the record's order.
  std::vector<WantedFile> one_by_one;
  for (const Resource& r : release) {
    for (WantedFile& w : WantedFilesOf(r, *s, regions)) one_by_one.push_back(std::move(w));
  }
  ASSERT_EQ(one_by_one.size(), 4u);
  EXPECT_EQ(one_by_one[0].target_path, "national/k12-zz-0001/video.mp4");
  EXPECT_EQ(one_by_one[1].target_path, "national/k12-zz-0001/notes.pdf");
  std::stable_sort(
      one_by_one.begin(), one_by_one.end(),
      [](const WantedFile& a, const WantedFile& b) { return a.target_path < b.target_path; });
  EXPECT_EQ(one_by_one, wanted);
  EXPECT_TRUE(WantedFilesOf(release[2], *everything, regions).empty());  // retired
}

}  // namespace
}  // namespace tiersync::catalogs
