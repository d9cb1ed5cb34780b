// CatalogIndex: what a node's users browse and search — the served release's resources,
// indexed in memory. Pure: built from records, no I/O; immutable once built, so one instance
// is shared by every request thread (a new release builds a new one and swaps it in).
//
// Only resources users may see are indexed: approved and not retired (files or external
// links). Browsing follows the taxonomy: platform -> board -> category, each with the number
// of resources placed there (a resource placed twice counts in both places).
//
// Search: Chinese text has no spaces between words, so the index is by character: every
// resource's searchable text (title, tags, lesson, volume, provider; ASCII letters folded to
// lower case) is split into code points, and each pair of neighbouring code points (bigram)
// maps to the resources containing it; single code points have their own map for one-character
// queries. A query is split at spaces into terms; a resource matches when it contains every
// term as a substring: candidates come from intersecting the terms' bigram lists and are then
// confirmed by a substring check, so results are exact (no false matches from shared bigrams).
// Resources whose title contains every term rank first, then by title, then by id.
#ifndef TIERSYNC_SERVING_CATALOG_INDEX_H_
#define TIERSYNC_SERVING_CATALOG_INDEX_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catalogs/resource.h"
#include "catalogs/taxonomy.h"

namespace tiersync::serving {

inline constexpr size_t kMaxSearchLimit = 100;
inline constexpr size_t kMaxQueryBytes = 256;

struct CategoryCount {
  std::string name;
  size_t count = 0;
};
struct BoardCount {
  std::string name;
  size_t count = 0;
  std::vector<CategoryCount> categories;
};
struct PlatformCount {
  std::string id, name;
  size_t count = 0;
  std::vector<BoardCount> boards;
};

struct SearchQuery {
  std::string text;  // terms separated by spaces; empty: everything (filters still apply)
  std::string platform, board, category;  // placement filter (one placement must match all)
  std::string stage, subject, edition;    // facet filters; empty: any
  int grade = 0;                          // 0: any
  bool local_only = false;                // only resources `is_local` says are mirrored
  size_t offset = 0;
  size_t limit = 20;  // capped at kMaxSearchLimit
};

struct SearchResult {
  size_t total = 0;                                             // matches, before paging
  std::vector<const catalogs::Resource*> items;                 // the page
  std::map<std::string, std::map<std::string, size_t>> facets;  // stage/subject/edition/grade
};

class CatalogIndex {
 public:
  // Indexes `resources` of release `release` (e.g. "r3"), placing them by `taxonomy` (which
  // must outlive the index).
  CatalogIndex(std::string release, std::vector<catalogs::Resource> resources,
               const catalogs::Taxonomy& taxonomy);

  const std::string& release() const { return release_; }
  size_t size() const { return resources_.size(); }
  // Every visible resource, sorted by (title, id).
  const std::vector<catalogs::Resource>& resources() const { return resources_; }
  // A visible resource by id; nullptr if the release has none.
  const catalogs::Resource* Find(std::string_view id) const;

  std::vector<PlatformCount> Tree() const;
  // `is_local` answers for local_only queries (may be null when local_only is false).
  SearchResult Search(const SearchQuery& q,
                      const std::function<bool(const catalogs::Resource&)>& is_local) const;

 private:
  struct Doc {
    std::u32string text;      // folded searchable text, fields separated by U+0000
    size_t title_length = 0;  // the title is text[0, title_length)
  };
  std::vector<uint32_t> Candidates(const std::u32string& term) const;

  std::string release_;
  const catalogs::Taxonomy* taxonomy_;
  std::vector<catalogs::Resource> resources_;  // sorted by (title, id)
  std::vector<Doc> docs_;                      // parallel to resources_
  std::unordered_map<std::string_view, uint32_t> by_id_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> bigrams_;  // sorted doc numbers
  std::unordered_map<uint32_t, std::vector<uint32_t>> unigrams_;
};

// Text folded for search: UTF-8 decoded to code points (invalid bytes dropped), ASCII letters
// and full-width ASCII folded to lower-case ASCII.
std::u32string FoldForSearch(std::string_view utf8);

}  // namespace tiersync::serving

#endif  // TIERSYNC_SERVING_CATALOG_INDEX_H_
