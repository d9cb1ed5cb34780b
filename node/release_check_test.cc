// The scrub's check of a node's metadata at rest (node/release_check.h), on real files: a hub
// repository, a node that refreshed from it and wrote a release directory, then rot.
#include "node/release_check.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "base/crypto.h"
#include "node/release_dir.h"
#include "replication/env_fetcher.h"
#include "replication/tuf_repository.h"
#include "replication/tuf_updater.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::node {
namespace {

namespace tuf = protocol::tuf;
using replication::KeyRing;
using replication::TufRepository;
using replication::Updater;

constexpr char kRelease[] = "3-00000000";

class ReleaseCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"root1", "root2", "timestamp", "snapshot", "targets"}) {
      keys_.emplace(name, PrivateKey::Generate("ed25519").value());
    }
    ASSERT_TRUE(TufRepository::Create(env_, hub_, RootWith("root1"), Ring({"root1"}), Now()).ok());
    fetcher_.Mount("hub://v1/metadata/", hub_ + "/metadata");
    fetcher_.Mount("liar://v1/metadata/", tmp_.Sub("liar"));
    ASSERT_TRUE(CreateDirs(env_, tmp_.Sub("liar")).ok());
  }

  int64_t Now() { return static_cast<int64_t>(env_->NowMicros() / 1000000); }
  tuf::Key PublicOf(const std::string& name) {
    PublicKey pub = keys_.at(name).Public();
    return tuf::MakeKey(pub.keytype(), pub.scheme(), pub.public_value());
  }
  tuf::Root RootWith(const std::string& root_key) {
    tuf::Root root;
    for (auto [role, key] : {std::pair{"root", root_key},
                             {"timestamp", "timestamp"},
                             {"snapshot", "snapshot"},
                             {"targets", "targets"}}) {
      root.keys[tuf::KeyId(PublicOf(key))] = PublicOf(key);
      root.roles[role].keyids = {tuf::KeyId(PublicOf(key))};
    }
    return root;
  }
  KeyRing Ring(std::initializer_list<std::string> names) {
    KeyRing ring = {&keys_.at("timestamp"), &keys_.at("snapshot"), &keys_.at("targets")};
    for (const auto& n : names) ring.push_back(&keys_.at(n));
    return ring;
  }
  std::vector<uint8_t> HubFile(const std::string& name) {
    return ReadFileToBytes(env_, hub_ + "/metadata/" + name, 1 << 20).value();
  }

  // The node, pinned at root 1: refreshes from the hub and writes release kRelease.
  void NodeRelease() {
    ASSERT_TRUE(CreateDirs(env_, paths_.dir).ok());
    ASSERT_TRUE(WriteFileAtomically(env_, paths_.root, HubFile("1.root.json")).ok());
    ASSERT_TRUE(Updater::Init(env_, paths_.trusted, HubFile("1.root.json")).ok());
    replication::UpdaterOptions o{paths_.trusted, "hub://v1/metadata", "hub://v1/targets",
                                  paths_.downloads};
    o.keep_root_history = true;
    Updater updater(env_, &fetcher_, o);
    ASSERT_TRUE(updater.Refresh().ok());
    ServedRelease served{updater.trusted()->timestamp()->version, "r1", 0, 0, Now()};
    ASSERT_TRUE(WriteReleaseDir(env_, paths_, *updater.trusted(), kRelease, served, {}, {}).ok());
  }
  std::string Meta(const std::string& file) {
    return JoinPath(JoinPath(JoinPath(paths_.releases, kRelease), "metadata"), file);
  }
  // Rot: the byte in the middle of `path` becomes '#' (in a signed string or a signature, or
  // breaking the JSON: no copy verifies).
  void Rot(const std::string& path) {
    auto bytes = ReadFileToBytes(env_, path, 1 << 20).value();
    uint8_t& b = bytes[bytes.size() / 2];
    b = b == '#' ? '$' : '#';
    // In place, as rot is: a hard link (trusted/ and the release directory) shares it.
    FILE* f = std::fopen(path.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
    std::fclose(f);
  }
  replication::SourcePolicy Sources(std::initializer_list<const char*> urls) {
    std::vector<replication::Source> sources;
    for (const char* url : urls) sources.push_back({url, url});
    return replication::SourcePolicy(sources);
  }

  testing::TempDir tmp_;
  Env* env_ = Env::Default();
  std::string hub_ = tmp_.Sub("hub");
  NodePaths paths_{tmp_.Sub("node")};
  std::map<std::string, PrivateKey> keys_;
  replication::EnvFetcher fetcher_{env_};
};

