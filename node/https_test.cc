// HTTPS between nodes over real loopback sockets: the HttpServer with TLS (node/http_server.h)
// and the HttpFetcher (node/http_fetcher.h), with a throwaway CA made at test time.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <thread>

#include "base/bytes.h"
#include "node/http_fetcher.h"
#include "node/http_server.h"
#include "node/tls_context.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"

namespace tiersync::node {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

class Echo : public HttpHandler {
 public:
  HttpReply Handle(const HttpRequest& request) override {
    if (request.method == "POST") {
      const std::string* type = request.Header("content-type");
      return HttpReply::Text(200, "posted " + request.body + " as " + (type ? *type : "-"));
    }
    return HttpReply::Text(200, "hello over " + request.target);
  }
};

std::string Text(const Result<std::vector<uint8_t>>& r) {
  return r.ok() ? std::string(r->begin(), r->end()) : r.status().ToString();
}

// Sends `request` raw over plain TCP and reads until the server closes.
std::string RawExchange(uint16_t port, const std::string& request) {
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(socket, asio::buffer(request));
  std::string out;
  boost::system::error_code ec;
  char buf[4096];
  while (!ec) out.append(buf, socket.read_some(asio::buffer(buf), ec));
  return out;
}

class HttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerLimits limits;
    limits.handshake_timeout = milliseconds(500);
    server_ = Serve(ca_.IssueLoopback("server"), limits);
    ASSERT_NE(port_, 0);
  }

  std::unique_ptr<HttpServer> Serve(const testing::CertFiles& files, ServerLimits limits = {}) {
    auto tls = TlsServerContext::Load(Env::Default(), files.cert, files.key);
    EXPECT_TRUE(tls.ok()) << tls.status().ToString();
    auto server = std::make_unique<HttpServer>(&handler_, limits);
    if (tls.ok()) server->UseTls(*tls);
    auto port = server->Listen("127.0.0.1", 0);
    EXPECT_TRUE(port.ok()) << port.status().ToString();
    port_ = port.ok() ? *port : 0;
    server->Start();
    return server;
  }

  // A fetcher that trusts `ca_file` (default: the test CA).
  HttpFetcher Trusting(const std::string& ca_file = "") {
    auto tls = TlsClientContext::Load(Env::Default(), ca_file.empty() ? ca_.cert_file() : ca_file);
    EXPECT_TRUE(tls.ok()) << tls.status().ToString();
    HttpFetcherOptions options;
    options.stall_timeout = milliseconds(5000);
    if (tls.ok()) options.tls = *tls;
    return HttpFetcher(options);
  }

  std::string Url(const std::string& host, const std::string& path) const {
    return "https://" + host + ":" + std::to_string(port_) + path;
  }

  testing::TempDir tmp_;
  testing::TestCa ca_{tmp_.path()};
  Echo handler_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(HttpsTest, GetAndPostWithTheCaTrusted) {
  HttpFetcher fetcher = Trusting();
  auto got = fetcher.Fetch(Url("127.0.0.1", "/x"), 1000);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(Text(got), "hello over /x\n");
  // By DNS name (SNI, name checked), too.
  EXPECT_EQ(Text(fetcher.Fetch(Url("localhost", "/by-name"), 1000)), "hello over /by-name\n");
  const std::string body = "chunk ids";
  auto posted =
      fetcher.Post(Url("127.0.0.1", "/batch"), "application/x-test",
                   std::span(reinterpret_cast<const uint8_t*>(body.data()), body.size()), 1000);
  EXPECT_EQ(Text(posted), "posted chunk ids as application/x-test\n");
}

