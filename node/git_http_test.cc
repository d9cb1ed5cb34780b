#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <random>

#include "catalogs/git_catalog.h"
#include "catalogs/git_transport.h"
#include "node/git_http_service.h"
#include "node/http_server.h"
#include "node/tls_context.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"

namespace tiersync::node {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using catalogs::FetchCatalog;
using catalogs::FetchStats;
using catalogs::GitCatalog;
using std::chrono::milliseconds;

const catalogs::Identity kPublisher{"国家智慧教育平台 发布员", "publisher@hub.example.edu.cn"};
constexpr char kPrefix[] = "/v1/catalog.git";
constexpr uint64_t kMaxBytes = 64 << 20;
constexpr milliseconds kTimeout{20'000};

// Routes /v1/catalog.git/... to the service, as the node's handler does; notes gzipped bodies.
class Router : public HttpHandler {
 public:
  explicit Router(GitHttpService* git) : git_(git) {}
  HttpReply Handle(const HttpRequest& request) override {
    const std::string* encoding = request.Header("content-encoding");
    if (encoding != nullptr && *encoding == "gzip") ++gzipped;
    std::string_view target = request.target;
    if (!target.starts_with(std::string(kPrefix) + "/")) return HttpReply::Text(404, "not found");
    return git_->Handle(request, target.substr(sizeof kPrefix - 1));
  }
  std::atomic<int> gzipped = 0;

 private:
  GitHttpService* git_;
};

std::string Pkt(const std::string& payload) {
  char length[5];
  std::snprintf(length, sizeof length, "%04zx", payload.size() + 4);
  return length + payload;
}

std::string Gzip(const std::string& data) {
  z_stream z = {};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// About 1 KB of JSON that does not compress much.
std::string Record(uint64_t id, uint64_t release) {
  std::mt19937_64 random(id * 1000 + release);
  std::string text;
  while (text.size() < 1000) text += std::to_string(random()) + " ";
  return "{\"id\": " + std::to_string(id) + ", \"release\": " + std::to_string(release) +
         ", \"text\": \"" + text + "\"}";
}

// Stock git, isolated from the machine's configuration.
testing::RunResult Git(std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/env", "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1",
                             "GIT_CONFIG_GLOBAL=/dev/null", "git"});
  return testing::RunProcess(args);
}

class GitHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(GitCatalog::Init(hub_dir_).ok());
    auto hub = GitCatalog::Open(hub_dir_);
    ASSERT_TRUE(hub.ok()) << hub.status().ToString();
    hub_ = std::move(hub).value();
    auto port = server_.Listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    url_ = "http://127.0.0.1:" + std::to_string(*port) + kPrefix;
    port_ = *port;
    server_.Start();
  }

  // Publishes `n` more releases; each changes two of forty records (about 1 KB each).
  void Publish(int n) {
    for (int i = 0; i < n; ++i) {
      const uint64_t r = ++published_;
      std::vector<catalogs::FileChange> changes;
      for (uint64_t f = 0; f < 40; ++f) {
        if (r == 1 || f == r % 40 || f == (r * 7 + 3) % 40) {
          changes.push_back({"resources/national/" + std::to_string(f) + ".json", Record(f, r)});
        }
      }
      auto head = hub_->Commit(changes, kPublisher, 1700000000 + r, "publish", parent_);
      ASSERT_TRUE(head.ok()) << head.status().ToString();
      ASSERT_TRUE(hub_->TagRelease(head->commit, r, kPublisher, 1700000000 + r, "release").ok());
      parent_ = head->commit;
    }
  }

  Result<FetchStats> Fetch() { return FetchCatalog(mirror_dir_, url_, kTimeout, kMaxBytes); }

  // The mirror holds exactly releases 1..n with the hub's content, and main at release n.
  void ExpectMirrorHas(uint64_t n) {
    auto mirror = GitCatalog::Open(mirror_dir_);
    ASSERT_TRUE(mirror.ok()) << mirror.status().ToString();
    auto releases = (*mirror)->Releases();
    ASSERT_TRUE(releases.ok()) << releases.status().ToString();
    ASSERT_EQ(releases->size(), n);
    for (const catalogs::ReleaseInfo& release : *releases) {
      auto original = hub_->FindRelease(release.name);
      ASSERT_TRUE(original.ok());
      EXPECT_EQ(release.commit, original->commit);
      EXPECT_EQ(release.tagger.name, kPublisher.name);
      auto files = (*mirror)->ListFiles(release.tree);
      ASSERT_TRUE(files.ok()) << files.status().ToString();
      EXPECT_EQ(*files, *hub_->ListFiles(original->tree)) << release.name;
      EXPECT_EQ(files->size(), 40u);
    }
    auto head = (*mirror)->MainHead();
    ASSERT_TRUE(head.ok() && head->has_value());
    EXPECT_EQ((*head)->commit, releases->back().commit);
  }

  // One raw HTTP/1.1 exchange: the status code and the response (head and body).
  std::pair<int, std::string> Exchange(const std::string& method, const std::string& target,
                                       const std::string& body = "",
                                       const std::string& headers = "") {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    std::string request = method + " " + kPrefix + target + " HTTP/1.1\r\nHost: x\r\n" +
                          "Connection: close\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\n" + headers + "\r\n" + body;
    asio::write(socket, asio::buffer(request));
    std::string out;
    boost::system::error_code ec;
    char buf[65536];
    while (!ec) out.append(buf, socket.read_some(asio::buffer(buf), ec));
    int status = 0;
    std::sscanf(out.c_str(), "HTTP/1.1 %d", &status);
    return {status, out};
  }

  testing::TempDir tmp_;
  std::string hub_dir_ = tmp_.Sub("hub.git");
  std::string mirror_dir_ = tmp_.Sub("mirror/catalog.git");
  std::unique_ptr<GitCatalog> hub_;
  std::string parent_;
  uint64_t published_ = 0;
  std::atomic<uint64_t> served_ = 0;
  GitHttpService service_{hub_dir_, [this] { return served_.load(); }};
  Router router_{&service_};
  HttpServer server_{&router_};
  uint16_t port_ = 0;
  std::string url_;
};

