#include "cli/key_files.h"

#include <algorithm>

#include "base/env.h"
#include "identity/node_certificate.h"
#include "protocol/json.h"

namespace tiersync::cli {
namespace {

constexpr char kHeader[] = "# tiersync-key scheme=";
constexpr size_t kMaxKeyFileBytes = 64 * 1024;

}  // namespace

protocol::tuf::Key TufKeyOf(const PrivateKey& key) {
  PublicKey pub = key.Public();
  return protocol::tuf::MakeKey(pub.keytype(), pub.scheme(), pub.public_value());
}

Status WriteKeyFiles(const std::string& path, const PrivateKey& key) {
  Env* env = Env::Default();
  if (env->FileExists(path)) return AlreadyExistsError(path + " exists; not overwriting a key");
  std::string text = kHeader + key.Public().scheme() + "\n" + key.ToPem();
  TS_RETURN_IF_ERROR(WriteFileAtomically(env, path, AsBytes(text), /*owner_only=*/true));
  return WriteFileAtomically(env, path + ".pub.json",
                             AsBytes(protocol::EncodePretty(protocol::tuf::ToJson(TufKeyOf(key)))));
}

Result<PrivateKey> ReadPrivateKey(const std::string& path) {
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(Env::Default(), path, kMaxKeyFileBytes));
  std::string text(bytes.begin(), bytes.end());
  if (text.rfind(kHeader, 0) != 0) {
    return InvalidArgumentError(path + " is not a tiersync private key file");
  }
  size_t eol = text.find('\n');
  std::string scheme = text.substr(sizeof(kHeader) - 1, eol - (sizeof(kHeader) - 1));
  auto key = PrivateKey::FromPem(scheme, text.substr(eol + 1));
  if (!key.ok()) return key.status().WithContext(path);
  return key;
}

Result<protocol::tuf::Key> ReadPublicKey(const std::string& path) {
  if (path.size() < 9 || path.compare(path.size() - 9, 9, ".pub.json") != 0) {
    TS_ASSIGN_OR_RETURN(PrivateKey key, ReadPrivateKey(path));
    return TufKeyOf(key);
  }
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(Env::Default(), path, kMaxKeyFileBytes));
  TS_ASSIGN_OR_RETURN(protocol::Json j, protocol::ParseJson(AsChars(bytes)));
  auto key = protocol::tuf::ParseKey(j);
  if (!key.ok()) return key.status().WithContext(path);
  auto check = PublicKey::FromTuf(key->keytype, key->scheme, key->public_value);
  if (!check.ok()) return check.status().WithContext(path);
  return key;
}

Result<std::vector<PrivateKey>> ReadPrivateKeys(const std::vector<std::string>& paths) {
  std::vector<PrivateKey> keys;
  for (const auto& p : paths) {
    TS_ASSIGN_OR_RETURN(PrivateKey k, ReadPrivateKey(p));
    keys.push_back(std::move(k));
  }
  return keys;
}

replication::KeyRing RingOf(const std::vector<PrivateKey>& keys) {
  replication::KeyRing ring;
  for (const auto& k : keys) ring.push_back(&k);
  return ring;
}

Status AddRoleKeyFiles(protocol::tuf::Root* root, const std::string& role,
                       const std::vector<std::string>& files, uint32_t threshold) {
  if (files.empty()) return InvalidArgumentError("--" + role + "-key is required");
  protocol::tuf::Role r;
  r.threshold = threshold;
  for (const auto& f : files) {
    TS_ASSIGN_OR_RETURN(protocol::tuf::Key k, ReadPublicKey(f));
    std::string id = protocol::tuf::KeyId(k);
    root->keys[id] = k;
    r.keyids.push_back(id);
  }
  if (threshold > r.keyids.size()) return InvalidArgumentError(role + " threshold > its keys");
  root->roles[role] = r;
  return Status::Ok();
}

Result<protocol::tuf::Root> RootFromKeyFiles(const RootKeyFiles& files) {
  protocol::tuf::Root root;
  TS_RETURN_IF_ERROR(AddRoleKeyFiles(&root, "root", files.root, files.root_threshold));
  TS_RETURN_IF_ERROR(AddRoleKeyFiles(&root, "timestamp", files.timestamp, 1));
  TS_RETURN_IF_ERROR(AddRoleKeyFiles(&root, "snapshot", files.snapshot, 1));
  TS_RETURN_IF_ERROR(AddRoleKeyFiles(&root, "targets", files.targets, 1));
  if (files.offline_grace_days)
    TS_RETURN_IF_ERROR(SetOfflineGrace(&root, *files.offline_grace_days));
  if (!files.identity_cas.empty()) TS_RETURN_IF_ERROR(SetIdentityCas(&root, files.identity_cas));
  return root;
}

Status SetOfflineGrace(protocol::tuf::Root* root, uint32_t days) {
  const uint64_t seconds = uint64_t{days} * 86400;
  if (seconds > protocol::tuf::kMaxOfflineGraceSeconds) {
    return InvalidArgumentError("--offline-grace-days: at most 366");
  }
  root->offline_grace_seconds = seconds;
  return Status::Ok();
}

Status SetIdentityCas(protocol::tuf::Root* root, const std::vector<std::string>& files) {
  if (files.size() > protocol::tuf::kMaxIdentityCas) {
    return InvalidArgumentError("--identity-ca: at most " +
                                std::to_string(protocol::tuf::kMaxIdentityCas) + " certificates");
  }
  std::vector<std::string> pems;
  for (const std::string& file : files) {
    TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(Env::Default(), file,
                                                    protocol::tuf::kMaxIdentityCaPemBytes + 1));
    const std::string text(bytes.begin(), bytes.end());
    auto ca = identity::NodeCertificate::FromPem(text);
    if (!ca.ok()) return InvalidArgumentError(file + ": " + ca.status().message());
    if (ca->identity().tier != "national" || ca->issuer() != ca->identity()) {
      return InvalidArgumentError(file + ": not a national identity CA (it is " +
                                  identity::Describe(ca->identity()) + ")");
    }
    const std::string pem = ca->ToPem();
    if (Status s = protocol::tuf::CheckIdentityCaPem(pem); !s.ok()) {
      return InvalidArgumentError(file + ": " + s.message());
    }
    if (std::find(pems.begin(), pems.end(), pem) != pems.end()) {
      return InvalidArgumentError(file + ": the same CA is given twice");
    }
    pems.push_back(pem);
  }
  root->identity_cas = std::move(pems);
  return Status::Ok();
}

int64_t NowSeconds() { return static_cast<int64_t>(Env::Default()->NowMicros() / 1000000); }

}  // namespace tiersync::cli
