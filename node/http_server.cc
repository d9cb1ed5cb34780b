#include "node/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

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
#include <map>
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

using Clock = std::chrono::steady_clock;

// A body is written in slices of at most this many bytes, each with its own stall deadline.
constexpr size_t kWriteSlice = 64 << 10;
// At most this many bytes of a response wait unsent in the kernel (TCP_NOTSENT_LOWAT; bytes in
// flight are not limited, so fast links keep their speed). Without it the kernel's send buffer
// grows to megabytes and takes a third of itself back before a write may go on: a slow reader
// then frees no room for minutes although it reads all the time, and a write's stall deadline
// or the rate rule would cut it. With it, a write goes on after every half of this is sent.
constexpr int kMaxUnsentBytes = 64 << 10;
// While a reply is held, the connection is watched with reads of at most this many bytes (the
// start of a pipelined request is kept for later).
constexpr size_t kWatchBytes = 4096;

// What a new connection may do: any request, requests to child-node endpoints only (it took
// one of the reserved connections), or nothing (503).
enum class Admission { kGeneral, kReserve, kOverCap };

// The pace of one response: every write's bytes and the time it took. A client reads too
// slowly when, after write_grace spent writing, the bytes average less than
// min_write_bytes_per_second over that time. Time spent producing the next piece (reading
// disk, waiting on an upstream) is not the client's and is not counted.
class WritePace {
 public:
  explicit WritePace(const ServerLimits& limits) : limits_(limits) {}
  // Records a write; false if the client is now too slow.
  bool Wrote(size_t bytes, Clock::duration took) {
    bytes_ += bytes;
    writing_ += took;
    if (limits_.min_write_bytes_per_second == 0 || writing_ < limits_.write_grace) return true;
    const double seconds = std::chrono::duration<double>(writing_).count();
    return static_cast<double>(bytes_) >=
           seconds * static_cast<double>(limits_.min_write_bytes_per_second);
  }

 private:
  const ServerLimits& limits_;
  uint64_t bytes_ = 0;
  Clock::duration writing_{0};
};

// The address connections are counted by: an IPv4 client over an IPv6 socket as IPv4.
asio::ip::address ClientAddress(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  }
  return a;
}

// The handler's view of a request.
HttpRequest ToRequest(const http::request<http::string_body>& req, bool post) {
  HttpRequest request{std::string(req.method_string()),
                      std::string(req.target()),
                      post ? req.body() : std::string(),
                      {},
                      {}};
  for (const auto& field : req) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    request.headers[std::move(name)] = std::string(field.value());
  }
  return request;
}

template <class Message>
void SetCommon(Message& m, const HttpReply& reply, bool keep_alive) {
  m.set(http::field::server, "tiersync");
  m.set(http::field::content_type, reply.content_type);
  for (const auto& [name, value] : reply.headers) m.set(name, value);
  m.keep_alive(keep_alive);
}

}  // namespace

