#include "node/http_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <optional>

#include "node/asio_status.h"
#include "node/tls_context.h"

namespace tiersync::node {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// The TCP stream under `s` (itself for plain HTTP): where the timeouts are set.
template <class Stream>
beast::tcp_stream& Tcp(Stream& s) {
  return beast::get_lowest_layer(s);
}

template <class Message>
void SetCommon(Message& m, const HttpReply& reply, bool keep_alive) {
  m.set(http::field::server, "tiersync");
  m.set(http::field::content_type, reply.content_type);
  for (const auto& [name, value] : reply.headers) m.set(name, value);
  m.keep_alive(keep_alive);
}

}  // namespace

HttpReply HttpReply::Text(int status, std::string text) {
  HttpReply r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(text) + "\n";
  return r;
}

HttpReply HttpReply::Json(std::string json) {
  HttpReply r;
  r.content_type = "application/json";
  r.body = std::move(json);
  return r;
}

struct HttpServer::Impl {
  HttpHandler* handler;
  ServerLimits limits;
  asio::io_context ioc{1};
  // Handlers and body pieces run here (declared after ioc: joined before it is destroyed).
  std::unique_ptr<asio::thread_pool> workers;
  tcp::acceptor acceptor{ioc};
  std::atomic<size_t> connections{0};
  std::unique_ptr<asio::signal_set> signals;
  std::shared_ptr<TlsServerContext> tls;  // null: plain HTTP

  // Runs `f` on the worker pool and resumes on the io thread with its result, so that a slow
  // handler (a git pack, a chunk batch, a streamed piece read from disk) does not hold up the
  // other connections. (std::optional: co_spawn wants a default-constructible result.)
  template <class F>
  asio::awaitable<std::optional<std::invoke_result_t<F&>>> OnWorkers(F f) {
    using R = std::optional<std::invoke_result_t<F&>>;
    co_return co_await asio::co_spawn(
        *workers, [f = std::move(f)]() mutable -> asio::awaitable<R> { co_return R(f()); },
        asio::use_awaitable);
  }

  // Writes `reply` (headers, then the body whole or in pieces). False if the connection must
  // close (write failed, timed out, or a streamed body failed half-way). One message type
  // (buffer_body) for every response keeps the coroutine's template instantiations few.
  template <class Stream>
  asio::awaitable<bool> Write(Stream& stream, unsigned version, bool head, bool keep_alive,
                              HttpReply reply) {
    Tcp(stream).expires_after(limits.write_timeout);
    http::response<http::buffer_body> res{static_cast<http::status>(reply.status), version};
    SetCommon(res, reply, keep_alive);
    const bool streamed = static_cast<bool>(reply.stream);
    if (reply.status == 304 || reply.status == 204) {  // no body, no Content-Length
      reply.body.clear();
      reply.stream = nullptr;
      head = true;
    } else {
      res.content_length(streamed ? reply.length : reply.body.size());
    }
    res.body().data = nullptr;
    res.body().more = !head;
    http::response_serializer<http::buffer_body> sr{res};
    if (auto [ec, n] = co_await http::async_write_header(stream, sr, kNoThrow); ec) co_return false;
    if (head) co_return true;
    uint64_t sent = 0;
    const uint64_t length = streamed ? reply.length : reply.body.size();
    bool whole_sent = false;
    for (;;) {
      std::string piece;
      if (streamed) {
        std::optional<Result<std::string>> next =
            co_await OnWorkers([&next_piece = reply.stream] { return next_piece(); });
        if (!next->ok()) co_return false;  // cut: the client's length/hash checks see it
        piece = std::move(*next).value();
      } else if (!whole_sent) {
        piece = std::move(reply.body);
        whole_sent = true;
      }
      if (piece.empty()) break;
      sent += piece.size();
      if (sent > length) co_return false;
      res.body().data = piece.data();
      res.body().size = piece.size();
      res.body().more = true;
      Tcp(stream).expires_after(limits.write_timeout);
      auto [ec, n] = co_await http::async_write(stream, sr, kNoThrow);
      if (ec && ec != http::error::need_buffer) co_return false;
    }
    if (sent != length) co_return false;
    res.body().data = nullptr;
    res.body().more = false;
    auto [ec, n] = co_await http::async_write(stream, sr, kNoThrow);
    co_return !ec;
  }

