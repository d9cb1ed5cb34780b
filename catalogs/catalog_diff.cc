#include "catalogs/catalog_diff.h"

namespace tiersync::catalogs {

CatalogDiff DiffCatalogs(const std::map<std::string, Resource>& from,
                         const std::map<std::string, Resource>& to) {
  CatalogDiff d;
  for (const auto& [id, old] : from) {
    if (!to.contains(id)) d.removed.push_back(id);
  }
  for (const auto& [id, now] : to) {
    auto it = from.find(id);
    if (it == from.end()) {
      d.added.push_back(id);
      continue;
    }
    const Resource& old = it->second;
    if (now == old) continue;
    if (now.retired && !old.retired) {
      d.retired.push_back(id);
      continue;  // what else a retirement edits is not news
    }
    if (now.placements != old.placements) d.moved.push_back(id);
    Resource same_place = now;
    same_place.placements = old.placements;
    if (same_place != old) d.changed.push_back(id);
  }
  return d;
}

}  // namespace tiersync::catalogs
