// Signature thresholds and length/hash checks of TUF metadata and targets. Pure.
#ifndef TIERSYNC_PROTOCOL_TUF_VERIFY_H_
#define TIERSYNC_PROTOCOL_TUF_VERIFY_H_

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "protocol/tuf_metadata.h"

namespace tiersync::protocol::tuf {

// OK if `env` carries valid signatures over SigningBytes(env.signed_json) from at least
// role.threshold distinct keys listed in role.keyids and present in `keys`. Each key counts
// once however many keyids it is listed under and however its public value is written (keys
// are compared by their DER SubjectPublicKeyInfo, PublicKey::canonical_der: hex case, PEM
// wrapping and keytype aliases do not make two keys of one); signatures by keys outside the
// role, by unknown key types or with malformed bytes are ignored. Otherwise
// kVerificationFailed: "<role_name>: threshold not met (1 of 2 valid signatures)", or
// "<role_name>: keyid K appears more than once in signatures" (the specification allows each
// keyid once; such metadata is refused whatever else it carries).
Status VerifyThreshold(const Envelope& env, const std::map<std::string, Key>& keys,
                       const Role& role, std::string_view role_name);

// OK if `bytes` has `length` (when given) and matches `hashes`: every listed algorithm this
// client supports (sha256, sha512, and sm3 — GM/T 0004 — for the GM/T suite) is checked, all
// of them, so an entry with both "sha256" and "sm3" passes only if both match; others are
// skipped, and when `hashes` is not empty at least one must be supported (kNotSupported
// otherwise: bytes no hash we know vouches for are never accepted). Mismatches are
// kVerificationFailed naming `what` and the algorithm.
Status VerifyLengthAndHashes(std::span<const uint8_t> bytes, std::optional<uint64_t> length,
                             const std::map<std::string, std::string>& hashes,
                             std::string_view what);

// Path patterns of delegations: `target` and `pattern` are split at '/'; they match if they
// have the same number of parts and each part matches as a shell glob ('*', '?', '[...]'),
// so '*' never crosses '/'.
bool PathMatchesPattern(std::string_view target, std::string_view pattern);

// True if `role` is trusted for `target`: a path pattern matches, or the hex SHA-256 of the
// target path starts with one of its path_hash_prefixes.
bool RoleCoversTarget(const DelegatedRole& role, std::string_view target);

}  // namespace tiersync::protocol::tuf

#endif  // TIERSYNC_PROTOCOL_TUF_VERIFY_H_
