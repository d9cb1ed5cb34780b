#include "access/request_signature.h"

#include <charconv>
#include <vector>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/random.h"
#include "base/sha256.h"

namespace tiersync::access {
namespace {

Status Malformed(std::string what) {
  return InvalidArgumentError("Authorization header: " + std::move(what));
}

bool IsLowerHex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// Reads `name="value"` at the front of `*rest`, preceded by `separator`; the value may not
// hold '"' or '\' (nothing is escaped) or control characters.
Result<std::string_view> TakeParam(std::string_view* rest, std::string_view separator,
                                   std::string_view name) {
  const std::string want = std::string(separator) + std::string(name) + "=\"";
  if (!rest->starts_with(want)) return Malformed("expected " + std::string(name) + "=\"...\"");
  rest->remove_prefix(want.size());
  const size_t end = rest->find('"');
  if (end == std::string_view::npos) return Malformed(std::string(name) + ": no closing quote");
  const std::string_view value = rest->substr(0, end);
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '\\' || c == 0x7f) {
      return Malformed(std::string(name) + ": control character or backslash");
    }
  }
  rest->remove_prefix(end + 1);
  return value;
}

Status CheckTs(std::string_view ts) {
  if (ts.empty() || ts.size() > 18 || ts.find_first_not_of("0123456789") != ts.npos ||
      (ts.size() > 1 && ts[0] == '0')) {
    return Malformed("ts: not a decimal number of seconds without leading zeros");
  }
  return Status::Ok();
}

Status CheckNonce(std::string_view nonce) {
  if (nonce.size() < 2 * kMinNonceBytes || nonce.size() > 2 * kMaxNonceBytes ||
      nonce.size() % 2 != 0 || !IsLowerHex(nonce)) {
    return Malformed("nonce: not " + std::to_string(kMinNonceBytes) + " to " +
                     std::to_string(kMaxNonceBytes) + " bytes of lower-case hex");
  }
  return Status::Ok();
}

Status CheckSig(std::string_view sig) {
  if (sig.empty() || sig.size() > 2 * kMaxSignatureBytes || sig.size() % 2 != 0 ||
      !IsLowerHex(sig)) {
    return Malformed("sig: not lower-case hex of at most " + std::to_string(kMaxSignatureBytes) +
                     " bytes");
  }
  return Status::Ok();
}

Status CheckPart(std::string_view what, std::string_view value) {
  if (value.empty()) return InvalidArgumentError("request " + std::string(what) + " is empty");
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgumentError("request " + std::string(what) + " holds a control character");
    }
  }
  return Status::Ok();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

Result<SignatureHeader> ParseSignatureHeader(std::string_view value) {
  if (value.size() > kMaxAuthorizationBytes) return Malformed("longer than the limit");
  std::string_view rest = value;
  const std::string scheme = std::string(kSignatureScheme) + " ";
  if (!rest.starts_with(scheme))
    return Malformed("not the " + std::string(kSignatureScheme) + " scheme");
  rest.remove_prefix(scheme.size());
  SignatureHeader h;
  TS_ASSIGN_OR_RETURN(std::string_view op, TakeParam(&rest, "", "op"));
  TS_ASSIGN_OR_RETURN(std::string_view ts, TakeParam(&rest, ", ", "ts"));
  TS_ASSIGN_OR_RETURN(std::string_view nonce, TakeParam(&rest, ", ", "nonce"));
  TS_ASSIGN_OR_RETURN(std::string_view sig, TakeParam(&rest, ", ", "sig"));
  if (!rest.empty()) return Malformed("unexpected bytes after sig");
  TS_RETURN_IF_ERROR(CheckOperatorName(op).WithContext("Authorization header: op"));
  TS_RETURN_IF_ERROR(CheckTs(ts));
  TS_RETURN_IF_ERROR(CheckNonce(nonce));
  TS_RETURN_IF_ERROR(CheckSig(sig));
  // At most 18 digits: always fits int64.
  std::from_chars(ts.data(), ts.data() + ts.size(), h.ts);
  h.op = op;
  h.ts_text = ts;
  h.nonce = nonce;
  h.sig = sig;
  return h;
}

