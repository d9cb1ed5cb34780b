// http:// and https:// URLs as node.toml and the sources name them. Pure (no Beast), so that
// the configuration parser and its fuzz target need no network code.
#ifndef TIERSYNC_NODE_HTTP_URL_H_
#define TIERSYNC_NODE_HTTP_URL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"

namespace tiersync::node {

// The parts of an http:// or https:// URL. kInvalidArgument for anything else (user-info,
// fragments and non-numeric ports are refused).
struct HttpUrl {
  bool https = false;
  std::string host;
  std::string port = "80";   // 443 for https
  std::string target = "/";  // path and query, as sent in the request line
};
Result<HttpUrl> ParseHttpUrl(const std::string& url);

// "HOST:PORT" (a listen address: node.toml, --listen) -> host and port. kInvalidArgument
// naming the text for anything else (no colon, an empty, non-numeric or too large port).
Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view text);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_HTTP_URL_H_
