// Conformance-style tests of the TUF client (issue 3, item 1): one test per scenario of the
// specification's client workflow and of threats.md's attack table, each able to fail.
#include "replication/tuf_updater.h"

#include "base/sha256.h"
#include "base/sha512.h"
#include "protocol/tuf_time.h"
#include "replication/tuf_test_repo.h"

namespace tiersync::replication {
namespace {

namespace tuf = protocol::tuf;
using protocol::Json;

class TufUpdaterTest : public TufTestBase {
 protected:
  void AddLesson(const std::string& path, const std::string& content) {
    Publish([&](TufRepository& r) {
      ASSERT_TRUE(r.AddTarget("targets", path, AsBytes(content)).ok());
    });
  }
  static bool Contains(const Status& s, const std::string& what) {
    return s.message().find(what) != std::string::npos;
  }
};

TEST_F(TufUpdaterTest, RefreshThenDownloadVerifiedTarget) {
  AddLesson("lessons/数学/第一课.mp4", "video bytes");
  Updater u = MakeUpdater();
  ASSERT_TRUE(u.Refresh().ok());
  auto info = u.GetTargetInfo("lessons/数学/第一课.mp4");
  ASSERT_TRUE(info.ok() && info->has_value()) << info.status().ToString();
  auto local = u.DownloadTarget(**info);
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  auto got = ReadBytes(*local);
  EXPECT_EQ(std::string(got.begin(), got.end()), "video bytes");
  EXPECT_EQ(TrustedVersion("timestamp"), 2u);
  EXPECT_EQ(TrustedVersion("targets"), 2u);
}

TEST_F(TufUpdaterTest, RequestsFollowTheSpecOrder) {
  fetcher_.ClearRequests();
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(fetcher_.requests(),
            (std::vector<std::string>{
                "mem://repo/metadata/2.root.json", "mem://repo/metadata/timestamp.json",
                "mem://repo/metadata/1.snapshot.json", "mem://repo/metadata/1.targets.json"}));
  // A second refresh with nothing new re-reads only root N+1 and the timestamp.
  fetcher_.ClearRequests();
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(fetcher_.requests().size(), 2u);
}

TEST_F(TufUpdaterTest, CachedTargetIsNotDownloadedAgain) {
  AddLesson("a.pdf", "pdf");
  Updater u = MakeUpdater();
  auto info = u.GetTargetInfo("a.pdf");
  ASSERT_TRUE(info.ok() && info->has_value());
  ASSERT_TRUE(u.DownloadTarget(**info).ok());
  fetcher_.ClearRequests();
  ASSERT_TRUE(u.DownloadTarget(**info).ok());
  EXPECT_TRUE(fetcher_.requests().empty());
}

TEST_F(TufUpdaterTest, DownloadBeforeRefreshIsRefused) {
  Updater u = MakeUpdater();
  TargetInfo info{"a", tuf::TargetFile{1, {{"sha256", std::string(64, '0')}}, std::nullopt}};
  EXPECT_EQ(u.DownloadTarget(info).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(TufUpdaterTest, UnknownTargetIsNotFound) {
  Updater u = MakeUpdater();
  auto info = u.GetTargetInfo("nothing/here");
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->has_value());
}

// --- Rollback (A2) ---------------------------------------------------------------------------

TEST_F(TufUpdaterTest, TimestampRollbackIsRejected) {
  auto old_ts = ReadBytes("/repo/metadata/timestamp.json");
  AddLesson("a", "1");
  ASSERT_TRUE(Refresh().ok());
  ASSERT_EQ(TrustedVersion("timestamp"), 2u);
  WriteBytes("/repo/metadata/timestamp.json", old_ts);
  Status s = Refresh();
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
  EXPECT_TRUE(Contains(s, "rollback: timestamp version 1")) << s.ToString();
  EXPECT_EQ(TrustedVersion("timestamp"), 2u);
}

TEST_F(TufUpdaterTest, SnapshotVersionRollbackInTimestampIsRejected) {
  AddLesson("a", "1");
  ASSERT_TRUE(Refresh().ok());
  Json ts = SignedOf("timestamp.json");  // names snapshot v2
  ts.Set("version", Json(int64_t{3}));
  Json meta = Json::Object(), snap = Json::Object();
  snap.Set("version", Json(int64_t{1}));
  meta.Set("snapshot.json", snap);
  ts.Set("meta", meta);
  WriteString("/repo/metadata/timestamp.json", Craft(ts, {"timestamp"}));
  Status s = Refresh();
  EXPECT_TRUE(Contains(s, "rollback: snapshot")) << s.ToString();
}

TEST_F(TufUpdaterTest, TargetsRollbackInSnapshotIsRejected) {
  AddLesson("a", "1");
  ASSERT_TRUE(Refresh().ok());  // trusts snapshot v2 naming targets v2
  Json snap = SignedOf("2.snapshot.json");
  snap.Set("version", Json(int64_t{3}));
  Json meta = Json::Object(), t = Json::Object();
  t.Set("version", Json(int64_t{1}));
  meta.Set("targets.json", t);
  snap.Set("meta", meta);
  std::string snap_bytes = Craft(snap, {"snapshot"});
  WriteString("/repo/metadata/3.snapshot.json", snap_bytes);
  Json ts = SignedOf("timestamp.json");
  ts.Set("version", Json(int64_t{3}));
  Json tmeta = Json::Object(), s3 = Json::Object();
  s3.Set("version", Json(int64_t{3}));
  tmeta.Set("snapshot.json", s3);
  ts.Set("meta", tmeta);
  WriteString("/repo/metadata/timestamp.json", Craft(ts, {"timestamp"}));
  Status s = Refresh();
  EXPECT_TRUE(Contains(s, "rollback")) << s.ToString();
  EXPECT_EQ(TrustedVersion("snapshot"), 2u);
}

// --- Freeze (A3) and expiry ----------------------------------------------------------------

TEST_F(TufUpdaterTest, FrozenTimestampExpires) {
  ASSERT_TRUE(Refresh().ok());
  AdvanceDays(2);  // the repository (or a mirror replaying it) stopped: timestamp is 1 day
  Status s = Refresh();
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
  EXPECT_TRUE(Contains(s, "expired: timestamp")) << s.ToString();
}

TEST_F(TufUpdaterTest, ExpiredSnapshotIsRejected) {
  ASSERT_TRUE(Refresh().ok());
  AdvanceDays(8);  // snapshot lasts 7 days; refresh only the timestamp
  TufRepository repo = Repo();
  ASSERT_TRUE(repo.RefreshTimestamp(Keys(), Now()).ok());
  Status s = Refresh();
  EXPECT_TRUE(Contains(s, "expired: snapshot")) << s.ToString();
}

TEST_F(TufUpdaterTest, ExpiredRootIsRejected) {
  AdvanceDays(400);
  Status s = Refresh();
  EXPECT_TRUE(Contains(s, "expired: root")) << s.ToString();
}

// --- Fast-forward attack and recovery (A4) --------------------------------------------------

TEST_F(TufUpdaterTest, FastForwardAttackRecoversAfterKeyRotation) {
  ASSERT_TRUE(Refresh().ok());
  // An attacker with the timestamp key signs version 2^40.
  Json ts = SignedOf("timestamp.json");
  ts.Set("version", Json(int64_t{1} << 40));
  auto good_ts = ReadBytes("/repo/metadata/timestamp.json");
  WriteString("/repo/metadata/timestamp.json", Craft(ts, {"timestamp"}));
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(TrustedVersion("timestamp"), uint64_t{1} << 40);
  WriteBytes("/repo/metadata/timestamp.json", good_ts);
  EXPECT_TRUE(Contains(Refresh(), "rollback"));
  // The ministry rotates the timestamp key; clients recover.
  Publish(
      [&](TufRepository& r) {
        tuf::Root root = r.root();
        root.roles["timestamp"].keyids = {KeyIdOf("timestamp2")};
        root.keys[KeyIdOf("timestamp2")] = PublicOf("timestamp2");
        r.SetRoot(root);
      },
      KeyRing{&Key("root"), &Key("timestamp2"), &Key("snapshot"), &Key("targets")});
  Status s = Refresh();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_LT(TrustedVersion("timestamp"), uint64_t{1} << 40);
}

// --- Mix and match (A5) ---------------------------------------------------------------------

TEST_F(TufUpdaterTest, TargetsNotMatchingSnapshotHashIsRejected) {
  AddLesson("a", "1");
  // Replace targets v2 with another validly signed v2 (different content).
  Json t = SignedOf("2.targets.json");
  t.Set("targets", Json::Object());
  WriteString("/repo/metadata/2.targets.json", Craft(t, {"targets"}));
  Status s = Refresh();
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
  EXPECT_TRUE(Contains(s, "mismatch")) << s.ToString();
}

TEST_F(TufUpdaterTest, SnapshotOfAnotherVersionIsRejected) {
  AddLesson("a", "1");
  // The mirror serves snapshot v1's bytes under the name 2.snapshot.json.
  WriteBytes("/repo/metadata/2.snapshot.json", ReadBytes("/repo/metadata/1.snapshot.json"));
  Status s = Refresh();
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed) << s.ToString();
}

// --- Signatures and thresholds (A8) --------------------------------------------------------

TEST_F(TufUpdaterTest, InvalidSignatureIsRejected) {
  auto bytes = ReadBytes("/repo/metadata/timestamp.json");
  std::string text(bytes.begin(), bytes.end());
  size_t sig = text.find("\"sig\": \"") + 8;
  text[sig] = text[sig] == '0' ? '1' : '0';
  WriteString("/repo/metadata/timestamp.json", text);
  Status s = Refresh();
  EXPECT_TRUE(Contains(s, "threshold not met")) << s.ToString();
}

TEST_F(TufUpdaterTest, UnsignedMetadataIsRejected) {
  WriteString("/repo/metadata/timestamp.json", Craft(SignedOf("timestamp.json"), {}));
  EXPECT_TRUE(Contains(Refresh(), "threshold not met"));
}

TEST_F(TufUpdaterTest, SignatureByAKeyOutsideTheRoleIsRejected) {
  WriteString("/repo/metadata/timestamp.json",
              Craft(SignedOf("timestamp.json"), {"snapshot", "targets"}));
  EXPECT_TRUE(Contains(Refresh(), "threshold not met"));
}

TEST_F(TufUpdaterTest, WrongTypeIsRejected) {
  WriteBytes("/repo/metadata/timestamp.json", ReadBytes("/repo/metadata/1.snapshot.json"));
  Status s = Refresh();
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_TRUE(Contains(s, "_type")) << s.ToString();
}

class TufThresholdTest : public TufUpdaterTest {
 protected:
  void SetUp() override {
    TufUpdaterTest::SetUp();
    // Targets now needs 2 of {targets, targets2}.
    Publish(
        [&](TufRepository& r) {
          tuf::Root root = r.root();
          AddRootKey(&root, "targets", "targets2");
          root.roles["targets"].threshold = 2;
          r.SetRoot(root);
        },
        Keys({"targets2"}));
    Status s = Refresh();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
};

TEST_F(TufThresholdTest, RepositoryRefusesToSignBelowThreshold) {
  TufRepository repo = Repo();
  ASSERT_TRUE(repo.AddTarget("targets", "x", AsBytes("x")).ok());
  Status s = repo.Publish(Keys(), Now());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
}

TEST_F(TufThresholdTest, OneOfTwoSignaturesIsRejectedAndTheSameKeyTwiceCountsOnce) {
  KeyRing both = Keys({"targets2"});
  Publish([&](TufRepository& r) { ASSERT_TRUE(r.AddTarget("targets", "x", AsBytes("x")).ok()); },
          both);
  ASSERT_TRUE(Refresh().ok());
  // Re-sign the next targets with "targets" twice (duplicate keyid) and publish it by hand.
  Publish([&](TufRepository& r) { ASSERT_TRUE(r.AddTarget("targets", "y", AsBytes("y")).ok()); },
          both);
  Json t = SignedOf("4.targets.json");
  std::string forged = Craft(t, {"targets", "targets"});
  WriteString("/repo/metadata/4.targets.json", forged);
  // Keep the snapshot's hash of targets consistent with the forged bytes (attacker has the
  // snapshot and timestamp keys too): only the threshold stands in the way.
  Json snap = SignedOf("4.snapshot.json");
  Json meta = Json::Object(), tm = Json::Object();
  tm.Set("version", Json(int64_t{4}));
  meta.Set("targets.json", tm);
  snap.Set("meta", meta);
  WriteString("/repo/metadata/4.snapshot.json", Craft(snap, {"snapshot"}));
  Json ts = SignedOf("timestamp.json");
  Json tsm = Json::Object(), sm = Json::Object();
  sm.Set("version", Json(int64_t{4}));
  tsm.Set("snapshot.json", sm);
  ts.Set("meta", tsm);
  WriteString("/repo/metadata/timestamp.json", Craft(ts, {"timestamp"}));
  Status s = Refresh();
  // A repeated keyid is refused outright (spec 4: keyids in signatures are unique).
  EXPECT_TRUE(Contains(s, "keyid " + KeyIdOf("targets") + " appears more than once"))
      << s.ToString();
}

// The same key listed under two keyids (one with an extra keyval field, so the keyids
// differ) must not reach a threshold of 2 on its own.
TEST_F(TufUpdaterTest, OneKeyUnderTwoKeyidsCountsOnce) {
  tuf::Root root = Repo().root();
  root.version = 2;
  tuf::Key twin = PublicOf("timestamp");
  twin.keyval.Set("note", Json("same key, other keyid"));
  const std::string twin_id = tuf::KeyId(twin);
  ASSERT_NE(twin_id, KeyIdOf("timestamp"));
  root.keys[twin_id] = twin;
  root.roles["timestamp"].keyids.push_back(twin_id);
  root.roles["timestamp"].threshold = 2;
  WriteString("/repo/metadata/2.root.json", Craft(tuf::ToJson(root), {"root"}));
  Json ts = SignedOf("timestamp.json");
  ts.Set("version", Json(int64_t{2}));
  std::string msg = tuf::SigningBytes(ts);
  auto sig = Key("timestamp").Sign(AsBytes(msg));
  ASSERT_TRUE(sig.ok());
  WriteString(
      "/repo/metadata/timestamp.json",
      tuf::SerializeEnvelope(ts, {{KeyIdOf("timestamp"), ToHex(*sig)}, {twin_id, ToHex(*sig)}}));
  Status s = Refresh();
  EXPECT_TRUE(Contains(s, "threshold not met (1 of 2")) << s.ToString();
}

// --- Root rotation ------------------------------------------------------------------------

TEST_F(TufUpdaterTest, RootRotationChainWithThresholdChanges) {
  // v2: root keys {root, root2}, threshold 2 (signed by root alone under v1's threshold 1
  // and by both under v2's).
  Publish(
      [&](TufRepository& r) {
        tuf::Root root = r.root();
        AddRootKey(&root, "root", "root2");
        root.roles["root"].threshold = 2;
        r.SetRoot(root);
      },
      Keys({"root2"}));
  // v3: root keys {root2, root3}, threshold 1 (v2 needs 2 of {root, root2}).
  Publish(
      [&](TufRepository& r) {
        tuf::Root root = r.root();
        root.roles["root"].keyids = {KeyIdOf("root2"), KeyIdOf("root3")};
        root.keys[KeyIdOf("root3")] = PublicOf("root3");
        root.roles["root"].threshold = 1;
        r.SetRoot(root);
      },
      Keys({"root2", "root3"}));
  Updater u(&env_, &fetcher_,
            {"/client/metadata", "mem://repo/metadata", "mem://repo/targets", "/client/targets",
             /*keep_root_history=*/true});
  ASSERT_TRUE(u.Refresh().ok());
  EXPECT_EQ(TrustedVersion("root"), 3u);
  // The chain a mirror relays to its children, byte for byte.
  for (int v : {2, 3}) {
    std::string name = std::to_string(v) + ".root.json";
    EXPECT_EQ(ReadBytes("/client/metadata/" + name), ReadBytes("/repo/metadata/" + name));
  }
}

TEST_F(TufUpdaterTest, RootNotSignedByTheOldKeysIsRejected) {
  tuf::Root root = Repo().root();
  root.version = 2;
  root.roles["root"].keyids = {KeyIdOf("evil")};
  root.keys[KeyIdOf("evil")] = PublicOf("evil");
  WriteString("/repo/metadata/2.root.json", Craft(tuf::ToJson(root), {"evil"}));
  Status s = Refresh();
  EXPECT_TRUE(Contains(s, "threshold not met")) << s.ToString();
  EXPECT_EQ(TrustedVersion("root"), 1u);
}

TEST_F(TufUpdaterTest, RootVersionSkipIsRejected) {
  tuf::Root root = Repo().root();
  root.version = 3;  // served as 2.root.json
  WriteString("/repo/metadata/2.root.json", Craft(tuf::ToJson(root), {"root"}));
  EXPECT_TRUE(Contains(Refresh(), "version mismatch"));
}

// --- A client set up after a root rotation (issue 17 item 3) --------------------------------

class TufRootChainTest : public TufUpdaterTest {
 protected:
  // Publishes root N+1 whose root key is `next_root` (signed by the current root key too), and
  // whose timestamp key is `next_timestamp`; the repository signs with these from then on.
  void RotateRoot(const std::string& old_root, const std::string& next_root,
                  const std::string& next_timestamp) {
    Publish(
        [&](TufRepository& r) {
          tuf::Root root = r.root();
          root.keys.clear();
          for (auto& [name, role] : root.roles) role.keyids.clear();
          AddRootKey(&root, "root", next_root);
          AddRootKey(&root, "timestamp", next_timestamp);
          AddRootKey(&root, "snapshot", "snapshot");
          AddRootKey(&root, "targets", "targets");
          r.SetRoot(root);
        },
        KeyRing{&Key(old_root), &Key(next_root), &Key(next_timestamp), &Key("snapshot"),
                &Key("targets")});
    signing_ = KeyRing{&Key(next_root), &Key(next_timestamp), &Key("snapshot"), &Key("targets")};
  }
  void AddLessonSigned(const std::string& path, const std::string& content) {
    Publish(
        [&](TufRepository& r) { ASSERT_TRUE(r.AddTarget("targets", path, AsBytes(content)).ok()); },
        signing_);
  }
  // A client in `dir` initialised with the repository's root version `version`.
  Updater ClientFrom(const std::string& dir, uint64_t version, bool keep_root_history) {
    auto root = ReadBytes("/repo/metadata/" + std::to_string(version) + ".root.json");
    EXPECT_TRUE(Updater::Init(&env_, dir, root).ok());
    return ClientIn(dir, keep_root_history);
  }
  Updater ClientIn(const std::string& dir, bool keep_root_history) {
    UpdaterOptions o{dir, "mem://repo/metadata", "mem://repo/targets", dir + "-targets"};
    o.keep_root_history = keep_root_history;
    return Updater(&env_, &fetcher_, o);
  }
  KeyRing signing_;
};

// docs/operators/node.md allows any root version >= 1 as the pinned root.
TEST_F(TufRootChainTest, InitFromRootVersion2ThenRefresh) {
  RotateRoot("root", "root2", "timestamp2");
  AddLessonSigned("a.pdf", "after the rotation");
  Updater u = ClientFrom("/c2", 2, /*keep_root_history=*/false);
  Status s = u.Refresh();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(u.trusted()->root().version, 2u);
  auto info = u.GetTargetInfo("a.pdf");
  ASSERT_TRUE(info.ok() && info->has_value()) << info.status().ToString();
  EXPECT_TRUE(u.DownloadTarget(**info).ok());
  // A later rotation reaches it like any client.
  RotateRoot("root2", "root3", "timestamp3");
  Updater again = ClientIn("/c2", false);
  s = again.Refresh();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(again.trusted()->root().version, 3u);
}

// keep_root_history keeps the chain from the version the client started at — the pinned
// root's own file too — so a node can relay it; before it, there is nothing to relay.
TEST_F(TufRootChainTest, KeepRootHistoryWritesTheChainFromThePinnedVersion) {
  RotateRoot("root", "root2", "timestamp2");
  Updater u = ClientFrom("/c2", 2, /*keep_root_history=*/true);
  ASSERT_TRUE(u.Refresh().ok());
  EXPECT_EQ(ReadBytes("/c2/2.root.json"), ReadBytes("/repo/metadata/2.root.json"));
  EXPECT_FALSE(env_.FileExists("/c2/1.root.json"));
  auto first = Updater::FirstKeptRoot(&env_, "/c2", 2);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 2u);