TEST_F(HttpsTest, UnknownCaFailsTheSourceWithTheVerifyError) {
  testing::TestCa stranger(tmp_.path(), "stranger", "another CA");
  auto r = Trusting(stranger.cert_file()).Fetch(Url("127.0.0.1", "/x"), 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << "a failure of the source, retryable";
  EXPECT_NE(r.status().message().find("TLS handshake with 127.0.0.1:" + std::to_string(port_) +
                                      " failed: certificate verify failed (unable to get local "
                                      "issuer certificate)"),
            std::string::npos)
      << r.status().ToString();
  // Without [tls] ca the system's store is used, which does not know the test CA either.
  auto system = HttpFetcher().Fetch(Url("127.0.0.1", "/x"), 1000);
  EXPECT_EQ(system.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(system.status().message().find("certificate verify failed"), std::string::npos)
      << system.status().ToString();
}

TEST_F(HttpsTest, NameMismatchIsRefused) {
  HttpFetcher fetcher = Trusting();
  // A certificate for 127.0.0.1 only, asked for as localhost.
  server_ = Serve(ca_.Issue("ip-only", {}, {"127.0.0.1"}));
  auto by_name = fetcher.Fetch(Url("localhost", "/x"), 1000);
  EXPECT_EQ(by_name.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(by_name.status().message().find("certificate verify failed (hostname mismatch)"),
            std::string::npos)
      << by_name.status().ToString();
  // A certificate for another host, asked for by address.
  server_ = Serve(ca_.Issue("elsewhere", {"county.example.cn"}, {"10.1.2.3"}));
  auto by_ip = fetcher.Fetch(Url("127.0.0.1", "/x"), 1000);
  EXPECT_EQ(by_ip.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(by_ip.status().message().find("certificate verify failed (IP address mismatch)"),
            std::string::npos)
      << by_ip.status().ToString();
}

TEST_F(HttpsTest, PlainHttpToTheTlsPortIsAnsweredAndTheServerKeepsServing) {
  auto plain = HttpFetcher(milliseconds(2000))
                   .Fetch("http://127.0.0.1:" + std::to_string(port_) + "/x", 1000);
  EXPECT_EQ(plain.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(plain.status().message().find("HTTP 400: this port speaks HTTPS only: use https://"),
            std::string::npos)
      << plain.status().ToString();
  std::string raw = RawExchange(port_, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 400")) << raw;
  EXPECT_NE(raw.find("this port speaks HTTPS only"), std::string::npos) << raw;
  EXPECT_EQ(Text(Trusting().Fetch(Url("127.0.0.1", "/after"), 1000)), "hello over /after\n");
}

TEST_F(HttpsTest, HttpsToAPlainServerFailsClearly) {
  HttpServer plain(&handler_);
  auto port = plain.Listen("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  plain.Start();
  auto r = Trusting().Fetch("https://127.0.0.1:" + std::to_string(*port) + "/x", 1000);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("is it an http:// server?"), std::string::npos)
      << r.status().ToString();
}

TEST_F(HttpsTest, SilentHandshakesEndAtTheDeadlineOnBothSides) {
  // Server side: a client that connects and says nothing is dropped after handshake_timeout
  // (500 ms here) while others are served.
  asio::io_context ioc;
  tcp::socket idle(ioc);
  idle.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  EXPECT_EQ(Text(Trusting().Fetch(Url("127.0.0.1", "/meanwhile"), 1000)),
            "hello over /meanwhile\n");
  const auto start = std::chrono::steady_clock::now();
  char byte;
  boost::system::error_code ec;
  idle.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec) << "closed by the server";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));

  // Client side: a server that accepts and never answers the ClientHello.
  tcp::acceptor silent(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  HttpFetcherOptions options;
  options.handshake_timeout = milliseconds(300);
  auto tls = TlsClientContext::Load(Env::Default(), ca_.cert_file());
  ASSERT_TRUE(tls.ok());
  options.tls = *tls;
  auto r = HttpFetcher(options).Fetch(
      "https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/x", 1000);
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_NE(r.status().message().find("timed out"), std::string::npos);
}

TEST_F(HttpsTest, PinnedContextTrustsExactlyTheNodesOwnCertificate) {
  // What `tiersync node status` uses: its own certificate, whatever name it carries.
  testing::CertFiles own = ca_.Issue("own", {"county.example.cn"}, {});
  server_ = Serve(own);
  auto pinned = TlsClientContext::PinnedTo(Env::Default(), own.cert);
  ASSERT_TRUE(pinned.ok()) << pinned.status().ToString();
  HttpFetcherOptions options;
  options.tls = *pinned;
  EXPECT_EQ(Text(HttpFetcher(options).Fetch(Url("127.0.0.1", "/status"), 1000)),
            "hello over /status\n");
  // Another certificate from the same CA is not the pinned one.
  server_ = Serve(ca_.IssueLoopback("sibling"));
  EXPECT_EQ(HttpFetcher(options).Fetch(Url("127.0.0.1", "/status"), 1000).status().code(),
            StatusCode::kUnavailable);
}

// ---- Reloading the certificate (systemctl reload after a renewal).

// Writes the PEM files of `from` over those of `to` (a renewal replacing the files in place).
void CopyOver(const testing::CertFiles& from, const testing::CertFiles& to) {
  Env* env = Env::Default();
  for (auto [src, dst] : {std::pair{from.cert, to.cert}, std::pair{from.key, to.key}}) {
    auto bytes = ReadFileToBytes(env, src, 1 << 20);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    ASSERT_TRUE(WriteFileAtomically(env, dst, *bytes).ok());
  }
}

// A TLS connection kept open across a reload: requests on it, one at a time.
class OpenConnection {
 public:
  OpenConnection(uint16_t port, const TlsClientContext& tls) : stream_(ioc_, tls.context()) {
    stream_.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    stream_.handshake(asio::ssl::stream_base::client);
  }
  // Sends GET `target` and reads until the echo's answer has come (or the connection ended).
  std::string Get(const std::string& target) {
    asio::write(stream_, asio::buffer("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n"));
    std::string got;
    boost::system::error_code ec;
    char buf[4096];
    while (!ec && got.find("hello over " + target + "\n") == std::string::npos) {
      got.append(buf, stream_.read_some(asio::buffer(buf), ec));
    }
    return got;
  }

 private:
  asio::io_context ioc_;
  asio::ssl::stream<tcp::socket> stream_;
};

TEST_F(HttpsTest, ReloadGivesNewConnectionsTheRenewedCertificateAndOpenOnesFinish) {
  testing::CertFiles a = ca_.IssueLoopback("a"), b = ca_.IssueLoopback("b");
  testing::CertFiles live{tmp_.Sub("live.pem"), tmp_.Sub("live.key")};  // what [tls] names
  CopyOver(a, live);
  auto tls = TlsServerContext::Load(Env::Default(), live.cert, live.key);
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  HttpServer server(&handler_);
  server.UseTls(*tls);
  auto port = server.Listen("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  port_ = *port;
  server.Start();
  // Clients that accept exactly one of the two certificates (both from the same CA).
  auto pinned = [&](const testing::CertFiles& f) {
    auto ctx = TlsClientContext::PinnedTo(Env::Default(), f.cert);
    EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
    HttpFetcherOptions options;
    options.stall_timeout = milliseconds(5000);
    if (ctx.ok()) options.tls = *ctx;
    return HttpFetcher(options);
  };
  HttpFetcher only_a = pinned(a), only_b = pinned(b);
  EXPECT_EQ(Text(only_a.Fetch(Url("127.0.0.1", "/x"), 1000)), "hello over /x\n");
  EXPECT_FALSE(only_b.Fetch(Url("127.0.0.1", "/x"), 1000).ok());
  auto trust = TlsClientContext::Load(Env::Default(), ca_.cert_file());
  ASSERT_TRUE(trust.ok());
  OpenConnection open(port_, **trust);  // handshaken with A
  EXPECT_NE(open.Get("/before").find("hello over /before"), std::string::npos);

  // Unchanged files: nothing to do.
  auto same = (*tls)->Reload(Env::Default());
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_FALSE(*same);

  // The renewal: B's files in place of A's.
  CopyOver(b, live);
  auto renewed = (*tls)->Reload(Env::Default());
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_TRUE(*renewed);
  EXPECT_EQ(Text(only_b.Fetch(Url("127.0.0.1", "/y"), 1000)), "hello over /y\n");
  EXPECT_FALSE(only_a.Fetch(Url("127.0.0.1", "/y"), 1000).ok()) << "A is no longer served";
  // The connection opened with A goes on.
  EXPECT_NE(open.Get("/after").find("hello over /after"), std::string::npos);

  // Broken renewals change nothing: B is still served.
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), live.cert, AsBytes("not a certificate")).ok());
  auto garbage = (*tls)->Reload(Env::Default());
  EXPECT_EQ(garbage.status().code(), StatusCode::kInvalidArgument) << garbage.status().ToString();
  EXPECT_NE(garbage.status().message().find("cert " + live.cert + ": no PEM certificate"),
            std::string::npos)
      << garbage.status().ToString();
  EXPECT_EQ(Text(only_b.Fetch(Url("127.0.0.1", "/z"), 1000)), "hello over /z\n");

  CopyOver(a, live);  // A's certificate with B's key: half a renewal
  CopyOver(testing::CertFiles{live.cert, b.key}, live);
  auto mismatch = (*tls)->Reload(Env::Default());
  EXPECT_EQ(mismatch.status().message(),
            "key " + live.key + " does not belong to cert " + live.cert);
  EXPECT_EQ(Text(only_b.Fetch(Url("127.0.0.1", "/w"), 1000)), "hello over /w\n");

  ASSERT_TRUE(Env::Default()->RemoveFile(live.key).ok());
  EXPECT_EQ((*tls)->Reload(Env::Default()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Text(only_b.Fetch(Url("127.0.0.1", "/v"), 1000)), "hello over /v\n");
}

// ---- Loading the credentials: errors name the file and what is wrong.

TEST(TlsContextTest, ServerCredentialsMistakesAreNamed) {
  testing::TempDir tmp;
  testing::TestCa ca(tmp.path());
  testing::CertFiles a = ca.IssueLoopback("a"), b = ca.IssueLoopback("b");
  Env* env = Env::Default();
  ASSERT_TRUE(TlsServerContext::Load(env, a.cert, a.key).ok());

  auto missing = TlsServerContext::Load(env, tmp.Sub("none.pem"), a.key);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("cert: "), std::string::npos);
  EXPECT_NE(missing.status().message().find(tmp.Sub("none.pem")), std::string::npos);

  auto mismatch = TlsServerContext::Load(env, a.cert, b.key);
  EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(mismatch.status().message(), "key " + b.key + " does not belong to cert " + a.cert);

  auto swapped = TlsServerContext::Load(env, a.key, a.cert);
  EXPECT_EQ(swapped.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(swapped.status().message().find("cert " + a.key + ": no PEM certificate"),
            std::string::npos)
      << swapped.status().ToString();

  const std::string encrypted = tmp.Sub("encrypted.key");
  ASSERT_TRUE(
      WriteFileAtomically(env, encrypted,
                          AsBytes(std::string("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
                                              "MIIB\n-----END ENCRYPTED PRIVATE KEY-----\n")))
          .ok());
  auto locked = TlsServerContext::Load(env, a.cert, encrypted);
  EXPECT_NE(locked.status().message().find("encrypted with a passphrase"), std::string::npos);

  auto no_ca = TlsClientContext::Load(env, a.key);
  EXPECT_EQ(no_ca.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_ca.status().message().find("ca " + a.key + ": no PEM certificate"),
            std::string::npos)
      << no_ca.status().ToString();
}

TEST(TlsContextTest, NodeConfigErrorsNameTheTable) {
  testing::TempDir tmp;
  NodeConfig config;
  config.tls_cert = tmp.Sub("node.crt");
  config.tls_key = tmp.Sub("node.key");
  auto server = LoadServerTls(Env::Default(), config, "/srv/n/node.toml");
  EXPECT_EQ(server.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(server.status().message().starts_with("/srv/n/node.toml: [tls]: cert: "))
      << server.status().ToString();
  config.tls_ca = tmp.Sub("ca.pem");
  auto upstream = LoadUpstreamTls(Env::Default(), config, "/srv/n/node.toml");
  EXPECT_TRUE(upstream.status().message().starts_with("/srv/n/node.toml: [tls]: ca: "))
      << upstream.status().ToString();
  NodeConfig plain;
  auto none = LoadServerTls(Env::Default(), plain, "node.toml");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr) << "no [tls]: plain HTTP";
}

}  // namespace
}  // namespace tiersync::node
