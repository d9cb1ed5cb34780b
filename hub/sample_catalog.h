// Sample national catalog: a deterministic stand-in for the K-12 catalog of the National Smart
// Education Platform (国家智慧教育平台), shaped like it (boards, categories, editions, stages,
// subjects of catalogs/taxonomy.json; the mix and media sizes of shared/design/domain.md), and
// the revisions a real catalog goes through. It is the input of `tiersync hub publish` and what
// `tiersync demo generate` writes (docs/demo-catalog.md).
//
// Layout of a generated directory:
//   generator.json        {"format": "tiersync-demo-catalog 1", "seed", "resources",
//                          "size_scale" (a decimal string, e.g. "0.0001"), "revision"}
//   changes.json          the CatalogChanges of the latest revision (format
//                          "tiersync-demo-changes 1")
//   resources/<id>.json   one record per resource, EncodeResource() bytes in
//                         RecordSource::kInput form: files carry size and sha256, no chunk_index
//   media/<id>/<name>     the bytes of each file (retired resources keep theirs)
//
// Every record is national (origin "national", review approved), has id "k12-" + 8 lowercase
// hex digits (unique, never reused, also not for retired ones) and passes
// catalogs::ValidateResource() against Taxonomy::Builtin() and RegionTable::Builtin().
//
// Deterministic: the same options (and, for a revision, the same directory contents) give a
// byte-identical directory on every machine and build. Memory is bounded by the number of
// resources (ids and a few facts per resource), never by media: bytes are streamed to disk.
//
// Durability: none on purpose. Records and media are written without fsync (34,000 resources
// are ~94,000 files); only generator.json and changes.json are written atomically (and
// synced). generator.json is written last, so an interrupted GenerateCatalog() leaves a
// directory without it, which GenerateCatalog() then refuses (resources/ is not empty): remove
// it and generate again. An interrupted GenerateNextRelease() leaves the catalog partly revised
// (every file it replaces is whole: written beside and renamed over); regenerate from the seed.
//
// Thread safety: the functions may run concurrently on different directories.
#ifndef TIERSYNC_HUB_SAMPLE_CATALOG_H_
#define TIERSYNC_HUB_SAMPLE_CATALOG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "protocol/json.h"

namespace tiersync::hub {

inline constexpr std::string_view kSampleCatalogFormat = "tiersync-demo-catalog 1";
inline constexpr std::string_view kSampleChangesFormat = "tiersync-demo-changes 1";
inline constexpr uint64_t kMaxSampleResources = 1'000'000;

struct CatalogGenOptions {
  // How many resources revision 1 has: 1 to kMaxSampleResources. The platform had 34,000
  // items in July 2022.
  uint64_t resources = 1000;
  // Everything (ids, mix, titles, sizes, bytes) follows from it. At most INT64_MAX (it is
  // stored in generator.json, whose integers are int64).
  uint64_t seed = 1;
  // Media sizes are the real ones (video 50-500 MB, PDF 5-100 MB, courseware 1-50 MB) times
  // this, at least 64 bytes a file. In (0, 1]; 1e-4 makes a 1,000-resource catalog ~30 MB,
  // 1e-6 makes a 34,000-resource one ~11 MB.
  double size_scale = 1e-4;
  // Called after each resource is written with (resources done, resources to do).
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// What one revision did. All lists hold resource ids, sorted.
struct CatalogChanges {
  int revision = 0;
  // Disjoint: new resources (revision 1: all of them); resources whose title/tags or media
  // changed (= edited + inserted + appended); resources retired in this revision; resources
  // whose placements (and nothing else) changed.
  std::vector<std::string> added, changed, retired, moved;
  // The three kinds of "changed", disjoint: edited = title and tags only (files unchanged);
  // inserted = a few KB inserted in the middle of a video (video/mp4), new size and sha256;
  // appended = bytes appended to a PDF or courseware (.pptx), new size and sha256.
  std::vector<std::string> edited, inserted, appended;
  // Not in the sets above: records in the catalog after this revision (retired included) and
  // media bytes written by this call.
  uint64_t resources = 0;
  uint64_t bytes_written = 0;
};

// changes.json's content: {"format", "revision", "resources", and the seven id lists}.
protocol::Json CatalogChangesToJson(const CatalogChanges& changes);

// Writes revision 1 of a fresh catalog into `dir` (created with any missing parents; see the
// file comment for the layout); returns its changes (every id in `added`).
// Errors: kInvalidArgument for bad options; kAlreadyExists if `dir` holds generator.json or a
// non-empty resources/ or media/ (an earlier catalog or an interrupted run); I/O codes.
Result<CatalogChanges> GenerateCatalog(Env* env, const std::string& dir,
                                       const CatalogGenOptions& options);

// Revises the catalog in `dir` in place as a real revision does, deterministically from
// (seed, revision): among resources not yet retired it picks disjoint sets, each about the
// stated share of them (at least one each once 100 or more are live):
//   edited 1%, inserted 0.5%, appended 0.5% (-> changed), moved 0.5% (placements only: another
//   category of the same board, or a 专题教育 item also placed in 课后服务; never in or out of
//   the priority categories), retired 0.5% (retired: true; media stay), added 2% (new ids, same
//   mix as GenerateCatalog).
// Rewrites exactly the records and media files that change (others keep their bytes, inode and
// mtime), then changes.json, then generator.json with the revision bumped. `progress` is called
// with (resources done, resources to change) while writing.
// Errors: kNotFound if `dir` has no generator.json; kCorruption if generator.json, a record
// or a media file does not match what the generator wrote (e.g. edited by hand); I/O codes.
Result<CatalogChanges> GenerateNextRelease(Env* env, const std::string& dir,
                                           std::function<void(uint64_t, uint64_t)> progress = {});

}  // namespace tiersync::hub

#endif  // TIERSYNC_HUB_SAMPLE_CATALOG_H_
