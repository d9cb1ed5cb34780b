#include "protocol/tuf_metadata.h"

#include <algorithm>
#include <set>

#include "base/bytes.h"
#include "base/sha256.h"
#include "protocol/json_fields.h"
#include "protocol/tuf_time.h"

namespace tiersync::protocol::tuf {
namespace {

Status Bad(std::string_view where, std::string_view what) {
  return CorruptionError("tuf metadata: " + std::string(where) + ": " + std::string(what));
}

// Field access for metadata: errors are kCorruption "tuf metadata: <field>: <what>".
class Fields : public JsonFields {
 public:
  Fields(const Json& obj, std::string where)
      : JsonFields(obj, std::move(where), StatusCode::kCorruption, "tuf metadata: ") {}
};

Result<std::map<std::string, std::string>> ParseHashes(const Json& v, const std::string& where) {
  if (!v.is_object() || v.as_object().empty()) return Bad(where, "must be a non-empty object");
  std::map<std::string, std::string> out;
  for (const auto& [alg, hex] : v.as_object()) {
    if (!hex.is_string()) return Bad(where + "." + alg, "is not a string");
    out[alg] = hex.as_string();
  }
  return out;
}

Result<Key> ParseKeyAt(const Json& v, const std::string& where) {
  Fields f(v, where);
  TS_RETURN_IF_ERROR(f.IsObject());
  Key k;
  TS_ASSIGN_OR_RETURN(k.keytype, f.String("keytype"));
  TS_ASSIGN_OR_RETURN(k.scheme, f.String("scheme"));
  TS_ASSIGN_OR_RETURN(const Json* keyval, f.Object("keyval"));
  TS_ASSIGN_OR_RETURN(k.public_value, Fields(*keyval, where + ".keyval").String("public"));
  k.keyval = *keyval;
  return k;
}

Result<std::map<std::string, Key>> ParseKeys(const Json& v, const std::string& where) {
  if (!v.is_object()) return Bad(where, "is not an object");
  std::map<std::string, Key> out;
  for (const auto& [keyid, key] : v.as_object()) {
    TS_ASSIGN_OR_RETURN(out[keyid], ParseKeyAt(key, where + "." + keyid));
  }
  return out;
}

Result<Role> ParseRole(const Json& v, const std::string& where) {
  Fields f(v, where);
  TS_RETURN_IF_ERROR(f.IsObject());
  Role r;
  TS_ASSIGN_OR_RETURN(r.keyids, f.StringList("keyids", /*unique=*/true));
  TS_ASSIGN_OR_RETURN(uint64_t threshold, f.Uint("threshold", 1));
  if (threshold > UINT32_MAX) return Bad(where, "threshold is too large");
  r.threshold = static_cast<uint32_t>(threshold);
  return r;
}

Result<MetaFile> ParseMetaFile(const Json& v, const std::string& where) {
  Fields f(v, where);
  TS_RETURN_IF_ERROR(f.IsObject());
  MetaFile m;
  TS_ASSIGN_OR_RETURN(m.version, f.Uint("version", 1));
  if (f.Has("length")) {
    TS_ASSIGN_OR_RETURN(m.length, f.Uint("length", 1));
  }
  if (f.Has("hashes")) {
    TS_ASSIGN_OR_RETURN(m.hashes, ParseHashes(*v.Find("hashes"), where + ".hashes"));
  }
  return m;
}

Result<TargetFile> ParseTargetFile(const Json& v, const std::string& where) {
  Fields f(v, where);
  TS_RETURN_IF_ERROR(f.IsObject());
  TargetFile t;
  TS_ASSIGN_OR_RETURN(t.length, f.Uint("length", 0));
  TS_ASSIGN_OR_RETURN(const Json* hashes, f.Get("hashes"));
  TS_ASSIGN_OR_RETURN(t.hashes, ParseHashes(*hashes, where + ".hashes"));
  if (const Json* custom = v.Find("custom")) t.custom = *custom;
  return t;
}

Result<DelegatedRole> ParseDelegatedRole(const Json& v, const std::string& where) {
  Fields f(v, where);
  TS_RETURN_IF_ERROR(f.IsObject());
  DelegatedRole d;
  TS_ASSIGN_OR_RETURN(d.name, f.String("name"));
  TS_ASSIGN_OR_RETURN(d.role, ParseRole(v, where));
  TS_ASSIGN_OR_RETURN(d.terminating, f.Bool("terminating"));
  if (f.Has("paths")) {
    TS_ASSIGN_OR_RETURN(d.paths, f.StringList("paths", false));
  }
  if (f.Has("path_hash_prefixes")) {
    TS_ASSIGN_OR_RETURN(d.path_hash_prefixes, f.StringList("path_hash_prefixes", false));
  }
  if (d.paths.has_value() == d.path_hash_prefixes.has_value()) {
    return Bad(where, "must have exactly one of \"paths\" and \"path_hash_prefixes\"");
  }
  return d;
}

Result<Delegations> ParseDelegations(const Json& v, const std::string& where) {
  Fields f(v, where);
  TS_RETURN_IF_ERROR(f.IsObject());
  Delegations d;
  TS_ASSIGN_OR_RETURN(const Json* keys, f.Get("keys"));
  TS_ASSIGN_OR_RETURN(d.keys, ParseKeys(*keys, where + ".keys"));
  TS_ASSIGN_OR_RETURN(const Json* roles, f.Get("roles"));
  if (!roles->is_array()) return Bad(where + ".roles", "is not an array");
  std::set<std::string> names;
  for (const Json& r : roles->as_array()) {
    TS_ASSIGN_OR_RETURN(DelegatedRole role, ParseDelegatedRole(r, where + ".roles[]"));
    if (role.name == kRootRole || role.name == kTimestampRole || role.name == kSnapshotRole ||
        role.name == kTargetsRole) {
      return Bad(where, "delegates to the top-level role name \"" + role.name + "\"");
    }
    if (!names.insert(role.name).second)
      return Bad(where, "names role \"" + role.name + "\" twice");
    d.roles.push_back(std::move(role));
  }
  return d;
}

// Checks "_type", "spec_version", "version" and "expires".
Result<Common> ParseCommon(const Json& v, std::string_view type) {
  std::string where = "signed (" + std::string(type) + ")";
  Fields f(v, where);
  TS_RETURN_IF_ERROR(f.IsObject());
  TS_ASSIGN_OR_RETURN(std::string got, f.String("_type"));
  if (got != type)
    return Bad(where, "_type is \"" + got + "\", expected \"" + std::string(type) + "\"");
  Common c;
  TS_ASSIGN_OR_RETURN(c.spec_version, f.String("spec_version"));
  if (c.spec_version.rfind("1.", 0) != 0) {
    return NotSupportedError("tuf metadata: spec_version \"" + c.spec_version +
                             "\" is not a 1.x version");
  }
  TS_ASSIGN_OR_RETURN(c.version, f.Uint("version", 1));
  TS_ASSIGN_OR_RETURN(std::string expires, f.String("expires"));
  TS_ASSIGN_OR_RETURN(c.expires, ParseTufTime(expires));
  return c;
}

// Serialisation helpers.
Json StringArray(const std::vector<std::string>& v) {
  Json a = Json::Array();
  for (const auto& s : v) a.Push(Json(s));
  return a;
}

Json HashesJson(const std::map<std::string, std::string>& hashes) {
  Json h = Json::Object();
  for (const auto& [alg, hex] : hashes) h.Set(alg, Json(hex));
  return h;
}

}  // namespace

Json ToJson(const Key& k) {
  Json j = Json::Object();
  j.Set("keytype", Json(k.keytype));
  j.Set("keyval", k.keyval);
  j.Set("scheme", Json(k.scheme));
  return j;
}

namespace {

Json KeysJson(const std::map<std::string, Key>& keys) {
  Json j = Json::Object();
  for (const auto& [id, k] : keys) j.Set(id, ToJson(k));
  return j;
}

void SetRole(Json* j, const Role& r) {
  j->Set("keyids", StringArray(r.keyids));
  j->Set("threshold", Json(static_cast<int64_t>(r.threshold)));
}

Json MetaFileJson(const MetaFile& m) {
  Json j = Json::Object();
  j.Set("version", Json(static_cast<int64_t>(m.version)));
  if (m.length) j.Set("length", Json(static_cast<int64_t>(*m.length)));
  if (!m.hashes.empty()) j.Set("hashes", HashesJson(m.hashes));
  return j;
}

Json CommonJson(const Common& c, std::string_view type) {
  Json j = Json::Object();
  j.Set("_type", Json(std::string(type)));
  j.Set("spec_version", Json(c.spec_version));
  j.Set("version", Json(static_cast<int64_t>(c.version)));
  j.Set("expires", Json(FormatTufTime(c.expires)));
  return j;
}

}  // namespace

Result<Key> ParseKey(const Json& key) { return ParseKeyAt(key, "key"); }

std::string KeyId(const Key& key) {
  std::string canonical = EncodeCanonical(ToJson(key));
  return ToHex(Sha256(AsBytes(canonical)));
}

Key MakeKey(std::string keytype, std::string scheme, std::string public_value) {
  Key k{std::move(keytype), std::move(scheme), std::move(public_value), Json::Object()};
  k.keyval.Set("public", Json(k.public_value));
  return k;
}

Result<Envelope> ParseEnvelope(std::span<const uint8_t> bytes, size_t max_bytes) {
  if (bytes.size() > max_bytes) {
    return ResourceExhaustedError("tuf metadata: " + std::to_string(bytes.size()) +
                                  " bytes, over the limit of " + std::to_string(max_bytes));
  }
  JsonLimits limits;
  limits.max_bytes = max_bytes;
  TS_ASSIGN_OR_RETURN(Json doc, ParseJson(AsChars(bytes), limits));
  Fields f(doc, "envelope");
  TS_RETURN_IF_ERROR(f.IsObject());
  if (doc.as_object().size() != 2) {
    return Bad("envelope", "must have exactly the fields \"signatures\" and \"signed\"");
  }
  Envelope env;
  TS_ASSIGN_OR_RETURN(const Json* sigs, f.Get("signatures"));
  TS_ASSIGN_OR_RETURN(const Json* signed_json, f.Object("signed"));
  if (!sigs->is_array()) return Bad("signatures", "is not an array");
  for (const Json& s : sigs->as_array()) {
    Fields sf(s, "signatures[]");
    TS_RETURN_IF_ERROR(sf.IsObject());
    if (s.as_object().size() != 2) return Bad("signatures[]", "must have exactly keyid and sig");
    Signature sig;
    TS_ASSIGN_OR_RETURN(sig.keyid, sf.String("keyid"));
    TS_ASSIGN_OR_RETURN(sig.sig, sf.String("sig"));
    env.signatures.push_back(std::move(sig));
  }
  TS_ASSIGN_OR_RETURN(env.type, Fields(*signed_json, "signed").String("_type"));
  env.signed_json = *signed_json;
  return env;
}

Status CheckIdentityCaPem(std::string_view pem) {
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  if (pem.size() > kMaxIdentityCaPemBytes) {
    return InvalidArgumentError("is larger than " + std::to_string(kMaxIdentityCaPemBytes) +
                                " bytes");
  }
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!pem.empty() && space(pem.front())) pem.remove_prefix(1);
  while (!pem.empty() && space(pem.back())) pem.remove_suffix(1);
  if (!pem.starts_with(kBegin) || !pem.ends_with(kEnd) ||
      pem.size() < kBegin.size() + kEnd.size()) {
    return InvalidArgumentError("is not one PEM certificate (\"" + std::string(kBegin) + "\")");
  }
  const std::string_view body = pem.substr(kBegin.size(), pem.size() - kBegin.size() - kEnd.size());
  if (body.find("-----") != std::string_view::npos) {
    return InvalidArgumentError("holds more than one PEM block");
  }
  for (char c : body) {
    const bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '+' || c == '/' || c == '=';
    if (!b64 && !space(c)) return InvalidArgumentError("has a character that is not base64");
  }
  return Status::Ok();
}

