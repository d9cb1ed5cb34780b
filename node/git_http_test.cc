#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "catalogs/git_catalog.h"
#include "catalogs/git_fetch.h"
#include "catalogs/git_pkt_line.h"
#include "catalogs/release.h"
#include "node/git_http_service.h"
#include "node/http_fetcher.h"
#include "node/http_server.h"
#include "node/tls_context.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"

namespace tiersync::node {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using catalogs::FetchLimits;
using catalogs::FetchStats;
using catalogs::FetchVerifiedRelease;
using catalogs::GitCatalog;
using std::chrono::milliseconds;

const catalogs::Identity kPublisher{"国家智慧教育平台 发布员", "publisher@hub.example.edu.cn"};
constexpr char kPrefix[] = "/v1/catalog.git";
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

  // What the signed metadata says of the hub's release `name`.
  catalogs::SignedRelease Signed(const std::string& name) {
    auto info = hub_->FindRelease(name);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    auto content = catalogs::ReadReleaseContent(hub_.get(), info->tree);
    EXPECT_TRUE(content.ok()) << content.status().ToString();
    catalogs::SignedRelease s;
    s.release = name;
    s.digest = content->digest;
    s.manifest = content->manifest;
    return s;
  }

  Result<catalogs::FetchedRelease> Fetch(const std::string& release,
                                         const FetchLimits& limits = {}) {
    return FetchVerifiedRelease(mirror_dir_, url_, Signed(release), &fetcher_, limits);
  }

