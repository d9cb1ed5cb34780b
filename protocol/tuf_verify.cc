#include "protocol/tuf_verify.h"

#include <fnmatch.h>

#include <set>

#include "base/bytes.h"
#include "base/crypto.h"
#include "base/sha256.h"

namespace tiersync::protocol::tuf {
namespace {

// True if some signature in `env` by `keyid` verifies with `key`.
bool SignedBy(const Envelope& env, const std::string& keyid, const Key& key,
              std::string_view message) {
  auto pub = PublicKey::FromTuf(key.keytype, key.scheme, key.public_value);
  if (!pub.ok()) return false;
  for (const Signature& sig : env.signatures) {
    if (sig.keyid != keyid) continue;
    auto raw = HexDecode(sig.sig);
    if (raw && pub->Verify(AsBytes(message), *raw).ok()) return true;
  }
  return false;
}

std::vector<std::string> Split(std::string_view s) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = s.find('/', start);
    parts.emplace_back(s.substr(start, slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

}  // namespace

Status VerifyThreshold(const Envelope& env, const std::map<std::string, Key>& keys,
                       const Role& role, std::string_view role_name) {
  const std::string message = SigningBytes(env.signed_json);
  // Counted by key material, not keyid: one key listed under two keyids signs once.
  std::set<std::string> counted;
  for (const std::string& keyid : role.keyids) {
    auto key = keys.find(keyid);
    if (key == keys.end()) continue;
    const std::string material = key->second.keytype + "/" + key->second.public_value;
    if (counted.count(material)) continue;
    if (SignedBy(env, keyid, key->second, message)) counted.insert(material);
  }
  if (counted.size() >= role.threshold) return Status::Ok();
  return VerificationError(std::string(role_name) + ": threshold not met (" +
                           std::to_string(counted.size()) + " of " +
                           std::to_string(role.threshold) + " valid signatures)");
}

Status VerifyLengthAndHashes(std::span<const uint8_t> bytes, std::optional<uint64_t> length,
                             const std::map<std::string, std::string>& hashes,
                             std::string_view what) {
  if (length && bytes.size() != *length) {
    return VerificationError(std::string(what) + ": length mismatch (" +
                             std::to_string(bytes.size()) + " bytes, expected " +
                             std::to_string(*length) + ")");
  }
  for (const auto& [alg, hex] : hashes) {
    if (alg != "sha256") {
      return NotSupportedError(std::string(what) + ": hash algorithm \"" + alg +
                               "\" is not supported");
    }
    if (ToHex(Sha256(bytes)) != hex) {
      return VerificationError(std::string(what) + ": sha256 mismatch");
    }
  }
  return Status::Ok();
}

bool PathMatchesPattern(std::string_view target, std::string_view pattern) {
  std::vector<std::string> t = Split(target), p = Split(pattern);
  if (t.size() != p.size()) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    if (::fnmatch(p[i].c_str(), t[i].c_str(), FNM_NOESCAPE) != 0) return false;
  }
  return true;
}

bool RoleCoversTarget(const DelegatedRole& role, std::string_view target) {
  if (role.paths) {
    for (const std::string& pattern : *role.paths) {
      if (PathMatchesPattern(target, pattern)) return true;
    }
    return false;
  }
  const std::string digest = ToHex(Sha256(AsBytes(target)));
  for (const std::string& prefix : *role.path_hash_prefixes) {
    if (digest.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace tiersync::protocol::tuf
