#include "node/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace tiersync::node {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A client socket on the test's side, in plain POSIX so that every wait is bounded (poll).
class RawClient {
 public:
  // Connects to 127.0.0.1:`port` from the loopback address `from`; with `rcvbuf` > 0, sets
  // SO_RCVBUF before connecting (a small receive window, as behind a slow link).
  explicit RawClient(uint16_t port, const char* from = "127.0.0.1", int rcvbuf = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, from, &a.sin_addr);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    a.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  ~RawClient() { Close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // False when the server has closed (or reset) the connection.
  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Up to `max` bytes that arrive within `wait`; "" on timeout or when the server closed
  // (then closed() is true).
  std::string Read(size_t max, std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait.count())) != 1) return "";
    std::string out(max, '\0');
    ssize_t n = recv(fd_, out.data(), max, 0);
    if (n <= 0) {
      closed_ = true;
      return "";
    }
    out.resize(static_cast<size_t>(n));
    return out;
  }
  // Everything until the server closes, or until `wait` has passed.
  std::string ReadAll(std::chrono::milliseconds wait) {
    const auto end = std::chrono::steady_clock::now() + wait;
    std::string out;
    while (!closed_ && std::chrono::steady_clock::now() < end) {
      out += Read(1 << 16, std::chrono::duration_cast<std::chrono::milliseconds>(
                               end - std::chrono::steady_clock::now()));
    }
    return out;
  }
  bool closed() const { return closed_; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool closed_ = false;
};

// The body of a response read whole ("" if the head is incomplete).
std::string BodyOf(const std::string& response) {
  size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

// Polls `done` for up to 10 s.
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

class Handler : public HttpHandler {
 public:
  HttpReply Handle(const HttpRequest& request) override {
    {
      std::lock_guard<std::mutex> l(mu);
      seen.push_back(request.method + " " + request.target);
    }
    if (request.target == "/hello") return HttpReply::Text(200, "你好");
    if (request.target == "/echo") {
      const std::string* type = request.Header("content-type");
      return HttpReply::Text(200, request.body + "|" + (type ? *type : "-"));
    }
    if (request.target.starts_with("/big?n=")) {  // one piece of n bytes
      HttpReply r;
      r.body.assign(std::stoul(request.target.substr(7)), 'x');
      return r;
    }
    if (request.target == "/wait-forever") {
      HttpReply r = HttpReply::Text(200, "timed out");
      r.hold = hold;
      r.wait = [](HttpReply::Resume) {};
      r.abandon = [this] { ++abandoned; };
      return r;
    }
    if (request.target == "/upstream") {  // a piece that waits on the test's gate
      HttpReply r;
      r.length = 4;
      r.upstream = true;
      auto done = std::make_shared<bool>(false);
      r.stream = [this, done]() -> Result<std::string> {
        if (*done) return std::string();
        *done = true;
        upstream_waiting = true;
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [this] { return gate_open; });
        return std::string("late");
      };
      return r;
    }
    if (request.target.starts_with("/wait")) {
      HttpReply r = HttpReply::Text(200, "timed out");
      const bool answer = request.target == "/wait";
      r.wait = [this, answer](HttpReply::Resume resume) {
        if (!answer) return;  // never resumed: the hold limit answers
        std::lock_guard<std::mutex> l(mu);
        waiters.emplace_back([resume] {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          resume(HttpReply::Text(200, "news"));
          resume(HttpReply::Text(200, "ignored"));
        });
      };
      return r;
    }
    if (request.target.starts_with("/stream")) {
      HttpReply r;
      r.length = 3 * 100000;
      auto sent = std::make_shared<int>(0);
      const bool fail = request.target == "/stream-fails";
      r.stream = [sent, fail]() -> Result<std::string> {
        if (*sent == 3) return std::string();
        if (fail && *sent == 1) return CorruptionError("bad chunk");
        return std::string(100000, static_cast<char>('a' + (*sent)++));
      };
      return r;
    }
    return HttpReply::Text(404, "not found");
  }
  void OpenGate() {
    std::lock_guard<std::mutex> l(mu);
    gate_open = true;
    cv.notify_all();
  }
  std::vector<std::string> Seen() {
    std::lock_guard<std::mutex> l(mu);
    return seen;
  }

  std::mutex mu;
  std::condition_variable cv;
  bool gate_open = false;
  std::vector<std::string> seen;
  std::vector<std::jthread> waiters;
  std::atomic<int> abandoned{0};
  std::chrono::milliseconds hold{0};
  std::atomic<bool> upstream_waiting{false};
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerLimits limits;
    limits.header_timeout = std::chrono::milliseconds(300);
    limits.keep_alive_timeout = std::chrono::milliseconds(300);
    limits.max_header_bytes = 1024;
    limits.max_body_bytes = 1024;
    limits.max_hold = std::chrono::milliseconds(200);
    Restart(limits);
  }
  void TearDown() override {
    handler_.OpenGate();  // a test that failed half-way leaves no piece waiting
    server_.reset();
  }
  void Restart(const ServerLimits& limits) {
    server_.reset();
    server_ = std::make_unique<HttpServer>(&handler_, limits);
    auto port = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    server_->Start();
  }

  // Sends `request` raw and reads until the server closes the connection.
  std::string Exchange(const std::string& request) {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    asio::write(socket, asio::buffer(request));
    std::string out;
    boost::system::error_code ec;
    char buf[65536];
    for (;;) {
      size_t n = socket.read_some(asio::buffer(buf), ec);
      out.append(buf, n);
      if (ec) break;
    }
    return out;
  }

  Handler handler_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(HttpServerTest, ServesGetAndKeepsTheConnectionAlive) {
  std::string out = Exchange(
      "GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n"
      "Connection: close\r\n\r\n");
  EXPECT_EQ(out.find("HTTP/1.1 200 OK\r\n"), 0u) << out;
  EXPECT_NE(out.find("Content-Length: 7\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\n\r\n你好\n"), std::string::npos);
  EXPECT_NE(out.find("HTTP/1.1 404 Not Found\r\n"), std::string::npos) << out;
  EXPECT_EQ(handler_.Seen(), (std::vector<std::string>{"GET /hello", "GET /missing"}));
}

