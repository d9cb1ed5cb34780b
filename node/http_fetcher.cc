#include "node/http_fetcher.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <charconv>
#include <optional>

#include "node/asio_status.h"
#include "node/rate_limiter.h"
#include "node/tls_context.h"

namespace tiersync::node {
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

using Clock = std::chrono::steady_clock;

// ": <the text>" of a short plain-text error answer (e.g. "this port speaks HTTPS only"), in
// printable ASCII and at most 120 characters; "" otherwise.
std::string Reason(std::string_view content_type, const std::vector<uint8_t>& body) {
  if (!content_type.starts_with("text/plain") || body.empty() || body.size() > 512) {
    return "";
  }
  std::string text;
  for (uint8_t c : body) {
    if (text.size() == 120) break;
    text += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text.empty() ? "" : ": " + text;
}

// The receive buffer of a connection read under a rate cap.
constexpr int kCappedReceiveBuffer = 64 * 1024;

// One exchange as an asynchronous chain on a private io_context: Beast applies tcp_stream
// timeouts only to asynchronous operations. The body is read piece by piece so that every
// wait is bounded and the average rate can be checked. Over https the same chain runs on a
// TLS stream, after a handshake that checks the server's certificate.
class Exchange {
 public:
  // `tls` is null for http:// URLs.
  Exchange(const HttpUrl& u, const HttpFetcherOptions& options, const TlsClientContext* tls,
           std::string_view content_type, const std::span<const uint8_t>* body, size_t max_bytes)
      : url_(u), options_(options), stream_(ioc_), resolver_(ioc_), hold_(ioc_) {
    if (tls != nullptr) tls_.emplace(ioc_, tls->context());
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
    // Beast reads at most the buffer's free capacity per call (512 bytes when empty): room
    // for 64 KiB reads saves a system call and a timer reset per 512 bytes.
    buffer_.reserve(64 * 1024);
  }

  // Runs the exchange to completion; returns the first error (or none).
  beast::error_code Run() {
    start_ = Clock::now();
    Lowest().expires_after(options_.stall_timeout);
    // A numeric host (the usual case between tiers) needs no resolver: Asio's runs on a thread
    // of its own, started for every exchange.
    beast::error_code parse_error;
    const auto address = boost::asio::ip::make_address(url_.host, parse_error);
    uint16_t port = 0;
    const auto [end, errc] =
        std::from_chars(url_.port.data(), url_.port.data() + url_.port.size(), port);
    if (!parse_error && errc == std::errc() && end == url_.port.data() + url_.port.size()) {
      Lowest().async_connect(tcp::endpoint(address, port),
                             [this](beast::error_code ec) { Connected(ec); });
    } else {
      resolver_.async_resolve(url_.host, url_.port, [this](beast::error_code ec, auto results) {
        if (ec) return Done(ec, "resolve");
        Lowest().async_connect(results, [this](beast::error_code ec, auto) { Connected(ec); });
      });
    }
    ioc_.run();
    return ec_;
  }
  // REQUIRES: constructed with a TLS context. SNI and the name the certificate must carry.
  Status PrepareTls(const TlsClientContext& tls) {
    return tls.Prepare(tls_->native_handle(), url_.host);
  }
  const std::string& step() const { return step_; }
  bool too_slow() const { return too_slow_; }
  bool handshake_failed() const { return step_ == "TLS handshake"; }
  const std::string& handshake_error() const { return handshake_error_; }
  http::response<http::vector_body<uint8_t>>& response() { return parser_.get(); }

 private:
  beast::tcp_stream& Lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : stream_; }

  // Calls `f` with the stream the HTTP messages go over: TLS or plain.
  template <class F>
  void WithStream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(stream_);
    }
  }

  void Connected(beast::error_code ec) {
    if (ec) return Done(ec, "connect");
    beast::error_code ignored;
    Lowest().socket().set_option(tcp::no_delay(true), ignored);  // the request goes whole
    if (options_.limiter != nullptr && options_.limiter->Capped()) {
      // Under a cap, a small receive buffer: the kernel then holds back the sender (TCP flow
      // control) instead of taking megabytes the cap lets the reader take only later. Without
      // one, the kernel's own sizing (a fast link needs a large window).
      Lowest().socket().set_option(
          boost::asio::socket_base::receive_buffer_size(kCappedReceiveBuffer), ignored);
    }
    if (tls_) return Handshake();
    Send();
  }

  void Handshake() {
    Lowest().expires_after(options_.handshake_timeout);
    tls_->async_handshake(boost::asio::ssl::stream_base::client, [this](beast::error_code ec) {
      if (ec == beast::error::timeout) {
        handshake_error_ = "TLS handshake with " + url_.host + ":" + url_.port +
                           " timed out after " +
                           std::to_string(options_.handshake_timeout.count()) + " ms";
      } else if (ec) {
        handshake_error_ =
            DescribeHandshakeFailure(ec, tls_->native_handle(), url_.host, url_.port);
      }
      if (ec) return Done(ec, "TLS handshake");
      Send();
    });
  }

  void Send() {
    Lowest().expires_after(options_.stall_timeout);
    WithStream([this](auto& s) {
      http::async_write(s, req_, [this](beast::error_code ec, size_t) {
        if (ec) return Done(ec, "send request");
        ReadSome();
      });
    });
  }

  // Reads under the rate cap: held first while the limiter says so (no read pending then, so
  // the stall timeout does not run and the parent is paced by TCP flow control).
  void ReadSome() {
    if (options_.limiter != nullptr) {
      const int64_t wait = options_.limiter->WaitMicros();
      if (wait > 0) {
        held_ += std::chrono::microseconds(wait);
        hold_.expires_after(std::chrono::microseconds(wait));
        hold_.async_wait([this](beast::error_code ec) {
          if (ec) return Done(ec, "read response");
          ReadNow();
        });
        return;
      }
    }
    ReadNow();
  }

  void ReadNow() {
    Lowest().expires_after(options_.stall_timeout);
    WithStream([this](auto& s) {
      http::async_read_some(s, buffer_, parser_, [this](beast::error_code ec, size_t n) {
        if (ec) return Done(ec, "read response");
        // The rate is averaged from the first byte of the answer on: the wait for it (a
        // server that computes before it answers: a git pack of the whole catalog) is bounded
        // by the stall timeout, not held against the transfer.
        if (received_ == 0 && n > 0) {
          first_byte_ = Clock::now();
          held_ = {};
        }
        received_ += n;
        if (options_.limiter != nullptr) options_.limiter->Charge(n);
        if (parser_.is_done()) return Done({}, "");
        const auto elapsed = Clock::now() - first_byte_ - held_;
        if (options_.min_bytes_per_second > 0 && received_ > 0 && elapsed > options_.grace) {
          const double seconds = std::chrono::duration<double>(elapsed).count();
          if (static_cast<double>(received_) < seconds * options_.min_bytes_per_second) {
            too_slow_ = true;
            return Done(beast::error::timeout, "read response");
          }
        }
        ReadSome();
      });
    });
  }

  // Closes the connection (over TLS without close_notify: the response was delimited).
  void Done(beast::error_code ec, const char* step) {
    ec_ = ec;
    step_ = step;
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  HttpUrl url_;
  HttpFetcherOptions options_;
  boost::asio::io_context ioc_;
  beast::tcp_stream stream_;                                 // http://
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;  // https://
  tcp::resolver resolver_;
  boost::asio::steady_timer hold_;  // the rate cap's waits
  http::request<http::vector_body<uint8_t>> req_;
  beast::flat_buffer buffer_;
  http::response_parser<http::vector_body<uint8_t>> parser_;
  beast::error_code ec_;
  std::string step_;
  std::string handshake_error_;
  Clock::time_point start_;
  Clock::time_point first_byte_;  // of the response (the throughput rule counts from here)
  Clock::duration held_{};        // since then, held by the rate cap (not the source's time)
  uint64_t received_ = 0;
  bool too_slow_ = false;
};

}  // namespace

