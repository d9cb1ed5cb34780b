#include "hub/publisher.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "base/bytes.h"
#include "base/fault_env.h"
#include "base/hex.h"
#include "base/random.h"
#include "catalogs/resource.h"
#include "hub/hub_dir.h"
#include "hub/signed_release.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::hub {
namespace {

namespace tuf = protocol::tuf;
using catalogs::Resource;

tuf::Key KeyOf(const PrivateKey& k) {
  PublicKey p = k.Public();
  return tuf::MakeKey(p.keytype(), p.scheme(), p.public_value());
}

class PublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HubInitOptions init;
    for (const char* role : {"root", "timestamp", "snapshot", "targets"}) {
      tuf::Key k = KeyOf(key_);
      init.root.keys[tuf::KeyId(k)] = k;
      init.root.roles[role] = tuf::Role{{tuf::KeyId(k)}, 1};
    }
    init.keys = {&key_};
    init.bin_keys = {KeyOf(key_)};
    init.bin_digits = 1;
    init.now = now_;
    ASSERT_TRUE(InitHub(env_, hub_, init).ok());
  }

  // Writes a record and its media into the input directory.
  Resource Add(const std::string& id, const std::string& category = "党史学习", uint64_t seed = 1) {
    Resource r;
    r.id = id;
    r.title = "资源 " + id;
    r.provider = "中央电化教育馆";
    r.placements = {{"k12", "专题教育", category}};
    std::string bytes(3000 + seed, 'x');
    Random rnd(seed);
    for (char& c : bytes) c = static_cast<char>(rnd.Next());
    WriteMedia(id, "talk.mp4", bytes);
    r.files = {{"talk.mp4", "video/mp4", bytes.size(), Sha256(AsBytes(bytes)), std::nullopt}};
    Save(r);
    return r;
  }
  void WriteMedia(const std::string& id, const std::string& name, const std::string& bytes) {
    ASSERT_TRUE(CreateDirs(env_, JoinPath(input_, "media/" + id)).ok());
    ASSERT_TRUE(WriteFileAtomically(env_, JoinPath(input_, "media/" + id + "/" + name),
                                    AsBytes(bytes), false)
                    .ok());
  }
  void Save(const Resource& r) {
    ASSERT_TRUE(CreateDirs(env_, JoinPath(input_, "resources")).ok());
    ASSERT_TRUE(WriteFileAtomically(env_, JoinPath(input_, "resources/" + r.id + ".json"),
                                    AsBytes(catalogs::EncodeResource(r)), false)
                    .ok());
  }
  Result<PublishReport> Run(replication::KeyRing keys = {}) {
    PublishOptions o;
    o.input = input_;
    o.publisher = {"发布员", "pub@hub.example.edu.cn"};
    o.keys = keys.empty() ? replication::KeyRing{&key_} : keys;
    o.now = now_;
    return Publish(env_, hub_, o);
  }
  // The signed targets of the hub, path -> entry, over every bin.
  std::map<std::string, tuf::TargetFile> SignedTargets() {
    auto repo = replication::TufRepository::Open(env_, JoinPath(hub_, "tuf"));
    EXPECT_TRUE(repo.ok());
    std::map<std::string, tuf::TargetFile> out;
    for (int i = 0; i < 16; ++i) {
      std::string bin = "bin-" + std::string(1, "0123456789abcdef"[i]);
      for (const auto& [path, tf] : (*repo->targets(bin))->targets) out[path] = tf;
    }
    return out;
  }

  Env* env_ = Env::Default();
  testing::TempDir tmp_;
  std::string hub_ = tmp_.Sub("hub"), input_ = tmp_.Sub("input");
  PrivateKey key_ = std::move(PrivateKey::Generate("ed25519")).value();
  int64_t now_ = static_cast<int64_t>(Env::Default()->NowMicros() / 1000000);
};

