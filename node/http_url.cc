#include "node/http_url.h"

namespace tiersync::node {

Result<HttpUrl> ParseHttpUrl(const std::string& url) {
  HttpUrl out;
  out.https = url.starts_with("https://");
  if (!out.https && !url.starts_with("http://")) {
    return InvalidArgumentError("only http:// and https:// URLs are supported: " + url);
  }
  if (out.https) out.port = "443";
  std::string rest = url.substr(out.https ? 8 : 7);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) out.target = rest.substr(slash);
  if (out.target.find('#') != std::string::npos || authority.find('@') != std::string::npos ||
      authority.empty()) {
    return InvalidArgumentError("unsupported URL: " + url);
  }
  // "[v6addr]:port", "host:port", "[v6addr]" or "host".
  size_t host_end = authority.front() == '[' ? authority.find(']') : std::string::npos;
  if (authority.front() == '[' && host_end == std::string::npos) {
    return InvalidArgumentError("bad IPv6 host in URL: " + url);
  }
  size_t colon = authority.find(':', host_end == std::string::npos ? 0 : host_end);
  if (colon != std::string::npos) {
    out.port = authority.substr(colon + 1);
    authority.resize(colon);
  }
  if (out.port.empty() || out.port.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError("bad port in URL: " + url);
  }
  if (authority.front() == '[') authority = authority.substr(1, authority.size() - 2);
  out.host = authority;
  return out;
}

Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view text) {
  const size_t colon = text.rfind(':');
  uint32_t port = 0;
  std::string_view digits =
      colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  bool ok = !digits.empty() && digits.size() <= 5;
  for (char c : digits) {
    ok = ok && c >= '0' && c <= '9';
    if (ok) port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (!ok || port > 65535) {
    return InvalidArgumentError("\"" + std::string(text) + "\" is not HOST:PORT");
  }
  return std::pair<std::string, uint16_t>(std::string(text.substr(0, colon)),
                                          static_cast<uint16_t>(port));
}

}  // namespace tiersync::node
