#include "catalogs/git_fetch.h"

#include <gtest/gtest.h>

#include <functional>

#include "base/bytes.h"
#include "base/env.h"
#include "base/hex.h"
#include "catalogs/git_upload_pack.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::catalogs {
namespace {

const Identity kHubPublisher{"国家智慧教育平台 发布员", "publisher@hub.example.edu.cn"};
const std::string kUrl = "http://parent.test/v1/catalog.git";

// A source without HTTP: GET info/refs and POST git-upload-pack answered by the server side
// (catalogs/git_upload_pack.h) from `dir`, as a node serving release `served` would; the lies
// rewrite its answers.
class RepoFetcher : public Fetcher {
 public:
  RepoFetcher(std::string dir, std::string scratch) : dir_(dir), scratch_(scratch) {}

  Result<std::vector<uint8_t>> Fetch(const std::string& url, size_t max_bytes) override {
    ++gets;
    if (url != kUrl + "/info/refs?service=git-upload-pack") {
      return NotFoundError("404 " + url).AsRemote();
    }
    TS_ASSIGN_OR_RETURN(std::string body, AdvertiseUploadPack(dir_, served));
    if (advertisement_lie) body = advertisement_lie(body);
    return Answer(body, max_bytes);
  }

  Result<std::vector<uint8_t>> Post(const std::string& url, std::string_view content_type,
                                    std::span<const uint8_t> body, size_t max_bytes) override {
    ++posts;
    EXPECT_EQ(url, kUrl + "/git-upload-pack");
    EXPECT_EQ(content_type, "application/x-git-upload-pack-request");
    auto answer = UploadPack(Env::Default(), dir_, AsChars(body), served, scratch_);
    if (!answer.ok()) return UnavailableError("400 " + answer.status().message()).AsRemote();
    auto pack = ReadFileToBytes(Env::Default(), scratch_, 1 << 30);
    std::string out = answer->head + std::string(AsChars(*pack));
    if (result_lie) out = result_lie(out);
    return Answer(out, max_bytes);
  }

  uint64_t served = 0;
  int gets = 0, posts = 0;
  std::function<std::string(std::string)> advertisement_lie, result_lie;

 private:
  static Result<std::vector<uint8_t>> Answer(const std::string& body, size_t max_bytes) {
    if (body.size() > max_bytes) return ResourceExhaustedError("too big").AsRemote();
    return std::vector<uint8_t>(body.begin(), body.end());
  }
  std::string dir_, scratch_;
};

class GitFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(GitCatalog::Init(hub_dir_).ok());
    hub_ = std::move(GitCatalog::Open(hub_dir_)).value();
  }

  // Publishes a release of `changes` on the hub (tag message `note`).
  void Publish(const std::vector<FileChange>& changes, const std::string& note = "release") {
    auto head = hub_->Commit(changes, kHubPublisher, 1700000000 + released_, "publish", parent_);
    ASSERT_TRUE(head.ok()) << head.status().ToString();
    ++released_;
    auto tag =
        hub_->TagRelease(head->commit, released_, kHubPublisher, 1700000000 + released_, note);
    ASSERT_TRUE(tag.ok()) << tag.status().ToString();
    parent_ = head->commit;
    fetcher_.served = released_;
  }
  // Publishes `n` releases of twenty records, a few changed each time.
  void PublishRecords(int n) {
    for (int i = 0; i < n; ++i) {
      std::vector<FileChange> changes;
      for (int f = 0; f < 20; ++f) {
        if (released_ == 0 || f == static_cast<int>(released_ % 20)) {
          changes.push_back(
              {"resources/national/" + std::to_string(f % 4) + "/" + std::to_string(f) + ".json",
               "record " + std::to_string(f) + " of r" + std::to_string(released_ + 1) +
                   std::string(200, ' ')});
        }
      }
      Publish(changes);
    }
  }

  // What the signed metadata says of the hub's release `name`.
  SignedRelease Signed(const std::string& name) {
    auto info = hub_->FindRelease(name);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    auto content = ReadReleaseContent(hub_.get(), info->tree);
    EXPECT_TRUE(content.ok()) << content.status().ToString();
    SignedRelease s;
    s.release = name;
    s.commit = info->commit;
    s.digest = content->digest;
    s.manifest = content->manifest;
    return s;
  }

  std::unique_ptr<GitCatalog> Mirror() {
    auto git = GitCatalog::Open(mirror_dir_);
    EXPECT_TRUE(git.ok()) << git.status().ToString();
    return std::move(git).value();
  }
  // The id refs/tags/<name> has in the mirror ("" if none).
  std::string MirrorTag(const std::string& name) {
    testing::RunResult r = testing::RunProcess(
        {"/usr/bin/git", "-C", mirror_dir_, "rev-parse", "-q", "--verify", "refs/tags/" + name});
    return r.exit_code == 0 ? r.out.substr(0, 40) : "";
  }
  std::string HubTag(const std::string& name) {
    testing::RunResult r =
        testing::RunProcess({"/usr/bin/git", "-C", hub_dir_, "rev-parse", "refs/tags/" + name});
    return r.out.substr(0, 40);
  }
  bool QuarantineExists() {
    return Env::Default()->FileExists(mirror_dir_ + "/tiersync-quarantine/r1") ||
           Env::Default()->FileExists(mirror_dir_ + "/tiersync-quarantine/r2");
  }

  Result<FetchedRelease> FetchVerified(const std::string& name, const FetchLimits& limits = {}) {
    return FetchVerifiedRelease(mirror_dir_, kUrl, Signed(name), &fetcher_, limits);
  }

  testing::TempDir tmp_;
  std::string hub_dir_ = tmp_.Sub("hub.git");
  std::string mirror_dir_ = tmp_.Sub("mirror/catalog.git");
  std::unique_ptr<GitCatalog> hub_;
  std::string parent_;
  uint64_t released_ = 0;
  RepoFetcher fetcher_{hub_dir_, tmp_.Sub("upload.pack")};
};