namespace {

// Whatever went wrong on the way, the source is the one that failed.
Result<std::vector<uint8_t>> Remote(Result<std::vector<uint8_t>> r) {
  if (!r.ok()) return r.status().AsRemote();
  return r;
}

}  // namespace

Result<std::vector<uint8_t>> HttpFetcher::Fetch(const std::string& url, size_t max_bytes) {
  return Remote(Exchange(url, "", nullptr, max_bytes));
}

Result<std::vector<uint8_t>> HttpFetcher::Post(const std::string& url,
                                               std::string_view content_type,
                                               std::span<const uint8_t> body, size_t max_bytes) {
  return Remote(Exchange(url, content_type, &body, max_bytes));
}

Result<HttpAnswer> HttpFetcher::PostForAnswer(const std::string& url, std::string_view content_type,
                                              std::span<const uint8_t> body, size_t max_bytes) {
  auto answer = Answer(url, content_type, &body, max_bytes);
  if (!answer.ok()) return answer.status().AsRemote();
  return answer;
}

Result<std::vector<uint8_t>> HttpFetcher::Exchange(const std::string& url,
                                                   std::string_view content_type,
                                                   const std::span<const uint8_t>* body,
                                                   size_t max_bytes) {
  TS_ASSIGN_OR_RETURN(HttpAnswer res, Answer(url, content_type, body, max_bytes));
  const unsigned status = res.status;
  if (status == 404 || status == 403)
    return NotFoundError(url + ": HTTP " + std::to_string(status));
  if (status >= 300 && status < 400) {
    return UnavailableError(url + ": redirect to " + res.location + " not followed");
  }
  if (status != 200) {
    return UnavailableError(url + ": HTTP " + std::to_string(status) +
                            Reason(res.content_type, res.body));
  }
  return std::move(res.body);
}

