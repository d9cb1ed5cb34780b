// The catalog manifest: what tiersync trusts about a catalog release, instead of git's SHA-1.
//
// A release's manifest lists every file of its git tree, one line each, sorted by path (byte
// order):
//   <SHA-256 of the file's bytes, 64 lowercase hex>  <path>\n
// (the output format of `sha256sum`, so an auditor can check a checkout with
// `sha256sum -c`). The release's content digest is the SHA-256 of the manifest's bytes. The hub
// publishes the manifest as a TUF target (catalog/manifest.txt), so its digest is signed;
// whoever obtains the git objects rebuilds the manifest from the tree and compares.
// Pure: no I/O.
#ifndef TIERSYNC_CATALOGS_CATALOG_MANIFEST_H_
#define TIERSYNC_CATALOGS_CATALOG_MANIFEST_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.h"
#include "base/status.h"

namespace tiersync::catalogs {

inline constexpr size_t kMaxManifestBytes = 64 << 20;

struct ManifestEntry {
  std::string path;
  Sha256Digest sha256{};
  bool operator==(const ManifestEntry&) const = default;
};

// Sorts `entries` by path and encodes them. kCorruption if a path is empty, repeated, or holds
// a control character (it could not be one line).
Result<std::string> EncodeManifest(std::vector<ManifestEntry> entries);

// Parses a manifest, refusing anything EncodeManifest would not produce (kCorruption).
Result<std::vector<ManifestEntry>> ParseManifest(std::string_view text);

// How `actual` differs from `expected` (paths, sorted).
struct ManifestDifference {
  std::vector<std::string> changed;     // in both, different bytes
  std::vector<std::string> missing;     // expected, not present
  std::vector<std::string> unexpected;  // present, not expected
  bool empty() const { return changed.empty() && missing.empty() && unexpected.empty(); }
  // "changed a, b; missing c; unexpected d" (at most `limit` paths per list).
  std::string Describe(size_t limit = 5) const;
};
ManifestDifference CompareManifests(const std::vector<ManifestEntry>& expected,
                                    const std::vector<ManifestEntry>& actual);

}  // namespace tiersync::catalogs

#endif  // TIERSYNC_CATALOGS_CATALOG_MANIFEST_H_