void ExpectStatus(const Status& s, StatusCode code, const std::string& expected) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(expected), std::string::npos) << s.ToString();
}

TEST_F(GitFetchTest, FetchesIntoQuarantineAndPromotesOnlyAfterVerification) {
  PublishRecords(2);
  auto q = FetchRelease(mirror_dir_, kUrl, "r1", &fetcher_);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->tag, HubTag("r1"));
  EXPECT_FALSE(q->objects_dir.empty());
  EXPECT_GT(q->stats.received_objects, 20u);
  // Nothing of it is in the repository yet: no ref, no object.
  EXPECT_EQ(MirrorTag("r1"), "");
  auto files = hub_->ListFiles(hub_->FindRelease("r1")->tree);
  EXPECT_EQ(Mirror()->ReadBlob(files->begin()->second).status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(VerifyQuarantinedRelease(mirror_dir_, *q, Signed("r1")).ok());
  ASSERT_TRUE(PromoteRelease(mirror_dir_, *q, Signed("r1")).ok());
  EXPECT_EQ(MirrorTag("r1"), HubTag("r1"));
  EXPECT_TRUE(ReadVerifiedRelease(Mirror().get(), Signed("r1")).ok());
  EXPECT_EQ((*Mirror()->MainHead())->commit, hub_->FindRelease("r1")->commit);
  EXPECT_FALSE(Env::Default()->FileExists(q->objects_dir));

  // The next release: only what r1 lacks (r1's commit went as a have).
  auto second = FetchVerified("r2");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_LT(second->received_objects, q->stats.received_objects / 2);
  EXPECT_EQ(MirrorTag("r2"), HubTag("r2"));
  EXPECT_EQ((*Mirror()->MainHead())->commit, hub_->FindRelease("r2")->commit);
  // The verified content comes back with it (the caller does not read the release again).
  EXPECT_EQ(ToHex(second->content.digest), ToHex(Signed("r2").digest));
  auto read = ReadVerifiedRelease(Mirror().get(), Signed("r2"), /*keep_files=*/false);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(second->content.tree, read->tree);
  EXPECT_EQ(second->content.manifest, read->manifest);
  // Again: the tag is here, nothing is posted.
  const int posts = fetcher_.posts;
  auto again = FetchVerified("r2");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->received_objects, 0u);
  EXPECT_EQ(fetcher_.posts, posts);
  // Stock git sees a sound repository.
  testing::RunResult fsck = testing::RunProcess({"/usr/bin/git", "-C", mirror_dir_, "fsck"});
  EXPECT_EQ(fsck.exit_code, 0) << fsck.err;
}

