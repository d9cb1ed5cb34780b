// Signed admin requests: every request of the admin API carries a signature by its
// operator's own key (access/operator_registry.h); there are no bearer tokens or passwords.
//
// Header (one line; the parameters in this order, separated by ", ", values quoted, no
// escapes):
//   Authorization: Tiersync-Sig op="<name>", ts="<unix seconds>", nonce="<hex>", sig="<hex>"
//     op     the operator's name (access/operator.h: 1..64 of [A-Za-z0-9._-])
//     ts     when the client signed, decimal, no sign, no leading zeros
//     nonce  16..64 random bytes, lower-case hex (32..128 digits), fresh for every request
//     sig    the signature bytes of the operator's scheme, lower-case hex (2..2048 digits)
// The whole header value is at most kMaxAuthorizationBytes.
//
// Signed bytes (the canonical request; "\n" is one LF byte):
//   "tiersync-admin-v1\n" METHOD "\n" TARGET "\n" hex(SHA-256(body)) "\n" HOST "\n" ts "\n"
//   nonce
// METHOD is the request method (upper-case letters), TARGET the request target as sent on the
// request line (path and query, byte for byte), HOST the Host header lower-cased (the server
// checks that it names this node before verifying), body the exact body bytes ("" for none).
// None of them may hold a control character or be empty (the body may).
//
// Verification order: parse (malformed) -> operator known (unknown) -> enabled (disabled) ->
// |now - ts| <= kMaxClockSkewSeconds (skew) -> signature (bad signature) -> nonce unused
// (replayed; recorded only once the signature verified, so unsigned junk cannot fill the
// cache).
#ifndef TIERSYNC_ACCESS_REQUEST_SIGNATURE_H_
#define TIERSYNC_ACCESS_REQUEST_SIGNATURE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "access/nonce_cache.h"
#include "access/operator.h"
#include "access/operator_registry.h"
#include "base/crypto.h"
#include "base/env.h"
#include "base/status.h"

namespace tiersync::access {

inline constexpr std::string_view kSignatureScheme = "Tiersync-Sig";
inline constexpr std::string_view kCanonicalRequestTag = "tiersync-admin-v1";
inline constexpr int64_t kMaxClockSkewSeconds = 300;
inline constexpr size_t kMaxAuthorizationBytes = 2560;
inline constexpr size_t kMinNonceBytes = 16;
inline constexpr size_t kMaxNonceBytes = 64;
inline constexpr size_t kMaxSignatureBytes = 1024;

// What the client sends and the server sees, apart from the header.
struct RequestParts {
  std::string_view method;  // "POST"
  std::string_view target;  // "/admin/v1/children/xihu/pause?reason=exam"
  std::string_view body;
  std::string_view host;  // "hz.example.cn:8443" (compared lower-cased)
};

// The header's parameters, as parsed.
struct SignatureHeader {
  std::string op;
  int64_t ts = 0;
  std::string ts_text;
  std::string nonce;  // hex
  std::string sig;    // hex
};

// Parses a header value strictly; total over any bytes (never reads past `value`, never
// throws). kInvalidArgument naming what is wrong.
Result<SignatureHeader> ParseSignatureHeader(std::string_view value);

// The canonical request above. kInvalidArgument if method, target or host is empty or holds a
// control character, or the method is not upper-case letters.
Result<std::string> CanonicalRequest(const RequestParts& req, std::string_view ts,
                                     std::string_view nonce_hex);

// A fresh nonce of kMinNonceBytes, hex, from the Env's entropy (Env::RandomSeed).
std::string NewNonce(Env* env);

// The Authorization header value for `req`, signed with `key` by operator `op` at `now`.
// Errors: kInvalidArgument (a bad name, a request part above, a nonce that is not 16..64
// bytes of lower-case hex, a negative time); PrivateKey::Sign's errors.
Result<std::string> SignRequest(const PrivateKey& key, std::string_view op, const RequestParts& req,
                                int64_t now, std::string_view nonce_hex);

// Verifies the header of a request against the registry at the server's time `now` and
// returns the operator it authenticates. Each failure has its own code:
//   kInvalidArgument     malformed header or request parts
//   kNotFound            unknown operator
//   kPermissionDenied    disabled operator (access/roles.h)
//   kDeadlineExceeded    ts more than kMaxClockSkewSeconds from now
//   kVerificationFailed  the signature does not verify (tampered method, target, body, host,
//                        ts or nonce; another key) or the operator's key does not parse
//   kAlreadyExists       the nonce was used already (a replay)
//   kUnavailable         the nonce cache is full (NonceCache)
// Thread-safe (the registry and the cache are).
Result<Operator> VerifyRequest(std::string_view header, const RequestParts& req, int64_t now,
                               const OperatorRegistry& registry, NonceCache& nonces);

}  // namespace tiersync::access

#endif  // TIERSYNC_ACCESS_REQUEST_SIGNATURE_H_
