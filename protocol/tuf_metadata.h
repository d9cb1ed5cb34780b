// TUF 1.0 metadata (the-update-framework specification v1.0.x, section 4): the document types
// `root`, `timestamp`, `snapshot` and `targets` (top-level and delegated), their strict
// parsing from bytes, and their serialisation. Normative description: docs/formats/metadata.md.
//
// Every metadata file is an envelope  {"signatures": [{"keyid": K, "sig": HEX}, ...],
// "signed": {...}}  and the signatures cover the OLPC canonical JSON of "signed"
// (protocol/json.h, EncodeCanonical). Parsing keeps the parsed "signed" tree next to the typed
// view: signatures are checked over the canonical form of exactly that tree, so what is
// verified is what is used (apt CVE-2016-1252). Unknown fields inside "signed" are kept (and
// so stay covered by the signature); the envelope and signature objects admit no other fields.
//
// Pure: no I/O, no clock.
#ifndef TIERSYNC_PROTOCOL_TUF_METADATA_H_
#define TIERSYNC_PROTOCOL_TUF_METADATA_H_

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "protocol/json.h"

namespace tiersync::protocol::tuf {

// Byte caps for downloads of each kind of metadata whose length is not known in advance
// (threats.md A6: endless data). Timestamp and root are always fetched with these; snapshot
// and targets use the length from the referring metadata when it is given.
inline constexpr size_t kMaxRootBytes = 512 * 1024;
inline constexpr size_t kMaxTimestampBytes = 16 * 1024;
inline constexpr size_t kMaxSnapshotBytes = 16u << 20;
inline constexpr size_t kMaxTargetsBytes = 64u << 20;
// How many root versions one refresh may walk, and how many delegated roles one target
// search may visit (python-tuf's defaults).
inline constexpr int kMaxRootRotations = 32;
inline constexpr int kMaxDelegationsVisited = 32;
// Roles a mirror loads to list a whole repository: 16^3 hash bins plus the regional tree.
inline constexpr int kMaxRolesListed = 8192;
// The major version of the specification this code implements.
inline constexpr std::string_view kSpecVersion = "1.0.31";

inline constexpr std::string_view kRootRole = "root";
inline constexpr std::string_view kTimestampRole = "timestamp";
inline constexpr std::string_view kSnapshotRole = "snapshot";
inline constexpr std::string_view kTargetsRole = "targets";

// A public key as it appears in metadata ("keys" of root, "delegations.keys" of targets).
struct Key {
  std::string keytype;
  std::string scheme;
  std::string public_value;  // keyval.public
  Json keyval;               // the whole keyval object, as parsed
  bool operator==(const Key&) const = default;
};

// The keyid of a key as the specification defines it: the hex SHA-256 of the canonical JSON of
// {"keytype", "keyval", "scheme"}.
std::string KeyId(const Key& key);

// A key object {"keytype", "keyval", "scheme"} (as in "keys" of root, or a .pub.json file),
// and its serialisation. kCorruption names the missing or mistyped field.
Result<Key> ParseKey(const Json& key);
Json ToJson(const Key& key);

// Builds a key from its parts (keyval = {"public": public_value}).
Key MakeKey(std::string keytype, std::string scheme, std::string public_value);

struct Role {
  std::vector<std::string> keyids;  // unique
  uint32_t threshold = 1;           // >= 1
  bool operator==(const Role&) const = default;
};

// METAFILES entry of timestamp and snapshot.
struct MetaFile {
  uint64_t version = 0;
  std::optional<uint64_t> length;
  std::map<std::string, std::string> hashes;  // algorithm -> hex; empty if absent
  bool operator==(const MetaFile&) const = default;
};

// TARGETS entry.
struct TargetFile {
  uint64_t length = 0;
  std::map<std::string, std::string> hashes;  // non-empty
  std::optional<Json> custom;
  bool operator==(const TargetFile&) const = default;
};

struct DelegatedRole {
  std::string name;
  Role role;
  bool terminating = false;
  // Exactly one of the two is set.
  std::optional<std::vector<std::string>> paths;
  std::optional<std::vector<std::string>> path_hash_prefixes;
  bool operator==(const DelegatedRole&) const = default;
};

struct Delegations {
  std::map<std::string, Key> keys;
  std::vector<DelegatedRole> roles;  // in order of priority
  bool operator==(const Delegations&) const = default;
};

// Fields every role's "signed" has.
struct Common {
  std::string spec_version = std::string(kSpecVersion);
  uint64_t version = 1;
  int64_t expires = 0;  // seconds since the epoch
  bool operator==(const Common&) const = default;
};

// The root's signed offline policy (docs/security.md, "Offline grace"): how long past the
// expiry of its metadata a node that cannot update may keep serving its last verified release,
// saying it is stale. In "signed" as kOfflineGraceField (an extension field: TUF clients that
// do not know it ignore it); absent: no grace (a node stops serving at expiry).
inline constexpr std::string_view kOfflineGraceField = "x-tiersync-offline-grace-seconds";
inline constexpr uint64_t kMaxOfflineGraceSeconds = 366ull * 86400;

// The national identity CAs (docs/formats/node-identity.md, "Trust anchor"): the self-signed
// certificates under which every node certificate of the federation verifies. In "signed" as
// kIdentityCaField, a list of 1..kMaxIdentityCas PEM strings, each at most
// kMaxIdentityCaPemBytes holding exactly one "BEGIN CERTIFICATE" block (and nothing but
// whitespace around it), none twice. Its X.509 content is checked by identity/ where it is used
// (a node trusts exactly these); here only the shape. Rotating the CA is a root rotation, so
// the CA's trust rests on the root keys' threshold. Absent: no identity CA (empty list).
inline constexpr std::string_view kIdentityCaField = "x-tiersync-identity-ca";
inline constexpr size_t kMaxIdentityCas = 4;
inline constexpr size_t kMaxIdentityCaPemBytes = 16 << 10;

// OK if `pem` may stand in kIdentityCaField (the shape above); kInvalidArgument saying why not.
Status CheckIdentityCaPem(std::string_view pem);

struct Root : Common {
  bool consistent_snapshot = true;
  std::map<std::string, Key> keys;
  std::map<std::string, Role> roles;              // exactly root, snapshot, targets, timestamp
  std::optional<uint64_t> offline_grace_seconds;  // at most kMaxOfflineGraceSeconds
  std::vector<std::string> identity_cas;  // kIdentityCaField; serialised only when not empty
  bool operator==(const Root&) const = default;
};

// A signed retraction (docs/formats/metadata.md, "Retractions"; node/takedown.h applies them):
// the resources or files a targets role withdraws from users at once, before and independent
// of the next catalog release. In any targets role's "signed" as kRetractionsField, a list of
// objects with exactly one of "resource" (an id), "provider" (every resource of that unit) or
// "sha256" (every file with those bytes), plus "reason" and "since" (TUF time). A role's
// retraction counts only for target paths every delegation on the way to that role covers: a
// province cannot withdraw national content. Absent: none.
inline constexpr std::string_view kRetractionsField = "x-tiersync-retractions";
inline constexpr size_t kMaxRetractions = 10'000;
inline constexpr size_t kMaxRetractionReasonBytes = 1'000;

struct Retraction {
  enum class Kind { kResource, kProvider, kSha256 };
  Kind kind = Kind::kResource;
  std::string value;   // the resource id, the provider's name, or the lowercase hex SHA-256
  std::string reason;  // shown to users; UTF-8, at most kMaxRetractionReasonBytes
  int64_t since = 0;   // seconds since the epoch
  bool operator==(const Retraction&) const = default;
};

// "resource", "provider" or "sha256".
std::string_view RetractionKindName(Retraction::Kind kind);
// The kind named `name`; kInvalidArgument for another word.
Result<Retraction::Kind> ParseRetractionKind(std::string_view name);
// OK if `r` may be signed and parsed: a non-empty value, a sha256 of 64 lowercase hex digits,
// a reason of at most kMaxRetractionReasonBytes; kInvalidArgument saying which is not.
Status CheckRetraction(const Retraction& r);

struct Timestamp : Common {
  MetaFile snapshot_meta;  // meta["snapshot.json"]
  bool operator==(const Timestamp&) const = default;
};

struct Snapshot : Common {
  std::map<std::string, MetaFile> meta;  // "targets.json", "<role>.json"
  bool operator==(const Snapshot&) const = default;
};

struct Targets : Common {
  std::map<std::string, TargetFile> targets;
  std::optional<Delegations> delegations;
  std::vector<Retraction> retractions;  // kRetractionsField; serialised only when not empty
  bool operator==(const Targets&) const = default;
};

struct Signature {
  std::string keyid;
  std::string sig;  // hex
  bool operator==(const Signature&) const = default;
};

// A parsed envelope: the "signed" tree, its "_type", and the signatures.
struct Envelope {
  Json signed_json;
  std::string type;
  std::vector<Signature> signatures;
};

// Parses the envelope of a metadata file of at most `max_bytes` bytes. kResourceExhausted over
// the cap; kCorruption for anything malformed (with the reason).
Result<Envelope> ParseEnvelope(std::span<const uint8_t> bytes, size_t max_bytes);

// Typed views of "signed". kCorruption names the field that is wrong; a "_type" other than
// the expected one is kCorruption too; a spec_version with a major version other than 1 is
// kNotSupported.
Result<Root> ParseRoot(const Json& signed_json);
Result<Timestamp> ParseTimestamp(const Json& signed_json);
Result<Snapshot> ParseSnapshot(const Json& signed_json);
Result<Targets> ParseTargets(const Json& signed_json);

// Serialisation of "signed" (the repository side). The result parses back to an equal value.
Json ToJson(const Root& root);
Json ToJson(const Timestamp& timestamp);
Json ToJson(const Snapshot& snapshot);
Json ToJson(const Targets& targets);

// The bytes of a metadata file: pretty JSON of {"signatures": ..., "signed": ...}.
std::string SerializeEnvelope(const Json& signed_json, const std::vector<Signature>& signatures);

// The bytes that signatures cover: canonical JSON of "signed".
std::string SigningBytes(const Json& signed_json);

// A role name or target path quoted as one file-name component (RFC 3986 unreserved
// characters kept, everything else %XX), as python-tuf names local files and URLs; "." and
// ".." are escaped too, so the result never names a directory.
std::string QuoteForFileName(std::string_view s);

// OK if `path` is usable as a target path: not empty, relative, '/'-separated, no empty, "."
// or ".." segments, no backslash or NUL. kInvalidArgument otherwise.
Status ValidateTargetPath(std::string_view path);

}  // namespace tiersync::protocol::tuf

#endif  // TIERSYNC_PROTOCOL_TUF_METADATA_H_
