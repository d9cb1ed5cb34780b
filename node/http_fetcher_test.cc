#include "node/http_fetcher.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <thread>

#include "base/env.h"
#include "node/rate_limiter.h"

namespace tiersync::node {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

TEST(ParseHttpUrlTest, Forms) {
  auto u = ParseHttpUrl("http://127.0.0.1:8080/metadata/1.root.json");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->target, "/metadata/1.root.json");
  u = ParseHttpUrl("http://[::1]:81/x");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "81");
  u = ParseHttpUrl("http://example");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->target, "/");
  EXPECT_FALSE(u->https);
  u = ParseHttpUrl("https://zhejiang.example/v1/status");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->https);
  EXPECT_EQ(u->host, "zhejiang.example");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/v1/status");
  u = ParseHttpUrl("https://[::1]:8443");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "8443");
  for (const char* bad : {"ftp://a", "http://u@a/", "http://a:x/", "http://", "https://",
                          "http://a/#f", "http://[::1/", "HTTPS://a/", "https:/a"}) {
    EXPECT_FALSE(ParseHttpUrl(bad).ok()) << bad;
  }
}

// A one-shot HTTP server on loopback that answers with `respond`.
class OneShotServer {
 public:
  using Handler = std::function<void(tcp::socket&, const http::request<http::string_body>&)>;
  explicit OneShotServer(Handler handler)
      : acceptor_(ioc_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, handler] {
      tcp::socket socket(ioc_);
      acceptor_.accept(socket);
      beast::flat_buffer buf;
      http::request<http::string_body> req;
      beast::error_code ec;
      http::read(socket, buf, req, ec);
      handler(socket, req);
    });
  }
  ~OneShotServer() { thread_.join(); }
  std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }

 private:
  boost::asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

void Respond(tcp::socket& s, http::status status, std::string body) {
  http::response<http::string_body> res{status, 11};
  res.body() = std::move(body);
  if (status == http::status::found) res.set(http::field::location, "http://elsewhere/");
  res.prepare_payload();
  beast::error_code ec;
  http::write(s, res, ec);
}

TEST(HttpFetcherTest, FetchesBody) {
  OneShotServer server([](tcp::socket& s, const auto&) { Respond(s, http::status::ok, "hello"); });
  auto r = HttpFetcher().Fetch(server.Url("/x"), 100);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(std::string(r->begin(), r->end()), "hello");
}

TEST(HttpFetcherTest, NotFound) {
  OneShotServer server(
      [](tcp::socket& s, const auto&) { Respond(s, http::status::not_found, ""); });
  EXPECT_EQ(HttpFetcher().Fetch(server.Url("/x"), 100).status().code(), StatusCode::kNotFound);
}

TEST(HttpFetcherTest, BodyOverTheCapIsCutOff) {
  OneShotServer server(
      [](tcp::socket& s, const auto&) { Respond(s, http::status::ok, std::string(100000, 'x')); });
  EXPECT_EQ(HttpFetcher().Fetch(server.Url("/x"), 1000).status().code(),
            StatusCode::kResourceExhausted);
}

TEST(HttpFetcherTest, RedirectIsNotFollowed) {
  OneShotServer server([](tcp::socket& s, const auto&) { Respond(s, http::status::found, ""); });
  auto r = HttpFetcher().Fetch(server.Url("/x"), 100);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("not followed"), std::string::npos);
}

TEST(HttpFetcherTest, StalledServerTimesOut) {
  OneShotServer server([](tcp::socket& s, const auto&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));  // says nothing
  });
  auto r = HttpFetcher(std::chrono::milliseconds(200)).Fetch(server.Url("/x"), 100);
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
}