  RotateRoot("root2", "root3", "timestamp3");
  ASSERT_TRUE(ClientIn("/c2", true).Refresh().ok());
  EXPECT_EQ(ReadBytes("/c2/3.root.json"), ReadBytes("/repo/metadata/3.root.json"));
  EXPECT_EQ(Updater::FirstKeptRoot(&env_, "/c2", 3).value(), 2u);
  // A client pinned at 1 keeps 1, 2 and 3.
  ASSERT_TRUE(ClientFrom("/c1", 1, true).Refresh().ok());
  for (int v : {1, 2, 3}) {
    EXPECT_EQ(ReadBytes("/c1/" + std::to_string(v) + ".root.json"),
              ReadBytes("/repo/metadata/" + std::to_string(v) + ".root.json"));
  }
  EXPECT_EQ(Updater::FirstKeptRoot(&env_, "/c1", 3).value(), 1u);
  // The run ends at a gap; the current version itself must be there.
  ASSERT_TRUE(env_.RemoveFile("/c1/2.root.json").ok());
  EXPECT_EQ(Updater::FirstKeptRoot(&env_, "/c1", 3).value(), 3u);
  EXPECT_EQ(Updater::FirstKeptRoot(&env_, "/c1", 4).status().code(), StatusCode::kNotFound);
}

// A client pinned at 1 that refreshed before the rotation walks to root 2 and trusts what
// the rotated keys sign.
TEST_F(TufRootChainTest, ClientFromBeforeTheRotationFollowsIt) {
  Updater before = ClientFrom("/c1", 1, true);
  ASSERT_TRUE(before.Refresh().ok());
  RotateRoot("root", "root2", "timestamp2");
  AddLessonSigned("b.pdf", "after");
  Updater after = ClientIn("/c1", true);
  Status s = after.Refresh();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(after.trusted()->root().version, 2u);
  auto info = after.GetTargetInfo("b.pdf");
  EXPECT_TRUE(info.ok() && info->has_value());
}

// --- Endless data (A6), hashes and lengths ---------------------------------------------------

TEST_F(TufUpdaterTest, EndlessTimestampIsCutOff) {
  WriteString("/repo/metadata/timestamp.json", std::string(1 << 20, ' '));
  EXPECT_EQ(Refresh().code(), StatusCode::kResourceExhausted);
}

TEST_F(TufUpdaterTest, TargetWithWrongBytesIsRejectedAndNotStored) {
  AddLesson("v.mp4", "the real video");
  Updater u = MakeUpdater();
  auto info = u.GetTargetInfo("v.mp4");
  ASSERT_TRUE(info.ok() && info->has_value());
  std::string hash = (*info)->file.hashes.at("sha256");
  WriteString("/repo/targets/" + hash + ".v.mp4", "the fake video");  // same length
  auto r = u.DownloadTarget(**info);
  EXPECT_EQ(r.status().code(), StatusCode::kVerificationFailed);
  EXPECT_FALSE(env_.FileExists("/client/targets/v.mp4"));
  WriteString("/repo/targets/" + hash + ".v.mp4", "the real video, and then some");
  EXPECT_FALSE(u.DownloadTarget(**info).ok());
}

// A target whose entry lists only sha512 (python-tuf and go-tuf repositories may write
// one): downloaded under its sha512 consistent-snapshot name and checked, not refused.
TEST_F(TufUpdaterTest, Sha512OnlyTarget) {
  const std::string bytes = "a lesson hashed with sha512";
  const std::string sha512 = ToHex(Sha512(AsBytes(bytes)));
  Publish([&](TufRepository& r) {
    ASSERT_TRUE(r.AddTargetEntry("targets", "lessons/s.pdf",
                                 tuf::TargetFile{bytes.size(), {{"sha512", sha512}}, std::nullopt})
                    .ok());
  });
  ASSERT_TRUE(CreateDirs(&env_, "/repo/targets/lessons").ok());
  WriteString("/repo/targets/lessons/" + sha512 + ".s.pdf", bytes);
  Updater u = MakeUpdater();
  auto info = u.GetTargetInfo("lessons/s.pdf");
  ASSERT_TRUE(info.ok() && info->has_value()) << info.status().ToString();
  auto local = u.DownloadTarget(**info);
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  auto got = ReadBytes(*local);
  EXPECT_EQ(std::string(got.begin(), got.end()), bytes);
  // Other bytes of the same length under that name are refused and not stored.
  ASSERT_TRUE(env_.RemoveFile(*local).ok());
  std::string fake = bytes;
  fake[0] = 'A';
  WriteString("/repo/targets/lessons/" + sha512 + ".s.pdf", fake);
  Status s = u.DownloadTarget(**info).status();
  EXPECT_TRUE(Contains(s, "sha512 mismatch")) << s.ToString();
  EXPECT_FALSE(env_.FileExists(*local));
}

// sha512 beside sha256: both are checked, so bytes matching only the sha256 are refused.
TEST_F(TufUpdaterTest, Sha512BesideSha256IsCheckedToo) {
  const std::string bytes = "both hashes";
  const std::string sha256 = ToHex(Sha256(AsBytes(bytes)));
  Publish([&](TufRepository& r) {
    tuf::TargetFile file{bytes.size(),
                         {{"sha256", sha256}, {"sha512", ToHex(Sha512(AsBytes("other")))}},
                         std::nullopt};
    ASSERT_TRUE(r.AddTargetEntry("targets", "b.pdf", file).ok());
  });
  WriteString("/repo/targets/" + sha256 + ".b.pdf", bytes);
  Updater u = MakeUpdater();
  auto info = u.GetTargetInfo("b.pdf");
  ASSERT_TRUE(info.ok() && info->has_value()) << info.status().ToString();
  Status s = u.DownloadTarget(**info).status();
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
  EXPECT_TRUE(Contains(s, "sha512 mismatch")) << s.ToString();
}

// A timestamp signed twice under one keyid: refused, though one signature meets threshold 1.
TEST_F(TufUpdaterTest, DuplicateKeyIdInSignatures) {
  Json ts = SignedOf("timestamp.json");
  ts.Set("version", Json(int64_t{2}));
  WriteString("/repo/metadata/timestamp.json", Craft(ts, {"timestamp", "timestamp"}));
  Status s = Refresh();
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
  EXPECT_TRUE(Contains(s, "appears more than once in signatures")) << s.ToString();
  EXPECT_EQ(TrustedVersion("timestamp"), 0u);
}

// --- Delegations (A9) -------------------------------------------------------------------------

class TufDelegationTest : public TufUpdaterTest {
 protected:
  tuf::DelegatedRole Role(const std::string& name, std::vector<std::string> paths,
                          bool terminating = false) {
    tuf::DelegatedRole d;
    d.name = name;
    d.paths = std::move(paths);
    d.terminating = terminating;
    return d;
  }
  std::optional<TargetInfo> Lookup(const std::string& path) {
    Updater u = MakeUpdater();
    auto info = u.GetTargetInfo(path);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : std::nullopt;
  }
  // Every trusted path, as ListAllTargets() sees them.
  std::vector<std::string> AllPaths() {
    Updater u = MakeUpdater();
    auto all = u.ListAllTargets();
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    std::vector<std::string> out;
    if (all.ok()) {
      for (const auto& t : *all) out.push_back(t.path);
    }
    return out;
  }
};

// A repository where nothing changes stays usable: renewal re-signs what nears expiry and
// the keys allow; a province's role, whose key the hub does not hold, is left to the province.
TEST_F(TufDelegationTest, RenewExpiringKeepsAnUnchangedRepositoryAlive) {
  Publish(
      [&](TufRepository& r) {
        ASSERT_TRUE(r.AddTarget("targets", "national/a.mp4", AsBytes("a")).ok());
        ASSERT_TRUE(
            r.Delegate("targets", Role("330000", {"regions/330000/*"}), {PublicOf("330000")}).ok());
        ASSERT_TRUE(r.AddTarget("330000", "regions/330000/z.mp4", AsBytes("z")).ok());
      },
      Keys({"330000"}));
  ASSERT_TRUE(Refresh().ok());
  {
    TufRepository repo = Repo();
    auto renewed = repo.RenewExpiring(Keys(), Now());
    ASSERT_TRUE(renewed.ok());
    EXPECT_FALSE(*renewed) << "nothing is due right after publishing";
  }
  const uint64_t targets_before = (*Repo().targets("targets"))->version;
  const uint64_t province_before = (*Repo().targets("330000"))->version;

  AdvanceDays(60);  // targets last 90 days: due; snapshot (7) and timestamp (1) expired
  EXPECT_FALSE(Refresh().ok()) << "an expired timestamp must be refused";
  {
    TufRepository repo = Repo();
    auto renewed = repo.RenewExpiring(Keys(), Now());
    ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
    EXPECT_TRUE(*renewed);
  }
  EXPECT_EQ((*Repo().targets("targets"))->version, targets_before + 1);
  EXPECT_EQ((*Repo().targets("330000"))->version, province_before) << "not the hub's key";
  ASSERT_TRUE(Refresh().ok());
  EXPECT_TRUE(Lookup("national/a.mp4").has_value());

  AdvanceDays(40);  // the province's role (not renewed) has now expired
  {
    TufRepository repo = Repo();
    ASSERT_TRUE(repo.RenewExpiring(Keys(), Now()).ok());
  }
  EXPECT_TRUE(Lookup("national/a.mp4").has_value());
  auto expired = MakeUpdater().GetTargetInfo("regions/330000/z.mp4");
  EXPECT_FALSE(expired.ok()) << "the province's own metadata has expired";
  {
    TufRepository repo = Repo();
    auto renewed = repo.RenewExpiring(Keys({"330000"}), Now());
    ASSERT_TRUE(renewed.ok());
    EXPECT_TRUE(*renewed);
  }
  EXPECT_TRUE(Lookup("regions/330000/z.mp4").has_value());
}

TEST_F(TufDelegationTest, ProvinceCannotSignOutsideItsNamespace) {
  Publish(
      [&](TufRepository& r) {
        ASSERT_TRUE(
            r.Delegate("targets", Role("330000", {"regions/330000/*"}), {PublicOf("330000")}).ok());
        ASSERT_TRUE(r.AddTarget("330000", "regions/330000/local.mp4", AsBytes("zj")).ok());
        // What a compromised or careless province key might sign:
        ASSERT_TRUE(r.AddTarget("330000", "regions/110000/beijing.mp4", AsBytes("bj")).ok());
        ASSERT_TRUE(r.AddTarget("330000", "national.mp4", AsBytes("n")).ok());
      },
      Keys({"330000"}));
  EXPECT_TRUE(Lookup("regions/330000/local.mp4").has_value());
  EXPECT_FALSE(Lookup("regions/110000/beijing.mp4").has_value());
  EXPECT_FALSE(Lookup("national.mp4").has_value());
  EXPECT_EQ(AllPaths(), std::vector<std::string>{"regions/330000/local.mp4"});
}

// National -> province (330000) -> city (330100): each tier signs only inside its own
// namespace, and the client follows the chain. A '*' covers one path level, so the province is
// delegated one pattern per depth it may hand on.
TEST_F(TufDelegationTest, ProvinceToCityChain) {
  Publish(
      [&](TufRepository& r) {
        ASSERT_TRUE(r.Delegate("targets",
                               Role("330000", {"regions/330000/*", "regions/330000/*/*"}, true),
                               {PublicOf("330000")})
                        .ok());
      },
      Keys({"330000"}));
  Publish(
      [&](TufRepository& r) {
        ASSERT_TRUE(r.Delegate("330000", Role("330100", {"regions/330000/330100/*"}, true),
                               {PublicOf("330100")})
                        .ok());
        Status outside =
            r.Delegate("330000", Role("110100", {"regions/110000/110100/*"}), {PublicOf("110100")});
        EXPECT_EQ(outside.code(), StatusCode::kInvalidArgument) << outside.ToString();
        ASSERT_TRUE(r.AddTarget("330100", "regions/330000/330100/西湖.mp4", AsBytes("city")).ok());
        ASSERT_TRUE(
            r.AddTarget("330100", "regions/330000/330200/宁波.mp4", AsBytes("sibling")).ok());
      },
      Keys({"330000", "330100"}));
  auto found = Lookup("regions/330000/330100/西湖.mp4");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->file.length, 4u);
  EXPECT_FALSE(Lookup("regions/330000/330200/宁波.mp4").has_value());
}

TEST_F(TufDelegationTest, WildcardDoesNotCrossSlash) {
  Publish(
      [&](TufRepository& r) {
        ASSERT_TRUE(r.Delegate("targets", Role("a", {"a/*"}), {PublicOf("a")}).ok());
        ASSERT_TRUE(r.AddTarget("a", "a/x", AsBytes("1")).ok());
        ASSERT_TRUE(r.AddTarget("a", "a/b/c", AsBytes("2")).ok());
      },
      Keys({"a"}));
  EXPECT_TRUE(Lookup("a/x").has_value());
  EXPECT_FALSE(Lookup("a/b/c").has_value());
}

TEST_F(TufDelegationTest, TerminatingDelegationStopsTheSearch) {
  Publish(
      [&](TufRepository& r) {
        ASSERT_TRUE(
            r.Delegate("targets", Role("first", {"*"}, /*terminating=*/true), {PublicOf("first")})
                .ok());
        ASSERT_TRUE(r.Delegate("targets", Role("second", {"*"}), {PublicOf("second")}).ok());
        ASSERT_TRUE(r.AddTarget("second", "only-in-second", AsBytes("2")).ok());
        ASSERT_TRUE(r.AddTarget("first", "in-first", AsBytes("1")).ok());
      },
      Keys({"first", "second"}));
  EXPECT_TRUE(Lookup("in-first").has_value());
  EXPECT_FALSE(Lookup("only-in-second").has_value());
  EXPECT_EQ(AllPaths(), std::vector<std::string>{"in-first"});
}

TEST_F(TufDelegationTest, NonTerminatingFallsThroughToTheNextRole) {
  Publish(
      [&](TufRepository& r) {
        ASSERT_TRUE(r.Delegate("targets", Role("first", {"*"}), {PublicOf("first")}).ok());
        ASSERT_TRUE(r.Delegate("targets", Role("second", {"*"}), {PublicOf("second")}).ok());
        ASSERT_TRUE(r.AddTarget("second", "only-in-second", AsBytes("2")).ok());
      },
      Keys({"first", "second"}));
  EXPECT_TRUE(Lookup("only-in-second").has_value());
}

TEST_F(TufDelegationTest, HashPrefixDelegation) {
  const std::string in = "bin-target";
  std::string prefix = ToHex(Sha256(AsBytes(in))).substr(0, 2);
  std::string other = prefix == "00" ? "01" : "00";
  Publish(
      [&](TufRepository& r) {
        tuf::DelegatedRole covers;
        covers.name = "bin-" + prefix;
        covers.path_hash_prefixes = std::vector<std::string>{prefix};
        tuf::DelegatedRole misses;
        misses.name = "bin-" + other;
        misses.path_hash_prefixes = std::vector<std::string>{other};
        ASSERT_TRUE(r.Delegate("targets", misses, {PublicOf("bins")}).ok());
        ASSERT_TRUE(r.Delegate("targets", covers, {PublicOf("bins")}).ok());
        ASSERT_TRUE(r.AddTarget("bin-" + other, in, AsBytes("wrong bin")).ok());
        ASSERT_TRUE(r.AddTarget("bin-" + prefix, in, AsBytes("right bin")).ok());
      },
      Keys({"bins"}));
  auto info = Lookup(in);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->file.length, std::string("right bin").size());
}

