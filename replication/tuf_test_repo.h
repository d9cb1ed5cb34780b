// Test fixture support for TUF: a repository and a client on one MemEnv, keys by name, and
// a way to craft metadata an attacker with some keys could produce.
#ifndef TIERSYNC_REPLICATION_TUF_TEST_REPO_H_
#define TIERSYNC_REPLICATION_TUF_TEST_REPO_H_

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "base/mem_env.h"
#include "protocol/tuf_metadata.h"
#include "replication/env_fetcher.h"
#include "replication/tuf_repository.h"
#include "replication/tuf_updater.h"

namespace tiersync::replication {

class TufTestBase : public ::testing::Test {
 protected:
  static constexpr int64_t kStart = 1'800'000'000;  // 2027-01-15

  void SetUp() override {
    env_.SetNowMicros(kStart * 1'000'000);
    fetcher_.Mount("mem://repo/metadata/", "/repo/metadata");
    fetcher_.Mount("mem://repo/targets/", "/repo/targets");
    for (const char* role : {"root", "timestamp", "snapshot", "targets"}) Key(role);
    protocol::tuf::Root root;
    for (const char* role : {"root", "timestamp", "snapshot", "targets"}) {
      AddRootKey(&root, role, role);
    }
    ASSERT_TRUE(TufRepository::Create(&env_, "/repo", root, Keys(), kStart).ok());
    auto root_bytes = ReadFileToBytes(&env_, "/repo/metadata/1.root.json", 1 << 20);
    ASSERT_TRUE(root_bytes.ok());
    ASSERT_TRUE(Updater::Init(&env_, "/client/metadata", *root_bytes).ok());
  }

  // A named ed25519 key, generated once.
  const PrivateKey& Key(const std::string& name) {
    auto it = keys_.find(name);
    if (it == keys_.end()) {
      auto k = PrivateKey::Generate("ed25519");
      EXPECT_TRUE(k.ok());
      it = keys_.emplace(name, std::move(k).value()).first;
    }
    return it->second;
  }
  protocol::tuf::Key PublicOf(const std::string& name) {
    PublicKey pub = Key(name).Public();
    return protocol::tuf::MakeKey(pub.keytype(), pub.scheme(), pub.public_value());
  }
  std::string KeyIdOf(const std::string& name) { return protocol::tuf::KeyId(PublicOf(name)); }
  void AddRootKey(protocol::tuf::Root* root, const std::string& role, const std::string& key) {
    root->keys[KeyIdOf(key)] = PublicOf(key);
    root->roles[role].keyids.push_back(KeyIdOf(key));
  }

  // The four top-level keys plus the named extra ones.
  KeyRing Keys(std::initializer_list<std::string> extra = {}) {
    KeyRing ring;
    for (const char* role : {"root", "timestamp", "snapshot", "targets"})
      ring.push_back(&Key(role));
    for (const auto& name : extra) ring.push_back(&Key(name));
    return ring;
  }

  TufRepository Repo() {
    auto r = TufRepository::Open(&env_, "/repo");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }

  // Applies `change` to the repository and publishes with `keys` (default: top level).
  void Publish(const std::function<void(TufRepository&)>& change, KeyRing keys = {}) {
    TufRepository repo = Repo();
    change(repo);
    if (keys.empty()) keys = Keys();
    Status s = repo.Publish(keys, Now());
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  int64_t Now() { return static_cast<int64_t>(env_.NowMicros() / 1'000'000); }
  void AdvanceDays(int64_t days) { env_.AdvanceMicros(days * 86400 * 1'000'000); }

  Updater MakeUpdater() {
    return Updater(
        &env_, &fetcher_,
        {"/client/metadata", "mem://repo/metadata", "mem://repo/targets", "/client/targets"});
  }
  Status Refresh() { return MakeUpdater().Refresh(); }

  std::vector<uint8_t> ReadBytes(const std::string& path) {
    auto b = ReadFileToBytes(&env_, path, 64 << 20);
    EXPECT_TRUE(b.ok()) << path << ": " << b.status().ToString();
    return b.ok() ? *b : std::vector<uint8_t>{};
  }
  void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
    ASSERT_TRUE(WriteFileAtomically(&env_, path, bytes).ok());
  }
  void WriteString(const std::string& path, const std::string& s) {
    WriteBytes(path, std::vector<uint8_t>(s.begin(), s.end()));
  }

  // The version of `role` the client trusts (0 if it has none).
  uint64_t TrustedVersion(const std::string& role) {
    auto bytes = ReadFileToBytes(&env_, "/client/metadata/" + role + ".json", 64 << 20);
    if (!bytes.ok()) return 0;
    auto env = protocol::tuf::ParseEnvelope(*bytes, 64 << 20);
    if (!env.ok()) return 0;
    const protocol::Json* v = env->signed_json.Find("version");
    return v ? static_cast<uint64_t>(v->as_int()) : 0;
  }

  // Metadata bytes for `signed_json` signed by the named keys (an attacker holding them).
  std::string Craft(const protocol::Json& signed_json, const std::vector<std::string>& key_names) {
    std::vector<protocol::tuf::Signature> sigs;
    std::string msg = protocol::tuf::SigningBytes(signed_json);
    for (const auto& name : key_names) {
      auto sig = Key(name).Sign(AsBytes(msg));
      EXPECT_TRUE(sig.ok());
      sigs.push_back({KeyIdOf(name), ToHex(*sig)});
    }
    return protocol::tuf::SerializeEnvelope(signed_json, sigs);
  }

  // The parsed "signed" of a repository file.
  protocol::Json SignedOf(const std::string& repo_file) {
    auto env = protocol::tuf::ParseEnvelope(ReadBytes("/repo/metadata/" + repo_file), 64 << 20);
    EXPECT_TRUE(env.ok());
    return env->signed_json;
  }

  MemEnv env_;
  EnvFetcher fetcher_{&env_};
  std::map<std::string, PrivateKey> keys_;
};

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_TUF_TEST_REPO_H_
