#include "node/http_fetcher.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "node/asio_status.h"

namespace tiersync::node {
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

Result<HttpUrl> ParseHttpUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    return InvalidArgumentError("only http:// URLs are supported: " + url);
  }
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  HttpUrl out;
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

namespace {

// One GET as an asynchronous chain on a private io_context: Beast applies tcp_stream
// timeouts only to asynchronous operations, and the deadline covers the whole exchange.
class Exchange {
 public:
  Exchange(const HttpUrl& u, size_t max_bytes, std::chrono::milliseconds timeout)
      : url_(u), stream_(ioc_), resolver_(ioc_), timeout_(timeout) {
    req_ = {http::verb::get, u.target, 11};
    req_.set(http::field::host, u.host);
    req_.set(http::field::user_agent, "tiersync/0.1");
    parser_.header_limit(HttpFetcher::kMaxHeaderBytes);
    parser_.body_limit(max_bytes);
  }

  // Runs the exchange to completion; returns the first error (or none).
  beast::error_code Run() {
    stream_.expires_after(timeout_);
    resolver_.async_resolve(url_.host, url_.port, [this](beast::error_code ec, auto results) {
      if (ec) return Done(ec, "resolve");
      stream_.async_connect(results, [this](beast::error_code ec, auto) {
        if (ec) return Done(ec, "connect");
        http::async_write(stream_, req_, [this](beast::error_code ec, size_t) {
          if (ec) return Done(ec, "send request");
          http::async_read(stream_, buffer_, parser_,
                           [this](beast::error_code ec, size_t) { Done(ec, "read response"); });
        });
      });
    });
    ioc_.run();
    return ec_;
  }
  const std::string& step() const { return step_; }
  http::response<http::vector_body<uint8_t>>& response() { return parser_.get(); }

 private:
  void Done(beast::error_code ec, const char* step) {
    ec_ = ec;
    step_ = step;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  HttpUrl url_;
  boost::asio::io_context ioc_;
  beast::tcp_stream stream_;
  tcp::resolver resolver_;
  std::chrono::milliseconds timeout_;
  http::request<http::empty_body> req_;
  beast::flat_buffer buffer_;
  http::response_parser<http::vector_body<uint8_t>> parser_;
  beast::error_code ec_;
  std::string step_;
};

}  // namespace

Result<std::vector<uint8_t>> HttpFetcher::Fetch(const std::string& url, size_t max_bytes) {
  TS_ASSIGN_OR_RETURN(HttpUrl u, ParseHttpUrl(url));
  Exchange x(u, max_bytes, timeout_);
  beast::error_code ec = x.Run();
  if (ec == http::error::body_limit) {
    return ResourceExhaustedError(url + ": body larger than the limit of " +
                                  std::to_string(max_bytes) + " bytes");
  }
  if (ec) return ToStatus(ec, x.step() + " " + url);
  auto& res = x.response();
  unsigned status = res.result_int();
  if (status == 404 || status == 403)
    return NotFoundError(url + ": HTTP " + std::to_string(status));
  if (status >= 300 && status < 400) {
    return UnavailableError(url + ": redirect to " + std::string(res[http::field::location]) +
                            " not followed");
  }
  if (status != 200) return UnavailableError(url + ": HTTP " + std::to_string(status));
  return std::move(res.body());
}

}  // namespace tiersync::node