// Hash bins for a large catalog: 256 bin roles, each target stored in the bin of its path's
// hash; the client finds every one through the bins, and a target filed in the wrong bin is
// not trusted.
TEST_F(TufDelegationTest, HashBinsForALargeTargetSet) {
  std::vector<std::string> paths;
  for (int i = 0; i < 60; ++i) paths.push_back("lessons/" + std::to_string(i) + ".mp4");
  KeyRing s = Keys({"bins"});
  Publish(
      [&](TufRepository& r) {
        ASSERT_TRUE(r.DelegateHashBins("targets", 2, {PublicOf("bins")}).ok());
        for (const auto& p : paths) {
          ASSERT_TRUE(r.AddTarget(HashBinRole(p, 2), p, AsBytes(p)).ok());
        }
        std::string wrong = HashBinRole("misfiled", 2) == "bin-00" ? "bin-01" : "bin-00";
        ASSERT_TRUE(r.AddTarget(wrong, "misfiled", AsBytes("x")).ok());
      },
      s);
  Updater u = MakeUpdater();
  for (const auto& p : paths) {
    auto info = u.GetTargetInfo(p);
    ASSERT_TRUE(info.ok() && info->has_value()) << p;
  }
  auto misfiled = u.GetTargetInfo("misfiled");
  ASSERT_TRUE(misfiled.ok());
  EXPECT_FALSE(misfiled->has_value());
  EXPECT_EQ(Repo().targets("targets").value()->delegations->roles.size(), 256u);
  std::vector<std::string> sorted = paths;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(AllPaths(), sorted) << "every bin's targets, and not the misfiled one";
}

