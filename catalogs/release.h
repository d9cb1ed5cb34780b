// Reading a catalog release out of its git repository, in the order trust requires: first
// every file's bytes and the manifest (catalogs/catalog_manifest.h), which the caller checks
// against the signed content digest; only then the records, parsed strictly.
#ifndef TIERSYNC_CATALOGS_RELEASE_H_
#define TIERSYNC_CATALOGS_RELEASE_H_

#include <functional>
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
  std::string tree;                          // the git tree it was read from (hex id)
  std::map<std::string, std::string> files;  // path -> bytes
  std::vector<ManifestEntry> entries;        // sorted by path
  std::string manifest;                      // EncodeManifest(entries)
  Sha256Digest digest{};                     // SHA-256(manifest): the content digest
};

// Reads every blob of `tree` within `limits` (GitCatalog::ListFiles's caps, each file's size
// and all files' bytes together: kVerificationFailed naming the cap). kCorruption if a path
// cannot be listed in a manifest. With `keep_files` false only the manifest and digest are
// kept (`files` stays empty), for callers that need the digest of a large release but not its
// records.
Result<ReleaseContent> ReadReleaseContent(GitCatalog* git, const std::string& tree,
                                          bool keep_files = true, const ReleaseLimits& limits = {});

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

// One record file of a release, checked as ParseReleaseRecords() checks each (kCorruption
// naming `path`).
Result<Resource> ParseReleaseRecord(const std::string& path, std::string_view bytes,
                                    const Taxonomy& taxonomy, const RegionTable& regions);

// Receives one record; a non-OK status stops the walk and is returned by it.
using RecordVisitor = std::function<Status(Resource&& record)>;

// The records of `content` one at a time, in path order, so that a large release is never
// held in memory as a whole (neither its bytes nor its records). `content` comes from
// ReadVerifiedRelease() (its manifest already checked against the signed digest), usually read
// with keep_files false: each record file is then read again from `git` (content.tree) and its
// bytes checked against the manifest entry before they are parsed — kVerificationFailed if
// they differ, the file is missing or over ReleaseLimits::max_file_bytes. Records are checked as
// ParseReleaseRecords() checks them (kCorruption naming the file).
Status ForEachReleaseRecord(GitCatalog* git, const ReleaseContent& content,
                            const Taxonomy& taxonomy, const RegionTable& regions,
                            const RecordVisitor& visit);

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
// repository's content is not what was signed; kNotFound if the release tag is missing. With
// `keep_files` false the files' bytes are not kept (read the records with
// ForEachReleaseRecord()).
Result<ReleaseContent> ReadVerifiedRelease(GitCatalog* git, const SignedRelease& signed_release,
                                           bool keep_files = true);

// Where ReadVerifiedRelease() finds the release and how it reads it.
struct ReleaseReadOptions {
  // The annotated tag to read: empty for refs/tags/<release>; else a ref name (e.g.
  // "refs/quarantine/r3") or a tag object's hex id (a fetch's quarantine: catalogs/git_fetch.h).
  // Given explicitly, the tag object must name the release itself (kVerificationFailed).
  std::string tag;
  bool keep_files = true;
  ReleaseLimits limits;  // caps on the trees and files read (kVerificationFailed)
};
Result<ReleaseContent> ReadVerifiedRelease(GitCatalog* git, const SignedRelease& signed_release,
                                           const ReleaseReadOptions& options);

}  // namespace tiersync::catalogs

#endif  // TIERSYNC_CATALOGS_RELEASE_H_