Result<Root> ParseRoot(const Json& v) {
  TS_ASSIGN_OR_RETURN(Common c, ParseCommon(v, kRootRole));
  Root r;
  static_cast<Common&>(r) = c;
  Fields f(v, "signed (root)");
  TS_ASSIGN_OR_RETURN(r.consistent_snapshot, f.Bool("consistent_snapshot"));
  TS_ASSIGN_OR_RETURN(const Json* keys, f.Get("keys"));
  TS_ASSIGN_OR_RETURN(r.keys, ParseKeys(*keys, "root.keys"));
  TS_ASSIGN_OR_RETURN(const Json* roles, f.Object("roles"));
  for (const auto& [name, role] : roles->as_object()) {
    TS_ASSIGN_OR_RETURN(r.roles[name], ParseRole(role, "root.roles." + name));
  }
  for (std::string_view name : {kRootRole, kSnapshotRole, kTargetsRole, kTimestampRole}) {
    if (r.roles.count(std::string(name)) == 0) {
      return Bad("root.roles", "is missing the \"" + std::string(name) + "\" role");
    }
  }
  if (r.roles.size() != 4) return Bad("root.roles", "has roles other than the four top-level ones");
  if (f.Has(kOfflineGraceField)) {
    TS_ASSIGN_OR_RETURN(uint64_t grace, f.Uint(kOfflineGraceField, 0));
    if (grace > kMaxOfflineGraceSeconds) {
      return Bad(std::string(kOfflineGraceField),
                 "is over a year (" + std::to_string(kMaxOfflineGraceSeconds) + " seconds)");
    }
    r.offline_grace_seconds = grace;
  }
  if (f.Has(kIdentityCaField)) {
    const std::string field(kIdentityCaField);
    TS_ASSIGN_OR_RETURN(r.identity_cas, f.StringList(kIdentityCaField, /*unique=*/true));
    if (r.identity_cas.empty() || r.identity_cas.size() > kMaxIdentityCas) {
      return Bad(field, "must list 1 to " + std::to_string(kMaxIdentityCas) + " certificates");
    }
    for (size_t i = 0; i < r.identity_cas.size(); ++i) {
      if (Status s = CheckIdentityCaPem(r.identity_cas[i]); !s.ok()) {
        return Bad(field + "[" + std::to_string(i) + "]", s.message());
      }
    }
  }
  return r;
}

