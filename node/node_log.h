// NodeLog: a line of the node's log on standard error ("tiersync node: <line>"), where the
// journal (systemd) and the tests read it. Thread-safe: one write per line.
#ifndef TIERSYNC_NODE_NODE_LOG_H_
#define TIERSYNC_NODE_NODE_LOG_H_

#include <iostream>
#include <string>

namespace tiersync::node {

inline void NodeLog(const std::string& line) {
  std::cerr << "tiersync node: " + line + "\n" << std::flush;
}

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_NODE_LOG_H_
