// Reading a catalog release out of its git repository, in the order trust requires: first
// every file's bytes and the manifest (catalogs/catalog_manifest.h), which the caller checks
// against the signed content digest; only then the records, parsed strictly.
#ifndef TIERSYNC_CATALOGS_RELEASE_H_
#define TIERSYNC_CATALOGS_RELEASE_H_

#include <map>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "catalogs/catalog_manifest.h"
#include "catalogs/git_catalog.h"
#include "catalogs/region_table.h"
#include "catalogs/resource.h"
#include "catalogs/taxonomy.h"
#include "protocol/json.h"

namespace tiersync::catalogs {

// Every file of a release tree.
struct ReleaseContent {
  std::map<std::string, std::string> files;  // path -> bytes
  std::vector<ManifestEntry> entries;        // sorted by path
  std::string manifest;                      // EncodeManifest(entries)
  Sha256Digest digest{};                     // SHA-256(manifest): the content digest
};

// Reads every blob of `tree`. kCorruption if a path cannot be listed in a manifest. With
// `keep_files` false only the manifest and digest are kept (`files` stays empty), for callers
// that need the digest of a large release but not its records.
Result<ReleaseContent> ReadReleaseContent(GitCatalog* git, const std::string& tree,
                                          bool keep_files = true);

// VerificationError unless `content` is what was signed: its digest equals `signed_digest`.
// When the signed manifest's bytes are at hand (`signed_manifest`, already checked against
// the digest by the caller), the error names the files that differ. `release` names the
// release in the message.
Status CheckReleaseContent(const ReleaseContent& content, const Sha256Digest& signed_digest,
                           const std::string* signed_manifest, const std::string& release);

// The records of a release: every file under resources/ must be a record that parses
// (RecordSource::kCatalog), validates, and sits at its ResourcePath(). Files elsewhere (the
// repository's README.md) are not records. kCorruption naming the file otherwise.
Result<std::map<std::string, Resource>> ParseReleaseRecords(const ReleaseContent& content,
                                                            const Taxonomy& taxonomy,
                                                            const RegionTable& regions);

// The TUF target that carries each release's catalog manifest (its SHA-256 is the content
// digest); custom fields: release, commit, resources.
inline constexpr std::string_view kCatalogTarget = "catalog/manifest.txt";

// What the signed metadata says the current catalog release is.
struct SignedRelease {
  std::string release;  // r<N>
  std::string commit;   // the git commit it was made from (informational; not trusted)
  uint64_t resources = 0;
  Sha256Digest digest{};  // SHA-256 of the manifest: the content digest
  std::string manifest;   // the manifest bytes (verified against `digest` by the caller)
};

// The release fields of the signed kCatalogTarget entry (`custom`: its custom object, may be
// null). kVerificationFailed if they are missing or malformed.
Result<SignedRelease> ParseCatalogTarget(const protocol::Json* custom);

// Reads release `signed_release.release` from the catalog repository and checks its content
// against the signed digest. kVerificationFailed naming the files that differ if the
// repository's content is not what was signed; kNotFound if the release tag is missing.
Result<ReleaseContent> ReadVerifiedRelease(GitCatalog* git, const SignedRelease& signed_release);

}  // namespace tiersync::catalogs

#endif  // TIERSYNC_CATALOGS_RELEASE_H_
