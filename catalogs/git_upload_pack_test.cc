#include "catalogs/git_upload_pack.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "base/env.h"
#include "catalogs/git_catalog.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::catalogs {
namespace {

const char kStockGit[] = "/usr/bin/git";
const char kCaps[] = "multi_ack_detailed ofs-delta symref=HEAD:refs/heads/main agent=tiersync/0.1";
const Identity kRepoPublisher{"国家智慧教育平台 发布员", "publisher@hub.example.edu.cn"};

std::string PktLine(std::string_view payload) {
  char length[5];
  std::snprintf(length, sizeof length, "%04zx", payload.size() + 4);
  return std::string(length) + std::string(payload);
}

// The pkt-lines of `body` ("<flush>" for a flush-pkt) up to a raw pack, which goes to `pack`.
std::vector<std::string> Lines(std::string_view body, std::string* pack = nullptr) {
  std::vector<std::string> lines;
  while (!body.empty() && !body.starts_with("PACK")) {
    const size_t length = std::stoul(std::string(body.substr(0, 4)), nullptr, 16);
    lines.push_back(length == 0 ? "<flush>" : std::string(body.substr(4, length - 4)));
    body.remove_prefix(length == 0 ? 4 : length);
  }
  if (pack != nullptr) *pack = std::string(body);
  return lines;
}

uint32_t PackObjects(const std::string& pack) {
  EXPECT_GE(pack.size(), 12u);
  uint32_t n = 0;
  for (int i = 8; i < 12; ++i) n = (n << 8) | static_cast<unsigned char>(pack[i]);
  return n;
}

std::string Request(const std::vector<std::string>& wants, const std::string& caps,
                    const std::vector<std::string>& haves, bool done) {
  std::string out;
  for (size_t i = 0; i < wants.size(); ++i) {
    out += PktLine("want " + wants[i] + (i == 0 && !caps.empty() ? " " + caps : "") + "\n");
  }
  out += "0000";
  for (const std::string& have : haves) out += PktLine("have " + have + "\n");
  return out + (done ? PktLine("done\n") : "0000");
}

class GitUploadPackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(GitCatalog::Init(dir_).ok());
    auto git = GitCatalog::Open(dir_);
    ASSERT_TRUE(git.ok()) << git.status().ToString();
    git_ = std::move(git).value();
  }

  // Publishes releases 1..n: ten files, two of them changed by each release.
  void Publish(int n) {
    std::string parent;
    for (int r = 1; r <= n; ++r) {
      std::vector<FileChange> changes;
      for (int f = 0; f < 10; ++f) {
        if (r == 1 || f == r % 10 || f == (r + 5) % 10) {
          changes.push_back({"resources/national/" + std::to_string(f) + ".json",
                             "record " + std::to_string(f) + " of release " + std::to_string(r)});
        }
      }
      auto head = git_->Commit(changes, kRepoPublisher, 1700000000 + r, "publish", parent);
      ASSERT_TRUE(head.ok()) << head.status().ToString();
      ASSERT_TRUE(
          git_->TagRelease(head->commit, r, kRepoPublisher, 1700000000 + r, "release").ok());
      parent = head->commit;
      commits_.push_back(head->commit);
      tags_.push_back(Git({"rev-parse", "refs/tags/r" + std::to_string(r)}));
    }
  }

  // The whole answer to `request`: the ACK/NAK lines, then the pack UploadPack wrote.
  Result<std::string> Answer(std::string_view request, uint64_t max_release) {
    const std::string path = tmp_.Sub("answer.pack");
    Env::Default()->RemoveFile(path).IgnoreError();
    TS_ASSIGN_OR_RETURN(UploadPackAnswer answer,
                        UploadPack(Env::Default(), dir_, request, max_release, path));
    if (answer.pack_bytes == 0) {
      EXPECT_FALSE(Env::Default()->FileExists(path));  // a negotiation step writes nothing
      return answer.head;
    }
    auto pack = ReadFileToBytes(Env::Default(), path, 1 << 30);
    EXPECT_TRUE(pack.ok());
    EXPECT_EQ(pack->size(), answer.pack_bytes);
    return answer.head + std::string(pack->begin(), pack->end());
  }

  std::string Git(std::vector<std::string> args) {
    args.insert(args.begin(), {kStockGit, "-C", dir_});
    testing::RunResult r = testing::RunProcess(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }

  testing::TempDir tmp_;
  std::string dir_ = tmp_.Sub("catalog.git");
  std::unique_ptr<GitCatalog> git_;
  std::vector<std::string> commits_;  // [i] is the commit of release i + 1
  std::vector<std::string> tags_;     // [i] is the tag object of release i + 1
};

