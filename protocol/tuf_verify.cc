#include "protocol/tuf_verify.h"

#include <fnmatch.h>

#include <optional>
#include <set>

#include "base/bytes.h"
#include "base/crypto.h"
#include "base/sha256.h"
#include "base/sha512.h"
#include "base/sm3.h"

namespace tiersync::protocol::tuf {
namespace {

// True if some signature in `env` by `keyid` verifies with `key`.
bool SignedBy(const Envelope& env, const std::string& keyid, const PublicKey& key,
              std::string_view message) {
  for (const Signature& sig : env.signatures) {
    if (sig.keyid != keyid) continue;
    auto raw = HexDecode(sig.sig);
    if (raw && key.Verify(AsBytes(message), *raw).ok()) return true;
  }
  return false;
}

// Spec 4 ("signatures"): a keyid appears at most once. A repeated one is refused, whichever
// role it belongs to, rather than deciding which of its signatures counts.
Status CheckUniqueKeyIds(const Envelope& env, std::string_view role_name) {
  std::set<std::string_view> seen;
  for (const Signature& sig : env.signatures) {
    if (!seen.insert(sig.keyid).second) {
      return VerificationError(std::string(role_name) + ": keyid " + sig.keyid +
                               " appears more than once in signatures");
    }
  }
  return Status::Ok();
}

// The digest of `bytes` under a hash algorithm the client checks, as lower-case hex; nullopt
// for an algorithm it does not know.
std::optional<std::string> HexDigest(std::string_view algorithm, std::span<const uint8_t> bytes) {
  if (algorithm == "sha256") return ToHex(Sha256(bytes));
  if (algorithm == "sha512") return ToHex(Sha512(bytes));
  if (algorithm == "sm3") return ToHex(Sm3(bytes));
  return std::nullopt;
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
  TS_RETURN_IF_ERROR(CheckUniqueKeyIds(env, role_name));
  const std::string message = SigningBytes(env.signed_json);
  // Counted by the key itself (its DER), not by keyid or by how keyval.public is written: one
  // key listed under two keyids, in two hex cases or two PEM wrappings signs once.
  std::set<std::string> counted;
  for (const std::string& keyid : role.keyids) {
    auto key = keys.find(keyid);
    if (key == keys.end()) continue;
    const Key& k = key->second;
    auto pub = PublicKey::FromTuf(k.keytype, k.scheme, k.public_value);
    if (!pub.ok() || counted.count(pub->canonical_der())) continue;
    if (SignedBy(env, keyid, *pub, message)) counted.insert(pub->canonical_der());
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
  size_t checked = 0;
  for (const auto& [alg, hex] : hashes) {
    std::optional<std::string> digest = HexDigest(alg, bytes);
    if (!digest) continue;  // another listed algorithm must vouch for the bytes
    if (*digest != hex) return VerificationError(std::string(what) + ": " + alg + " mismatch");
    ++checked;
  }
  if (!hashes.empty() && checked == 0) {
    return NotSupportedError(std::string(what) + ": none of its hash algorithms (" +
                             hashes.begin()->first + ", ...) is supported (sha256, sha512, sm3)");
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