// The incident: a parent lying about r1's tag overwrote the node's verified r1 (fetched with
// +refs/tags/*) before anything was checked; after a restart its users saw no catalog.
TEST_F(GitFetchTest, ATagLieIsRefusedAndTheVerifiedTagStays) {
  PublishRecords(2);
  fetcher_.served = 1;
  ASSERT_TRUE(FetchVerified("r1").ok());
  const std::string r1 = MirrorTag("r1");
  fetcher_.served = 2;
  const std::string tag1 = HubTag("r1"), tag2 = HubTag("r2");
  const std::string commit1 = hub_->FindRelease("r1")->commit;
  const std::string commit2 = hub_->FindRelease("r2")->commit;
  // The parent swaps the two releases' ids in its advertisement.
  fetcher_.advertisement_lie = [&](std::string body) {
    for (auto [a, b] : {std::pair{tag1, tag2}, std::pair{commit1, commit2}}) {
      const size_t at = body.find(a + " refs/tags/r1"), bt = body.find(b + " refs/tags/r2");
      body.replace(at, 40, b);
      body.replace(bt, 40, a);
    }
    return body;
  };
  // r2 named as r1's tag (an object the node has): refused, nothing fetched or written.
  auto lie2 = FetchVerified("r2");
  ExpectStatus(lie2.status(), StatusCode::kVerificationFailed, "is release \"r1\", not r2");
  EXPECT_TRUE(lie2.status().remote());
  // r1 named as r2's tag (new objects): fetched into quarantine, refused, discarded.
  auto lie1 = FetchVerified("r1");
  ExpectStatus(lie1.status(), StatusCode::kVerificationFailed, "is release \"r2\", not r1");
  EXPECT_TRUE(lie1.status().remote());
  EXPECT_FALSE(QuarantineExists());
  EXPECT_EQ(MirrorTag("r1"), r1);
  EXPECT_EQ(MirrorTag("r2"), "");
  EXPECT_TRUE(ReadVerifiedRelease(Mirror().get(), Signed("r1")).ok());  // after a "restart"

  fetcher_.advertisement_lie = nullptr;
  ASSERT_TRUE(FetchVerified("r2").ok());
  EXPECT_EQ(MirrorTag("r2"), tag2);
}

