// Resource: one catalog record — a video lesson, e-textbook, courseware set or external link
// of the National Smart Education Platform, with where it is placed and what files it has.
//
// On disk and in the catalog repository a record is one JSON file (docs/formats/catalog.md):
// EncodeResource() writes it deterministically (keys sorted, 2-space indent, UTF-8 raw), and
// ParseResource() reads it back strictly: unknown fields, wrong types and malformed values are
// refused with kInvalidArgument naming the record and the field, e.g.
//   resource k12-00a1b2c3.files[0].sha256: is not 64 lowercase hex digits
// Syntax is checked by ParseResource(); meaning (taxonomy, regions, id namespace) by
// ValidateResource(). Pure: no I/O.
#ifndef TIERSYNC_CATALOGS_RESOURCE_H_
#define TIERSYNC_CATALOGS_RESOURCE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.h"
#include "base/status.h"
#include "catalogs/region_table.h"
#include "catalogs/taxonomy.h"
#include "protocol/chunk_index.h"
#include "protocol/json.h"

namespace tiersync::catalogs {

inline constexpr std::string_view kResourceFormat = "tiersync-resource 1";
inline constexpr std::string_view kNationalOrigin = "national";
inline constexpr size_t kMaxResourceBytes = 64 << 10;  // one record file
inline constexpr size_t kMaxFilesPerResource = 64;
inline constexpr size_t kMaxPlacements = 32;
inline constexpr size_t kMaxTags = 32;

enum class ReviewState { kDraft, kSubmitted, kApproved, kRejected };
std::string_view ReviewStateName(ReviewState s);  // "draft", "submitted", ...

// One place a resource is shown: platform -> board -> category. `category` is empty exactly
// when the board has no categories in the taxonomy.
struct Placement {
  std::string platform;  // taxonomy platform id, e.g. "k12"
  std::string board;     // e.g. "课程教学"
  std::string category;  // e.g. "小学"
  auto operator<=>(const Placement&) const = default;
};

// Search facets. Empty string / 0 means "not set" (many boards are not tied to a stage).
struct Facets {
  std::string stage;    // taxonomy stage: 小学, 初中, 高中
  int grade = 0;        // 1-12, within the stage's range
  std::string subject;  // taxonomy subject
  std::string edition;  // taxonomy textbook edition, e.g. 人教版
  std::string volume;   // e.g. 三年级上册
  std::string lesson;   // e.g. 第5课 古诗三首
  std::vector<std::string> tags;
  bool operator==(const Facets&) const = default;
};

struct ResourceFile {
  std::string name;        // portable name: [A-Za-z0-9][A-Za-z0-9._-]*, unique in the record
  std::string media_type;  // e.g. video/mp4, application/pdf
  uint64_t size = 0;
  Sha256Digest sha256{};
  // The file's chunk index (its id is SHA-256 of the encoded index). Filled in by the hub when
  // it ingests the file; required in published catalogs, optional in publishing input.
  std::optional<protocol::ChunkId> chunk_index;
  bool operator==(const ResourceFile&) const = default;
};

// A resource that lives on another site: catalogued and replicated as metadata, never mirrored.
struct ExternalLink {
  std::string url;   // http:// or https://, printable ASCII
  std::string site;  // the site's name, may be empty
  bool operator==(const ExternalLink&) const = default;
};

struct Resource {
  // Stable id: [a-z0-9][a-z0-9-]{2,63}. National ids do not start with a digit; a region's ids
  // start with "<region code>-" (its namespace), e.g. 330000-0001.
  std::string id;
  std::string title;
  std::string language = "zh-CN";  // BCP 47 tag
  std::string provider;            // unit that supplied it, e.g. 人民教育出版社
  std::string origin = std::string(kNationalOrigin);  // "national" or a GB/T 2260 code
  ReviewState review = ReviewState::kApproved;
  std::vector<Placement> placements;  // at least one
  Facets facets;
  std::vector<ResourceFile> files;  // exactly one of files / link
  std::optional<ExternalLink> link;
  bool retired = false;   // kept in the catalog (stable ids are never reused), not served
  bool priority = false;  // emergency package: synced first, ignores time windows
  bool operator==(const Resource&) const = default;
};

// Which rules apply: records given to `hub publish` may leave chunk_index out.
enum class RecordSource { kInput, kCatalog };

// Parses one record file. `where` names it in errors when the id is missing or bad (e.g. the
// file path). kInvalidArgument on any syntax problem (message names record and field).
Result<Resource> ParseResource(std::string_view text, std::string_view where,
                               RecordSource source = RecordSource::kCatalog);
Result<Resource> ResourceFromJson(const protocol::Json& v, std::string_view where,
                                  RecordSource source = RecordSource::kCatalog);
protocol::Json ResourceToJson(const Resource& r);
// The record file's bytes (deterministic; ParseResource() reads them back equal).
std::string EncodeResource(const Resource& r);

// Checks meaning: placements exist in the taxonomy (category given iff the board has
// categories), facets use its vocabularies and grade fits the stage, origin is "national"
// or a known region code, and the id is inside the origin's namespace.
Status ValidateResource(const Resource& r, const Taxonomy& taxonomy, const RegionTable& regions);

// Where the record lives in the catalog repository:
//   resources/<origin>/<xx>/<id>.json, xx = the first two hex digits of SHA-256(id).
std::string ResourcePath(const Resource& r);
std::string ResourcePath(std::string_view origin, std::string_view id);

// The TUF target path of one of its files:
//   national/<id>/<name>                      national resources
//   regions/<province>[/<city>[/<county>]]/<id>/<name>   regional ones (the origin's chain)
// REQUIRES: ValidateResource(r) passed (the origin is a known region).
std::string TargetPath(const Resource& r, const ResourceFile& f, const RegionTable& regions);

// Whether the resource's files are served and mirrored: approved, not retired, not a link.
bool IsServed(const Resource& r);

}  // namespace tiersync::catalogs

#endif  // TIERSYNC_CATALOGS_RESOURCE_H_