TEST_F(ReleaseCheckTest, AWholeNodeChecksClean) {
  NodeRelease();
  EXPECT_FALSE(CheckReleaseMetadata(env_, paths_, kRelease).has_value());
  EXPECT_FALSE(CheckTrustedRoot(env_, paths_).has_value());
  EXPECT_TRUE(CheckNodeMetadata(env_, paths_).empty());
}

// Rot in the served snapshot (hard-linked with trusted/snapshot.json): named, then mended from
// the hub — not from a source whose bytes do not verify (the negative control).
TEST_F(ReleaseCheckTest, ARottenSnapshotIsNamedAndOnlyBytesThatVerifyMendIt) {
  NodeRelease();
  const std::string snapshot = "1.snapshot.json";
  Rot(Meta(snapshot));
  auto problem = CheckReleaseMetadata(env_, paths_, kRelease);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->kind, "metadata");
  EXPECT_EQ(problem->id, std::string("releases/") + kRelease + "/metadata/" + snapshot);
  ASSERT_EQ(CheckNodeMetadata(env_, paths_).size(), 1u);

  // A liar serves other bytes under the name: nothing is replaced.
  auto other = HubFile("1.targets.json");
  ASSERT_TRUE(WriteFileAtomically(env_, tmp_.Sub("liar") + "/" + snapshot, other).ok());
  EXPECT_EQ(RepairNodeMetadata(env_, paths_, &fetcher_, Sources({"liar:/"})), 0u);
  EXPECT_EQ(CheckNodeMetadata(env_, paths_).size(), 1u);

  EXPECT_EQ(RepairNodeMetadata(env_, paths_, &fetcher_, Sources({"liar:/", "hub:/"})), 1u);
  EXPECT_TRUE(CheckNodeMetadata(env_, paths_).empty());
  EXPECT_EQ(ReadFileToBytes(env_, Meta(snapshot), 1 << 20).value(), HubFile(snapshot));
}

// The trusted root and its chain: a rotten root.json is rewritten from the verified chain
// without asking anyone; a rotten step of the chain comes back from the release directory's
// copy; the pinned root is never "repaired".
TEST_F(ReleaseCheckTest, TheTrustedRootChainIsCheckedAndRewrittenFromVerifiedCopies) {
  {
    auto repo = TufRepository::Open(env_, hub_);
    ASSERT_TRUE(repo.ok());
    repo->SetRoot(RootWith("root2"));
    ASSERT_TRUE(repo->Publish(Ring({"root1", "root2"}), Now()).ok());
  }
  NodeRelease();
  ASSERT_FALSE(CheckTrustedRoot(env_, paths_).has_value());

  Rot(JoinPath(paths_.trusted, "root.json"));
  auto problem = CheckTrustedRoot(env_, paths_);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->id, "trusted/root.json");
  EXPECT_EQ(RepairNodeMetadata(env_, paths_, &fetcher_, Sources({})), 1u);
  EXPECT_EQ(ReadFileToBytes(env_, JoinPath(paths_.trusted, "root.json"), 1 << 20).value(),
            HubFile("2.root.json"));

  // trusted/2.root.json is the release directory's 2.root.json (a hard link): both rot, both
  // come back (the release's from the hub, then trusted/'s from the mended release copy).
  Rot(JoinPath(paths_.trusted, "2.root.json"));
  EXPECT_EQ(CheckNodeMetadata(env_, paths_).size(), 2u);
  EXPECT_EQ(RepairNodeMetadata(env_, paths_, &fetcher_, Sources({"hub:/"})), 2u);
  EXPECT_TRUE(CheckNodeMetadata(env_, paths_).empty());

  // The pinned root is where trust starts: named, left for the operator.
  Rot(paths_.root);
  auto pinned = CheckTrustedRoot(env_, paths_);
  ASSERT_TRUE(pinned.has_value());
  EXPECT_EQ(pinned->id, "root.json");
  EXPECT_EQ(RepairNodeMetadata(env_, paths_, &fetcher_, Sources({"hub:/"})), 0u);
  EXPECT_FALSE(CheckNodeMetadata(env_, paths_).empty());
}

}  // namespace
}  // namespace tiersync::node
