#include "identity/revocation.h"

#include "base/bytes.h"
#include "base/hex.h"
#include "base/sha256.h"
#include "protocol/json.h"
#include "protocol/json_fields.h"

namespace tiersync::identity {

using protocol::Json;
using protocol::JsonFields;

namespace {

bool IsLowerHex(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string KeyId(const PublicKey& key) { return ToHex(Sha256(AsBytes(key.canonical_der()))); }

Json IdentityJson(const NodeIdentity& id) {
  return Json::Object().Set("tier", id.tier).Set("region", id.region).Set("name", id.name);
}

Json SignedJson(const RevocationList& list) {
  Json revoked = Json::Array();
  for (const RevokedCertificate& r : list.revoked) {
    revoked.Push(Json::Object()
                     .Set("serial", r.serial)
                     .Set("subject", IdentityJson(r.subject))
                     .Set("at", r.at)
                     .Set("reason", r.reason));
  }
  return Json::Object()
      .Set("_type", kRevocationListType)
      .Set("issuer", list.issuer)
      .Set("version", list.version)
      .Set("issued_at", list.issued_at)
      .Set("revoked", std::move(revoked));
}

// The rules every list obeys, whoever made it.
Status CheckList(const RevocationList& list, const NodeCertificate& issuer) {
  if (list.issuer != issuer.fingerprint()) {
    return InvalidArgumentError("the list's issuer is not the fingerprint of " +
                                Describe(issuer.identity()));
  }
  if (list.version == 0) return InvalidArgumentError("version 0 (versions start at 1)");
  if (list.revoked.size() > kMaxRevokedEntries) return InvalidArgumentError("too many entries");
  for (const RevokedCertificate& r : list.revoked) {
    if (!IsLowerHex(r.serial, 40)) {
      return InvalidArgumentError("serial \"" + r.serial + "\" is not lower-case hex");
    }
    if (r.reason.size() > kMaxRevocationReasonBytes) {
      return InvalidArgumentError("reason longer than " +
                                  std::to_string(kMaxRevocationReasonBytes) + " bytes");
    }
    TS_RETURN_IF_ERROR(CheckScope(issuer.identity(), r.subject));
  }
  return Status::Ok();
}

Result<NodeIdentity> ParseIdentity(const Json& j, const std::string& where) {
  JsonFields f(j, where, StatusCode::kCorruption, "revocation list: ");
  TS_RETURN_IF_ERROR(f.IsObject());
  TS_RETURN_IF_ERROR(f.OnlyKnown({"tier", "region", "name"}));
  NodeIdentity id;
  TS_ASSIGN_OR_RETURN(id.tier, f.String("tier"));
  TS_ASSIGN_OR_RETURN(id.region, f.String("region"));
  TS_ASSIGN_OR_RETURN(id.name, f.String("name"));
  return id;
}

Result<RevokedCertificate> ParseEntry(const Json& j, const std::string& where) {
  JsonFields f(j, where, StatusCode::kCorruption, "revocation list: ");
  TS_RETURN_IF_ERROR(f.IsObject());
  TS_RETURN_IF_ERROR(f.OnlyKnown({"serial", "subject", "at", "reason"}));
  RevokedCertificate r;
  TS_ASSIGN_OR_RETURN(r.serial, f.String("serial"));
  TS_ASSIGN_OR_RETURN(const Json* subject, f.Get("subject"));
  TS_ASSIGN_OR_RETURN(r.subject, ParseIdentity(*subject, f.Field("subject")));
  TS_ASSIGN_OR_RETURN(r.at, f.Int("at"));
  TS_ASSIGN_OR_RETURN(r.reason, f.String("reason"));
  return r;
}

Result<RevocationList> ParseSigned(const Json& j) {
  JsonFields f(j, "signed", StatusCode::kCorruption, "revocation list: ");
  TS_RETURN_IF_ERROR(f.IsObject());
  TS_RETURN_IF_ERROR(f.OnlyKnown({"_type", "issuer", "version", "issued_at", "revoked"}));
  TS_ASSIGN_OR_RETURN(std::string type, f.String("_type"));
  if (type != kRevocationListType)
    return f.Bad(f.Field("_type"), "is not \"" + std::string(kRevocationListType) + "\"");
  RevocationList list;
  TS_ASSIGN_OR_RETURN(list.issuer, f.String("issuer"));
  TS_ASSIGN_OR_RETURN(list.version, f.Uint("version", 1));
  TS_ASSIGN_OR_RETURN(list.issued_at, f.Int("issued_at"));
  TS_ASSIGN_OR_RETURN(const Json* revoked, f.Array("revoked"));
  if (revoked->as_array().size() > kMaxRevokedEntries) {
    return ResourceExhaustedError("revocation list: more than " +
                                  std::to_string(kMaxRevokedEntries) + " entries");
  }
  for (const Json& e : revoked->as_array()) {
    const std::string where = "signed.revoked[" + std::to_string(list.revoked.size()) + "]";
    TS_ASSIGN_OR_RETURN(RevokedCertificate r, ParseEntry(e, where));
    list.revoked.push_back(std::move(r));
  }
  return list;
}

// OK if one signature in `signatures` is the issuer key's over `message`.
Status CheckSignatures(const Json& signatures, std::string_view message, const PublicKey& key) {
  const std::string keyid = KeyId(key);
  for (const Json& s : signatures.as_array()) {
    const Json* id = s.Find("keyid");
    const Json* sig = s.Find("sig");
    if (id == nullptr || sig == nullptr || !id->is_string() || !sig->is_string() ||
        id->as_string() != keyid) {
      continue;
    }
    std::optional<std::vector<uint8_t>> bytes = HexDecode(sig->as_string());
    if (bytes && key.Verify(AsBytes(message), *bytes).ok()) return Status::Ok();
  }
  return VerificationError("revocation list: no valid signature of the issuer's key");
}

}  // namespace

Result<std::string> SignRevocationList(const RevocationList& list, const NodeCertificate& issuer,
                                       const PrivateKey& issuer_key) {
  TS_RETURN_IF_ERROR(CheckList(list, issuer));
  if (issuer_key.Public().canonical_der() != issuer.public_key().canonical_der()) {
    return InvalidArgumentError("the signing key is not the key of " + Describe(issuer.identity()));
  }
  Json signed_part = SignedJson(list);
  const std::string message = protocol::EncodeCanonical(signed_part);
  TS_ASSIGN_OR_RETURN(std::vector<uint8_t> sig, issuer_key.Sign(AsBytes(message)));
  Json signatures = Json::Array();
  signatures.Push(Json::Object().Set("keyid", KeyId(issuer.public_key())).Set("sig", ToHex(sig)));
  return protocol::EncodePretty(
      Json::Object().Set("signed", std::move(signed_part)).Set("signatures", signatures));
}

Result<RevocationList> VerifyRevocationList(std::string_view text, const NodeCertificate& issuer) {
  if (text.size() > kMaxRevocationListBytes) {
    return ResourceExhaustedError("revocation list larger than " +
                                  std::to_string(kMaxRevocationListBytes) + " bytes");
  }
  TS_ASSIGN_OR_RETURN(Json doc, protocol::ParseJson(text));
  JsonFields f(doc, "", StatusCode::kCorruption, "revocation list: ");
  TS_RETURN_IF_ERROR(f.IsObject());
  TS_RETURN_IF_ERROR(f.OnlyKnown({"signed", "signatures"}));
  TS_ASSIGN_OR_RETURN(const Json* signed_part, f.Object("signed"));
  TS_ASSIGN_OR_RETURN(const Json* signatures, f.Array("signatures"));
  TS_RETURN_IF_ERROR(
      CheckSignatures(*signatures, protocol::EncodeCanonical(*signed_part), issuer.public_key()));
  TS_ASSIGN_OR_RETURN(RevocationList list, ParseSigned(*signed_part));
  if (Status s = CheckList(list, issuer); !s.ok()) {
    return CorruptionError("revocation list: " + s.message());
  }
  return list;
}

Status RevocationSet::Add(std::string_view text, const NodeCertificate& issuer) {
  TS_ASSIGN_OR_RETURN(RevocationList list, VerifyRevocationList(text, issuer));
  MutexLock l(&mu_);
  auto it = lists_.find(list.issuer);
  if (it != lists_.end()) {
    const RevocationList& held = it->second;
    if (held == list) return Status::Ok();
    if (held.version >= list.version) {
      return FailedPreconditionError("revocation list version " + std::to_string(list.version) +
                                     " of " + Describe(issuer.identity()) + " replayed: version " +
                                     std::to_string(held.version) + " is held");
    }
  }
  lists_.insert_or_assign(list.issuer, std::move(list));
  return Status::Ok();
}

std::optional<RevokedCertificate> RevocationSet::Find(std::string_view issuer_fingerprint,
                                                      std::string_view serial,
                                                      const NodeIdentity& subject) const {
  MutexLock l(&mu_);
  auto it = lists_.find(issuer_fingerprint);
  if (it == lists_.end()) return std::nullopt;
  for (const RevokedCertificate& r : it->second.revoked) {
    if (r.serial == serial && r.subject == subject) return r;
  }
  return std::nullopt;
}

std::optional<uint64_t> RevocationSet::Version(std::string_view issuer_fingerprint) const {
  MutexLock l(&mu_);
  auto it = lists_.find(issuer_fingerprint);
  if (it == lists_.end()) return std::nullopt;
  return it->second.version;
}

}  // namespace tiersync::identity