// Fetching a delegating role's children in parallel (as nodes do) changes nothing a client
// trusts: the same targets, every role persisted (and none left half-written), so that the
// next listing fetches none of them again; a role the repository lacks still fails the
// listing, naming it.
TEST_F(TufDelegationTest, ParallelFetchesListTheSameTargetsAndPersistEveryRole) {
  std::vector<std::string> paths;
  for (int i = 0; i < 40; ++i) paths.push_back("lessons/" + std::to_string(i) + ".mp4");
  Publish(
      [&](TufRepository& r) {
        ASSERT_TRUE(r.DelegateHashBins("targets", 2, {PublicOf("bins")}).ok());
        for (const auto& p : paths) {
          ASSERT_TRUE(r.AddTarget(HashBinRole(p, 2), p, AsBytes(p)).ok());
        }
      },
      Keys({"bins"}));
  auto parallel = [&] {
    return Updater(&env_, &fetcher_,
                   {"/client/metadata", "mem://repo/metadata", "mem://repo/targets",
                    "/client/targets", false, /*parallel_fetches=*/4});
  };
  std::sort(paths.begin(), paths.end());
  {
    Updater u = parallel();
    auto all = u.ListAllTargets();
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    std::vector<std::string> got;
    for (const auto& t : *all) got.push_back(t.path);
    EXPECT_EQ(got, paths);
  }
  auto names = env_.GetChildren("/client/metadata");
  ASSERT_TRUE(names.ok());
  size_t bins = 0;
  for (const auto& n : *names) {
    bins += n.starts_with("bin-") && n.ends_with(".json");
    EXPECT_FALSE(n.ends_with(".tmp")) << n;
  }
  EXPECT_EQ(bins, 256u);
  fetcher_.ClearRequests();
  ASSERT_TRUE(parallel().ListAllTargets().ok());
  for (const auto& url : fetcher_.requests()) {
    EXPECT_EQ(url.find("bin-"), std::string::npos) << "fetched again: " << url;
  }
  EXPECT_EQ(AllPaths(), paths) << "a one-by-one client trusts the same";

  // A new release whose bin-07 the repository lost.
  AddLesson("lessons/new.mp4", "new");
  Publish([&](TufRepository& r) { ASSERT_TRUE(r.AddTarget("bin-07", "x/7", AsBytes("7")).ok()); },
          Keys({"bins"}));
  auto repo_files = env_.GetChildren("/repo/metadata");
  ASSERT_TRUE(repo_files.ok());
  for (const auto& n : *repo_files) {
    if (n.ends_with(".bin-07.json")) {
      ASSERT_TRUE(env_.RemoveFile("/repo/metadata/" + n).ok());
    }
  }
  auto broken = parallel().ListAllTargets();
  ASSERT_FALSE(broken.ok());
  EXPECT_TRUE(Contains(broken.status(), "fetching bin-07")) << broken.status().ToString();
}