TEST_F(PublisherTest, PublishesSignsAndIsIdempotent) {
  Resource a = Add("k12-aaaa0001"), b = Add("k12-bbbb0002", "品德教育", 2);
  auto r1 = Run();
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_TRUE(r1->published);
  EXPECT_EQ(r1->release, "r1");
  EXPECT_EQ(r1->diff.added, (std::vector<std::string>{"k12-aaaa0001", "k12-bbbb0002"}));
  EXPECT_EQ(r1->files_read, 2u);
  auto targets = SignedTargets();
  ASSERT_EQ(targets.size(), 2u);
  const tuf::TargetFile& ta = targets.at("national/k12-aaaa0001/talk.mp4");
  EXPECT_EQ(ta.length, a.files[0].size);
  EXPECT_EQ(ta.hashes.at("sha256"), ToHex(a.files[0].sha256));
  ASSERT_TRUE(ta.custom && ta.custom->Find("chunk_index"));
  EXPECT_EQ(ta.custom->Find("resource")->as_string(), "k12-aaaa0001");

  auto signed_release = ReadSignedRelease(env_, HubPaths(hub_));
  ASSERT_TRUE(signed_release.ok() && signed_release->has_value());
  EXPECT_EQ((*signed_release)->release, "r1");
  EXPECT_EQ(ToHex((*signed_release)->digest), r1->content_digest);

  // Same input again: nothing new, and media are not read again.
  auto again = Run();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->published);
  EXPECT_EQ(again->release, "r1");
  EXPECT_EQ(again->files_read, 0u);
  EXPECT_EQ(again->files_unchanged, 2u);
  auto git = catalogs::GitCatalog::Open(JoinPath(hub_, "catalog.git"));
  EXPECT_EQ((*git)->Releases()->size(), 1u);
}

TEST_F(PublisherTest, NextReleaseRetiresChangesAndMoves) {
  Resource a = Add("k12-aaaa0001"), b = Add("k12-bbbb0002", "品德教育", 2);
  Resource c = Add("k12-cccc0003", "劳动教育", 3);
  ASSERT_TRUE(Run().ok());
  auto before = SignedTargets();

  a.retired = true;
  Save(a);
  Add("k12-bbbb0002", "品德教育", 99);  // new bytes, same id
  c.placements.push_back({"k12", "课后服务", "研学实践"});
  Save(c);
  Add("k12-dddd0004", "党史学习", 4);
  auto r2 = Run();
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(r2->release, "r2");
  EXPECT_EQ(r2->previous, "r1");
  EXPECT_EQ(r2->diff.added, std::vector<std::string>{"k12-dddd0004"});
  EXPECT_EQ(r2->diff.retired, std::vector<std::string>{"k12-aaaa0001"});
  EXPECT_EQ(r2->diff.changed, std::vector<std::string>{"k12-bbbb0002"});
  EXPECT_EQ(r2->diff.moved, std::vector<std::string>{"k12-cccc0003"});
  EXPECT_EQ(r2->files_read, 2u);       // the changed and the new file
  EXPECT_EQ(r2->files_unchanged, 1u);  // c's
  auto after = SignedTargets();
  EXPECT_FALSE(after.contains("national/k12-aaaa0001/talk.mp4"));
  EXPECT_TRUE(after.contains("national/k12-dddd0004/talk.mp4"));
  EXPECT_NE(after.at("national/k12-bbbb0002/talk.mp4").hashes,
            before.at("national/k12-bbbb0002/talk.mp4").hashes);
  EXPECT_EQ(after.at("national/k12-cccc0003/talk.mp4"),
            before.at("national/k12-cccc0003/talk.mp4"));
  EXPECT_EQ(r2->targets_removed, 1u);
  EXPECT_EQ(r2->targets_added, 2u);
}

