#include "node/http_server.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>

namespace tiersync::node {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Handler : public HttpHandler {
 public:
  HttpReply Handle(const HttpRequest& request) override {
    seen.push_back(request.method + " " + request.target);
    if (request.target == "/hello") return HttpReply::Text(200, "你好");
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
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerLimits limits;
    limits.header_timeout = std::chrono::milliseconds(300);
    limits.keep_alive_timeout = std::chrono::milliseconds(300);
    limits.max_header_bytes = 1024;
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

TEST_F(HttpServerTest, RefusesMethodsBodiesAndHugeHeaders) {
  std::string out = Exchange("POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(out.find("HTTP/1.1 405 Method Not Allowed\r\n"), 0u) << out;
  EXPECT_NE(out.find("Allow: GET, HEAD\r\n"), std::string::npos);
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
