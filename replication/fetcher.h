// The network seam of the sync engine: base/fetcher.h (declared there so that catalogs/, which
// fetches the catalog over git smart HTTP, uses the same one).
#ifndef TIERSYNC_REPLICATION_FETCHER_H_
#define TIERSYNC_REPLICATION_FETCHER_H_

#include "base/fetcher.h"

namespace tiersync::replication {
using ::tiersync::Fetcher;
}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_FETCHER_H_
