#include "catalogs/release.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/bytes.h"
#include "base/hex.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::catalogs {
namespace {

Resource Record(const std::string& id, const std::string& title) {
  Resource r;
  r.id = id;
  r.title = title;
  r.provider = "中央电化教育馆";
  r.placements = {{"k12", "专题教育", "党史学习"}};
  ResourceFile f{"talk.mp4", "video/mp4", 10, Sha256(AsBytes(id)), Sha256(AsBytes("i" + id))};
  r.files = {f};
  return r;
}

class ReleaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(GitCatalog::Init(tmp_.Sub("c.git")).ok());
    git_ = std::move(GitCatalog::Open(tmp_.Sub("c.git"))).value();
  }
  GitCatalog::Head Commit(const std::vector<FileChange>& changes, const std::string& parent) {
    auto head = git_->Commit(changes, {"p", "p@x"}, 1, "m", parent);
    EXPECT_TRUE(head.ok()) << head.status().ToString();
    return *head;
  }
  testing::TempDir tmp_;
  std::unique_ptr<GitCatalog> git_;
};

TEST_F(ReleaseTest, ContentDigestDetectsTamperingAndNamesTheFile) {
  Resource a = Record("k12-aaaa0001", "甲"), b = Record("k12-bbbb0002", "乙");
  GitCatalog::Head good = Commit({{ResourcePath(a), EncodeResource(a)},
                                  {ResourcePath(b), EncodeResource(b)},
                                  {"README.md", "catalog\n"}},
                                 "");
  auto content = ReadReleaseContent(git_.get(), good.tree);
  ASSERT_TRUE(content.ok()) << content.status().ToString();
  EXPECT_EQ(content->entries.size(), 3u);
  EXPECT_EQ(content->digest, Sha256(AsBytes(content->manifest)));
  const std::string signed_manifest = content->manifest;
  const Sha256Digest signed_digest = content->digest;
  EXPECT_TRUE(CheckReleaseContent(*content, signed_digest, &signed_manifest, "r1").ok());

  auto records = ParseReleaseRecords(*content, Taxonomy::Builtin(), RegionTable::Builtin());
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ(records->at("k12-bbbb0002"), b);

  // Someone with write access rewrites a record and moves the branch.
  Resource forged = b;
  forged.files[0].sha256 = Sha256(AsBytes("malware"));
  GitCatalog::Head bad = Commit({{ResourcePath(b), EncodeResource(forged)}}, good.commit);
  auto tampered = ReadReleaseContent(git_.get(), bad.tree);
  ASSERT_TRUE(tampered.ok());
  Status s = CheckReleaseContent(*tampered, signed_digest, &signed_manifest, "r1");
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
  EXPECT_EQ(s.message(),
            "catalog release r1: content does not match the signed metadata (signed "
            "digest " +
                ToHex(signed_digest) + ", repository has " + ToHex(tampered->digest) +
                "): changed " + ResourcePath(b));
  // Without the manifest the digest alone still refuses it.
  EXPECT_EQ(CheckReleaseContent(*tampered, signed_digest, nullptr, "r1").code(),
            StatusCode::kVerificationFailed);
}

TEST_F(ReleaseTest, RecordsMustBeValidAndWhereTheyBelong) {
  Resource a = Record("k12-aaaa0001", "甲");
  GitCatalog::Head misplaced =
      Commit({{"resources/national/00/k12-aaaa0001.json", EncodeResource(a)}}, "");
  auto content = ReadReleaseContent(git_.get(), misplaced.tree);
  ASSERT_TRUE(content.ok());
  auto records = ParseReleaseRecords(*content, Taxonomy::Builtin(), RegionTable::Builtin());
  EXPECT_EQ(records.status().code(), StatusCode::kCorruption);
  EXPECT_NE(records.status().message().find("belongs at " + ResourcePath(a)), std::string::npos);

  a.placements[0].category = "不存在";
  GitCatalog::Head invalid = Commit({{ResourcePath(a), EncodeResource(a)}}, misplaced.commit);
  content = ReadReleaseContent(git_.get(), invalid.tree);
  ASSERT_TRUE(content.ok());
  records = ParseReleaseRecords(*content, Taxonomy::Builtin(), RegionTable::Builtin());
  EXPECT_EQ(records.status().code(), StatusCode::kCorruption);
}

TEST_F(ReleaseTest, RecordsAreReadOneAtATimeAndCheckedAgainstTheManifest) {
  Resource a = Record("k12-aaaa0001", "甲"), b = Record("k12-bbbb0002", "乙");
  GitCatalog::Head good = Commit({{ResourcePath(a), EncodeResource(a)},
                                  {ResourcePath(b), EncodeResource(b)},
                                  {"README.md", "catalog\n"}},
                                 "");
  auto whole = ReadReleaseContent(git_.get(), good.tree);
  ASSERT_TRUE(whole.ok());
  auto content = ReadReleaseContent(git_.get(), good.tree, /*keep_files=*/false);
  ASSERT_TRUE(content.ok());
  EXPECT_TRUE(content->files.empty());
  EXPECT_EQ(content->tree, good.tree);
  EXPECT_EQ(content->digest, whole->digest);

  // Read again from git (files not kept) and from the kept bytes: the same records, in path
  // order, README.md skipped.
  for (const ReleaseContent* c : {&*content, &*whole}) {
    std::vector<Resource> seen;
    Status s = ForEachReleaseRecord(git_.get(), *c, Taxonomy::Builtin(), RegionTable::Builtin(),
                                    [&](Resource&& r) {
                                      seen.push_back(std::move(r));
                                      return Status::Ok();
                                    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    auto records = ParseReleaseRecords(*whole, Taxonomy::Builtin(), RegionTable::Builtin());
    ASSERT_TRUE(records.ok());
    ASSERT_EQ(seen.size(), 2u);
    std::vector<Resource> by_path = seen;
    std::sort(by_path.begin(), by_path.end(), [](const Resource& x, const Resource& y) {
      return ResourcePath(x) < ResourcePath(y);
    });
    EXPECT_EQ(seen, by_path);
    for (const Resource& r : seen) EXPECT_EQ(records->at(r.id), r);
  }

  // A visitor's error stops the walk.
  int calls = 0;
  Status stopped = ForEachReleaseRecord(git_.get(), *content, Taxonomy::Builtin(),
                                        RegionTable::Builtin(), [&](Resource&&) {
                                          ++calls;
                                          return FailedPreconditionError("enough");
                                        });
  EXPECT_EQ(stopped.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(calls, 1);

  // The manifest checked, the tree is swapped for a forged one: every file is checked again.
  Resource forged = b;
  forged.files[0].sha256 = Sha256(AsBytes("malware"));
  GitCatalog::Head bad = Commit({{ResourcePath(b), EncodeResource(forged)}}, good.commit);
  ReleaseContent swapped = *content;
  swapped.tree = bad.tree;
  Status s = ForEachReleaseRecord(git_.get(), swapped, Taxonomy::Builtin(), RegionTable::Builtin(),
                                  [](Resource&&) { return Status::Ok(); });
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
  EXPECT_NE(s.message().find(ResourcePath(b)), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace tiersync::catalogs
