#include "serving/catalog_index.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/sha256.h"

namespace tiersync::serving {
namespace {

using catalogs::Resource;

Resource Make(std::string id, std::string title, std::string board, std::string category,
              std::string subject = "", int grade = 0) {
  Resource r;
  r.id = std::move(id);
  r.title = std::move(title);
  r.provider = "人民教育出版社";
  r.placements.push_back({"k12", std::move(board), std::move(category)});
  r.facets.subject = std::move(subject);
  r.facets.grade = grade;
  if (grade) r.facets.stage = "小学";
  catalogs::ResourceFile f;
  f.name = "v.mp4";
  f.media_type = "video/mp4";
  f.size = 10;
  f.sha256 = Sha256(AsBytes(r.id));
  r.files.push_back(f);
  return r;
}

class CatalogIndexTest : public testing::Test {
 protected:
  CatalogIndexTest() {
    std::vector<Resource> rs;
    rs.push_back(Make("k12-a", "第5课 古诗三首 视频", "课程教学", "小学", "语文", 3));
    rs.push_back(Make("k12-b", "古诗词诵读", "课程教学", "小学", "语文", 4));
    rs.push_back(Make("k12-c", "分数的意义", "课程教学", "小学", "数学", 5));
    rs.push_back(Make("k12-d", "Unit 1 Hello", "课程教学", "小学", "英语", 3));
    Resource twice = Make("k12-e", "宪法小课堂", "专题教育", "宪法法治教育");
    twice.placements.push_back({"k12", "课程教学", "初中"});
    twice.facets.tags = {"古诗"};  // matches 古诗 only by tag
    rs.push_back(twice);
    Resource retired = Make("k12-f", "古诗 (retired)", "课程教学", "小学");
    retired.retired = true;
    rs.push_back(retired);
    Resource draft = Make("k12-g", "古诗 draft", "课程教学", "小学");
    draft.review = catalogs::ReviewState::kSubmitted;
    rs.push_back(draft);
    index_ = std::make_unique<CatalogIndex>("r7", std::move(rs), catalogs::Taxonomy::Builtin());
  }
  std::vector<std::string> Ids(const SearchQuery& q) {
    std::vector<std::string> ids;
    for (const Resource* r : index_->Search(q, nullptr).items) ids.push_back(r->id);
    return ids;
  }
  std::unique_ptr<CatalogIndex> index_;
};

TEST_F(CatalogIndexTest, HidesRetiredAndUnapproved) {
  EXPECT_EQ(index_->size(), 5u);
  EXPECT_NE(index_->Find("k12-a"), nullptr);
  EXPECT_EQ(index_->Find("k12-f"), nullptr);
  EXPECT_EQ(index_->Find("k12-g"), nullptr);
}

TEST_F(CatalogIndexTest, TreeFollowsTheTaxonomyWithCounts) {
  auto tree = index_->Tree();
  ASSERT_EQ(tree.size(), 1u);
  EXPECT_EQ(tree[0].id, "k12");
  EXPECT_EQ(tree[0].count, 5u);
  ASSERT_EQ(tree[0].boards.size(), 2u);
  EXPECT_EQ(tree[0].boards[0].name, "专题教育");  // taxonomy order
  EXPECT_EQ(tree[0].boards[0].count, 1u);
  EXPECT_EQ(tree[0].boards[1].name, "课程教学");
  EXPECT_EQ(tree[0].boards[1].count, 5u);  // k12-e placed there too
  ASSERT_EQ(tree[0].boards[1].categories.size(), 2u);
  EXPECT_EQ(tree[0].boards[1].categories[0].name, "小学");
  EXPECT_EQ(tree[0].boards[1].categories[0].count, 4u);
  EXPECT_EQ(tree[0].boards[1].categories[1].name, "初中");
}

TEST_F(CatalogIndexTest, ChineseSearchWithoutSpaces) {
  SearchQuery q;
  q.text = "古诗";
  // Title matches first (by title), then the tag match.
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"k12-b", "k12-a", "k12-e"}));
  q.text = "古诗三首";
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"k12-a"}));
  q.text = "诗三";  // any substring
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"k12-a"}));
  q.text = "诗";  // one character
  EXPECT_EQ(Ids(q).size(), 3u);
  q.text = "古诗 视频";  // every term
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"k12-a"}));
  q.text = "三首古诗";  // bigrams all present elsewhere, but not this substring
  EXPECT_TRUE(Ids(q).empty());
  q.text = "HELLO";  // ASCII folded
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"k12-d"}));
  q.text = "ＨＥＬＬＯ";  // full-width folded
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"k12-d"}));
  q.text = "人民教育";  // provider
  EXPECT_EQ(Ids(q).size(), 5u);
  q.text = "不存在的";
  EXPECT_TRUE(Ids(q).empty());
}

TEST_F(CatalogIndexTest, FiltersFacetsAndPaging) {
  SearchQuery q;
  q.board = "课程教学";
  q.category = "小学";
  SearchResult r = index_->Search(q, nullptr);
  EXPECT_EQ(r.total, 4u);
  EXPECT_EQ(r.facets["subject"]["语文"], 2u);
  EXPECT_EQ(r.facets["grade"]["3"], 2u);
  q.subject = "语文";
  q.grade = 3;
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"k12-a"}));
  SearchQuery page;
  page.limit = 2;
  page.offset = 4;
  SearchResult p = index_->Search(page, nullptr);
  EXPECT_EQ(p.total, 5u);
  EXPECT_EQ(p.items.size(), 1u);
  page.offset = 99;
  EXPECT_TRUE(index_->Search(page, nullptr).items.empty());
  page.limit = 100000;
  page.offset = 0;
  EXPECT_EQ(index_->Search(page, nullptr).items.size(), 5u);
  SearchQuery local;
  local.local_only = true;
  auto only_c = [](const Resource& r) { return r.id == "k12-c"; };
  SearchResult lr = index_->Search(local, only_c);
  ASSERT_EQ(lr.items.size(), 1u);
  EXPECT_EQ(lr.items[0]->id, "k12-c");
}

}  // namespace
}  // namespace tiersync::serving
