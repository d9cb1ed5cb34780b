// Subscription: which part of a catalog release a node (province, city, county or school)
// mirrors, written by its operator in a small line-oriented filter language
// (docs/formats/subscription.md), e.g.
//
//   # K-12 course teaching, 人教版 and 北师大版, grades 1-9, plus all 专题教育
//   platform = k12 and board = 课程教学 and edition in (人教版, 北师大版) and grade in (1..9)
//   board = 专题教育
//
// One rule per line; a resource is wanted if ANY rule matches it; no rules match nothing.
// Parse() checks syntax and meaning (fields, taxonomy vocabularies, grades, region codes) and
// refuses bad text with kInvalidArgument:
//   subscription line 2, column 54: unknown edition "北师大板"   (had 北师大版 been mistyped)
// (columns count code points, 1-based). Limits, also kInvalidArgument (the text is wrong, not
// the machine short of space): kMaxSubscriptionBytes of text, kMaxSubscriptionRules rules,
// parentheses and `not` nested at most kMaxSubscriptionDepth deep. Parsing and matching never
// recurse deeper than that, whatever the input.
//
// Matching is pure; a parsed Subscription is immutable and safe to share between threads.
// Copies are cheap (they share the parsed rules).
#ifndef TIERSYNC_CATALOGS_SUBSCRIPTION_H_
#define TIERSYNC_CATALOGS_SUBSCRIPTION_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "catalogs/region_table.h"
#include "catalogs/resource.h"
#include "catalogs/taxonomy.h"

namespace tiersync::catalogs {

inline constexpr size_t kMaxSubscriptionBytes = 64 << 10;
inline constexpr size_t kMaxSubscriptionRules = 1000;
inline constexpr int kMaxSubscriptionDepth = 32;

class Subscription {
 public:
  // Parses subscription text (UTF-8). Values of platform, board, category, stage, subject and
  // edition must exist in `taxonomy`; origin values must be "national" or a code in `regions`.
  // `regions` is kept (for `origin within`) and must outlive the Subscription and its copies;
  // `taxonomy` is only used during the call. kInvalidArgument on any error, naming line and
  // column ("subscription line L, column C: <what>"), or "subscription: ..." for the size cap.
  static Result<Subscription> Parse(std::string_view text, const Taxonomy& taxonomy,
                                    const RegionTable& regions);

  // True if the resource matches any rule. Placement fields (platform, board, category) are
  // judged one placement at a time: a rule matches when one placement makes it true as a
  // whole. Does NOT look at retired, review or link (see SelectWanted()).
  bool Matches(const Resource& r) const;

  // The text given to Parse(), unchanged.
  const std::string& text() const;
  // Lines that hold a rule (not blank, not only a comment).
  size_t rule_count() const;

 private:
  struct Impl;  // the parsed rules (subscription.cc); shared, immutable
  explicit Subscription(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;  // never null except in a moved-from object
};

// One file a subscription wants.
struct WantedFile {
  std::string target_path;  // TargetPath(resource, file, regions)
  std::string resource_id;
  ResourceFile file;      // a copy of the resource's file entry
  bool priority = false;  // the resource is an emergency package (synced first)
  bool operator==(const WantedFile&) const = default;
};

// The files `s` wants from `release`: every file of every resource with IsServed(r) (approved,
// not retired, not a link) and s.Matches(r), sorted by target_path. REQUIRES: every such
// resource passed ValidateResource() against `regions` (TargetPath() needs a known origin).
std::vector<WantedFile> SelectWanted(const std::vector<Resource>& release, const Subscription& s,
                                     const RegionTable& regions);

// The files `s` wants from one resource, in the record's order: empty unless IsServed(r) and
// s.Matches(r). For callers that read a release one record at a time. REQUIRES: as above.
std::vector<WantedFile> WantedFilesOf(const Resource& r, const Subscription& s,
                                      const RegionTable& regions);

}  // namespace tiersync::catalogs

#endif  // TIERSYNC_CATALOGS_SUBSCRIPTION_H_