TEST_F(HttpServerTest, HeadSendsTheLengthButNoBody) {
  std::string out = Exchange("HEAD /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(out.find("HTTP/1.1 200 OK\r\n"), 0u) << out;
  EXPECT_NE(out.find("Content-Length: 300000\r\n"), std::string::npos);
  EXPECT_TRUE(out.ends_with("\r\n\r\n")) << out.size();
}

TEST_F(HttpServerTest, StreamsBodiesAndCutsOneThatFails) {
  std::string out = Exchange("GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  size_t body = out.find("\r\n\r\n") + 4;
  ASSERT_EQ(out.size() - body, 300000u);
  EXPECT_EQ(out.substr(body, 3), "aaa");
  EXPECT_EQ(out.substr(out.size() - 3), "ccc");

  out = Exchange("GET /stream-fails HTTP/1.1\r\nHost: x\r\n\r\n");
  body = out.find("\r\n\r\n") + 4;
  EXPECT_NE(out.find("Content-Length: 300000\r\n"), std::string::npos);
  EXPECT_EQ(out.size() - body, 100000u) << "the body stops where the piece failed";
}

TEST_F(HttpServerTest, PostBodiesReachTheHandlerWithinTheirCap) {
  std::string out = Exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/x-test\r\nContent-Length: 5\r\n"
      "Connection: close\r\n\r\nhello");
  EXPECT_NE(out.find("\r\n\r\nhello|text/x-test\n"), std::string::npos) << out;
  out = Exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_NE(out.find("\r\n\r\nabc|-\n"), std::string::npos) << out;
  out = Exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" +
                 std::string(2000, 'x'));
  EXPECT_EQ(out.find("HTTP/1.1 413"), 0u) << out.substr(0, 80);
  out = Exchange("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                 std::string("7d0\r\n") + std::string(2000, 'x') + "\r\n0\r\n\r\n");
  EXPECT_EQ(out.find("HTTP/1.1 413"), 0u) << out.substr(0, 80);
  EXPECT_EQ(handler_.Seen().size(), 2u) << "oversized bodies never reach the handler";
}

TEST_F(HttpServerTest, DeferredRepliesWaitForTheirCallbackOrTheHoldLimit) {
  std::string out = Exchange("GET /wait HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(out.find("\r\n\r\nnews\n"), std::string::npos) << out;
  auto start = std::chrono::steady_clock::now();
  out = Exchange("GET /wait-never HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(out.find("\r\n\r\ntimed out\n"), std::string::npos) << out;
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
}

TEST_F(HttpServerTest, RefusesMethodsBodiesAndHugeHeaders) {
  std::string out = Exchange("DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.find("HTTP/1.1 405 Method Not Allowed\r\n"), 0u) << out;
  EXPECT_NE(out.find("Allow: GET, HEAD, POST\r\n"), std::string::npos);
  out = Exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"
      "\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(out.find("HTTP/1.1 400 Bad Request\r\n"), 0u) << out;
  out = Exchange("GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(out.find("HTTP/1.1 400 Bad Request\r\n"), 0u) << out;
  out = Exchange("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'x') + "\r\n\r\n");
  EXPECT_EQ(out.find("HTTP/1.1 431"), 0u) << out.substr(0, 80);
  EXPECT_EQ(handler_.Seen().size(), 0u) << "none of these reached the handler";
}

TEST_F(HttpServerTest, SilentClientIsDisconnectedAfterTheHeaderDeadline) {
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  asio::write(socket, asio::buffer(std::string("GET /hel")));  // and then nothing
  char buf[64];
  boost::system::error_code ec;
  socket.read_some(asio::buffer(buf), ec);  // returns when the server closes
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_TRUE(handler_.Seen().empty());
}

using std::chrono::milliseconds;

TEST_F(HttpServerTest, HeadDrippedByteByByteIsCutAtTheHeaderDeadline) {
  // Each byte arrives well within any per-read timeout; only one deadline for the whole
  // head (300 ms) cuts it.
  RawClient c(port_);
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nX-Drip: "));
  const std::string drip(100, 'a');  // 100 x 30 ms: ten times the deadline
  size_t sent = 0;
  while (sent < drip.size() && c.Send(drip.substr(sent, 1))) {
    ++sent;
    c.Read(64, milliseconds(30));
    if (c.closed()) break;
  }
  EXPECT_TRUE(c.closed() || sent < drip.size()) << "the head was still accepted";
  EXPECT_LT(sent, drip.size() / 2);
  EXPECT_TRUE(handler_.Seen().empty());
}

TEST_F(HttpServerTest, KeptAliveHeadDrippedByteByByteIsCutToo) {
  RawClient c(port_);
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nX-Drip: "));
  size_t sent = 0;
  for (; sent < 100 && !c.closed() && c.Send("a"); ++sent) c.Read(4096, milliseconds(30));
  EXPECT_LT(sent, 50u);
  EXPECT_EQ(handler_.Seen().size(), 1u);
}

TEST_F(HttpServerTest, SlowReaderBehindASmallWindowGetsTheWholeBody) {
  // Before, a whole piece of the body (here one of 8 MiB, like a chunk batch) had to go out
  // within the write deadline (here 300 ms): more than the kernel buffers, at 2 MiB/s, could
  // not, although bytes moved all the time.
  ServerLimits limits;
  limits.stall_timeout = milliseconds(300);
  limits.write_grace = milliseconds(300);
  limits.min_write_bytes_per_second = 16 << 10;
  Restart(limits);
  constexpr size_t kBody = 8 << 20;
  RawClient c(port_, "127.0.0.1", 4096);
  ASSERT_TRUE(c.Send("GET /big?n=" + std::to_string(kBody) +
                     " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!c.closed() && std::chrono::steady_clock::now() < deadline) {
    const size_t target = got.size() + (40 << 10);  // 40 KiB every 20 ms: 2 MiB/s, ~4 s
    while (!c.closed() && got.size() < target)
      got += c.Read(target - got.size(), milliseconds(1000));
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(BodyOf(got).size(), kBody) << "the slow reader was cut";
}

TEST_F(HttpServerTest, ReaderThatStopsIsCutAfterTheStallTimeout) {
  ServerLimits limits;
  limits.stall_timeout = milliseconds(300);
  Restart(limits);
  constexpr size_t kBody = 64 << 20;  // more than the kernel buffers between the two ends
  RawClient c(port_, "127.0.0.1", 4096);
  ASSERT_TRUE(c.Send("GET /big?n=" + std::to_string(kBody) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(1500));  // reads nothing
  std::string got = c.ReadAll(std::chrono::seconds(20));
  EXPECT_TRUE(c.closed());
  EXPECT_LT(BodyOf(got).size(), kBody);
}

TEST_F(HttpServerTest, ReaderBelowTheMinimumRateIsCutAfterTheGrace) {
  ServerLimits limits;
  limits.stall_timeout = std::chrono::seconds(10);
  limits.write_grace = milliseconds(300);
  limits.min_write_bytes_per_second = 1 << 20;
  Restart(limits);
  constexpr size_t kBody = 64 << 20;
  RawClient c(port_, "127.0.0.1", 4096);
  ASSERT_TRUE(c.Send("GET /big?n=" + std::to_string(kBody) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  while (!c.closed() && std::chrono::steady_clock::now() < deadline) {
    got += c.Read(4096, milliseconds(1000));  // 4 KiB every 50 ms: 80 KiB/s
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_TRUE(c.closed()) << "a reader at 80 KiB/s was still served after 8 s";
  EXPECT_LT(BodyOf(got).size(), kBody);
}

TEST_F(HttpServerTest, ConnectionsFromOneAddressAreCapped) {
  ServerLimits limits;
  limits.max_connections_per_address = 3;
  Restart(limits);
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<RawClient>(port_));
    ASSERT_TRUE(idle.back()->Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_NE(idle.back()->Read(4096, std::chrono::seconds(5)), "");  // kept alive
  }
  RawClient fourth(port_);
  fourth.Send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(fourth.ReadAll(std::chrono::seconds(5)), "") << "a fourth from the same address";
  EXPECT_TRUE(fourth.closed());
  RawClient other(port_, "127.0.0.2");  // another machine is not affected
  ASSERT_TRUE(other.Send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(other.ReadAll(std::chrono::seconds(5)).find("HTTP/1.1 200 OK"), 0u);
  idle.pop_back();  // one leaves: the address may connect again
  EXPECT_TRUE(Eventually([&] {
    RawClient again(port_);
    again.Send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    return again.ReadAll(std::chrono::seconds(5)).starts_with("HTTP/1.1 200 OK");
  }));
}

TEST_F(HttpServerTest, ReservedConnectionsServeOnlyChildNodeEndpoints) {
  ServerLimits limits;
  limits.max_connections = 4;
  limits.reserved_connections = 2;
  limits.header_timeout = std::chrono::seconds(10);
  Restart(limits);
  RawClient idle1(port_), idle2(port_);  // the general connections, taken
  ASSERT_TRUE(idle1.Send("GET /hel"));
  ASSERT_TRUE(idle2.Send("GET /hel"));
  ASSERT_TRUE(Eventually([&] {
    RawClient user(port_);  // the third: in the reserve
    user.Send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    return user.ReadAll(std::chrono::seconds(5)).starts_with("HTTP/1.1 503");
  }));
  RawClient child(port_);
  ASSERT_TRUE(child.Send("GET /v1/chunks/00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(child.ReadAll(std::chrono::seconds(5)).find("HTTP/1.1 404"), 0u);
  EXPECT_EQ(handler_.Seen(), (std::vector<std::string>{"GET /v1/chunks/00"}));
  EXPECT_TRUE(IsChildNodeTarget("/v1/events?after=3"));
  EXPECT_TRUE(IsChildNodeTarget("/v1/catalog.git/info/refs?service=git-upload-pack"));
  EXPECT_TRUE(IsChildNodeTarget("/v1/metadata/timestamp.json"));
  EXPECT_TRUE(IsChildNodeTarget("/v1/indexes/ab"));
  EXPECT_TRUE(IsChildNodeTarget("/v1/reports"));
  EXPECT_FALSE(IsChildNodeTarget("/v1/files/x/y.mp4"));
  EXPECT_FALSE(IsChildNodeTarget("/v1/chunksmith"));
  EXPECT_FALSE(IsChildNodeTarget("/"));
}

TEST_F(HttpServerTest, UpstreamRepliesDoNotHoldTheWorkers) {
  ServerLimits limits;
  limits.worker_threads = 1;
  Restart(limits);
  RawClient slow(port_);
  ASSERT_TRUE(slow.Send("GET /upstream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] { return handler_.upstream_waiting.load(); }));
  RawClient other(port_);  // the one worker must be free for it
  ASSERT_TRUE(other.Send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(other.ReadAll(std::chrono::seconds(3)).find("HTTP/1.1 200 OK"), 0u);
  handler_.OpenGate();
  EXPECT_EQ(BodyOf(slow.ReadAll(std::chrono::seconds(5))), "late");
}

TEST_F(HttpServerTest, AbandonIsCalledWhenTheHoldEndsOrTheClientLeaves) {
  std::string out = Exchange("GET /wait-forever HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(out.find("\r\n\r\ntimed out\n"), std::string::npos) << out;
  EXPECT_EQ(handler_.abandoned.load(), 1);

  ServerLimits limits;
  limits.max_hold = std::chrono::seconds(60);
  Restart(limits);
  RawClient c(port_);
  ASSERT_TRUE(c.Send("GET /wait-forever HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] { return handler_.Seen().size() == 2; }));
  c.Close();  // while held
  EXPECT_TRUE(Eventually([&] { return handler_.abandoned.load() == 2; }))
      << "the server did not notice the client leaving";
}

TEST_F(HttpServerTest, HoldEndsAfterTheTimeTheReplyAsksFor) {
  ServerLimits limits;
  limits.max_hold = std::chrono::seconds(60);
  Restart(limits);
  handler_.hold = milliseconds(200);
  RawClient c(port_);
  ASSERT_TRUE(c.Send("GET /wait-forever HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(BodyOf(c.ReadAll(std::chrono::seconds(10))), "timed out\n");
}

TEST_F(HttpServerTest, RequestPipelinedDuringAHoldIsServedAfterIt) {
  RawClient c(port_);
  ASSERT_TRUE(
      c.Send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string out = c.ReadAll(std::chrono::seconds(10));
  EXPECT_NE(out.find("\r\n\r\nnews\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\n\r\n你好\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace tiersync::node
