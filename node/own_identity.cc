#include "node/own_identity.h"

#include <nlohmann/json.hpp>

#include "access/audit_log.h"
#include "base/bytes.h"
#include "protocol/tuf_metadata.h"
#include "protocol/tuf_time.h"

namespace tiersync::node {
namespace {

using nlohmann::json;

// The schemes a node key may have (identity/x509_support.h), tried in turn on node.key.
constexpr std::string_view kNodeKeySchemes[] = {"ed25519", "ecdsa-sha2-nistp256", "sm2-sm3"};

Result<std::string> ReadText(Env* env, const std::string& path, size_t max) {
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, path, max));
  return std::string(bytes.begin(), bytes.end());
}

// The newest root the node trusts: the TUF client's, or the pinned one before any sync.
Result<protocol::tuf::Root> TrustedRoot(Env* env, const NodePaths& paths) {
  std::string file = JoinPath(paths.trusted, "root.json");
  if (!env->FileExists(file)) file = paths.root;
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, file, protocol::tuf::kMaxRootBytes));
  auto envelope = protocol::tuf::ParseEnvelope(bytes, protocol::tuf::kMaxRootBytes);
  if (!envelope.ok()) return envelope.status().WithContext(file);
  auto root = protocol::tuf::ParseRoot(envelope->signed_json);
  if (!root.ok()) return root.status().WithContext(file);
  return root;
}

}  // namespace

IdentityPaths::IdentityPaths(const NodePaths& node)
    : dir(JoinPath(node.dir, "identity")),
      key(JoinPath(dir, "node.key")),
      chain(JoinPath(dir, "node.crt")),
      invitations(JoinPath(dir, "invitations.json")),
      audit(JoinPath(dir, "audit.log")),
      lock(JoinPath(dir, "LOCK")) {}

identity::NodeIdentity IdentityOf(const NodeConfig& config) {
  return {std::string(TierName(config.tier)), config.region, config.name};
}

Result<std::vector<identity::NodeCertificate>> TrustedIdentityCas(Env* env,
                                                                  const NodePaths& paths) {
  TS_ASSIGN_OR_RETURN(protocol::tuf::Root root, TrustedRoot(env, paths));
  if (root.identity_cas.empty()) {
    return FailedPreconditionError("the national root (version " + std::to_string(root.version) +
                                   ") carries no identity CA (" +
                                   std::string(protocol::tuf::kIdentityCaField) +
                                   "): node certificates cannot be verified");
  }
  std::vector<identity::NodeCertificate> cas;
  for (const std::string& pem : root.identity_cas) {
    auto ca = identity::NodeCertificate::FromPem(pem);
    if (!ca.ok()) {
      return CorruptionError("an identity CA of the national root: " + ca.status().message());
    }
    if (ca->identity().tier != "national" || ca->issuer() != ca->identity()) {
      return CorruptionError(
          "an identity CA of the national root is not a self-issued national "
          "certificate: " +
          identity::Describe(ca->identity()));
    }
    cas.push_back(std::move(*ca));
  }
  return cas;
}

Result<std::unique_ptr<IdentityLock>> IdentityLock::Take(Env* env, const IdentityPaths& paths) {
  for (int waited = 0;; waited += 20) {
    auto lock = TryTake(env, paths);
    if (lock.status().code() != StatusCode::kUnavailable || waited >= kIdentityLockWaitMs) {
      return lock;
    }
    env->SleepForMicroseconds(20'000);
  }
}

Result<std::unique_ptr<IdentityLock>> IdentityLock::TryTake(Env* env, const IdentityPaths& paths) {
  TS_RETURN_IF_ERROR(CreateDirs(env, paths.dir));
  auto lock = env->LockFile(paths.lock);
  if (lock.ok()) return std::unique_ptr<IdentityLock>(new IdentityLock(std::move(*lock)));
  if (lock.status().code() != StatusCode::kFailedPrecondition) return lock.status();
  return UnavailableError(paths.lock +
                          ": busy (another command or the running node is "
                          "changing the node's identity)");
}

IdentityLock::~IdentityLock() = default;

Result<PrivateKey> LoadNodeKey(Env* env, const IdentityPaths& paths) {
  if (!env->FileExists(paths.key)) return NotFoundError(paths.key + " does not exist");
  TS_ASSIGN_OR_RETURN(std::string pem, ReadText(env, paths.key, 64 << 10));
  for (std::string_view scheme : kNodeKeySchemes) {
    auto key = PrivateKey::FromPem(scheme, pem);
    if (key.ok()) return key;
  }
  return CorruptionError(paths.key + ": not an unencrypted PKCS#8 key of ed25519, P-256 or SM2");
}

Result<PrivateKey> LoadOrCreateNodeKey(Env* env, const IdentityPaths& paths,
                                       std::string_view scheme, bool* created) {
  *created = false;
  if (env->FileExists(paths.key)) {
    TS_ASSIGN_OR_RETURN(PrivateKey key, LoadNodeKey(env, paths));
    if (!scheme.empty() && key.Public().scheme() != scheme) {
      return InvalidArgumentError(paths.key + " holds a " + key.Public().scheme() +
                                  " key already; --scheme " + std::string(scheme) +
                                  " would need a new key (move the old one away first)");
    }
    return key;
  }
  const std::string_view want = scheme.empty() ? kDefaultNodeKeyScheme : scheme;
  bool allowed = false;
  for (std::string_view s : kNodeKeySchemes) allowed = allowed || s == want;
  if (!allowed) {
    return InvalidArgumentError("--scheme " + std::string(want) +
                                ": a node key is ed25519, ecdsa-sha2-nistp256 or sm2-sm3");
  }
  TS_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::Generate(want));
  TS_RETURN_IF_ERROR(CreateDirs(env, paths.dir));
  TS_RETURN_IF_ERROR(
      WriteFileAtomically(env, paths.key, AsBytes(key.ToPem()), /*owner_only=*/true));
  *created = true;
  return key;
}