TEST_F(PublisherTest, BadInputIsRefusedWithEveryProblemAndNothingIsCommitted) {
  Add("k12-aaaa0001");
  ASSERT_TRUE(Run().ok());
  auto git = catalogs::GitCatalog::Open(JoinPath(hub_, "catalog.git"));
  const std::string head = (*git)->MainHead()->value().commit;
  auto signed_before = ReadSignedRelease(env_, HubPaths(hub_));

  // Missing title.
  ASSERT_TRUE(WriteFileAtomically(
                  env_, JoinPath(input_, "resources/k12-bbbb0002.json"),
                  AsBytes(R"({"format": "tiersync-resource 1", "id": "k12-bbbb0002"})"), false)
                  .ok());
  // Unknown category.
  Resource c = Add("k12-cccc0003");
  c.placements[0].category = "不存在的栏目";
  Save(c);
  // A file with a wrong hash.
  Resource d = Add("k12-dddd0004");
  d.files[0].sha256 = Sha256(AsBytes("something else"));
  Save(d);
  // An id reused for a different resource.
  Resource e = Add("k12-aaaa0001");
  e.provider = "另一个单位";
  Save(e);

  auto r = Run();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("3 problems in the input; nothing was published:"), std::string::npos) << m;
  EXPECT_NE(m.find("resource k12-bbbb0002: missing field \"title\""), std::string::npos) << m;
  EXPECT_NE(
      m.find("resource k12-cccc0003.placements[0].category: unknown category \"不存在的栏目\""),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("resource k12-aaaa0001: id reused for a different resource"), std::string::npos)
      << m;
  // Records are checked before media: the wrong hash shows once the records are right.
  ASSERT_TRUE(env_->RemoveFile(JoinPath(input_, "resources/k12-bbbb0002.json")).ok());
  c.placements[0].category = "党史学习";
  Save(c);
  e.provider = "中央电化教育馆";
  Save(e);
  r = Run();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("resource k12-dddd0004.files[0].sha256: the record says " +
                                      ToHex(d.files[0].sha256)),
            std::string::npos)
      << r.status().message();

  // Nothing moved: same commit, same signed release.
  EXPECT_EQ((*git)->MainHead()->value().commit, head);
  EXPECT_EQ((*git)->Releases()->size(), 1u);
  auto signed_after = ReadSignedRelease(env_, HubPaths(hub_));
  EXPECT_EQ((*signed_after)->digest, (*signed_before)->digest);

  // A resource that disappears from the input is refused too.
  ASSERT_TRUE(env_->RemoveFile(JoinPath(input_, "resources/k12-aaaa0001.json")).ok());
  r = Run();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("resource k12-aaaa0001 (release r1) is missing from the "
                                      "input: retire it"),
            std::string::npos)
      << r.status().message();
}

TEST_F(PublisherTest, InterruptedAfterTaggingFinishesTheSameRelease) {
  Add("k12-aaaa0001");
  PrivateKey stranger = std::move(PrivateKey::Generate("ed25519")).value();
  // Signing fails (no key the metadata trusts) after the commit and tag are made.
  auto failed = Run({&stranger});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kFailedPrecondition);
  auto git = catalogs::GitCatalog::Open(JoinPath(hub_, "catalog.git"));
  ASSERT_EQ((*git)->Releases()->size(), 1u);
  EXPECT_FALSE(ReadSignedRelease(env_, HubPaths(hub_))->has_value());

  auto done = Run();
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(done->published);
  EXPECT_EQ(done->release, "r1");
  EXPECT_EQ((*git)->Releases()->size(), 1u);
  EXPECT_EQ((*ReadSignedRelease(env_, HubPaths(hub_)))->release, "r1");
}

TEST_F(PublisherTest, AHubIdleForMonthsStillPublishes) {
  // r1 signed 100 days ago: its timestamp, snapshot and every bin have expired since.
  const int64_t real_now = now_;
  now_ = real_now - 100 * 86400;
  Add("k12-aaaa0001");
  auto r1 = Run();
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_FALSE(r1->renewed);
  now_ = real_now;
  Add("k12-bbbb0002", "品德教育", 2);
  auto r2 = Run();
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_TRUE(r2->renewed);
  EXPECT_EQ(r2->release, "r2");
  EXPECT_EQ((*ReadSignedRelease(env_, HubPaths(hub_)))->release, "r2");
  // Every bin is valid again, not only the ones r2 touched.
  auto repo = replication::TufRepository::Open(env_, JoinPath(hub_, "tuf"));
  for (int i = 0; i < 16; ++i) {
    std::string bin = "bin-" + std::string(1, "0123456789abcdef"[i]);
    EXPECT_GT((*repo->targets(bin))->expires, real_now) << bin;
  }
}