Result<std::string> CanonicalRequest(const RequestParts& req, std::string_view ts,
                                     std::string_view nonce_hex) {
  TS_RETURN_IF_ERROR(CheckPart("method", req.method));
  if (req.method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos) {
    return InvalidArgumentError("request method is not upper-case letters");
  }
  TS_RETURN_IF_ERROR(CheckPart("target", req.target));
  TS_RETURN_IF_ERROR(CheckPart("host", req.host));
  std::string out(kCanonicalRequestTag);
  for (std::string_view part : {std::string_view(req.method), req.target}) {
    out.append("\n").append(part);
  }
  out.append("\n").append(ToHex(Sha256(AsBytes(req.body))));
  out.append("\n").append(Lower(req.host));
  out.append("\n").append(ts).append("\n").append(nonce_hex);
  return out;
}

std::string NewNonce(Env* env) {
  std::vector<uint8_t> bytes(kMinNonceBytes);
  // Two draws of the Env's entropy (getrandom on POSIX): 128 bits, as the nonce needs only to
  // be unique, not secret.
  Random a(env->RandomSeed()), b(env->RandomSeed());
  a.Fill(std::span<uint8_t>(bytes).first(8));
  b.Fill(std::span<uint8_t>(bytes).subspan(8));
  return ToHex(bytes);
}

Result<std::string> SignRequest(const PrivateKey& key, std::string_view op, const RequestParts& req,
                                int64_t now, std::string_view nonce_hex) {
  TS_RETURN_IF_ERROR(CheckOperatorName(op));
  if (now < 0) return InvalidArgumentError("negative request time");
  TS_RETURN_IF_ERROR(CheckNonce(nonce_hex));
  const std::string ts = std::to_string(now);
  TS_ASSIGN_OR_RETURN(std::string canonical, CanonicalRequest(req, ts, nonce_hex));
  TS_ASSIGN_OR_RETURN(std::vector<uint8_t> sig, key.Sign(AsBytes(canonical)));
  return std::string(kSignatureScheme) + " op=\"" + std::string(op) + "\", ts=\"" + ts +
         "\", nonce=\"" + std::string(nonce_hex) + "\", sig=\"" + ToHex(sig) + "\"";
}

Result<Operator> VerifyRequest(std::string_view header, const RequestParts& req, int64_t now,
                               const OperatorRegistry& registry, NonceCache& nonces) {
  TS_ASSIGN_OR_RETURN(SignatureHeader h, ParseSignatureHeader(header));
  TS_ASSIGN_OR_RETURN(std::string canonical, CanonicalRequest(req, h.ts_text, h.nonce));
  auto op = registry.Find(h.op);
  if (!op.ok()) return NotFoundError("unknown operator '" + h.op + "'");
  if (op->disabled) return Status(kPermissionDenied, "operator '" + h.op + "' is disabled");
  const int64_t skew = now - h.ts;
  if (skew > kMaxClockSkewSeconds || skew < -kMaxClockSkewSeconds) {
    return DeadlineExceededError("request signed at " + h.ts_text + ", " + std::to_string(skew) +
                                 " s from this node's clock (limit ±" +
                                 std::to_string(kMaxClockSkewSeconds) + " s)");
  }
  auto key = ParseKey(op->key);
  if (!key.ok()) return VerificationError("operator '" + h.op + "': key does not parse");
  const std::vector<uint8_t> sig = HexDecode(h.sig).value_or(std::vector<uint8_t>{});
  if (!key->Verify(AsBytes(canonical), sig).ok()) {
    return VerificationError("request signature of operator '" + h.op + "' does not verify");
  }
  // Keyed by operator too: one operator cannot spend another's nonce ahead of it.
  TS_RETURN_IF_ERROR(nonces.Insert(h.op + " " + h.nonce, h.ts + kMaxClockSkewSeconds, now));
  return std::move(op).value();
}

}  // namespace tiersync::access
