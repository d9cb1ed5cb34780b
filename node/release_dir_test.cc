// The root chain a node relays (issue 17 item 3): a node set up with a root version above 1
// writes servable releases holding the chain from that version, and its repository service
// sends a child that needs an earlier step to another source instead of ending its walk.
#include "node/release_dir.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/crypto.h"
#include "node/repository_service.h"
#include "replication/chunk_store.h"
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

// A Fetcher that asks a RepositoryService in process, as a child asks its parent over HTTP
// (the status mapping of node/http_fetcher.cc: 404 is kNotFound, other failures kUnavailable).
class ServiceFetcher : public Fetcher {
 public:
  explicit ServiceFetcher(RepositoryService* service) : service_(service) {}
  Result<std::vector<uint8_t>> Fetch(const std::string& url, size_t max_bytes) override {
    HttpRequest request;
    request.method = "GET";
    request.target = url.substr(url.find("/v1/"));
    HttpReply reply = service_->Handle(request);
    if (reply.status == 404) return NotFoundError(url + ": HTTP 404");
    if (reply.status != 200) {
      return UnavailableError(url + ": HTTP " + std::to_string(reply.status) + ": " + reply.body);
    }
    if (reply.body.size() > max_bytes) return ResourceExhaustedError(url + ": over the cap");
    return std::vector<uint8_t>(reply.body.begin(), reply.body.end());
  }

 private:
  RepositoryService* service_;
};

class ReleaseRootChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name :
         {"root1", "root2", "root3", "ts1", "ts2", "ts3", "snapshot", "targets"}) {
      keys_.emplace(name, PrivateKey::Generate("ed25519").value());
    }
    ASSERT_TRUE(
        TufRepository::Create(env_, hub_, RootWith("root1", "ts1"), Ring({"root1", "ts1"}), Now())
            .ok());
    replication::ChunkStoreOptions o;
    o.writable = true;
    ASSERT_TRUE(replication::ChunkStore::Create(tmp_.Sub("store"), o).ok());
    store_ = replication::ChunkStore::Open(tmp_.Sub("store"), o).value();
    hub_fetcher_.Mount("hub://v1/metadata/", hub_ + "/metadata");
  }

  int64_t Now() { return static_cast<int64_t>(env_->NowMicros() / 1000000); }
  tuf::Key PublicOf(const std::string& name) {
    PublicKey pub = keys_.at(name).Public();
    return tuf::MakeKey(pub.keytype(), pub.scheme(), pub.public_value());
  }
  tuf::Root RootWith(const std::string& root_key, const std::string& timestamp_key) {
    tuf::Root root;
    for (auto [role, key] : {std::pair{"root", root_key},
                             {"timestamp", timestamp_key},
                             {"snapshot", "snapshot"},
                             {"targets", "targets"}}) {
      root.keys[tuf::KeyId(PublicOf(key))] = PublicOf(key);
      root.roles[role].keyids = {tuf::KeyId(PublicOf(key))};
    }
    return root;
  }
  KeyRing Ring(std::initializer_list<std::string> names) {
    KeyRing ring = {&keys_.at("snapshot"), &keys_.at("targets")};
    for (const auto& n : names) ring.push_back(&keys_.at(n));
    return ring;
  }
  // Root N+1 with new root and timestamp keys, signed by the old and the new root key.
  void Rotate(const std::string& old_root, const std::string& root_key, const std::string& ts) {
    auto repo = TufRepository::Open(env_, hub_);
    ASSERT_TRUE(repo.ok());
    repo->SetRoot(RootWith(root_key, ts));
    Status s = repo->Publish(Ring({old_root, root_key, ts}), Now());
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::vector<uint8_t> HubRoot(uint64_t version) {
    return ReadFileToBytes(env_, hub_ + "/metadata/" + std::to_string(version) + ".root.json",
                           1 << 20)
        .value();
  }

  // A node pinned at root `pinned` that refreshes from the hub and writes release "r".
  // Returns the release directory.
  std::string NodeRelease(const std::string& name, uint64_t pinned) {
    NodePaths paths(tmp_.Sub(name));
    EXPECT_TRUE(Updater::Init(env_, paths.trusted, HubRoot(pinned)).ok());
    replication::UpdaterOptions o{paths.trusted, "hub://v1/metadata", "hub://v1/targets",
                                  paths.downloads};
    o.keep_root_history = true;
    Updater updater(env_, &hub_fetcher_, o);
    Status s = updater.Refresh();
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) return "";
    ServedRelease served{updater.trusted()->timestamp()->version, "r1", 0, 0, Now()};
    s = WriteReleaseDir(env_, paths, *updater.trusted(), "1-00000000", served, {}, {});
    EXPECT_TRUE(s.ok()) << s.ToString();
    return JoinPath(paths.releases, "1-00000000");
  }

  // A child pinned at `pinned` refreshing from the release directory `release` of its parent.
  Status ChildRefresh(const std::string& name, uint64_t pinned, const std::string& release,
                      uint64_t* trusted_root) {
    RepositoryService service(env_, release, store_.get());
    ServiceFetcher fetcher(&service);
    const std::string dir = tmp_.Sub(name);
    EXPECT_TRUE(Updater::Init(env_, dir, HubRoot(pinned)).ok());
    Updater child(env_, &fetcher, {dir, "node://v1/metadata", "node://v1/targets", dir + "/t"});
    Status s = child.Refresh();
    auto root = ReadFileToBytes(env_, dir + "/root.json", 1 << 20);
    auto env = tuf::ParseEnvelope(root.value(), 1 << 20);
    *trusted_root = tuf::ParseRoot(env->signed_json)->version;
    return s;
  }

  testing::TempDir tmp_;
  Env* env_ = Env::Default();
  std::string hub_ = tmp_.Sub("hub");
  std::map<std::string, PrivateKey> keys_;
  replication::EnvFetcher hub_fetcher_{env_};
  std::unique_ptr<replication::ChunkStore> store_;
};