TEST_F(GitHttpTest, FetchCatalogMirrorsTheServedReleasesIncrementally) {
  Publish(3);
  auto nothing = Fetch();  // nothing served yet: an empty repository
  ASSERT_TRUE(nothing.ok()) << nothing.status().ToString();
  EXPECT_EQ(nothing->received_objects, 0u);
  EXPECT_TRUE(GitCatalog::Open(mirror_dir_).value()->Releases()->empty());

  served_ = 2;
  auto first = Fetch();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ExpectMirrorHas(2);  // r3 stays on the hub while r2 is served
  EXPECT_GT(first->received_objects, 40u);

  auto again = Fetch();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->received_objects, 0u);

  served_ = 3;
  auto second = Fetch();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ExpectMirrorHas(3);
  EXPECT_GT(second->received_objects, 0u);
  EXPECT_LT(second->received_objects, first->received_objects / 4);
  EXPECT_LT(second->received_bytes, first->received_bytes / 4);
  EXPECT_GT(second->received_bytes, 2000u);
}

// Over 20 local commits, libgit2 negotiates over several requests (haves in batches of 20).
TEST_F(GitHttpTest, FetchCatalogStaysIncrementalAfterManyReleases) {
  Publish(25);
  served_ = 24;
  auto first = Fetch();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  served_ = 25;
  auto second = Fetch();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ExpectMirrorHas(25);
  // The tag, the commit, three trees and two records.
  EXPECT_LE(second->received_objects, 7u);
}

