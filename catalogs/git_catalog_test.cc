#include "catalogs/git_catalog.h"

#include <gtest/gtest.h>

#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::catalogs {
namespace {

const char kGit[] = "/usr/bin/git";  // stock git, as an operator would run it
const Identity kPublisher{"国家智慧教育平台 发布员", "publisher@hub.example.edu.cn"};

class GitCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(GitCatalog::Init(dir_).ok());
    auto git = GitCatalog::Open(dir_);
    ASSERT_TRUE(git.ok()) << git.status().ToString();
    git_ = std::move(git).value();
  }

  GitCatalog::Head CommitOrDie(const std::vector<FileChange>& changes, const std::string& parent,
                               int64_t time = 1700000000) {
    auto head = git_->Commit(changes, kPublisher, time, "publish", parent);
    EXPECT_TRUE(head.ok()) << head.status().ToString();
    return head.ok() ? *head : GitCatalog::Head{};
  }

  testing::TempDir tmp_;
  std::string dir_ = tmp_.Sub("catalog.git");
  std::unique_ptr<GitCatalog> git_;
};

TEST_F(GitCatalogTest, CommitsTagsAndReadsReleasesWithoutAWorkingTree) {
  auto empty = git_->MainHead();
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
  EXPECT_TRUE(git_->Releases()->empty());

  GitCatalog::Head one = CommitOrDie(
      {{"resources/national/aa/a.json", "A1"}, {"resources/national/bb/b.json", "B1"}}, "");
  auto r1 = git_->TagRelease(one.commit, 1, kPublisher, 1700000001, "release one");
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->name, "r1");
  EXPECT_EQ(r1->tree, one.tree);
  EXPECT_EQ(r1->tagger.name, kPublisher.name);
  EXPECT_EQ(r1->time, 1700000001);

  GitCatalog::Head two = CommitOrDie({{"resources/national/aa/a.json", "A2"},
                                      {"resources/national/bb/b.json", std::nullopt},
                                      {"resources/national/cc/c.json", "C2"}},
                                     one.commit);
  ASSERT_TRUE(git_->TagRelease(two.commit, 2, kPublisher, 1700000100, "release two").ok());

  auto files1 = git_->ListFiles(one.tree);
  ASSERT_TRUE(files1.ok());
  ASSERT_EQ(files1->size(), 2u);
  EXPECT_EQ(*git_->ReadBlob(files1->at("resources/national/bb/b.json")), "B1");
  EXPECT_EQ(files1->at("resources/national/aa/a.json"), *GitCatalog::BlobId("A1"));
  auto files2 = git_->ListFiles(two.tree);
  ASSERT_TRUE(files2.ok());
  EXPECT_EQ(files2->size(), 2u);
  EXPECT_FALSE(files2->contains("resources/national/bb/b.json"));
  EXPECT_EQ(*git_->ReadBlob(files2->at("resources/national/cc/c.json")), "C2");

  // A lightweight tag and a non-release tag are not releases.
  testing::RunResult rr = testing::RunProcess({kGit, "-C", dir_, "tag", "r3", two.commit});
  ASSERT_EQ(rr.exit_code, 0) << rr.err;
  auto releases = git_->Releases();
  ASSERT_TRUE(releases.ok()) << releases.status().ToString();
  ASSERT_EQ(releases->size(), 2u);
  EXPECT_EQ((*releases)[0].name, "r1");
  EXPECT_EQ((*releases)[1].name, "r2");
  EXPECT_EQ((*releases)[1].message, "release two");
  EXPECT_EQ(git_->FindRelease("r3").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(git_->FindRelease("r9").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(git_->TagRelease(two.commit, 2, kPublisher, 1, "again").status().code(),
            StatusCode::kAlreadyExists);

  // Reopening sees the same state.
  auto again = GitCatalog::Open(dir_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->MainHead()->value().commit, two.commit);
}

TEST_F(GitCatalogTest, EachCommitPacksOnlyTheObjectsMainDidNotHave) {
  std::vector<FileChange> many;
  for (int i = 0; i < 200; ++i) {
    many.push_back(
        {"resources/national/" + std::to_string(i % 16) + "/r" + std::to_string(i) + ".json",
         "record " + std::to_string(i)});
  }
  GitCatalog::Head one = CommitOrDie(many, "");
  CommitOrDie({{"resources/national/3/r3.json", "record 3, edited"}}, one.commit);
  // Objects per pack, smallest first: the second commit adds one blob, three trees (root,
  // resources, national, national/3 -> four) and the commit.
  testing::RunResult r =
      testing::RunProcess({"/bin/sh", "-c",
                           "for i in " + dir_ + "/objects/pack/*.idx; do " + kGit +
                               " show-index < $i | wc -l; done | sort -n"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "6\n" + std::to_string(200 + 16 + 3 + 1) + "\n");
}

TEST_F(GitCatalogTest, CommitRefusesWhenMainMoved) {
  GitCatalog::Head one = CommitOrDie({{"x", "1"}}, "");
  auto stale = git_->Commit({{"x", "2"}}, kPublisher, 1, "m", "");
  EXPECT_EQ(stale.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(git_->MainHead()->value().commit, one.commit);
}

TEST_F(GitCatalogTest, StockGitClonesAndShowsWhoPublished) {
  GitCatalog::Head one = CommitOrDie({{"resources/national/aa/a.json", "{}\n"}}, "");
  auto tag = git_->TagRelease(one.commit, 1, kPublisher, 1700000001, "r1 notes");
  ASSERT_TRUE(tag.ok()) << tag.status().ToString();
  std::string clone = tmp_.Sub("clone");
  testing::RunResult r = testing::RunProcess({kGit, "clone", "-q", dir_, clone});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::RunProcess({kGit, "-C", clone, "log", "--format=%an <%ae>|%s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, kPublisher.name + " <" + kPublisher.email + ">|publish\n");
  r = testing::RunProcess({kGit, "-C", clone, "cat-file", "-p", "r1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tagger " + kPublisher.name), std::string::npos) << r.out;
  r = testing::RunProcess({kGit, "-C", dir_, "fsck", "--strict"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(GitCatalogOpenTest, InitTwiceAndOpenMissing) {
  testing::TempDir tmp;
  ASSERT_TRUE(GitCatalog::Init(tmp.Sub("c.git")).ok());
  EXPECT_EQ(GitCatalog::Init(tmp.Sub("c.git")).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(GitCatalog::Open(tmp.Sub("nothing")).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace tiersync::catalogs
