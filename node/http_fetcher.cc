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

using Clock = std::chrono::steady_clock;

// One exchange as an asynchronous chain on a private io_context: Beast applies tcp_stream
// timeouts only to asynchronous operations. The body is read piece by piece so that every
// wait is bounded and the average rate can be checked.
class Exchange {
 public:
  Exchange(const HttpUrl& u, const HttpFetcherOptions& options, std::string_view content_type,
           const std::span<const uint8_t>* body, size_t max_bytes)
      : url_(u), options_(options), stream_(ioc_), resolver_(ioc_) {
    req_ = {body ? http::verb::post : http::verb::get, u.target, 11};
    req_.set(http::field::host, u.host);
    req_.set(http::field::user_agent, "tiersync/0.1");
    if (body) {
      req_.set(http::field::content_type, content_type);
      req_.body().assign(body->begin(), body->end());
      req_.prepare_payload();
    }
    parser_.header_limit(HttpFetcher::kMaxHeaderBytes);
    parser_.body_limit(max_bytes);
  }

  // Runs the exchange to completion; returns the first error (or none).
  beast::error_code Run() {
    start_ = Clock::now();
    stream_.expires_after(options_.stall_timeout);
    resolver_.async_resolve(url_.host, url_.port, [this](beast::error_code ec, auto results) {
      if (ec) return Done(ec, "resolve");
      stream_.async_connect(results, [this](beast::error_code ec, auto) {
        if (ec) return Done(ec, "connect");
        stream_.expires_after(options_.stall_timeout);
        http::async_write(stream_, req_, [this](beast::error_code ec, size_t) {
          if (ec) return Done(ec, "send request");
          ReadSome();
        });
      });
    });
    ioc_.run();
    return ec_;
  }
  const std::string& step() const { return step_; }
  bool too_slow() const { return too_slow_; }
  http::response<http::vector_body<uint8_t>>& response() { return parser_.get(); }

 private:
  void ReadSome() {
    stream_.expires_after(options_.stall_timeout);
    http::async_read_some(stream_, buffer_, parser_, [this](beast::error_code ec, size_t n) {
      if (ec) return Done(ec, "read response");
      received_ += n;
      if (parser_.is_done()) return Done({}, "");
      const auto elapsed = Clock::now() - start_;
      if (options_.min_bytes_per_second > 0 && elapsed > options_.grace) {
        const double seconds = std::chrono::duration<double>(elapsed).count();
        if (static_cast<double>(received_) < seconds * options_.min_bytes_per_second) {
          too_slow_ = true;
          return Done(beast::error::timeout, "read response");
        }
      }
      ReadSome();
    });
  }

  void Done(beast::error_code ec, const char* step) {
    ec_ = ec;
    step_ = step;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  HttpUrl url_;
  HttpFetcherOptions options_;
  boost::asio::io_context ioc_;
  beast::tcp_stream stream_;
  tcp::resolver resolver_;
  http::request<http::vector_body<uint8_t>> req_;
  beast::flat_buffer buffer_;
  http::response_parser<http::vector_body<uint8_t>> parser_;
  beast::error_code ec_;
  std::string step_;
  Clock::time_point start_;
  uint64_t received_ = 0;
  bool too_slow_ = false;
};

}  // namespace

Result<std::vector<uint8_t>> HttpFetcher::Fetch(const std::string& url, size_t max_bytes) {
  return Exchange(url, "", nullptr, max_bytes);
}

Result<std::vector<uint8_t>> HttpFetcher::Post(const std::string& url,
                                               std::string_view content_type,
                                               std::span<const uint8_t> body, size_t max_bytes) {
  return Exchange(url, content_type, &body, max_bytes);
}

Result<std::vector<uint8_t>> HttpFetcher::Exchange(const std::string& url,
                                                   std::string_view content_type,
                                                   const std::span<const uint8_t>* body,
                                                   size_t max_bytes) {
  TS_ASSIGN_OR_RETURN(HttpUrl u, ParseHttpUrl(url));
  node::Exchange x(u, options_, content_type, body, max_bytes);
  beast::error_code ec = x.Run();
  if (x.too_slow()) {
    return Status(
        StatusCode::kDeadlineExceeded,
        url + ": slower than " + std::to_string(options_.min_bytes_per_second) + " bytes/s");
  }
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