TEST(HttpFetcherTest, PostSendsTheBodyAndItsType) {
  OneShotServer server([](tcp::socket& s, const http::request<http::string_body>& req) {
    Respond(s, http::status::ok,
            std::string(req.method_string()) + " " + std::string(req[http::field::content_type]) +
                " " + req.body());
  });
  std::string body = "ids";
  auto r = HttpFetcher().Post(server.Url("/x"), "application/x-test",
                              std::span(reinterpret_cast<const uint8_t*>(body.data()), 3), 100);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(std::string(r->begin(), r->end()), "POST application/x-test ids");
}

// A source that drips (one byte every 20 ms, never stalling long enough for the stall timeout)
// is abandoned by the minimum-throughput rule once the grace period is over.
TEST(HttpFetcherTest, DripFeedIsCutByTheMinimumThroughput) {
  OneShotServer server([](tcp::socket& s, const auto&) {
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
    beast::error_code ec;
    boost::asio::write(s, boost::asio::buffer(head), ec);
    for (int i = 0; i < 100 && !ec; ++i) {
      boost::asio::write(s, boost::asio::buffer("x", 1), ec);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  HttpFetcherOptions options;
  options.stall_timeout = std::chrono::milliseconds(1000);
  options.min_bytes_per_second = 10000;
  options.grace = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  auto r = HttpFetcher(options).Fetch(server.Url("/x"), 200000);
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_NE(r.status().message().find("slower than 10000 bytes/s"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
}

// A server that computes before it answers (the catalog's git pack of a whole national
// catalog takes seconds to build) is not "slow": the throughput rule counts from the
// answer's first byte; the wait for it is the stall timeout's to bound. Failed before: the
// average since the request, taken at the first read, was below the minimum.
TEST(HttpFetcherTest, AServerThatThinksBeforeAnsweringIsNotCutByTheThroughputRule) {
  OneShotServer server([](tcp::socket& s, const auto&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 50000\r\n\r\n";
    beast::error_code ec;
    boost::asio::write(s, boost::asio::buffer(head), ec);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    boost::asio::write(s, boost::asio::buffer(std::string(50000, 'x')), ec);
  });
  HttpFetcherOptions options;
  options.stall_timeout = std::chrono::milliseconds(3000);
  options.min_bytes_per_second = 10000;
  options.grace = std::chrono::milliseconds(300);
  auto r = HttpFetcher(options).Fetch(server.Url("/x"), 200000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 50000u);
}

// Under a rate cap the reads are held (the body arrives no faster than the cap), and the time
// held is the cap's, not the source's: a cap below min_bytes_per_second does not make the
// source "too slow". Fails without the exclusion (cut after the grace) or without the holds.
TEST(HttpFetcherTest, ACapHoldsTheReadsWithoutMakingTheSourceTooSlow) {
  constexpr size_t kBody = 400'000;
  OneShotServer server([](tcp::socket& s, const auto&) {
    Respond(s, http::status::ok, std::string(kBody, 'x'));
  });
  RatePolicy policy;
  policy.inside_bytes_per_second = 200'000;
  auto limiter = std::make_shared<RateLimiter>(Env::Default(), policy);
  HttpFetcherOptions options;
  options.stall_timeout = std::chrono::milliseconds(5000);
  options.min_bytes_per_second = 1'000'000;  // above the cap
  options.grace = std::chrono::milliseconds(300);
  options.limiter = limiter;
  auto start = std::chrono::steady_clock::now();
  auto r = HttpFetcher(options).Fetch(server.Url("/x"), kBody + 1000);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), kBody);
  EXPECT_GE(limiter->charged_bytes(), kBody);
  // 400 kB at 200 kB/s: at least 1.5 s after the first 64 KiB read and the saved burst.
  EXPECT_GE(took, std::chrono::milliseconds(1500));
}

TEST(HttpFetcherTest, RefusedConnectionIsUnavailable) {
  // Port 1 on loopback has no listener.
  EXPECT_EQ(HttpFetcher().Fetch("http://127.0.0.1:1/x", 100).status().code(),
            StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tiersync::node
