// The one place where Boost.Asio/Beast error codes become tiersync Status values.
#ifndef TIERSYNC_NODE_ASIO_STATUS_H_
#define TIERSYNC_NODE_ASIO_STATUS_H_

#include <boost/system/error_code.hpp>
#include <string>

#include "base/status.h"

namespace tiersync::node {

// Timeouts are kDeadlineExceeded; refused/reset/unreachable connections and protocol errors
// from a peer are kUnavailable (try another source).
Status ToStatus(const boost::system::error_code& ec, const std::string& context);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_ASIO_STATUS_H_