Result<Timestamp> ParseTimestamp(const Json& v) {
  TS_ASSIGN_OR_RETURN(Common c, ParseCommon(v, kTimestampRole));
  Timestamp t;
  static_cast<Common&>(t) = c;
  TS_ASSIGN_OR_RETURN(const Json* meta, Fields(v, "signed (timestamp)").Object("meta"));
  const Json* snap = meta->Find("snapshot.json");
  if (snap == nullptr || meta->as_object().size() != 1) {
    return Bad("timestamp.meta", "must hold exactly \"snapshot.json\"");
  }
  TS_ASSIGN_OR_RETURN(t.snapshot_meta, ParseMetaFile(*snap, "timestamp.meta[snapshot.json]"));
  return t;
}

Result<Snapshot> ParseSnapshot(const Json& v) {
  TS_ASSIGN_OR_RETURN(Common c, ParseCommon(v, kSnapshotRole));
  Snapshot s;
  static_cast<Common&>(s) = c;
  TS_ASSIGN_OR_RETURN(const Json* meta, Fields(v, "signed (snapshot)").Object("meta"));
  for (const auto& [name, m] : meta->as_object()) {
    TS_ASSIGN_OR_RETURN(s.meta[name], ParseMetaFile(m, "snapshot.meta[" + name + "]"));
  }
  return s;
}

