#include "node/asio_status.h"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>

namespace tiersync::node {

Status ToStatus(const boost::system::error_code& ec, const std::string& context) {
  if (!ec) return Status::Ok();
  std::string msg = context + ": " + ec.message();
  if (ec == boost::beast::error::timeout || ec == boost::asio::error::timed_out) {
    return DeadlineExceededError(std::move(msg));
  }
  return UnavailableError(std::move(msg));
}

}  // namespace tiersync::node