TEST_F(GitHttpTest, StockGitClonesAndFetchesNewReleases) {
  if (Git({"--version"}).exit_code != 0) GTEST_SKIP() << "git is not installed";
  Publish(3);
  const std::string clone = tmp_.Sub("clone");
  testing::RunResult r = Git({"clone", "-q", url_, tmp_.Sub("empty")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("empty repository"), std::string::npos) << r.err;
  served_ = 2;
  r = Git({"clone", "-q", url_, clone});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Git({"-C", clone, "log", "--format=%an"});
  EXPECT_EQ(r.out, kPublisher.name + "\n" + kPublisher.name + "\n");
  EXPECT_EQ(Git({"-C", clone, "tag"}).out, "r1\nr2\n");
  r = Git({"-C", clone, "ls-files"});
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 40);

  served_ = 3;
  r = Git({"-C", clone, "fetch", "-q", "--tags"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Git({"-C", clone, "tag"}).out, "r1\nr2\nr3\n");
  EXPECT_EQ(Git({"-C", clone, "rev-parse", "origin/main"}).out,
            hub_->FindRelease("r3")->commit + "\n");
  EXPECT_EQ(Git({"-C", clone, "fsck", "--strict"}).exit_code, 0);
}

TEST_F(GitHttpTest, StockGitNegotiatesOverManyReleasesWithGzippedRequests) {
  if (Git({"--version"}).exit_code != 0) GTEST_SKIP() << "git is not installed";
  Publish(30);
  served_ = 29;
  const std::string clone = tmp_.Sub("clone");
  testing::RunResult r = Git({"clone", "-q", url_, clone});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(router_.gzipped.load(), 0);  // 30 wants: over 1 KiB, so git gzipped the body
  // Objects stored, loose and packed (a fetched pack of under 100 objects is unpacked).
  const auto stored = [&] {
    testing::RunResult counts = Git({"-C", clone, "count-objects", "-v"});
    int loose = 0, packed = 0;
    std::sscanf(counts.out.c_str(), "count: %d\nsize: %*d\nin-pack: %d", &loose, &packed);
    return loose + packed;
  };
  const int before = stored();
  EXPECT_GT(before, 100);

  served_ = 30;  // git now sends 29 haves: more than its first round of 16
  r = Git({"-C", clone, "fetch", "-q", "--tags"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Git({"-C", clone, "tag"});
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 30);
  EXPECT_LE(stored() - before, 7);  // the tag, the commit, three trees, two records
}

TEST_F(GitHttpTest, BadRequestsGet4xxAndTheServerKeepsServing) {
  Publish(3);
  served_ = 2;
  const std::string type = "Content-Type: application/x-git-upload-pack-request\r\n";
  const std::string r3 = hub_->FindRelease("r3")->commit;
  const std::string unadvertised = Pkt("want " + r3 + " ofs-delta\n") + "0000" + Pkt("done\n");

  auto [status, text] = Exchange("POST", "/git-upload-pack", "zzzz", type);
  EXPECT_EQ(status, 400);
  EXPECT_NE(text.find("is not 4 hex digits"), std::string::npos) << text;
  std::tie(status, text) = Exchange("POST", "/git-upload-pack", unadvertised, type);
  EXPECT_EQ(status, 400);
  EXPECT_NE(text.find("want " + r3 + " is not an advertised ref"), std::string::npos) << text;
  std::tie(status, text) =
      Exchange("POST", "/git-upload-pack", Gzip(unadvertised), type + "Content-Encoding: gzip\r\n");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(Exchange("POST", "/git-upload-pack", Gzip(std::string(5 << 20, '0')),
                     type + "Content-Encoding: gzip\r\n")
                .first,
            413);
  EXPECT_EQ(
      Exchange("POST", "/git-upload-pack", "not gzip", type + "Content-Encoding: gzip\r\n").first,
      400);
  EXPECT_EQ(
      Exchange("POST", "/git-upload-pack", unadvertised, type + "Content-Encoding: br\r\n").first,
      415);
  EXPECT_EQ(Exchange("POST", "/git-upload-pack", unadvertised).first, 415);
  EXPECT_EQ(Exchange("GET", "/git-upload-pack").first, 405);
  EXPECT_EQ(Exchange("POST", "/git-receive-pack", "0000", type).first, 403);
  EXPECT_EQ(Exchange("GET", "/info/refs?service=git-receive-pack").first, 403);
  std::tie(status, text) = Exchange("GET", "/info/refs");
  EXPECT_EQ(status, 403);
  EXPECT_NE(text.find("smart HTTP"), std::string::npos) << text;
  EXPECT_EQ(Exchange("GET", "/HEAD").first, 404);
  EXPECT_EQ(Exchange("GET", "/objects/info/packs").first, 404);

  std::tie(status, text) = Exchange("GET", "/info/refs?service=git-upload-pack");
  EXPECT_EQ(status, 200);
  EXPECT_NE(text.find("Cache-Control: no-cache"), std::string::npos) << text;
  auto fetched = Fetch();
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  ExpectMirrorHas(2);
}

TEST_F(GitHttpTest, FetchCatalogIsBoundedAndReportsUnreachableSources) {
  Publish(2);
  served_ = 2;
  EXPECT_EQ(FetchCatalog(mirror_dir_, url_, kTimeout, 300).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(FetchCatalog(mirror_dir_, "http://127.0.0.1:" + std::to_string(port_) + "/v1/no.git",
                         kTimeout, kMaxBytes)
                .status()
                .code(),
            StatusCode::kUnavailable);  // 404
  EXPECT_EQ(FetchCatalog(mirror_dir_, "ftp://127.0.0.1/v1/catalog.git", kTimeout, kMaxBytes)
                .status()
                .code(),
            StatusCode::kInvalidArgument);

  asio::io_context ioc;
  tcp::acceptor silent(ioc,
                       tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));  // never accepts
  const std::string silent_url =
      "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + kPrefix;
  const auto start = std::chrono::steady_clock::now();
  auto timed_out = FetchCatalog(mirror_dir_, silent_url, milliseconds(300), kMaxBytes);
  EXPECT_EQ(timed_out.status().code(), StatusCode::kDeadlineExceeded)
      << timed_out.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  silent.close();  // now nothing listens there
  EXPECT_EQ(FetchCatalog(mirror_dir_, silent_url, kTimeout, kMaxBytes).status().code(),
            StatusCode::kUnavailable);

  ASSERT_TRUE(Fetch().ok());  // the failures left nothing behind that gets in the way
  ExpectMirrorHas(2);
}

// The catalog over https://: the same node API behind TLS, FetchCatalog's own bounded stream
// speaking TLS 1.3 with the certificate checked.
TEST_F(GitHttpTest, FetchCatalogOverHttpsChecksTheCertificate) {
  Publish(2);
  served_ = 2;
  testing::TestCa ca(tmp_.path());
  testing::CertFiles files = ca.IssueLoopback("node");
  auto tls = TlsServerContext::Load(Env::Default(), files.cert, files.key);
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  HttpServer https(&router_);
  https.UseTls(*tls);
  auto port = https.Listen("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  https.Start();
  const std::string url = "https://127.0.0.1:" + std::to_string(*port) + kPrefix;

  // The system's store does not know the test CA: a failure of this source, said plainly.
  auto untrusted = FetchCatalog(mirror_dir_, url, kTimeout, kMaxBytes, {});
  EXPECT_EQ(untrusted.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(untrusted.status().message().find(
                "TLS handshake with 127.0.0.1:" + std::to_string(*port) +
                " failed: certificate verify failed (unable to get local issuer certificate)"),
            std::string::npos)
      << untrusted.status().ToString();
  // Another CA does not vouch for it either; a CA file that is missing is named.
  testing::TestCa other(tmp_.path(), "other", "another CA");
  EXPECT_EQ(
      FetchCatalog(mirror_dir_, url, kTimeout, kMaxBytes, {other.cert_file()}).status().code(),
      StatusCode::kUnavailable);
  EXPECT_EQ(
      FetchCatalog(mirror_dir_, url, kTimeout, kMaxBytes, {tmp_.Sub("none.pem")}).status().code(),
      StatusCode::kNotFound);

  auto fetched = FetchCatalog(mirror_dir_, url, kTimeout, kMaxBytes, {ca.cert_file()});
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  ExpectMirrorHas(2);
  EXPECT_GT(fetched->received_objects, 40u);

  // By DNS name this time.
  Publish(1);
  served_ = 3;
  auto by_name = FetchCatalog(mirror_dir_, "https://localhost:" + std::to_string(*port) + kPrefix,
                              kTimeout, kMaxBytes, {ca.cert_file()});
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  ExpectMirrorHas(3);

  // A certificate for another name: refused, whoever signed it.
  auto named = TlsServerContext::Load(Env::Default(), ca.Issue("name-only", {"localhost"}, {}).cert,
                                      tmp_.Sub("name-only.key"));
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  HttpServer by_name_only(&router_);
  by_name_only.UseTls(*named);
  auto named_port = by_name_only.Listen("127.0.0.1", 0);
  ASSERT_TRUE(named_port.ok());
  by_name_only.Start();
  auto mismatch =
      FetchCatalog(mirror_dir_, "https://127.0.0.1:" + std::to_string(*named_port) + kPrefix,
                   kTimeout, kMaxBytes, {ca.cert_file()});
  EXPECT_EQ(mismatch.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(mismatch.status().message().find("certificate verify failed (IP address mismatch)"),
            std::string::npos)
      << mismatch.status().ToString();

  // The byte budget holds over TLS, and plain http:// to the TLS port is refused cleanly.
  EXPECT_EQ(FetchCatalog(mirror_dir_, url, kTimeout, 300, {ca.cert_file()}).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(FetchCatalog(mirror_dir_, "http://127.0.0.1:" + std::to_string(*port) + kPrefix,
                         kTimeout, kMaxBytes)
                .status()
                .code(),
            StatusCode::kUnavailable);
}

// A TLS client against the plain server: the handshake fails with a hint, within the deadline.
TEST_F(GitHttpTest, FetchCatalogHttpsToAPlainServerFailsClearly) {
  const std::string url = "https://127.0.0.1:" + std::to_string(port_) + kPrefix;
  auto r = FetchCatalog(mirror_dir_, url, kTimeout, kMaxBytes, {});
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("is it an http:// server?"), std::string::npos)
      << r.status().ToString();
}

}  // namespace
}  // namespace tiersync::node
