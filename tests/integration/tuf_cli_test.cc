// `tiersync keys`, `tiersync repo` and `tiersync tuf-client` through the real binary (issue 3):
// key files, refusal to publish without a needed key, and a repository read from a local
// directory (file:// URLs, as from a USB disk) with the conformance client's exit codes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace tiersync {
namespace {

using testing::RunProcess;
using testing::RunResult;

const std::string kBin = TIERSYNC_BIN;

class TufCliTest : public ::testing::Test {
 protected:
  RunResult Tiersync(std::vector<std::string> args) {
    args.insert(args.begin(), kBin);
    return RunProcess(args);
  }
  std::string Key(const std::string& name, const std::string& scheme = "ed25519") {
    std::string path = tmp_.Sub(name);
    RunResult r = Tiersync({"keys", "gen", "--scheme", scheme, path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return path;
  }
  void InitRepo() {
    for (const char* k : {"root", "timestamp", "snapshot", "targets"}) keys_[k] = Key(k);
    RunResult r = Tiersync({"repo", "init", repo_, "--root-key", keys_["root"], "--timestamp-key",
                            keys_["timestamp"], "--snapshot-key", keys_["snapshot"],
                            "--targets-key", keys_["targets"], "-k", keys_["root"], "-k",
                            keys_["timestamp"], "-k", keys_["snapshot"], "-k", keys_["targets"]});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::vector<std::string> MetadataFiles() {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(repo_ + "/metadata")) {
      names.push_back(e.path().filename());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

  testing::TempDir tmp_;
  std::string repo_ = tmp_.Sub("repo");
  std::map<std::string, std::string> keys_;
};

TEST_F(TufCliTest, PrivateKeyIsOwnerOnlyAndShowGivesTheKeyid) {
  std::string key = Key("k");
  struct stat st;
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  RunResult priv = Tiersync({"--json", "keys", "show", key});
  RunResult pub = Tiersync({"--json", "keys", "show", key + ".pub.json"});
  ASSERT_EQ(priv.exit_code, 0) << priv.err;
  EXPECT_EQ(nlohmann::json::parse(priv.out)["keyid"], nlohmann::json::parse(pub.out)["keyid"]);
  EXPECT_EQ(priv.out.find("PRIVATE"), std::string::npos);
  EXPECT_NE(Tiersync({"keys", "gen", key}).exit_code, 0) << "must not overwrite a key";
}

TEST_F(TufCliTest, PublishingWithoutTheSnapshotKeyWritesNothing) {
  InitRepo();
  auto before = MetadataFiles();
  Write(tmp_.Sub("a.txt"), "lesson");
  RunResult r = Tiersync({"repo", "add-target", repo_, "--file", tmp_.Sub("a.txt"), "-k",
                          keys_["targets"], "-k", keys_["timestamp"]});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("signing snapshot needs 1 of its keys"), std::string::npos) << r.err;
  EXPECT_EQ(MetadataFiles(), before);
}

TEST_F(TufCliTest, ClientReadsAFileRepositoryAndFailsWithExitOne) {
  InitRepo();
  Write(tmp_.Sub("lesson.txt"), "第一课");
  ASSERT_EQ(Tiersync({"repo", "add-target", repo_, "--file", tmp_.Sub("lesson.txt"), "--prefix",
                      "lessons/", "--custom", R"({"resource": "k12-math-1-1"})", "-k",
                      keys_["targets"], "-k", keys_["snapshot"], "-k", keys_["timestamp"]})
                .exit_code,
            0);
  std::ifstream targets(repo_ + "/metadata/2.targets.json");
  nlohmann::json t = nlohmann::json::parse(targets);
  EXPECT_EQ(t["signed"]["targets"]["lessons/lesson.txt"]["custom"]["resource"], "k12-math-1-1");
  // An Ed25519 repository writes SHA-256 alone (stock clients may refuse other algorithms).
  EXPECT_EQ(t["signed"]["targets"]["lessons/lesson.txt"]["hashes"].size(), 1u);
  std::string md = tmp_.Sub("client");
  ASSERT_EQ(Tiersync({"tuf-client", "--metadata-dir", md, "init", repo_ + "/metadata/1.root.json"})
                .exit_code,
            0);
  std::vector<std::string> common = {"tuf-client", "--metadata-dir", md, "--metadata-url",
                                     "file://" + repo_ + "/metadata"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = common;
    a.insert(a.end(), extra.begin(), extra.end());
    return Tiersync(a);
  };
  RunResult r = with({"--target-name", "lessons/lesson.txt", "--target-base-url",
                      "file://" + repo_ + "/targets", "--target-dir", tmp_.Sub("out"), "download"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(tmp_.Sub("out") + "/lessons%2Flesson.txt");
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, "第一课");
  // Damage the repository's timestamp: refresh must fail with exit code 1, not crash.
  Write(repo_ + "/metadata/timestamp.json", "{\"signed\": 1}");
  r = with({"refresh"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(r.err.empty());
}

TEST_F(TufCliTest, HashBinsFromTheCommandLine) {
  InitRepo();
  std::string bins = Key("bins");
  ASSERT_NE(Tiersync({"repo", "delegate-bins", repo_, "--digits", "1", "--delegate-key",
                      bins + ".pub.json", "-k", keys_["targets"], "-k", keys_["snapshot"], "-k",
                      keys_["timestamp"]})
                .err.find("signing bin-0 needs 1 of its keys"),
            std::string::npos)
      << "the new bin roles are published signed by their own key";
  ASSERT_EQ(Tiersync({"repo", "delegate-bins", repo_, "--digits", "1", "--delegate-key",
                      bins + ".pub.json", "-k", keys_["targets"], "-k", bins, "-k",
                      keys_["snapshot"], "-k", keys_["timestamp"]})
                .exit_code,
            0);
  Write(tmp_.Sub("a.txt"), "a");
  Write(tmp_.Sub("b.txt"), "b");
  RunResult r = Tiersync({"repo", "add-target", repo_, "--file", tmp_.Sub("a.txt"), "--file",
                          tmp_.Sub("b.txt"), "--hash-bins", "1", "-k", bins, "-k",
                          keys_["snapshot"], "-k", keys_["timestamp"]});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string md = tmp_.Sub("client");
  ASSERT_EQ(Tiersync({"tuf-client", "--metadata-dir", md, "init", repo_ + "/metadata/1.root.json"})
                .exit_code,
            0);
  for (const char* name : {"a.txt", "b.txt"}) {
    r = Tiersync({"tuf-client", "--metadata-dir", md, "--metadata-url",
                  "file://" + repo_ + "/metadata", "--target-name", name, "--target-base-url",
                  "file://" + repo_ + "/targets", "--target-dir", tmp_.Sub("out"), "download"});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
  }
}

// The GM/T suite through the CLI: a root of one Ed25519 and one SM2 key with threshold 2 (a
// suite transition), the other roles SM2; then a rotation to an SM2-only root that a client
// pinned at version 1 follows.
TEST_F(TufCliTest, MixedSuiteRootThenRotationToSm2) {
  const std::string ed_root = Key("ed_root"), sm2_root = Key("sm2_root", "sm2-sm3");
  for (const char* k : {"timestamp", "snapshot", "targets"}) keys_[k] = Key(k, "sm2-sm3");
  RunResult shown = Tiersync({"--json", "keys", "show", sm2_root + ".pub.json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(nlohmann::json::parse(shown.out)["scheme"], "sm2-sm3");
  EXPECT_EQ(nlohmann::json::parse(shown.out)["keytype"], "sm2");
  std::vector<std::string> init = {"repo",
                                   "init",
                                   repo_,
                                   "--root-key",
                                   ed_root + ".pub.json",
                                   "--root-key",
                                   sm2_root + ".pub.json",
                                   "--root-threshold",
                                   "2",
                                   "--timestamp-key",
                                   keys_["timestamp"],
                                   "--snapshot-key",
                                   keys_["snapshot"],
                                   "--targets-key",
                                   keys_["targets"],
                                   "-k",
                                   keys_["timestamp"],
                                   "-k",
                                   keys_["snapshot"],
                                   "-k",
                                   keys_["targets"],
                                   "-k",
                                   ed_root};
  RunResult r = Tiersync(init);
  EXPECT_NE(r.exit_code, 0) << "root v1 with only the Ed25519 half of a 2-of-2 root";
  EXPECT_NE(r.err.find("needs a threshold"), std::string::npos) << r.err;
  init.insert(init.end(), {"-k", sm2_root});
  r = Tiersync(init);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // A repository with SM2 keys writes SM3 beside SHA-256: snapshot's entry in the timestamp,
  // and whole-file targets (checked by the download below).
  std::ifstream timestamp(repo_ + "/metadata/timestamp.json");
  nlohmann::json ts = nlohmann::json::parse(timestamp);
  EXPECT_TRUE(ts["signed"]["meta"]["snapshot.json"]["hashes"].contains("sm3")) << ts.dump();
  Write(tmp_.Sub("lesson.txt"), "abc");
  r = Tiersync({"repo", "add-target", repo_, "--file", tmp_.Sub("lesson.txt"), "-k",
                keys_["targets"], "-k", keys_["snapshot"], "-k", keys_["timestamp"]});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream targets(repo_ + "/metadata/2.targets.json");
  nlohmann::json t = nlohmann::json::parse(targets);
  EXPECT_EQ(t["signed"]["targets"]["lesson.txt"]["hashes"]["sm3"],
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");  // GM/T 0004

  std::string md = tmp_.Sub("client");
  ASSERT_EQ(Tiersync({"tuf-client", "--metadata-dir", md, "init", repo_ + "/metadata/1.root.json"})
                .exit_code,
            0);
  r = Tiersync({"tuf-client", "--metadata-dir", md, "--metadata-url",
                "file://" + repo_ + "/metadata", "--target-name", "lesson.txt", "--target-base-url",
                "file://" + repo_ + "/targets", "--target-dir", tmp_.Sub("out"), "download"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> refresh = {
      "tuf-client", "--metadata-dir", md, "--metadata-url", "file://" + repo_ + "/metadata",
      "refresh"};
  r = Tiersync(refresh);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // Root 2: the SM2 key alone, threshold 1. It needs both old keys (the old threshold is 2).
  const std::string sm2_root2 = Key("sm2_root2", "sm2-sm3");
  std::vector<std::string> rotate = {
      "repo",           "rotate-root", repo_,    "--root-key", sm2_root2 + ".pub.json", "-k",
      sm2_root2,        "-k",          sm2_root, "-k",         keys_["timestamp"],      "-k",
      keys_["snapshot"]};
  r = Tiersync(rotate);
  EXPECT_NE(r.exit_code, 0) << "root v2 signed by only one of root v1's two keys";
  EXPECT_FALSE(std::filesystem::exists(repo_ + "/metadata/2.root.json"));
  rotate.insert(rotate.end(), {"-k", ed_root});
  r = Tiersync(rotate);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Tiersync(refresh);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream trusted(md + "/root.json");
  ASSERT_TRUE(trusted.good());
  nlohmann::json root = nlohmann::json::parse(trusted);
  EXPECT_EQ(root["signed"]["version"], 2);
  for (const auto& [id, key] : root["signed"]["keys"].items()) EXPECT_EQ(key["scheme"], "sm2-sm3");
}

TEST_F(TufCliTest, UnknownSchemeIsRefused) {
  RunResult r = Tiersync({"keys", "gen", "--scheme", "sm2", tmp_.Sub("k")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unsupported signature scheme"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("k")));
}

}  // namespace
}  // namespace tiersync
