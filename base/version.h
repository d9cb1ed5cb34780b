// The version of this build of tiersync: what `tiersync --version` prints and every node
// reports upward (the federation view shows which nodes run which software).
#ifndef TIERSYNC_BASE_VERSION_H_
#define TIERSYNC_BASE_VERSION_H_

#include <string_view>

namespace tiersync {

inline constexpr std::string_view kTiersyncVersion = "0.1.0";  // = project() in CMakeLists.txt

}  // namespace tiersync

#endif  // TIERSYNC_BASE_VERSION_H_
