#include "node/http_server.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <thread>

namespace tiersync::node {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Handler : public HttpHandler {
 public:
  HttpReply Handle(const HttpRequest& request) override {
    seen.push_back(request.method + " " + request.target);
    if (request.target == "/hello") return HttpReply::Text(200, "你好");
    if (request.target == "/echo") {
      const std::string* type = request.Header("content-type");
      return HttpReply::Text(200, request.body + "|" + (type ? *type : "-"));
    }
    if (request.target.starts_with("/wait")) {
      HttpReply r = HttpReply::Text(200, "timed out");
      const bool answer = request.target == "/wait";
      r.wait = [this, answer](HttpReply::Resume resume) {
        if (!answer) return;  // never resumed: the hold limit answers
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
  std::vector<std::string> seen;
  std::vector<std::jthread> waiters;
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
    server_ = std::make_unique<HttpServer>(&handler_, limits);
    auto port = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    server_->Start();
  }
  void TearDown() override { server_.reset(); }

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
  EXPECT_EQ(handler_.seen, (std::vector<std::string>{"GET /hello", "GET /missing"}));
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
  EXPECT_EQ(handler_.seen.size(), 2u) << "oversized bodies never reach the handler";
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
  EXPECT_EQ(handler_.seen.size(), 0u) << "none of these reached the handler";
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
  EXPECT_TRUE(handler_.seen.empty());
}

}  // namespace
}  // namespace tiersync::node
