// libFuzzer target for Subscription::Parse() and Matches(), with the built-in taxonomy and
// region tables (what `tiersync` uses for a node's subscription file).
//
// For every input it checks:
//   * a refusal is kInvalidArgument and names where ("subscription line L, column C: ..." or
//     "subscription: ..." for the size cap) — never a crash, hang or stack overflow, however
//     deep the nesting;
//   * an accepted text is kept unchanged, has at most kMaxSubscriptionRules rules, and its
//     rules are independent lines: on a fixed set of resources Matches() equals the OR of
//     parsing and matching each line alone (and each line alone holds at most one rule);
//   * a copy matches exactly like the original.
// Any violation calls abort().
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "catalogs/region_table.h"
#include "catalogs/resource.h"
#include "catalogs/subscription.h"
#include "catalogs/taxonomy.h"

namespace tiersync::catalogs {
namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

// Resources that exercise every field: a two-placement lesson with all facets, a regional
// priority package, and one with nothing set.
const std::vector<Resource>& Samples() {
  static const std::vector<Resource> samples = [] {
    std::vector<Resource> out;
    Resource lesson;
    lesson.id = "k12-fuzz-0001";
    lesson.provider = "人民教育出版社";
    lesson.placements = {{"k12", "课程教学", "小学"}, {"vocational", "体育", "体育课程"}};
    lesson.facets = {"小学", 3, "语文", "人教版", "三年级上册", "第5课 古诗三首", {"古诗", "a"}};
    out.push_back(lesson);
    Resource regional;
    regional.id = "330106-0001";
    regional.origin = "330106";
    regional.priority = true;
    regional.placements = {{"k12", "专题教育", "党史学习"}};
    regional.facets.grade = 9;
    regional.facets.stage = "初中";
    out.push_back(regional);
    Resource empty;
    empty.language.clear();
    out.push_back(empty);
    return out;
  }();
  return samples;
}

void FuzzOne(std::string_view text) {
  const Taxonomy& taxonomy = Taxonomy::Builtin();
  const RegionTable& regions = RegionTable::Builtin();
  Result<Subscription> parsed = Subscription::Parse(text, taxonomy, regions);
  if (!parsed.ok()) {
    Check(parsed.status().code() == StatusCode::kInvalidArgument);
    const std::string& m = parsed.status().message();
    Check(m.starts_with("subscription line ") || m.starts_with("subscription: "));
    return;
  }
  const Subscription& s = *parsed;
  Check(s.text() == text);
  Check(s.rule_count() <= kMaxSubscriptionRules);

  std::vector<Subscription> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    Result<Subscription> line = Subscription::Parse(text.substr(pos, nl - pos), taxonomy, regions);
    Check(line.ok());
    Check(line->rule_count() <= 1);
    lines.push_back(std::move(line).value());
    pos = nl + 1;
  }
  const Subscription copy = s;
  for (const Resource& r : Samples()) {
    const bool matches = s.Matches(r);
    bool any = false;
    for (const Subscription& line : lines) any = any || line.Matches(r);
    Check(matches == any);
    Check(copy.Matches(r) == matches);
  }
}

}  // namespace
}  // namespace tiersync::catalogs

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tiersync::catalogs::FuzzOne(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
