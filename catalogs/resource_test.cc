#include "catalogs/resource.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/sha256.h"

namespace tiersync::catalogs {
namespace {

Resource Lesson() {
  Resource r;
  r.id = "k12-0001abcd";
  r.title = "第5课 古诗三首";
  r.provider = "人民教育出版社";
  r.placements = {{"k12", "课程教学", "小学"}, {"k12", "课后服务", "经典阅读"}};
  r.facets = {"小学", 3, "语文", "人教版", "三年级上册", "第5课 古诗三首", {"古诗", "朗读"}};
  ResourceFile f;
  f.name = "lesson.mp4";
  f.media_type = "video/mp4";
  f.size = 1234;
  f.sha256 = Sha256(AsBytes("video"));
  f.chunk_index = Sha256(AsBytes("index"));
  r.files.push_back(f);
  r.priority = true;
  return r;
}

std::string ErrorOf(std::string_view text, RecordSource source = RecordSource::kCatalog) {
  Result<Resource> r = ParseResource(text, "x.json", source);
  return r.ok() ? "" : r.status().message();
}

std::string Edit(const Resource& r, const std::string& key, protocol::Json value) {
  protocol::Json j = ResourceToJson(r);
  j.Set(key, std::move(value));
  return protocol::EncodePretty(j);
}

TEST(ResourceTest, EncodeParseRoundTripIsExact) {
  Resource r = Lesson();
  std::string text = EncodeResource(r);
  Result<Resource> back = ParseResource(text, "x.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
  EXPECT_EQ(EncodeResource(*back), text);
  EXPECT_NE(text.find("古诗三首"), std::string::npos) << "UTF-8 is kept raw";
  EXPECT_TRUE(ValidateResource(r, Taxonomy::Builtin(), RegionTable::Builtin()).ok());
}

TEST(ResourceTest, ExternalLinkRoundTrips) {
  Resource r = Lesson();
  r.files.clear();
  r.link = ExternalLink{"https://site01.example.edu.cn/a?b=1", "示例站点"};
  Result<Resource> back = ParseResource(EncodeResource(r), "x.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
  EXPECT_FALSE(IsServed(r));
}

TEST(ResourceTest, SyntaxErrorsNameTheRecordAndField) {
  Resource r = Lesson();
  protocol::Json j = ResourceToJson(r);
  protocol::Json no_title = protocol::Json::Object();
  for (const auto& [k, v] : j.as_object()) {
    if (k != "title") no_title.Set(k, v);
  }
  EXPECT_EQ(ErrorOf(protocol::EncodePretty(no_title)),
            "resource k12-0001abcd: missing field \"title\"");
  EXPECT_EQ(ErrorOf(Edit(r, "title", "")), "resource k12-0001abcd.title: must not be empty");
  EXPECT_EQ(ErrorOf(Edit(r, "colour", "red")), "resource k12-0001abcd.colour: unknown field");
  EXPECT_EQ(ErrorOf(Edit(r, "review", "maybe")),
            "resource k12-0001abcd.review: must be draft, submitted, approved or rejected, not "
            "\"maybe\"");
  EXPECT_EQ(ErrorOf(Edit(r, "id", "K12 bad")),
            "resource in x.json.id: \"K12 bad\" is not a resource id ([a-z0-9][a-z0-9-]*, 3-64 "
            "characters)");
  EXPECT_EQ(ErrorOf(Edit(r, "language", "chinese")),
            "resource k12-0001abcd.language: \"chinese\" is not a language tag (zh-CN)");
  EXPECT_EQ(ErrorOf(Edit(r, "link", protocol::Json::Object())),
            "resource k12-0001abcd: must have exactly one of \"files\" and \"link\"");
  EXPECT_EQ(
      ErrorOf("{"),
      "resource in x.json: json: expected a double-quoted key, found end of input at offset 1");
}

TEST(ResourceTest, FileFieldsAreChecked) {
  auto with_file = [](auto mutate) {
    Resource r = Lesson();
    protocol::Json j = ResourceToJson(r);
    protocol::Json file = j.Find("files")->as_array()[0];
    mutate(file);
    protocol::Json files = protocol::Json::Array();
    files.Push(file);
    j.Set("files", files);
    return ErrorOf(protocol::EncodePretty(j));
  };
  EXPECT_EQ(with_file([](protocol::Json& f) { f.Set("sha256", std::string(64, 'A')); }),
            "resource k12-0001abcd.files[0].sha256: is not 64 lowercase hex digits");
  EXPECT_EQ(with_file([](protocol::Json& f) { f.Set("name", "../etc/passwd"); }),
            "resource k12-0001abcd.files[0].name: \"../etc/passwd\" is not a portable file name "
            "([A-Za-z0-9][A-Za-z0-9._-]*, at most 128 bytes)");
  EXPECT_EQ(with_file([](protocol::Json& f) { f.Set("size", -1); }),
            "resource k12-0001abcd.files[0].size: is not an integer >= 0");
  EXPECT_EQ(with_file([](protocol::Json& f) { f.Set("media_type", "video"); }),
            "resource k12-0001abcd.files[0].media_type: \"video\" is not a media type");

  // chunk_index: required in a catalog, optional in publishing input.
  Resource r = Lesson();
  r.files[0].chunk_index.reset();
  EXPECT_EQ(ErrorOf(EncodeResource(r)),
            "resource k12-0001abcd.files[0]: missing field \"chunk_index\" (published files must "
            "be ingested)");
  EXPECT_EQ(ErrorOf(EncodeResource(r), RecordSource::kInput), "");

  r.files.push_back(r.files[0]);
  EXPECT_EQ(ErrorOf(EncodeResource(r), RecordSource::kInput),
            "resource k12-0001abcd.files[1].name: \"lesson.mp4\" is used twice");
}

TEST(ResourceTest, ValidationChecksTaxonomyRegionsAndNamespace) {
  const Taxonomy& t = Taxonomy::Builtin();
  const RegionTable& regions = RegionTable::Builtin();
  auto error = [&](const Resource& r) {
    Status s = ValidateResource(r, t, regions);
    return s.ok() ? "" : s.message();
  };
  Resource r = Lesson();
  r.placements[1].category = "不存在";
  EXPECT_EQ(error(r),
            "resource k12-0001abcd.placements[1].category: unknown category \"不存在\" in board "
            "课后服务");
  r = Lesson();
  r.placements[0].board = "课程";
  EXPECT_EQ(error(r),
            "resource k12-0001abcd.placements[0].board: unknown board \"课程\" on platform k12");
  r = Lesson();
  r.placements[0] = {"vocational", "教材资源中心", ""};
  EXPECT_EQ(error(r), "");
  r.placements[0].category = "x";
  EXPECT_EQ(error(r),
            "resource k12-0001abcd.placements[0].category: board 教材资源中心 has no categories, "
            "got \"x\"");
  r = Lesson();
  r.facets.grade = 8;
  EXPECT_EQ(error(r), "resource k12-0001abcd.facets.grade: grade 8 is not in stage 小学");
  r = Lesson();
  r.facets.edition = "人教板";
  EXPECT_EQ(error(r), "resource k12-0001abcd.facets.edition: unknown textbook edition \"人教板\"");

  r = Lesson();
  r.origin = "330106";
  EXPECT_EQ(error(r),
            "resource k12-0001abcd.id: must start with \"330106-\" (the origin's namespace)");
  r.id = "330106-0001";
  EXPECT_EQ(error(r), "");
  EXPECT_EQ(TargetPath(r, r.files[0], regions),
            "regions/330000/330100/330106/330106-0001/lesson.mp4");
  r.origin = "999999";
  r.id = "999999-0001";
  EXPECT_EQ(error(r),
            "resource 999999-0001.origin: \"999999\" is neither \"national\" nor a GB/T 2260 "
            "code");
  r = Lesson();
  r.id = "3300-abc";
  EXPECT_EQ(error(r),
            "resource 3300-abc.id: national resource ids must not start with a digit (region "
            "namespaces do)");
}

TEST(ResourceTest, PathsAndServing) {
  Resource r = Lesson();
  std::string shard = ToHex(Sha256(AsBytes("k12-0001abcd"))).substr(0, 2);
  EXPECT_EQ(ResourcePath(r), "resources/national/" + shard + "/k12-0001abcd.json");
  EXPECT_EQ(TargetPath(r, r.files[0], RegionTable::Builtin()), "national/k12-0001abcd/lesson.mp4");
  EXPECT_TRUE(IsServed(r));
  r.retired = true;
  EXPECT_FALSE(IsServed(r));
  r.retired = false;
  r.review = ReviewState::kSubmitted;
  EXPECT_FALSE(IsServed(r));
}

}  // namespace
}  // namespace tiersync::catalogs