  // Waits for a deferred reply (HttpReply::wait), at most limits.max_hold.
  template <class Stream>
  asio::awaitable<HttpReply> Hold(Stream& stream, HttpReply reply) {
    struct Deferred {
      explicit Deferred(asio::any_io_executor ex) : timer(ex) {}
      asio::steady_timer timer;
      std::optional<HttpReply> reply;
      bool closed = false;
    };
    auto state = std::make_shared<Deferred>(stream.get_executor());
    state->timer.expires_after(limits.max_hold);
    auto wait = std::move(reply.wait);
    asio::any_io_executor ex = stream.get_executor();
    // The callback may be kept (by a ReleaseNotifier) after the connection, or the whole
    // server, is gone: it holds the wait's state only weakly, so it never outlives the
    // io_context its timer belongs to.
    std::weak_ptr<Deferred> weak = state;
    wait([weak, ex](HttpReply r) {
      if (weak.expired()) return;
      asio::post(ex, [weak, r = std::move(r)]() mutable {
        std::shared_ptr<Deferred> state = weak.lock();
        if (!state || state->closed || state->reply) return;
        state->reply = std::move(r);
        state->timer.cancel();
      });
    });
    co_await state->timer.async_wait(kNoThrow);
    state->closed = true;
    if (state->reply) co_return std::move(*state->reply);
    co_return reply;
  }

  // One connection: counted, then served in plain HTTP or, with TLS, after the handshake.
  asio::awaitable<void> Session(tcp::socket socket) {
    beast::error_code ignored;
    // Headers and body pieces go out as separate writes (TLS records): without this, Nagle's
    // algorithm and the client's delayed ACK add 40 ms to every response.
    socket.set_option(tcp::no_delay(true), ignored);
    beast::tcp_stream stream(std::move(socket));
    struct Count {
      std::atomic<size_t>& n;
      ~Count() { --n; }
    } count{connections};
    const bool over_cap = ++connections > limits.max_connections;
    beast::flat_buffer buffer;
    if (tls) {
      co_await ServeTls(std::move(stream), buffer, over_cap);
      co_return;
    }
    co_await Serve(stream, buffer, over_cap);
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // HTTPS: the first bytes must be a TLS ClientHello (plain HTTP gets a plain 400), the
  // handshake must end within handshake_timeout, and the connection ends with close_notify.
  asio::awaitable<void> ServeTls(beast::tcp_stream stream, beast::flat_buffer& buffer,
                                 bool over_cap) {
    beast::error_code ignored;
    stream.expires_after(limits.handshake_timeout);
    auto [dec, is_tls] = co_await beast::async_detect_ssl(stream, buffer, kNoThrow);
    if (dec) co_return;
    if (!is_tls) {  // e.g. http:// sent to an https:// address: say so, in plain HTTP
      co_await Write(stream, 11, false, false,
                     HttpReply::Text(400, "this port speaks HTTPS only: use https://"));
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    TlsStream tls_stream(std::move(stream), tls->context());
    auto [hec, used] = co_await tls_stream.async_handshake(asio::ssl::stream_base::server,
                                                           buffer.data(), kNoThrow);
    if (hec) co_return;  // a bad or slow handshake only costs its own connection
    buffer.consume(used);
    co_await Serve(tls_stream, buffer, over_cap);
    DoNotAwaitCloseNotify(tls_stream.native_handle());
    Tcp(tls_stream).expires_after(limits.write_timeout);
    co_await tls_stream.async_shutdown(kNoThrow);
    Tcp(tls_stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // The request loop over an established connection (`buffer` may hold bytes already read).
  template <class Stream>
  asio::awaitable<void> Serve(Stream& stream, beast::flat_buffer& buffer, bool over_cap) {
    if (over_cap) {
      co_await Write(stream, 11, false, false, HttpReply::Text(503, "too many connections"));
      co_return;
    }
    bool first = true;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(limits.max_header_bytes));
      parser.body_limit(limits.max_body_bytes);
      Tcp(stream).expires_after(first ? limits.header_timeout : limits.keep_alive_timeout);
      first = false;
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
      if (ec == http::error::header_limit) {
        co_await Write(stream, 11, false, false, HttpReply::Text(431, "request header too large"));
        break;
      }
      if (ec == http::error::body_limit) {  // Content-Length over the cap
        co_await Write(stream, 11, false, false, HttpReply::Text(413, "request body too large"));
        break;
      }
      if (ec && ec.category() == http::make_error_code(http::error::bad_version).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        // Not valid HTTP/1.1, e.g. Content-Length together with Transfer-Encoding.
        co_await Write(stream, 11, false, false, HttpReply::Text(400, "bad request"));
        break;
      }
      if (ec) break;  // closed or timed out
      const auto& head = parser.get();
      const bool post = head.method() == http::verb::post;
      const bool has_body = head.chunked() || head.has_content_length();
      std::optional<HttpReply> refusal;
      if (head.method() != http::verb::get && head.method() != http::verb::head && !post) {
        refusal = HttpReply::Text(405, "only GET, HEAD and POST");
        refusal->headers.emplace_back("Allow", "GET, HEAD, POST");
      } else if (head.chunked() && head.count(http::field::content_length) > 0) {
        refusal = HttpReply::Text(400, "Content-Length and Transfer-Encoding together");
      } else if (!post && has_body && (head.chunked() || parser.content_length().value_or(0) > 0)) {
        refusal = HttpReply::Text(400, "only POST requests have a body");
      } else if (post && parser.content_length() &&
                 *parser.content_length() > limits.max_body_bytes) {
        refusal = HttpReply::Text(413, "request body too large");
      }
      if (refusal) {
        co_await Write(stream, head.version(), false, false, std::move(*refusal));
        break;
      }
      if (post && !parser.is_done()) {
        Tcp(stream).expires_after(limits.header_timeout);
        auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kNoThrow);
        if (bec == http::error::body_limit) {
          co_await Write(stream, 11, false, false, HttpReply::Text(413, "request body too large"));
          break;
        }
        if (bec) break;
      }
      const auto& req = parser.get();
      const bool keep_alive = req.keep_alive();
      HttpRequest request{std::string(req.method_string()),
                          std::string(req.target()),
                          post ? req.body() : std::string(),
                          {}};
      for (const auto& field : req) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        request.headers[std::move(name)] = std::string(field.value());
      }
      HttpReply reply =
          std::move(*co_await OnWorkers([this, &request] { return handler->Handle(request); }));
      if (reply.wait) reply = co_await Hold(stream, std::move(reply));
      const bool ok_to_continue = reply.status < 400 || reply.status == 404;
      bool alive = co_await Write(stream, req.version(), req.method() == http::verb::head,
                                  keep_alive && ok_to_continue, std::move(reply));
      if (!alive || !keep_alive || !ok_to_continue) break;
    }
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        continue;  // e.g. EMFILE: keep serving the connections we have
      }
      asio::co_spawn(ioc, Session(std::move(socket)), asio::detached);
    }
  }
};