TEST_F(GitUploadPackTest, AdvertisesReleasesUpToTheServedOne) {
  Publish(3);
  Git({"tag", "r4", commits_[2]});  // lightweight: not a release
  auto body = AdvertiseUploadPack(dir_, 2);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(Lines(*body), (std::vector<std::string>{
                              "# service=git-upload-pack\n",
                              "<flush>",
                              commits_[1] + " HEAD" + std::string(1, '\0') + kCaps + "\n",
                              commits_[1] + " refs/heads/main\n",
                              tags_[0] + " refs/tags/r1\n",
                              commits_[0] + " refs/tags/r1^{}\n",
                              tags_[1] + " refs/tags/r2\n",
                              commits_[1] + " refs/tags/r2^{}\n",
                              "<flush>",
                          }));

  body = AdvertiseUploadPack(dir_, 10);
  ASSERT_TRUE(body.ok());
  std::vector<std::string> lines = Lines(*body);
  ASSERT_EQ(lines.size(), 2 + 2 + 6 + 1u);
  EXPECT_TRUE(lines[2].starts_with(commits_[2] + " HEAD"));
  EXPECT_EQ(lines[3], commits_[2] + " refs/heads/main\n");
  EXPECT_EQ(lines[9], commits_[2] + " refs/tags/r3^{}\n");
  EXPECT_EQ(body->find("r4"), std::string::npos);
}

TEST_F(GitUploadPackTest, AdvertisesAnEmptyRepositoryWithoutServedReleases) {
  const std::vector<std::string> empty = {
      "# service=git-upload-pack\n", "<flush>",
      std::string(40, '0') + " capabilities^{}" + std::string(1, '\0') + kCaps + "\n", "<flush>"};
  auto body = AdvertiseUploadPack(dir_, 5);  // no releases yet
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(Lines(*body), empty);
  Publish(1);
  body = AdvertiseUploadPack(dir_, 0);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(Lines(*body), empty);
  EXPECT_EQ(AdvertiseUploadPack(tmp_.Sub("missing"), 1).status().code(), StatusCode::kNotFound);
}

TEST_F(GitUploadPackTest, RefusesWantsThatAreNotAdvertised) {
  Publish(3);
  const std::string blob = *GitCatalog::BlobId("record 0 of release 1");
  for (const std::string& want : {commits_[2], tags_[2], blob}) {
    auto r = Answer(Request({want}, "ofs-delta", {}, true), 2);
    ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument) << want;
    EXPECT_NE(r.status().message().find("want " + want + " is not an advertised ref"),
              std::string::npos)
        << r.status().message();
  }
  // Peeled ids are advertised too.
  EXPECT_TRUE(Answer(Request({commits_[0]}, "ofs-delta", {}, true), 2).ok());
  EXPECT_EQ(Answer(Request({commits_[0]}, "ofs-delta", {}, true), 0).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(GitUploadPackTest, RefusesMalformedAndOversizeRequests) {
  Publish(2);
  const std::string want = PktLine("want " + commits_[1] + " ofs-delta\n");
  const std::string have = PktLine("have " + commits_[0] + "\n");
  std::string many_wants;
  for (int i = 0; i <= 1000; ++i)
    many_wants += PktLine("want " + commits_[1] + (i ? "" : " ofs-delta"));
  std::string many_haves;
  for (int i = 0; i <= 10000; ++i) many_haves += have;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "ends without a flush-pkt"},
      {"00", "truncated pkt-line length"},
      {"zz09done\n", "is not 4 hex digits"},
      {"+009done\n", "is not 4 hex digits"},
      {"0003", "length 3 is reserved"},
      {"0001", "length 1 is reserved"},
      {"fff1" + std::string(65520, 'x'), "is over 65520"},
      {"0040want " + commits_[1], "runs past the end"},
      {"0000" + PktLine("done"), "no \"want\" lines"},
      {want, "ends without a flush-pkt"},
      {want + "0000" + have, "ends without a flush-pkt"},
      {PktLine("want 1234") + "0000" + PktLine("done"), "expected \"want <object id>\""},
      {PktLine("want " + commits_[1] + "x") + "0000" + PktLine("done"), "unexpected text after"},
      {want + PktLine("want " + commits_[0] + " ofs-delta") + "0000" + PktLine("done"),
       "unexpected text after"},
      {want + PktLine("shallow " + commits_[0]) + "0000" + PktLine("done"), "expected \"want"},
      {want + "0000" + PktLine("have zz") + PktLine("done"), "expected \"have <object id>\""},
      {want + "0000" + PktLine("deepen 1") + PktLine("done"), "expected \"have"},
      {want + "0000" + PktLine("done") + "0000", "data after the \"done\""},
      {want + "0000" + "0000" + PktLine("done"), "data after the haves' flush-pkt"},
      {many_wants + "0000" + PktLine("done"), "more than 1000 wants"},
      {want + "0000" + many_haves + PktLine("done"), "more than 10000 haves"},
      {PktLine("want " + commits_[1] + " multi_ack_detailed") + "0000" + PktLine("done"),
       "ofs-delta"},
  };
  for (const auto& [request, expected] : cases) {
    auto r = Answer(request, 2);
    ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument) << request.substr(0, 80);
    EXPECT_NE(r.status().message().find(expected), std::string::npos)
        << r.status().message() << " / expected " << expected;
  }
  // At the limits exactly, requests are served.
  many_wants.clear();
  for (int i = 0; i < 1000; ++i)
    many_wants += PktLine("want " + commits_[1] + (i ? "" : " ofs-delta"));
  many_haves.resize(10000 * have.size());
  EXPECT_TRUE(Answer(many_wants + "0000" + many_haves + PktLine("done"), 2).ok());
}