bool IsChildNodeTarget(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  for (std::string_view prefix : {"/v1/metadata", "/v1/indexes", "/v1/chunks", "/v1/events",
                                  "/v1/reports", "/v1/catalog.git"}) {
    if (path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/')) {
      return true;
    }
  }
  return false;
}

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
  // Connection counts (io thread only; declared before ioc: sessions destroyed with it still
  // uncount themselves).
  size_t connections = 0;
  std::map<asio::ip::address, size_t> per_address;
  asio::io_context ioc{1};
  // Handlers and body pieces run here, and the pieces of upstream replies on their own pool
  // (declared after ioc: joined before it is destroyed).
  std::unique_ptr<asio::thread_pool> workers;
  std::unique_ptr<asio::thread_pool> upstream_pool;
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<asio::signal_set> hup;  // SIGHUP: on_hup, then wait for the next
  std::function<void()> on_hup;

  void WaitForHup() {
    hup->async_wait([this](const beast::error_code& ec, int) {
      if (ec) return;  // the server is going away
      on_hup();
      WaitForHup();
    });
  }
  std::shared_ptr<TlsServerContext> tls;  // null: plain HTTP

  // Runs `f` on `pool` and resumes on the io thread with its result, so that a slow handler
  // (a git pack, a chunk batch, a streamed piece read from disk or waiting on an upstream)
  // does not hold up the other connections. (std::optional: co_spawn wants a
  // default-constructible result.)
  template <class F>
  asio::awaitable<std::optional<std::invoke_result_t<F&>>> OnPool(asio::thread_pool& pool, F f) {
    using R = std::optional<std::invoke_result_t<F&>>;
    co_return co_await asio::co_spawn(
        pool, [f = std::move(f)]() mutable -> asio::awaitable<R> { co_return R(f()); },
        asio::use_awaitable);
  }

  // Writes `data` in slices, each with its own stall deadline. False if the connection must
  // close: a write failed, moved no byte for stall_timeout, or the client reads too slowly.
  template <class Stream>
  asio::awaitable<bool> WriteBytes(Stream& stream, std::string_view data, WritePace& pace) {
    while (!data.empty()) {
      Tcp(stream).expires_after(limits.stall_timeout);
      const auto start = Clock::now();
      auto [ec, n] = co_await stream.async_write_some(
          asio::buffer(data.data(), std::min(data.size(), kWriteSlice)), kNoThrow);
      if (ec) co_return false;
      data.remove_prefix(n);
      if (!pace.Wrote(n, Clock::now() - start)) co_return false;
    }
    co_return true;
  }

  // Writes a streamed body: each piece is produced on the workers (or on the upstream pool)
  // once the previous one is written. False if it failed, or its length is not reply.length.
  template <class Stream>
  asio::awaitable<bool> WriteStream(Stream& stream, HttpReply& reply, WritePace& pace) {
    asio::thread_pool& pool = reply.upstream ? *upstream_pool : *workers;
    uint64_t sent = 0;
    for (;;) {
      std::optional<Result<std::string>> next =
          co_await OnPool(pool, [&next_piece = reply.stream] { return next_piece(); });
      if (!next->ok()) co_return false;  // cut: the client's length/hash checks see it
      const std::string piece = std::move(*next).value();
      if (piece.empty()) co_return sent == reply.length;
      sent += piece.size();
      if (sent > reply.length || !co_await WriteBytes(stream, piece, pace)) co_return false;
    }
  }

  // Writes `reply` (headers, then the body whole or in pieces). False if the connection must
  // close (write failed or stalled, the client read too slowly, or a streamed body failed
  // half-way).
  template <class Stream>
  asio::awaitable<bool> Write(Stream& stream, unsigned version, bool head, bool keep_alive,
                              HttpReply reply) {
    http::response<http::empty_body> res{static_cast<http::status>(reply.status), version};
    SetCommon(res, reply, keep_alive);
    const bool streamed = static_cast<bool>(reply.stream);
    if (reply.status == 304 || reply.status == 204) {  // no body, no Content-Length
      head = true;
    } else {
      res.content_length(streamed ? reply.length : reply.body.size());
    }
    http::response_serializer<http::empty_body> sr{res};
    Tcp(stream).expires_after(limits.stall_timeout);
    if (auto [ec, n] = co_await http::async_write_header(stream, sr, kNoThrow); ec) co_return false;
    if (head) co_return true;
    WritePace pace(limits);
    if (!streamed) co_return co_await WriteBytes(stream, reply.body, pace);
    co_return co_await WriteStream(stream, reply, pace);
  }

  // Waits for a deferred reply (HttpReply::wait), for reply.hold (at most limits.max_hold),
  // watching the connection meanwhile: nullopt if the client closed it. Bytes it sends
  // meanwhile (a pipelined request) are kept in `buffer`.
  template <class Stream>
  asio::awaitable<std::optional<HttpReply>> Hold(Stream& stream, beast::flat_buffer& buffer,
                                                 HttpReply reply) {
    struct Deferred {
      explicit Deferred(asio::any_io_executor ex) : timer(ex) {}
      asio::steady_timer timer;
      std::optional<HttpReply> reply;
      bool closed = false;
    };
    asio::any_io_executor ex = stream.get_executor();
    auto state = std::make_shared<Deferred>(ex);
    using std::chrono::milliseconds;
    state->timer.expires_after(reply.hold > milliseconds(0) ? std::min(reply.hold, limits.max_hold)
                                                            : limits.max_hold);
    auto wait = std::move(reply.wait);
    auto abandon = std::move(reply.abandon);
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
    PeerWatch watch = co_await Watch(stream, buffer, state->timer);
    state->closed = true;
    if (watch.gone || !state->reply) {
      if (abandon) abandon();
    }
    if (watch.gone) co_return std::nullopt;
    if (state->reply) co_return std::move(*state->reply);
    co_return reply;
  }

  // Until `timer` completes, reads from the client: a read that ends in an error means the
  // client left (the timer is then cancelled); bytes that arrive are kept in `buffer`.
  struct PeerWatch {
    bool gone = false;
  };
  template <class Stream>
  asio::awaitable<PeerWatch> Watch(Stream& stream, beast::flat_buffer& buffer,
                                   asio::steady_timer& timer) {
    struct Read {
      explicit Read(asio::any_io_executor ex) : done(ex, asio::steady_timer::time_point::max()) {}
      asio::steady_timer done;  // cancelled when the read completes
      beast::error_code ec;
      size_t n = 0;
      bool finished = false;
    };
    auto read = std::make_shared<Read>(stream.get_executor());
    Tcp(stream).expires_never();
    stream.async_read_some(buffer.prepare(kWatchBytes),
                           [read, &timer](beast::error_code ec, size_t n) {
                             read->ec = ec;
                             read->n = n;
                             read->finished = true;
                             read->done.cancel();
                             if (ec && ec != asio::error::operation_aborted) timer.cancel();
                           });
    co_await timer.async_wait(kNoThrow);
    if (!read->finished) {  // stop reading before the reply is written
      beast::error_code ignored;
      Tcp(stream).socket().cancel(ignored);
      co_await read->done.async_wait(kNoThrow);
    }
    buffer.commit(read->n);
    co_return PeerWatch{read->ec && read->ec != asio::error::operation_aborted};
  }

  // One connection: counted (the caller counted its address), then served in plain HTTP or,
  // with TLS, after the handshake.
  asio::awaitable<void> Session(tcp::socket socket, asio::ip::address address) {
    struct Count {
      Impl& impl;
      asio::ip::address address;
      ~Count() {
        --impl.connections;
        if (--impl.per_address[address] == 0) impl.per_address.erase(address);
      }
    } count{*this, address};
    beast::error_code ignored;
    // Headers and body pieces go out as separate writes (TLS records): without this, Nagle's
    // algorithm and the client's delayed ACK add 40 ms to every response.
    socket.set_option(tcp::no_delay(true), ignored);
#ifdef TCP_NOTSENT_LOWAT
    socket.set_option(
        asio::detail::socket_option::integer<IPPROTO_TCP, TCP_NOTSENT_LOWAT>(kMaxUnsentBytes),
        ignored);
#endif
    beast::tcp_stream stream(std::move(socket));
    const Admission admission = Admit(++connections);
    beast::flat_buffer buffer;
    if (tls) {
      co_await ServeTls(std::move(stream), buffer, admission);
      co_return;
    }
    co_await Serve(stream, buffer, admission);
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // What the n-th connection open at once may do.
  Admission Admit(size_t n) const {
    if (n > limits.max_connections) return Admission::kOverCap;
    if (n + limits.reserved_connections > limits.max_connections) return Admission::kReserve;
    return Admission::kGeneral;
  }

  // HTTPS: the first bytes must be a TLS ClientHello (plain HTTP gets a plain 400), the
  // handshake must end within handshake_timeout, and the connection ends with close_notify.
  asio::awaitable<void> ServeTls(beast::tcp_stream stream, beast::flat_buffer& buffer,
                                 Admission admission) {
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
    // The certificate of the moment (a reload swaps it for later connections; this one
    // keeps its context alive until it ends).
    const std::shared_ptr<asio::ssl::context> context = tls->Current();
    TlsStream tls_stream(std::move(stream), *context);
    auto [hec, used] = co_await tls_stream.async_handshake(asio::ssl::stream_base::server,
                                                           buffer.data(), kNoThrow);
    if (hec) co_return;  // a bad or slow handshake only costs its own connection
    buffer.consume(used);
    co_await Serve(tls_stream, buffer, admission);
    DoNotAwaitCloseNotify(tls_stream.native_handle());
    Tcp(tls_stream).expires_after(limits.stall_timeout);
    co_await tls_stream.async_shutdown(kNoThrow);
    Tcp(tls_stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // Why a request head is refused before it reaches the handler; nullopt if it is not.
  std::optional<HttpReply> Refusal(const http::request_parser<http::string_body>& parser,
                                   Admission admission) const {
    const auto& head = parser.get();
    const bool post = head.method() == http::verb::post;
    const bool has_body = head.chunked() || head.has_content_length();
    if (head.method() != http::verb::get && head.method() != http::verb::head && !post) {
      HttpReply r = HttpReply::Text(405, "only GET, HEAD and POST");
      r.headers.emplace_back("Allow", "GET, HEAD, POST");
      return r;
    }
    if (head.chunked() && head.count(http::field::content_length) > 0) {
      return HttpReply::Text(400, "Content-Length and Transfer-Encoding together");
    }
    if (!post && has_body && (head.chunked() || parser.content_length().value_or(0) > 0)) {
      return HttpReply::Text(400, "only POST requests have a body");
    }
    if (post && parser.content_length() && *parser.content_length() > limits.max_body_bytes) {
      return HttpReply::Text(413, "request body too large");
    }
    if (admission == Admission::kReserve && !IsChildNodeTarget(head.target())) {
      HttpReply r = HttpReply::Text(503, "busy: the connections left are kept for child nodes");
      r.headers.emplace_back("Retry-After", "5");
      return r;
    }
    return std::nullopt;
  }

  // The request loop over an established connection (`buffer` may hold bytes already read).
  template <class Stream>
  asio::awaitable<void> Serve(Stream& stream, beast::flat_buffer& buffer, Admission admission) {
    if (admission == Admission::kOverCap) {
      co_await Write(stream, 11, false, false, HttpReply::Text(503, "too many connections"));
      co_return;
    }
    // One deadline for the whole head: from accept (the handshake) for the first request,
    // from the end of the previous response for the next ones. Beast's stream keeps the
    // deadline across the reads of async_read_header, so a head dripped byte by byte does
    // not extend it.
    Tcp(stream).expires_after(limits.header_timeout);
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(limits.max_header_bytes));
      parser.body_limit(limits.max_body_bytes);
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
      if (std::optional<HttpReply> refusal = Refusal(parser, admission)) {
        co_await Write(stream, parser.get().version(), false, false, std::move(*refusal));
        break;
      }
      const bool post = parser.get().method() == http::verb::post;
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
      HttpRequest request = ToRequest(req, post);
      beast::error_code peer_ec;
      const tcp::endpoint peer = Tcp(stream).socket().remote_endpoint(peer_ec);
      if (!peer_ec) request.peer = ClientAddress(peer.address()).to_string();
      HttpReply reply = std::move(
          *co_await OnPool(*workers, [this, &request] { return handler->Handle(request); }));
      if (reply.wait) {
        std::optional<HttpReply> held = co_await Hold(stream, buffer, std::move(reply));
        if (!held) break;  // the client left
        reply = std::move(*held);
      }
      const bool ok_to_continue = reply.status < 400 || reply.status == 404;
      bool alive = co_await Write(stream, req.version(), req.method() == http::verb::head,
                                  keep_alive && ok_to_continue, std::move(reply));
      if (!alive || !keep_alive || !ok_to_continue) break;
      Tcp(stream).expires_after(limits.keep_alive_timeout);
    }
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        continue;  // e.g. EMFILE: keep serving the connections we have
      }
      beast::error_code peer_ec;
      const tcp::endpoint peer = socket.remote_endpoint(peer_ec);
      if (peer_ec) continue;  // already gone
      const asio::ip::address address = ClientAddress(peer.address());
      size_t& from_there = per_address[address];
      if (from_there >= limits.max_connections_per_address) {
        continue;  // closed unanswered: one machine's flood costs the others nothing
      }
      ++from_there;
      asio::co_spawn(ioc, Session(std::move(socket), address), asio::detached);
    }
  }
};

HttpServer::HttpServer(HttpHandler* handler, ServerLimits limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->handler = handler;
  impl_->limits = limits;
  impl_->workers = std::make_unique<asio::thread_pool>(std::max<size_t>(1, limits.worker_threads));
  impl_->upstream_pool =
      std::make_unique<asio::thread_pool>(std::max<size_t>(1, limits.upstream_threads));
}

HttpServer::~HttpServer() {
  Stop();
  if (thread_.joinable()) thread_.join();
  impl_->workers->join();  // handlers still running finish before the handler goes away
  impl_->upstream_pool->join();
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

void HttpServer::OnReloadSignal(std::function<void()> reload) {
  impl_->hup = std::make_unique<asio::signal_set>(impl_->ioc, SIGHUP);
  impl_->on_hup = std::move(reload);
  impl_->WaitForHup();
}

void HttpServer::Stop() { impl_->ioc.stop(); }

}  // namespace tiersync::node
