#include "serving/conditional.h"

#include "serving/text.h"

namespace tiersync::serving {
namespace {

// The opaque part of an entity tag ("W/\"x\"" or "\"x\""), or nullopt-like empty + false.
bool Opaque(std::string_view tag, std::string_view* opaque, bool* weak) {
  *weak = false;
  if (tag.starts_with("W/")) {
    *weak = true;
    tag.remove_prefix(2);
  }
  if (tag.size() < 2 || tag.front() != '"' || tag.back() != '"') return false;
  *opaque = tag.substr(1, tag.size() - 2);
  return opaque->find('"') == std::string_view::npos;
}

}  // namespace

std::string StrongEtag(std::string_view opaque) { return "\"" + std::string(opaque) + "\""; }

bool NoneMatchHits(std::string_view header, std::string_view etag) {
  header = TrimOws(header);
  if (header == "*") return true;
  std::string_view mine;
  bool mine_weak = false;
  if (!Opaque(etag, &mine, &mine_weak)) return false;
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view tag = TrimOws(header.substr(start, comma - start));
    start = comma + 1;
    std::string_view theirs;
    bool weak = false;
    if (Opaque(tag, &theirs, &weak) && theirs == mine) return true;
  }
  return false;
}

bool IfRangeAllows(std::string_view header, std::string_view etag) {
  header = TrimOws(header);
  std::string_view theirs, mine;
  bool weak = false, mine_weak = false;
  if (!Opaque(header, &theirs, &weak) || weak) return false;
  return Opaque(etag, &mine, &mine_weak) && !mine_weak && theirs == mine;
}

}  // namespace tiersync::serving
