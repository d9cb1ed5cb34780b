// The difference between two catalog releases, as resources (not files): what incremental
// sync, `tiersync catalog diff` and release notes need. Pure: no I/O.
#ifndef TIERSYNC_CATALOGS_CATALOG_DIFF_H_
#define TIERSYNC_CATALOGS_CATALOG_DIFF_H_

#include <map>
#include <string>
#include <vector>

#include "catalogs/resource.h"

namespace tiersync::catalogs {

// Resource ids, each list sorted. A resource can be both moved and changed.
struct CatalogDiff {
  std::vector<std::string> added;    // new ids
  std::vector<std::string> changed;  // content differs: title, facets, files, link, review,
                                     // priority, provider... (and un-retiring)
  std::vector<std::string> moved;    // placements differ
  std::vector<std::string> retired;  // retired in `to`, not in `from`
  std::vector<std::string> removed;  // gone from `to` (publishing refuses this; seen only in
                                     // repositories edited by other means)
  bool empty() const {
    return added.empty() && changed.empty() && moved.empty() && retired.empty() && removed.empty();
  }
};

CatalogDiff DiffCatalogs(const std::map<std::string, Resource>& from,
                         const std::map<std::string, Resource>& to);

}  // namespace tiersync::catalogs

#endif  // TIERSYNC_CATALOGS_CATALOG_DIFF_H_