// docs/operators/node.md: the pinned root may be "version 1 or later". The node's first
// release used to fail with "open …/trusted/1.root.json: No such file or directory".
TEST_F(ReleaseRootChainTest, NodeSetUpWithRoot2WritesAReleaseWithTheChainFrom2) {
  Rotate("root1", "root2", "ts2");
  const std::string release = NodeRelease("county", 2);
  ASSERT_FALSE(release.empty());
  EXPECT_FALSE(env_->FileExists(release + "/metadata/1.root.json"));
  EXPECT_EQ(ReadFileToBytes(env_, release + "/metadata/2.root.json", 1 << 20).value(), HubRoot(2));
  // A child pinned at 1 walks 1 -> 2 from it (2.root.json is the whole step) and verifies
  // what the rotated keys signed.
  uint64_t root = 0;
  Status s = ChildRefresh("school", 1, release, &root);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(root, 2u);
}

// A node set up with root 3 cannot relay 1 -> 2. A child pinned at 1 must not read the
// missing 2.root.json as "no newer root" (it would then refuse the rotated timestamp key and
// blame the parent): the parent answers 503 and the child tries another source.
TEST_F(ReleaseRootChainTest, ChildBelowTheRelayedChainIsSentToAnotherSource) {
  Rotate("root1", "root2", "ts2");
  Rotate("root2", "root3", "ts3");
  const std::string release = NodeRelease("county", 3);
  ASSERT_FALSE(release.empty());
  uint64_t root = 0;
  Status s = ChildRefresh("school1", 1, release, &root);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("root chain from version 3"), std::string::npos) << s.ToString();
  EXPECT_EQ(root, 1u);
  // A child pinned at 2 needs only 3.root.json from it.
  s = ChildRefresh("school2", 2, release, &root);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(root, 3u);
  // The version after the chain is plainly absent.
  RepositoryService service(env_, release, store_.get());
  HttpRequest request{"GET", "/v1/metadata/4.root.json", "", {}, ""};
  EXPECT_EQ(service.Handle(request).status, 404);
}

TEST(ReleaseFilesTest, RoundTripsAndRefusesWhatIsNotAList) {
  replication::PlannedFile f;
  f.path = "media/k12-0000abcd/第1课.mp4";
  f.length = 123456;
  f.sha256[0] = 0xab;
  f.index_id[31] = 0x01;
  const std::string text = EncodeReleaseFiles({f, f});
  EXPECT_TRUE(text.starts_with("tiersync-files 1\n")) << text;
  auto back = DecodeReleaseFiles(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].path, f.path);
  EXPECT_EQ((*back)[1].length, f.length);
  EXPECT_EQ((*back)[1].sha256, f.sha256);
  EXPECT_EQ((*back)[1].index_id, f.index_id);
  EXPECT_EQ(DecodeReleaseFiles("tiersync-files 1\nnot a line\n").status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(DecodeReleaseFiles("something else 1\n").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeReleaseFiles("tiersync-files 2\n").status().code(), StatusCode::kNewerFormat);
}

// SwitchCurrent keeps the new release, the previous one and the pinned ones; nothing else.
TEST(ReleaseFilesTest, SwitchKeepsCurrentPreviousAndPinned) {
  testing::TempDir tmp;
  Env* env = Env::Default();
  NodePaths paths(tmp.Sub("node"));
  for (int v = 1; v <= 4; ++v) {
    const std::string dir = JoinPath(paths.releases, std::to_string(v) + "-00000000");
    ASSERT_TRUE(CreateDirs(env, dir).ok());
    ServedRelease r;
    r.version = v;
    r.release = "r" + std::to_string(v);
    ASSERT_TRUE(
        WriteFileAtomically(env, JoinPath(dir, "release.json"), AsBytes(EncodeServedRelease(r)))
            .ok());
  }
  ASSERT_TRUE(SwitchCurrent(env, paths, "4-00000000", "3-00000000", {"r1"}).ok());
  EXPECT_EQ(*KeptReleaseDirs(env, paths),
            (std::vector<std::string>{"1-00000000", "3-00000000", "4-00000000"}));
  ASSERT_TRUE(SwitchCurrent(env, paths, "4-00000000", "3-00000000").ok());
  EXPECT_EQ(*KeptReleaseDirs(env, paths), (std::vector<std::string>{"3-00000000", "4-00000000"}));
}

}  // namespace
}  // namespace tiersync::node
