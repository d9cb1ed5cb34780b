// The offline bundle's layout (docs/formats.md, "Offline bundles"): a directory — usually on a
// USB disk — that holds one release (or a subscription's part of it) laid out as the URLs a
// node serves its children, so that an importing node reads it through the same code that
// syncs from a parent (bundle/bundle_fetcher.h):
//
//   <bundle>/tiersync-bundle.json        written last: {"format": "tiersync-bundle 1",
//                                         "release", "version", "files", "bytes", "chunks",
//                                         "created_at", "exported_from", "subscription",
//                                         "delta_from"};
//                                         informational only, never trusted (a bundle without
//                                         it is incomplete and refused)
//   <bundle>/v1/metadata/<name>          the TUF metadata byte for byte as signed: the root
//                                         chain (N.root.json), timestamp.json,
//                                         V.snapshot.json, V.targets.json, V.<role>.json
//   <bundle>/v1/targets/<dir>/<sha256>.<name>   targets kept whole (the catalog manifest)
//   <bundle>/v1/indexes/<sha256>         each file's encoded chunk index
//   <bundle>/v1/chunks/<sha256>          each chunk, uncompressed — in a delta bundle, only
//                                         those the earlier bundle it names lacks
//   <bundle>/v1/catalog.git/info-refs    the catalog's git advertisement (the body of
//                                         GET /v1/catalog.git/info/refs?service=git-upload-pack)
//   <bundle>/v1/catalog.git/upload-pack  the recorded answer to the upload-pack request for the
//                                         release's tag with no haves: "NAK", then a pack of
//                                         everything the release needs
//
// Trust: none of these bytes is trusted because it is on the disk. The importer verifies the
// metadata against its pinned root, the catalog against the signed manifest digest, each index
// and chunk against the ids the signed metadata names — exactly as a sync from a parent.
#ifndef TIERSYNC_BUNDLE_BUNDLE_LAYOUT_H_
#define TIERSYNC_BUNDLE_BUNDLE_LAYOUT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "protocol/chunk_index.h"

namespace tiersync::bundle {

inline constexpr std::string_view kBundleFormat = "tiersync-bundle 1";
inline constexpr std::string_view kManifestFile = "tiersync-bundle.json";
inline constexpr std::string_view kMetadataDir = "v1/metadata";
inline constexpr std::string_view kTargetsDir = "v1/targets";
inline constexpr std::string_view kIndexesDir = "v1/indexes";
inline constexpr std::string_view kChunksDir = "v1/chunks";
inline constexpr std::string_view kCatalogDir = "v1/catalog.git";
inline constexpr std::string_view kCatalogAdvertisement = "v1/catalog.git/info-refs";
inline constexpr std::string_view kCatalogUploadPack = "v1/catalog.git/upload-pack";
// tiersync-bundle.json is small; anything larger is not one.
inline constexpr size_t kMaxManifestBytes = 64 << 10;

// What tiersync-bundle.json says (informational: the importer verifies the bytes, not this).
struct BundleManifest {
  std::string release;        // r<N>
  uint64_t version = 0;       // timestamp version of the metadata
  uint64_t files = 0;         // files whose chunk index and chunks the bundle holds
  uint64_t bytes = 0;         // their size in all
  uint64_t chunks = 0;        // distinct chunks held
  int64_t created_at = 0;     // seconds since the epoch
  std::string exported_from;  // the node's name
  std::string subscription;   // the rules the files were chosen by; empty: all held
  // A delta: the release of the earlier bundle whose chunks were left out (the importer must
  // hold them, i.e. have imported it); empty: a whole bundle. Optional in the file.
  std::string delta_from;
  bool operator==(const BundleManifest&) const = default;
};

// JSON with "format": kBundleFormat.
std::string EncodeManifest(const BundleManifest& m);
// kInvalidArgument for a malformed manifest; kNewerFormat for another "tiersync-bundle N".
Result<BundleManifest> DecodeManifest(std::string_view json);

// The relative file of a chunk index / a chunk.
std::string IndexFile(const protocol::ChunkId& id);
std::string ChunkFile(const protocol::ChunkId& id);

// A request the importer's sync makes, after the bundle's base URL (e.g.
// "v1/metadata/timestamp.json", "v1/catalog.git/info/refs?service=git-upload-pack"), mapped
// to the bundle's relative file for a GET. kNotFound for anything a bundle never holds (other
// queries, other endpoints, index and chunk names that are not 64 lowercase hex digits).
// `content_addressed` (may be null) is set when the file is an index or a chunk: a name this
// function checked whole, safe to open without further checks.
Result<std::string> FileForGet(std::string_view request, bool* content_addressed = nullptr);

}  // namespace tiersync::bundle

#endif  // TIERSYNC_BUNDLE_BUNDLE_LAYOUT_H_