HttpServer::HttpServer(HttpHandler* handler, ServerLimits limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->handler = handler;
  impl_->limits = limits;
  impl_->workers = std::make_unique<asio::thread_pool>(std::max<size_t>(1, limits.worker_threads));
}

HttpServer::~HttpServer() {
  Stop();
  if (thread_.joinable()) thread_.join();
  impl_->workers->join();  // handlers still running finish before the handler goes away
}

void HttpServer::UseTls(std::shared_ptr<TlsServerContext> tls) { impl_->tls = std::move(tls); }

Result<uint16_t> HttpServer::Listen(const std::string& address, uint16_t port) {
  beast::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) return InvalidArgumentError("listen address \"" + address + "\": " + ec.message());
  tcp::endpoint endpoint(ip, port);
  tcp::acceptor& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return ToStatus(ec, "listen on " + address + ":" + std::to_string(port));
  }
  asio::co_spawn(impl_->ioc, impl_->Accept(), asio::detached);
  return a.local_endpoint().port();
}

void HttpServer::Start() {
  thread_ = std::thread([this] { impl_->ioc.run(); });
}

void HttpServer::Run() { impl_->ioc.run(); }

void HttpServer::StopOnSignals() {
  impl_->signals = std::make_unique<asio::signal_set>(impl_->ioc, SIGINT, SIGTERM);
  impl_->signals->async_wait([this](const beast::error_code&, int) { Stop(); });
}

void HttpServer::Stop() { impl_->ioc.stop(); }

}  // namespace tiersync::node