TEST_F(GitFetchTest, AVerifiedTagIsNeverReplaced) {
  PublishRecords(1);
  ASSERT_TRUE(FetchVerified("r1").ok());
  const std::string held = MirrorTag("r1");
  // Another hub with the same content under another tag object (another message).
  testing::RunResult r =
      testing::RunProcess({"/usr/bin/git", "-c", "user.name=x", "-c", "user.email=x@example.org",
                           "-C", hub_dir_, "tag", "-f", "-a", "r1", "-m", "another", "r1^{}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_NE(HubTag("r1"), held);
  auto other = FetchRelease(mirror_dir_, kUrl, "r1", &fetcher_);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ASSERT_TRUE(VerifyQuarantinedRelease(mirror_dir_, *other, Signed("r1")).ok());
  ASSERT_TRUE(PromoteRelease(mirror_dir_, *other, Signed("r1")).ok());
  EXPECT_EQ(MirrorTag("r1"), held);
}

TEST_F(GitFetchTest, ATagThatDoesNotVerifyIsReplaced) {
  PublishRecords(2);
  ASSERT_TRUE(FetchVerified("r1").ok());
  ASSERT_TRUE(FetchVerified("r2").ok());
  // What an earlier version's forced fetch could leave: r1 naming r2's tag.
  testing::RunResult r = testing::RunProcess(
      {"/usr/bin/git", "-C", mirror_dir_, "update-ref", "refs/tags/r1", HubTag("r2")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(ReadVerifiedRelease(Mirror().get(), Signed("r1")).ok());
  ASSERT_TRUE(FetchVerified("r1").ok());
  EXPECT_EQ(MirrorTag("r1"), HubTag("r1"));
  EXPECT_TRUE(ReadVerifiedRelease(Mirror().get(), Signed("r1")).ok());
}

TEST_F(GitFetchTest, SourcesThatLackOrGarbleAreNamed) {
  PublishRecords(2);
  fetcher_.served = 1;
  auto missing = FetchVerified("r2");
  ExpectStatus(missing.status(), StatusCode::kNotFound, "does not offer release r2");
  EXPECT_TRUE(missing.status().remote());
  EXPECT_EQ(FetchVerifiedRelease(mirror_dir_, kUrl + "x", Signed("r1"), &fetcher_).status().code(),
            StatusCode::kNotFound);

  fetcher_.advertisement_lie = [](std::string) { return std::string("<html>hello</html>"); };
  auto garbled = FetchVerified("r1");
  ExpectStatus(garbled.status(), StatusCode::kUnavailable, "upload-pack advertisement");
  EXPECT_TRUE(garbled.status().remote());
  fetcher_.advertisement_lie = nullptr;

  fetcher_.result_lie = [](std::string body) { return body.substr(0, body.find("PACK")); };
  ExpectStatus(FetchVerified("r1").status(), StatusCode::kUnavailable, "ends without a pack");
  fetcher_.result_lie = nullptr;

  FetchLimits small;
  small.max_pack_bytes = 300;
  EXPECT_EQ(FetchVerified("r1", small).status().code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(QuarantineExists());
  EXPECT_EQ(MirrorTag("r1"), "");
  ASSERT_TRUE(FetchVerified("r1").ok());  // the failures left nothing in the way
}

TEST_F(GitFetchTest, PacksAreCheckedBeforeTheyAreIndexed) {
  PublishRecords(1);
  const auto packs = [&] {
    auto names = Env::Default()->GetChildren(mirror_dir_ + "/objects/pack");
    return names.ok() ? names->size() : 0u;
  };
  FetchLimits limits;
  limits.pack.max_objects = 5;
  auto many = FetchVerified("r1", limits);
  ExpectStatus(many.status(), StatusCode::kVerificationFailed, "objects, over the cap of 5");
  EXPECT_TRUE(many.status().remote());

  // A zlib bomb instead of the pack: one blob that says it is 1 GiB.
  fetcher_.result_lie = [](std::string body) {
    std::string pack = "PACK" + std::string("\0\0\0\2\0\0\0\1", 8);
    pack += "\xb0\x80\x80\x80\x20";  // blob, 1 << 30 bytes
    pack += std::string(64, 'x') + std::string(20, '\0');
    return body.substr(0, body.find("PACK")) + pack;
  };
  ExpectStatus(FetchVerified("r1").status(), StatusCode::kVerificationFailed,
               "(blob) inflates to 1073741824 bytes, over the cap");
  // A damaged pack: the indexer's checksum catches what the scan does not.
  fetcher_.result_lie = [](std::string body) {
    body[body.size() - 5] ^= 0x01;
    return body;
  };
  ExpectStatus(FetchVerified("r1").status(), StatusCode::kVerificationFailed, "git:");
  fetcher_.result_lie = nullptr;
  EXPECT_EQ(packs(), 0u);
  EXPECT_FALSE(QuarantineExists());
  ASSERT_TRUE(FetchVerified("r1").ok());
  EXPECT_GT(packs(), 0u);
}

// Git bombs in a release a source serves, built with libgit2 (GitCatalog::Commit): each is
// refused by a named cap when the quarantined release is read, or by the pack scan.
TEST_F(GitFetchTest, GitBombsAreRefusedByTheirCaps) {
  std::string deep = "resources";
  for (int i = 0; i < 20; ++i) deep += "/d";
  // Each release holds one bomb (and removes the one before).
  Publish({{deep + "/x.json", "deep"}});  // r1: trees nested 21 deep
  std::vector<FileChange> wide = {{deep + "/x.json", std::nullopt}};
  for (int i = 0; i < 200; ++i) wide.push_back({"wide/" + std::to_string(i), "w"});
  Publish(wide);  // r2: a tree of 200 entries
  std::vector<FileChange> big = {{"big.json", std::string((1 << 20) + 1, 'b')}};
  for (int i = 0; i < 200; ++i) big.push_back({"wide/" + std::to_string(i), std::nullopt});
  Publish(big);  // r3: 1 MiB + 1
  Publish({{"big.json", std::nullopt}, {"zeros.json", std::string(32 << 20, '\0')}});  // r4
  FetchLimits limits;
  limits.release.max_tree_entries = 100;
  // (The signed digests are the hub's own: the caps refuse the reading before any digest.)
  const auto signed_as = [&](const std::string& name) {
    SignedRelease s;
    s.release = name;
    return s;
  };
  const auto fetch = [&](const std::string& name) {
    return FetchVerifiedRelease(mirror_dir_, kUrl, signed_as(name), &fetcher_, limits).status();
  };
  ExpectStatus(fetch("r1"), StatusCode::kVerificationFailed, "trees nested deeper than 16");
  ExpectStatus(fetch("r2"), StatusCode::kVerificationFailed,
               "has 200 entries, over the cap of 100");
  ExpectStatus(fetch("r3"), StatusCode::kVerificationFailed, "over the cap of 1048576");
  ExpectStatus(fetch("r4"), StatusCode::kVerificationFailed,
               "(blob) inflates to 33554432 bytes, over the cap of 16777216");
  limits.release.max_files = 150;
  limits.release.max_tree_entries = 1000;
  ExpectStatus(fetch("r2"), StatusCode::kVerificationFailed, "has more than 150 files");
  limits.release.max_files = 1000;
  limits.release.max_total_bytes = 150;
  ExpectStatus(fetch("r2"), StatusCode::kVerificationFailed, "hold more than 150 bytes");
  EXPECT_FALSE(Env::Default()->FileExists(mirror_dir_ + "/tiersync-quarantine/r2"));
  EXPECT_TRUE(Mirror()->Releases()->empty());
}

}  // namespace
}  // namespace tiersync::catalogs