// A diamond: targets -> A -> X and targets -> B -> X, where only A's delegation names the key
// that signs X. X reached through B must be checked against B's keys, not reused from A.
TEST_F(TufDelegationTest, DiamondChecksEachPathsKeys) {
  Publish(
      [&](TufRepository& r) {
        ASSERT_TRUE(r.Delegate("targets", Role("A", {"*", "*/*"}), {PublicOf("A")}).ok());
        ASSERT_TRUE(r.Delegate("targets", Role("B", {"*", "*/*"}), {PublicOf("B")}).ok());
        ASSERT_TRUE(r.Delegate("A", Role("X", {"other/*"}), {PublicOf("x-good")}).ok());
        ASSERT_TRUE(r.Delegate("B", Role("X", {"*"}), {PublicOf("x-bad")}).ok());
        ASSERT_TRUE(r.AddTarget("X", "other/1", AsBytes("1")).ok());
        ASSERT_TRUE(r.AddTarget("X", "z", AsBytes("z")).ok());
      },
      Keys({"A", "B", "x-good", "x-bad"}));
  auto x_env = tuf::ParseEnvelope(ReadBytes("/repo/metadata/1.X.json"), 1 << 20);
  ASSERT_TRUE(x_env.ok());
  ASSERT_EQ(x_env->signatures.size(), 1u);
  Updater u = MakeUpdater();
  auto first = u.GetTargetInfo("other/1");  // X through A, which trusts x-good
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status().ToString();
  // Only B's delegation covers "z", and B trusts x-bad for X: X must not verify on that path,
  // although the same X verified (and is cached) through A.
  auto second = u.GetTargetInfo("z");
  EXPECT_FALSE(second.ok() && second->has_value());
  EXPECT_TRUE(Contains(second.status(), "threshold not met")) << second.status().ToString();
}

}  // namespace
}  // namespace tiersync::replication
