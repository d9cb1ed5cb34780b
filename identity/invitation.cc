#include "identity/invitation.h"

#include <openssl/crypto.h>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/sha256.h"
#include "identity/enrollment_request.h"
#include "identity/x509_support.h"
#include "protocol/json.h"
#include "protocol/json_fields.h"

namespace tiersync::identity {

using protocol::Json;
using protocol::JsonFields;

namespace {

constexpr size_t kIdBytes = 16;
constexpr size_t kSecretBytes = 32;
constexpr size_t kSecretChars = 43;  // base64url of 32 bytes, no padding
constexpr int64_t kFileFormat = 1;

std::string Base64Url(const std::vector<uint8_t>& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

bool IsBase64Url(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

struct Token {
  std::string id, secret;
};

Result<Token> ParseToken(std::string_view token) {
  const Status bad = InvalidArgumentError("malformed invitation token");
  const std::string prefix = std::string(kInvitationTokenPrefix) + ".";
  if (!token.starts_with(prefix)) return bad;
  token.remove_prefix(prefix.size());
  size_t dot = token.find('.');
  if (dot == std::string_view::npos) return bad;
  Token t{std::string(token.substr(0, dot)), std::string(token.substr(dot + 1))};
  std::optional<std::vector<uint8_t>> id = HexDecode(t.id);
  if (!id || id->size() != kIdBytes || ToHex(*id) != t.id) return bad;
  if (t.secret.size() != kSecretChars || !IsBase64Url(t.secret)) return bad;
  return t;
}

std::string SecretHash(std::string_view secret) { return ToHex(Sha256(AsBytes(secret))); }

bool SecretMatches(const Invitation& inv, std::string_view secret) {
  const std::string hash = SecretHash(secret);
  return hash.size() == inv.secret_sha256.size() &&
         CRYPTO_memcmp(hash.data(), inv.secret_sha256.data(), hash.size()) == 0;
}

// The request's identity must be the invitation's (its name too, when one is bound).
Status CheckRequestMatches(const Invitation& inv, const NodeIdentity& asked) {
  const NodeIdentity& bound = inv.identity;
  if (asked.tier != bound.tier || asked.region != bound.region ||
      (!bound.name.empty() && asked.name != bound.name)) {
    return InvalidArgumentError(
        "the request asks for " + Describe(asked) + ", the invitation is for " + bound.tier + " " +
        (bound.name.empty() ? "(any name)" : "'" + bound.name + "'") + " (" + bound.region + ")");
  }
  return Status::Ok();
}

Json InvitationJson(const Invitation& inv) {
  return Json::Object()
      .Set("id", inv.id)
      .Set("secret_sha256", inv.secret_sha256)
      .Set("tier", inv.identity.tier)
      .Set("region", inv.identity.region)
      .Set("name", inv.identity.name)
      .Set("created_at", inv.created_at)
      .Set("expires_at", inv.expires_at)
      .Set("used_at", inv.used_at)
      .Set("serial", inv.serial)
      .Set("failures", inv.failures);
}

Result<Invitation> ParseInvitation(const Json& j, std::string where) {
  JsonFields f(j, std::move(where), StatusCode::kCorruption, "invitation store: ");
  TS_RETURN_IF_ERROR(f.IsObject());
  Invitation inv;
  TS_ASSIGN_OR_RETURN(inv.id, f.String("id"));
  TS_ASSIGN_OR_RETURN(inv.secret_sha256, f.String("secret_sha256"));
  TS_ASSIGN_OR_RETURN(inv.identity.tier, f.String("tier"));
  TS_ASSIGN_OR_RETURN(inv.identity.region, f.String("region"));
  TS_ASSIGN_OR_RETURN(inv.identity.name, f.String("name"));
  TS_ASSIGN_OR_RETURN(inv.created_at, f.Int("created_at"));
  TS_ASSIGN_OR_RETURN(inv.expires_at, f.Int("expires_at"));
  TS_ASSIGN_OR_RETURN(inv.used_at, f.Int("used_at"));
  TS_ASSIGN_OR_RETURN(inv.serial, f.String("serial"));
  TS_ASSIGN_OR_RETURN(uint64_t failures, f.Uint("failures", 0));
  inv.failures = static_cast<uint32_t>(std::min<uint64_t>(failures, kMaxSecretFailures));
  return inv;
}

Result<std::map<std::string, Invitation>> ParseStore(std::string_view text) {
  Result<Json> doc = protocol::ParseJson(text);
  if (!doc.ok()) return CorruptionError("invitation store: " + doc.status().message());
  JsonFields f(*doc, "", StatusCode::kCorruption, "invitation store: ");
  TS_RETURN_IF_ERROR(f.IsObject());
  TS_ASSIGN_OR_RETURN(uint64_t format, f.Uint("format", 1));
  if (format != kFileFormat) {
    return Status(StatusCode::kNewerFormat,
                  "invitation store: format " + std::to_string(format) + " is newer");
  }
  TS_ASSIGN_OR_RETURN(const Json* list, f.Array("invitations"));
  std::map<std::string, Invitation> all;
  for (const Json& j : list->as_array()) {
    TS_ASSIGN_OR_RETURN(Invitation inv,
                        ParseInvitation(j, "invitations[" + std::to_string(all.size()) + "]"));
    std::string id = inv.id;
    all.insert_or_assign(std::move(id), std::move(inv));
  }
  return all;
}

}  // namespace

Result<std::unique_ptr<InvitationStore>> InvitationStore::Open(Options options) {
  if (options.issuer == nullptr || options.issuer_key == nullptr || !options.issuer->is_ca()) {
    return InvalidArgumentError("invitations need an issuing (CA) node certificate");
  }
  if (options.issuer_key->Public().canonical_der() !=
      options.issuer->public_key().canonical_der()) {
    return InvalidArgumentError("the issuer key is not the key of the issuer certificate");
  }
  std::unique_ptr<InvitationStore> store(new InvitationStore(std::move(options)));
  Env* env = store->options_.env;
  if (env->FileExists(store->options_.path)) {
    TS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                        ReadFileToBytes(env, store->options_.path, kMaxInvitationFileBytes));
    TS_ASSIGN_OR_RETURN(auto all, ParseStore(std::string_view(
                                      reinterpret_cast<const char*>(bytes.data()), bytes.size())));
    MutexLock l(&store->mu_);
    store->invitations_ = std::move(all);
  }
  return store;
}

Status InvitationStore::Commit(std::map<std::string, Invitation> all) {
  Json list = Json::Array();
  for (const auto& [id, inv] : all) list.Push(InvitationJson(inv));
  const std::string text = protocol::EncodePretty(
      Json::Object().Set("format", kFileFormat).Set("invitations", std::move(list)));
  TS_RETURN_IF_ERROR(
      WriteFileAtomically(options_.env, options_.path, AsBytes(text), /*owner_only=*/true));
  invitations_ = std::move(all);
  return Status::Ok();
}

Result<std::string> InvitationStore::Create(const NodeIdentity& bound, int64_t now,
                                            int64_t expires_at) {
  if (expires_at <= now) return InvalidArgumentError("the invitation would expire at once");
  NodeIdentity checked = bound;
  if (checked.name.empty()) checked.name = "any";
  TS_RETURN_IF_ERROR(CheckScope(options_.issuer->identity(), checked));
  Invitation inv;
  inv.id = ToHex(internal::SecureRandomBytes(kIdBytes));
  inv.identity = bound;
  inv.created_at = now;
  inv.expires_at = expires_at;
  const std::string secret = Base64Url(internal::SecureRandomBytes(kSecretBytes));
  inv.secret_sha256 = SecretHash(secret);
  const std::string token = std::string(kInvitationTokenPrefix) + "." + inv.id + "." + secret;
  MutexLock l(&mu_);
  std::map<std::string, Invitation> all = invitations_;
  all.emplace(inv.id, inv);
  TS_RETURN_IF_ERROR(Commit(std::move(all)));
  return token;
}

Status InvitationStore::CountWrongSecret(const std::string& id) {
  std::map<std::string, Invitation> all = invitations_;
  Invitation& inv = all.at(id);
  ++inv.failures;
  const bool burned = inv.burned();
  const std::string tries =
      std::to_string(inv.failures) + " of " + std::to_string(kMaxSecretFailures) + " tries";
  TS_RETURN_IF_ERROR(Commit(std::move(all)));
  return VerificationError("wrong secret for invitation " + id + " (" + tries + ")" +
                           (burned ? "; the invitation is now burned" : ""));
}

Result<NodeCertificate> InvitationStore::Redeem(std::string_view token, std::string_view csr_pem,
                                                int64_t now) {
  TS_ASSIGN_OR_RETURN(Token t, ParseToken(token));
  MutexLock l(&mu_);
  auto it = invitations_.find(t.id);
  if (it == invitations_.end()) return NotFoundError("unknown invitation " + t.id);
  const Invitation& inv = it->second;
  if (inv.burned()) {
    return FailedPreconditionError("invitation " + t.id + " is burned after " +
                                   std::to_string(kMaxSecretFailures) + " wrong secrets");
  }
  if (!SecretMatches(inv, t.secret)) return CountWrongSecret(t.id);
  if (!inv.serial.empty()) {  // used (used_at may be 0 on a clock at the epoch)
    return AlreadyExistsError("invitation " + t.id + " was already used at " +
                              internal::TimeText(inv.used_at));
  }
  if (now >= inv.expires_at) {
    return FailedPreconditionError("invitation " + t.id + " expired at " +
                                   internal::TimeText(inv.expires_at));
  }
  TS_ASSIGN_OR_RETURN(EnrollmentRequest req, ParseEnrollmentRequest(csr_pem));
  TS_RETURN_IF_ERROR(CheckRequestMatches(inv, req.identity));
  TS_ASSIGN_OR_RETURN(NodeCertificate cert,
                      Issue(*options_.issuer, *options_.issuer_key, req.identity, req.key,
                            now - kNotBeforeBackdateSeconds, now + options_.certificate_lifetime));
  std::map<std::string, Invitation> all = invitations_;
  all.at(t.id).used_at = now;
  all.at(t.id).serial = cert.serial();
  TS_RETURN_IF_ERROR(Commit(std::move(all)));
  return cert;
}

std::vector<Invitation> InvitationStore::List() const {
  MutexLock l(&mu_);
  std::vector<Invitation> out;
  for (const auto& [id, inv] : invitations_) out.push_back(inv);
  return out;
}

}  // namespace tiersync::identity