Result<HttpAnswer> HttpFetcher::Answer(const std::string& url, std::string_view content_type,
                                       const std::span<const uint8_t>* body, size_t max_bytes) {
  TS_ASSIGN_OR_RETURN(HttpUrl u, ParseHttpUrl(url));
  std::shared_ptr<const TlsClientContext> tls = options_.tls;
  if (u.https && !tls) {
    TS_ASSIGN_OR_RETURN(tls, TlsClientContext::System());
  }
  node::Exchange x(u, options_, u.https ? tls.get() : nullptr, content_type, body, max_bytes);
  if (u.https) TS_RETURN_IF_ERROR(x.PrepareTls(*tls).WithContext(url));
  beast::error_code ec = x.Run();
  if (x.handshake_failed()) {
    const std::string what = url + ": " + x.handshake_error();
    if (ec == beast::error::timeout) return DeadlineExceededError(what);
    return UnavailableError(what);
  }
  if (x.too_slow()) {
    return Status(
        StatusCode::kDeadlineExceeded,
        url + ": slower than " + std::to_string(options_.min_bytes_per_second) + " bytes/s");
  }
  if (ec == http::error::body_limit) {
    // The head was read: an absent resource is absent whatever its error page's size.
    const unsigned head_status = x.response().result_int();
    if (head_status == 404 || head_status == 403) {
      return NotFoundError(url + ": HTTP " + std::to_string(head_status));
    }
    if (head_status != 200) {
      return UnavailableError(url + ": HTTP " + std::to_string(head_status));
    }
    return ResourceExhaustedError(url + ": body larger than the limit of " +
                                  std::to_string(max_bytes) + " bytes");
  }
  if (ec) return ToStatus(ec, x.step() + " " + url);
  auto& res = x.response();
  return HttpAnswer{res.result_int(), std::string(res[http::field::content_type]),
                    std::string(res[http::field::location]), std::move(res.body())};
}

}  // namespace tiersync::node