  // The mirror holds exactly `names` with the hub's content, and main at the last of them.
  void ExpectMirrorHas(const std::vector<std::string>& names) {
    auto mirror = GitCatalog::Open(mirror_dir_);
    ASSERT_TRUE(mirror.ok()) << mirror.status().ToString();
    auto releases = (*mirror)->Releases();
    ASSERT_TRUE(releases.ok()) << releases.status().ToString();
    ASSERT_EQ(releases->size(), names.size());
    for (size_t i = 0; i < names.size(); ++i) {
      const catalogs::ReleaseInfo& release = (*releases)[i];
      EXPECT_EQ(release.name, names[i]);
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

  // A POST /git-upload-pack asking for release `name` (nothing held), as Handle() gets it.
  HttpRequest UploadRequestFor(const std::string& name) {
    HttpRequest request;
    request.method = "POST";
    request.target = std::string(kPrefix) + "/git-upload-pack";
    request.headers["content-type"] = "application/x-git-upload-pack-request";
    testing::RunResult tag = Git({"-C", hub_dir_, "rev-parse", "refs/tags/" + name});
    request.body = catalogs::EncodeUploadRequest({tag.out.substr(0, 40)}, "ofs-delta", {});
    return request;
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
  HttpFetcher fetcher_{kTimeout};
  uint16_t port_ = 0;
  std::string url_;
};

TEST_F(GitHttpTest, FetchReleaseOverHttpIsIncremental) {
  Publish(3);
  auto nothing = Fetch("r1");  // nothing served yet: an empty repository
  EXPECT_EQ(nothing.status().code(), StatusCode::kNotFound) << nothing.status().ToString();

  served_ = 2;
  auto first = Fetch("r1");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_GT(first->received_objects, 40u);
  ASSERT_TRUE(Fetch("r2").ok());
  ExpectMirrorHas({"r1", "r2"});
  EXPECT_EQ(Fetch("r3").status().code(), StatusCode::kNotFound);  // r3 stays on the hub

  served_ = 3;
  auto third = Fetch("r3");
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  ExpectMirrorHas({"r1", "r2", "r3"});
  EXPECT_GT(third->received_objects, 0u);
  EXPECT_LT(third->received_objects, first->received_objects / 4);
  EXPECT_LT(third->received_bytes, first->received_bytes / 4);
  EXPECT_GT(third->received_bytes, 2000u);
}

TEST_F(GitHttpTest, FetchReleaseStaysIncrementalAfterManyReleases) {
  Publish(25);
  served_ = 24;
  auto first = Fetch("r24");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  served_ = 25;
  auto second = Fetch("r25");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ExpectMirrorHas({"r24", "r25"});
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

  // A node's mirror (fetched release by release) clones the same way.
  ASSERT_TRUE(Fetch("r1").ok());
  ASSERT_TRUE(Fetch("r3").ok());
  r = Git({"clone", "-q", "--mirror", mirror_dir_, tmp_.Sub("of-mirror")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Git({"-C", tmp_.Sub("of-mirror"), "tag"}).out, "r1\nr3\n");
  EXPECT_EQ(Git({"-C", tmp_.Sub("of-mirror"), "fsck", "--strict"}).exit_code, 0);
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
  auto fetched = Fetch("r2");
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  ExpectMirrorHas({"r2"});
}

TEST_F(GitHttpTest, FetchIsBoundedAndReportsUnreachableSources) {
  Publish(2);
  served_ = 2;
  FetchLimits small;
  small.max_pack_bytes = 300;
  auto too_big = Fetch("r2", small);
  EXPECT_EQ(too_big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(too_big.status().remote());
  const auto fetch_from = [&](const std::string& url, HttpFetcher* fetcher) {
    return FetchVerifiedRelease(mirror_dir_, url, Signed("r2"), fetcher, {}).status();
  };
  EXPECT_EQ(
      fetch_from("http://127.0.0.1:" + std::to_string(port_) + "/v1/no.git", &fetcher_).code(),
      StatusCode::kNotFound);  // 404

  asio::io_context ioc;
  tcp::acceptor silent(ioc,
                       tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));  // never accepts
  const std::string silent_url =
      "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + kPrefix;
  HttpFetcher impatient(milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  Status timed_out = fetch_from(silent_url, &impatient);
  EXPECT_EQ(timed_out.code(), StatusCode::kDeadlineExceeded) << timed_out.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  silent.close();  // now nothing listens there
  EXPECT_EQ(fetch_from(silent_url, &fetcher_).code(), StatusCode::kUnavailable);

  ASSERT_TRUE(Fetch("r2").ok());  // the failures left nothing behind that gets in the way
  ExpectMirrorHas({"r2"});
}

// The catalog over https://: the fetch is the node's HttpFetcher, with its TLS checks.
TEST_F(GitHttpTest, FetchOverHttpsChecksTheCertificate) {
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
  const auto fetcher_trusting = [&](const std::string& ca_file) {
    HttpFetcherOptions options;
    options.stall_timeout = kTimeout;
    options.tls = TlsClientContext::Load(Env::Default(), ca_file).value();
    return HttpFetcher(options);
  };

  testing::TestCa other(tmp_.path(), "other", "another CA");
  HttpFetcher untrusting = fetcher_trusting(other.cert_file());
  Status refused = FetchVerifiedRelease(mirror_dir_, url, Signed("r2"), &untrusting, {}).status();
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.message().find("certificate verify failed"), std::string::npos)
      << refused.ToString();

  HttpFetcher trusting = fetcher_trusting(ca.cert_file());
  auto fetched = FetchVerifiedRelease(mirror_dir_, url, Signed("r2"), &trusting, {});
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  ExpectMirrorHas({"r2"});
  EXPECT_GT(fetched->received_objects, 40u);
}

// The pack leaves the server in pieces of at most piece_bytes, read from a scratch file that
// is gone once it is open; what the pieces make is the pack the client indexes.
TEST_F(GitHttpTest, UploadPackStreamsThePackInPieces) {
  Publish(3);
  served_ = 3;
  GitHttpOptions options;
  options.piece_bytes = 1024;
  options.scratch_dir = tmp_.Sub("scratch");
  GitHttpService streamed(
      hub_dir_, [this] { return served_.load(); }, options);
  HttpReply reply = streamed.Handle(UploadRequestFor("r3"), "/git-upload-pack");
  ASSERT_EQ(reply.status, 200) << reply.body;
  ASSERT_TRUE(reply.stream);
  EXPECT_TRUE(Env::Default()->GetChildren(options.scratch_dir)->empty());
  std::string body;
  int pieces = 0;
  for (;;) {
    auto piece = reply.stream();
    ASSERT_TRUE(piece.ok()) << piece.status().ToString();
    if (piece->empty()) break;
    EXPECT_LE(piece->size(), 1024u);
    body += *piece;
    ++pieces;
  }
  EXPECT_EQ(body.size(), reply.length);
  EXPECT_GT(pieces, 10);  // forty records of 1 KB that do not compress much, and more
  EXPECT_TRUE(body.starts_with(Pkt("NAK\n") + "PACK")) << body.substr(0, 20);
}

// At most two packs are built at once; a third request meanwhile gets 503 with Retry-After.
TEST_F(GitHttpTest, AThirdConcurrentBuildIsToldToRetry) {
  Publish(2);
  served_ = 2;
  std::mutex mu;
  std::condition_variable cv;
  int building = 0;
  bool release = false;
  GitHttpOptions options;
  options.scratch_dir = tmp_.Sub("scratch");
  options.on_build = [&] {
    std::unique_lock<std::mutex> lock(mu);
    ++building;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  };
  GitHttpService busy(
      hub_dir_, [this] { return served_.load(); }, options);
  const HttpRequest request = UploadRequestFor("r2");
  std::vector<int> statuses(2);
  std::vector<std::thread> builders;
  for (int i = 0; i < 2; ++i) {
    builders.emplace_back(
        [&, i] { statuses[i] = busy.Handle(request, "/git-upload-pack").status; });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return building == 2; });
  }
  HttpReply third = busy.Handle(request, "/git-upload-pack");
  EXPECT_EQ(third.status, 503);
  EXPECT_NE(std::find(third.headers.begin(), third.headers.end(),
                      std::pair<std::string, std::string>{"Retry-After", "5"}),
            third.headers.end());
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  for (auto& t : builders) t.join();
  EXPECT_EQ(statuses, (std::vector<int>{200, 200}));
  EXPECT_EQ(building, 2);
  // The slots are free again.
  EXPECT_EQ(busy.Handle(request, "/git-upload-pack").status, 200);
}

// A git bomb served over HTTP (trees nested 21 deep): the node refuses it by its cap.
TEST_F(GitHttpTest, AGitBombIsRefused) {
  std::string deep = "resources";
  for (int i = 0; i < 20; ++i) deep += "/d";
  auto head = hub_->Commit({{deep + "/x.json", "deep"}}, kPublisher, 1700000000, "bomb", "");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  ASSERT_TRUE(hub_->TagRelease(head->commit, 1, kPublisher, 1700000000, "bomb").ok());
  served_ = 1;
  catalogs::SignedRelease s;
  s.release = "r1";
  Status refused = FetchVerifiedRelease(mirror_dir_, url_, s, &fetcher_, {}).status();
  EXPECT_EQ(refused.code(), StatusCode::kVerificationFailed) << refused.ToString();
  EXPECT_NE(refused.message().find("trees nested deeper than 16"), std::string::npos);
  EXPECT_TRUE(refused.remote());
}

}  // namespace
}  // namespace tiersync::node