TEST_F(PublisherTest, SecondPublisherWaitsForTheLock) {
  Add("k12-aaaa0001");
  auto lock = LockHub(env_, HubPaths(hub_));
  ASSERT_TRUE(lock.ok());
  EXPECT_EQ(Run().status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tiersync::hub

namespace tiersync::hub {
namespace {

// Crash-point loop of a publish (issue 7): r1 is published; r2 (one resource changed, one
// added) is published through a FaultEnv that makes the process die at Env operation k
// (every later file, directory and lock operation fails). Then a normal run must finish r2 —
// exactly one new release, signed, its media stored — and a third run must find nothing to
// publish (it verifies the signed release through the full TUF client workflow first).
// libgit2 and LMDB do their own I/O, so their writes are not among the k; the process dies at
// the next Env operation after them. Every operation is a crash point (if there are more
// than 300, they are spread; TIERSYNC_CRASH_STRIDE=N takes every N-th).
TEST_F(PublisherTest, CrashAtEveryOperationOfAPublishFinishesOnTheRerun) {
  Add("k12-aaaa0001");
  Add("k12-bbbb0002", "品德教育", 2);
  ASSERT_TRUE(Run().ok());
  Add("k12-aaaa0001", "党史学习", 7);  // changed media
  Add("k12-cccc0003", "品德教育", 3);  // added
  const std::string base = tmp_.Sub("base");
  std::filesystem::copy(hub_, base, std::filesystem::copy_options::recursive);

  auto publish_r2 = [&](Env* env, const std::string& dir) {
    PublishOptions o;
    o.input = input_;
    o.publisher = {"发布员", "pub@hub.example.edu.cn"};
    o.keys = {&key_};
    o.now = now_;
    return Publish(env, dir, o);
  };
  // How many Env operations an uninterrupted publish of r2 takes.
  uint64_t total = 0;
  {
    const std::string dir = tmp_.Sub("count");
    std::filesystem::copy(base, dir, std::filesystem::copy_options::recursive);
    FaultEnv count(Env::Default(), 1);
    auto r = publish_r2(&count, dir);
    ASSERT_TRUE(r.ok() && r->release == "r2") << r.status().ToString();
    total = count.operation_count();
    std::filesystem::remove_all(dir);
  }
  ASSERT_GT(total, 50u);
  const char* stride_env = std::getenv("TIERSYNC_CRASH_STRIDE");
  const uint64_t stride =
      stride_env ? std::max<uint64_t>(1, std::strtoull(stride_env, nullptr, 10)) : total / 300 + 1;
  uint64_t trials = 0;
  for (uint64_t k = 1; k <= total; k += stride) {
    SCOPED_TRACE("crash at operation " + std::to_string(k) + " of " + std::to_string(total));
    const std::string dir = tmp_.Sub("k" + std::to_string(k));
    std::filesystem::copy(base, dir, std::filesystem::copy_options::recursive);
    {
      FaultEnv fault(Env::Default(), k);
      fault.CrashAtOperation(k);
      auto crashed = publish_r2(&fault, dir);
      EXPECT_FALSE(crashed.ok() && !fault.crashed());
    }
    auto rerun = publish_r2(env_, dir);
    ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
    EXPECT_EQ(rerun->release, "r2");
    auto git = catalogs::GitCatalog::Open(JoinPath(dir, "catalog.git"));
    ASSERT_TRUE(git.ok());
    EXPECT_EQ((*git)->Releases()->size(), 2u);
    auto signed_release = ReadSignedRelease(env_, HubPaths(dir));
    ASSERT_TRUE(signed_release.ok() && signed_release->has_value());
    EXPECT_EQ((*signed_release)->release, "r2");
    auto third = publish_r2(env_, dir);
    ASSERT_TRUE(third.ok()) << third.status().ToString();
    EXPECT_FALSE(third->published);
    std::filesystem::remove_all(dir);
    ++trials;
  }
  std::printf("publish crash points: %llu Env operations, %llu crash points\n",
              static_cast<unsigned long long>(total), static_cast<unsigned long long>(trials));
}

}  // namespace
}  // namespace tiersync::hub