Result<identity::VerifiedChain> CheckOwnChain(Env* env, const NodePaths& paths,
                                              const NodeConfig& config, const PrivateKey& key,
                                              std::string_view chain_pem, int64_t now) {
  TS_ASSIGN_OR_RETURN(auto certs, identity::NodeCertificate::ChainFromPem(chain_pem));
  TS_ASSIGN_OR_RETURN(auto trusted, TrustedIdentityCas(env, paths));
  const identity::NodeCertificate& leaf = certs.front();
  std::vector<identity::NodeCertificate> intermediates(certs.begin() + 1, certs.end());
  identity::RevocationSet none;
  TS_ASSIGN_OR_RETURN(identity::VerifiedChain verified,
                      identity::VerifyNodeChain(leaf, intermediates, trusted, now, none));
  const identity::NodeIdentity self = IdentityOf(config);
  if (verified.identity != self) {
    return InvalidArgumentError("the certificate is for " + identity::Describe(verified.identity) +
                                ", this node is " + identity::Describe(self) + " (node.toml)");
  }
  if (leaf.public_key().canonical_der() != key.Public().canonical_der()) {
    return InvalidArgumentError("the certificate certifies another key than this node's (" +
                                IdentityPaths(paths).key + ")");
  }
  return verified;
}

Result<identity::VerifiedChain> InstallOwnChain(Env* env, const NodePaths& paths,
                                                const NodeConfig& config, const PrivateKey& key,
                                                std::string_view chain_pem, int64_t now) {
  TS_ASSIGN_OR_RETURN(identity::VerifiedChain verified,
                      CheckOwnChain(env, paths, config, key, chain_pem, now));
  std::string pem;
  for (size_t i = 0; i + 1 < verified.chain.size(); ++i) pem += verified.chain[i].ToPem();
  const IdentityPaths ip(paths);
  TS_RETURN_IF_ERROR(CreateDirs(env, ip.dir));
  TS_RETURN_IF_ERROR(WriteFileAtomically(env, ip.chain, AsBytes(pem)));
  return verified;
}

Result<OwnIdentity> LoadOwnIdentity(Env* env, const NodePaths& paths, const NodeConfig& config,
                                    int64_t now) {
  const IdentityPaths ip(paths);
  if (!env->FileExists(ip.chain)) {
    return FailedPreconditionError("this node is not enrolled (no identity/node.crt)");
  }
  TS_ASSIGN_OR_RETURN(PrivateKey key, LoadNodeKey(env, ip));
  TS_ASSIGN_OR_RETURN(std::string pem, ReadText(env, ip.chain, identity::kMaxCertificatePemBytes));
  TS_ASSIGN_OR_RETURN(identity::VerifiedChain verified,
                      CheckOwnChain(env, paths, config, key, pem, now));
  TS_ASSIGN_OR_RETURN(auto chain, identity::NodeCertificate::ChainFromPem(pem));
  return OwnIdentity{std::move(key), std::move(chain), std::move(verified)};
}

json IdentityStatusJson(Env* env, const NodePaths& paths, const NodeConfig& config, int64_t now) {
  const IdentityPaths ip(paths);
  if (!env->FileExists(ip.chain)) return json{{"enrolled", false}};
  auto pem = ReadText(env, ip.chain, identity::kMaxCertificatePemBytes);
  auto chain = pem.ok() ? identity::NodeCertificate::ChainFromPem(*pem)
                        : Result<std::vector<identity::NodeCertificate>>(pem.status());
  if (!chain.ok()) return json{{"enrolled", false}, {"error", chain.status().ToString()}};
  const identity::NodeCertificate& leaf = chain->front();
  json j = {{"enrolled", true},
            {"tier", leaf.identity().tier},
            {"region", leaf.identity().region},
            {"name", leaf.identity().name},
            {"issuer", identity::Describe(leaf.issuer())},
            {"expires_at", protocol::FormatTufTime(leaf.not_after())},
            {"serial", leaf.serial()},
            {"fingerprint", leaf.fingerprint()},
            {"key", leaf.public_key().scheme()}};
  auto key = LoadNodeKey(env, ip);
  Status check =
      key.ok() ? CheckOwnChain(env, paths, config, *key, *pem, now).status() : key.status();
  if (!check.ok()) j["error"] = check.ToString();
  return j;
}

Status AppendAudit(Env* env, const IdentityPaths& paths, access::AuditEntry entry) {
  TS_RETURN_IF_ERROR(CreateDirs(env, paths.dir));
  if (!env->FileExists(paths.audit)) {
    // Made owner-only from the start, like node.key: it names clients and invitations.
    auto created = env->NewPrivateFile(paths.audit);
    if (created.ok()) {
      TS_RETURN_IF_ERROR((*created)->Close());
      TS_RETURN_IF_ERROR(env->SyncDir(paths.dir));
    } else if (created.status().code() != StatusCode::kAlreadyExists) {
      return created.status();
    }
  }
  TS_ASSIGN_OR_RETURN(auto log, access::AuditLog::Open(env, paths.audit));
  return log->Append(std::move(entry)).status();
}

}  // namespace tiersync::node