TEST_F(GitUploadPackTest, NegotiationStepWithoutDoneGetsOnlyNak) {
  Publish(2);
  const std::string unknown(40, 'a');
  auto r = Answer(Request({tags_[1], commits_[1]}, kCaps, {unknown}, false), 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "0008NAK\n");
  r = Answer(Request({commits_[1]}, "ofs-delta", {unknown, commits_[0]}, false), 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "0008NAK\n");  // no multi_ack mode: never an ACK
  r = Answer(Request({commits_[1]}, kCaps, {unknown, commits_[0], commits_[0]}, false), 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, PktLine("ACK " + commits_[0] + " common\n") + "0008NAK\n");
}

TEST_F(GitUploadPackTest, DonePacksWhatTheClientLacks) {
  Publish(2);
  const auto count = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {kStockGit, "-C", dir_, "rev-list", "--objects"});
    testing::RunResult r = testing::RunProcess(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return static_cast<uint32_t>(std::count(r.out.begin(), r.out.end(), '\n'));
  };

  auto full = Answer(Request({commits_[1], tags_[0], tags_[1]}, kCaps, {}, true), 2);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  std::string pack;
  EXPECT_EQ(Lines(*full, &pack), std::vector<std::string>{"NAK\n"});
  ASSERT_TRUE(pack.starts_with("PACK"));
  EXPECT_EQ(PackObjects(pack), count({commits_[1]}) + 2);  // plus the two tags

  auto part =
      Answer(Request({tags_[1], commits_[1]}, kCaps, {std::string(40, 'b'), commits_[0]}, true), 2);
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  EXPECT_EQ(Lines(*part, &pack), (std::vector<std::string>{"ACK " + commits_[0] + " common\n",
                                                           "ACK " + commits_[0] + "\n"}));
  ASSERT_TRUE(pack.starts_with("PACK"));
  EXPECT_EQ(PackObjects(pack), count({commits_[1], "^" + commits_[0]}) + 1);
  EXPECT_LT(PackObjects(pack), count({commits_[1]}));
  // A self-contained pack stock git can index.
  const std::string file = tmp_.Sub("part.pack");
  std::ofstream(file, std::ios::binary) << pack;
  testing::RunResult r = testing::RunProcess({kStockGit, "index-pack", file});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // Without multi_ack_detailed: NAK, then the same pack.
  part = Answer(Request({tags_[1], commits_[1]}, "ofs-delta", {commits_[0]}, true), 2);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(Lines(*part, &pack), std::vector<std::string>{"NAK\n"});
  EXPECT_EQ(PackObjects(pack), count({commits_[1], "^" + commits_[0]}) + 1);
}

}  // namespace
}  // namespace tiersync::catalogs