std::string_view RetractionKindName(Retraction::Kind kind) {
  switch (kind) {
    case Retraction::Kind::kResource:
      return "resource";
    case Retraction::Kind::kProvider:
      return "provider";
    case Retraction::Kind::kSha256:
      return "sha256";
  }
  return "resource";
}

Result<Retraction::Kind> ParseRetractionKind(std::string_view name) {
  for (auto kind :
       {Retraction::Kind::kResource, Retraction::Kind::kProvider, Retraction::Kind::kSha256}) {
    if (name == RetractionKindName(kind)) return kind;
  }
  return InvalidArgumentError("a retraction names a resource, a provider or a sha256, not \"" +
                              std::string(name) + "\"");
}

Status CheckRetraction(const Retraction& r) {
  const std::string kind(RetractionKindName(r.kind));
  if (r.value.empty()) return InvalidArgumentError("the retraction's " + kind + " is empty");
  const bool hex = std::all_of(r.value.begin(), r.value.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  if (r.kind == Retraction::Kind::kSha256 && (r.value.size() != 64 || !hex)) {
    return InvalidArgumentError("the retraction's sha256 is not 64 lowercase hex digits");
  }
  if (r.reason.size() > kMaxRetractionReasonBytes) {
    return InvalidArgumentError("the retraction's reason is over " +
                                std::to_string(kMaxRetractionReasonBytes) + " bytes");
  }
  return Status::Ok();
}

namespace {

Result<Retraction> ParseRetraction(const Json& v, const std::string& where) {
  if (!v.is_object()) return Bad(where, "is not an object");
  Fields f(v, where);
  Retraction r;
  int kinds = 0;
  for (auto kind :
       {Retraction::Kind::kResource, Retraction::Kind::kProvider, Retraction::Kind::kSha256}) {
    const std::string_view name = RetractionKindName(kind);
    if (!f.Has(name)) continue;
    ++kinds;
    r.kind = kind;
    TS_ASSIGN_OR_RETURN(r.value, f.String(name));
  }
  if (kinds != 1) return Bad(where, "must name exactly one of resource, provider and sha256");
  TS_ASSIGN_OR_RETURN(r.reason, f.String("reason"));
  if (Status checked = CheckRetraction(r); !checked.ok()) return Bad(where, checked.message());
  TS_ASSIGN_OR_RETURN(std::string since, f.String("since"));
  auto t = ParseTufTime(since);
  if (!t.ok()) return Bad(where + ".since", t.status().message());
  r.since = *t;
  if (v.as_object().size() != 3)
    return Bad(where, "has fields other than its kind, reason and since");
  return r;
}

Json RetractionJson(const Retraction& r) {
  Json j = Json::Object();
  j.Set(std::string(RetractionKindName(r.kind)), Json(r.value));
  j.Set("reason", Json(r.reason));
  j.Set("since", Json(FormatTufTime(r.since)));
  return j;
}

}  // namespace

Result<Targets> ParseTargets(const Json& v) {
  TS_ASSIGN_OR_RETURN(Common c, ParseCommon(v, kTargetsRole));
  Targets t;
  static_cast<Common&>(t) = c;
  Fields f(v, "signed (targets)");
  TS_ASSIGN_OR_RETURN(const Json* targets, f.Object("targets"));
  for (const auto& [path, info] : targets->as_object()) {
    TS_ASSIGN_OR_RETURN(t.targets[path], ParseTargetFile(info, "targets[" + path + "]"));
  }
  if (const Json* d = v.Find("delegations")) {
    TS_ASSIGN_OR_RETURN(t.delegations, ParseDelegations(*d, "targets.delegations"));
  }
  if (f.Has(kRetractionsField)) {
    const std::string where(kRetractionsField);
    TS_ASSIGN_OR_RETURN(const Json* list, f.Array(kRetractionsField));
    if (list->as_array().size() > kMaxRetractions) {
      return Bad(where, "has over " + std::to_string(kMaxRetractions) + " entries");
    }
    for (size_t i = 0; i < list->as_array().size(); ++i) {
      TS_ASSIGN_OR_RETURN(Retraction r, ParseRetraction(list->as_array()[i],
                                                        where + "[" + std::to_string(i) + "]"));
      t.retractions.push_back(std::move(r));
    }
  }
  return t;
}

Json ToJson(const Root& r) {
  Json j = CommonJson(r, kRootRole);
  j.Set("consistent_snapshot", Json(r.consistent_snapshot));
  j.Set("keys", KeysJson(r.keys));
  Json roles = Json::Object();
  for (const auto& [name, role] : r.roles) {
    Json rj = Json::Object();
    SetRole(&rj, role);
    roles.Set(name, std::move(rj));
  }
  j.Set("roles", std::move(roles));
  if (r.offline_grace_seconds) {
    j.Set(std::string(kOfflineGraceField), Json(static_cast<int64_t>(*r.offline_grace_seconds)));
  }
  if (!r.identity_cas.empty()) {
    Json cas = Json::Array();
    for (const auto& pem : r.identity_cas) cas.Push(Json(pem));
    j.Set(std::string(kIdentityCaField), std::move(cas));
  }
  return j;
}

Json ToJson(const Timestamp& t) {
  Json j = CommonJson(t, kTimestampRole);
  Json meta = Json::Object();
  meta.Set("snapshot.json", MetaFileJson(t.snapshot_meta));
  j.Set("meta", std::move(meta));
  return j;
}

Json ToJson(const Snapshot& s) {
  Json j = CommonJson(s, kSnapshotRole);
  Json meta = Json::Object();
  for (const auto& [name, m] : s.meta) meta.Set(name, MetaFileJson(m));
  j.Set("meta", std::move(meta));
  return j;
}

Json ToJson(const Targets& t) {
  Json j = CommonJson(t, kTargetsRole);
  Json targets = Json::Object();
  for (const auto& [path, info] : t.targets) {
    Json tj = Json::Object();
    tj.Set("length", Json(static_cast<int64_t>(info.length)));
    tj.Set("hashes", HashesJson(info.hashes));
    if (info.custom) tj.Set("custom", *info.custom);
    targets.Set(path, std::move(tj));
  }
  j.Set("targets", std::move(targets));
  if (t.delegations) {
    Json d = Json::Object();
    d.Set("keys", KeysJson(t.delegations->keys));
    Json roles = Json::Array();
    for (const DelegatedRole& r : t.delegations->roles) {
      Json rj = Json::Object();
      rj.Set("name", Json(r.name));
      SetRole(&rj, r.role);
      rj.Set("terminating", Json(r.terminating));
      if (r.paths) rj.Set("paths", StringArray(*r.paths));
      if (r.path_hash_prefixes) rj.Set("path_hash_prefixes", StringArray(*r.path_hash_prefixes));
      roles.Push(std::move(rj));
    }
    d.Set("roles", std::move(roles));
    j.Set("delegations", std::move(d));
  }
  if (!t.retractions.empty()) {
    Json list = Json::Array();
    for (const Retraction& r : t.retractions) list.Push(RetractionJson(r));
    j.Set(std::string(kRetractionsField), std::move(list));
  }
  return j;
}

std::string SerializeEnvelope(const Json& signed_json, const std::vector<Signature>& signatures) {
  Json sigs = Json::Array();
  for (const Signature& s : signatures) {
    Json sj = Json::Object();
    sj.Set("keyid", Json(s.keyid));
    sj.Set("sig", Json(s.sig));
    sigs.Push(std::move(sj));
  }
  Json doc = Json::Object();
  doc.Set("signatures", std::move(sigs));
  doc.Set("signed", signed_json);
  return EncodePretty(doc);
}

std::string SigningBytes(const Json& signed_json) { return EncodeCanonical(signed_json); }

std::string QuoteForFileName(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  if (out == "." || out == "..") return out == "." ? "%2E" : "%2E%2E";
  return out;
}

Status ValidateTargetPath(std::string_view path) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("target path \"" + std::string(path) + "\" " + std::string(why));
  };
  if (path.empty()) return bad("is empty");
  if (path.find('\\') != std::string_view::npos || path.find('\0') != std::string_view::npos) {
    return bad("contains a backslash or NUL");
  }
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string_view seg = path.substr(start, slash - start);
    if (seg.empty() || seg == "." || seg == "..") return bad("has an empty, . or .. segment");
    if (slash == std::string_view::npos) return Status::Ok();
    start = slash + 1;
  }
}

}  // namespace tiersync::protocol::tuf
