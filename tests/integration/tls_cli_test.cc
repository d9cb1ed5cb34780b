// TLS end to end through the real binary (issue 5): `hub serve` with a certificate from a
// throwaway provincial CA, a county node that trusts that CA syncing from it over https
// (metadata, the catalog over git, chunks) and then serving HTTPS itself, a school syncing
// from the county over https, and a node that does not trust the CA failing that source with
// the reason in its status. Loopback only.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "node/http_fetcher.h"
#include "node/tls_context.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"

namespace tiersync {
namespace {

using testing::RunProcess;
using testing::RunResult;

const std::string kBin = TIERSYNC_BIN;
const char kSubscription[] = "platform = k12 and board = 课程教学 and grade in (1..3)";

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

class TlsCliTest : public ::testing::Test {
 protected:
  RunResult Tiersync(std::vector<std::string> args) {
    args.insert(args.begin(), kBin);
    return RunProcess(args);
  }
  void MustRun(const std::vector<std::string>& args) {
    RunResult r = Tiersync(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err << r.out;
  }
  void SetUp() override {
    for (const char* role : {"root", "targets", "snapshot", "timestamp"}) {
      MustRun({"keys", "gen", Key(role)});
    }
    MustRun({"hub", "init", hub_, "--root-key", Key("root"), "--targets-key", Key("targets"),
             "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp"), "-k",
             Key("root"), "-k", Key("targets"), "-k", Key("snapshot"), "-k", Key("timestamp")});
    MustRun({"demo", "generate", tmp_.Sub("catalog"), "--resources", "150", "--seed", "5",
             "--size-scale", "0.00002"});
    MustRun({"hub", "publish", hub_, "--input", tmp_.Sub("catalog"), "-k", Key("targets"), "-k",
             Key("snapshot"), "-k", Key("timestamp"), "--publisher", "p <p@x>"});
  }
  void TearDown() override {
    for (pid_t pid : servers_) {
      ::kill(pid, SIGTERM);
      testing::Wait(pid);
    }
  }
  std::string Key(const std::string& role) { return tmp_.Sub(role + ".key"); }

  // Starts `args` in the background and waits (at most 10 s) until `url` answers, trusting
  // the test CA.
  void Start(const std::vector<std::string>& args, const std::string& url) {
    std::vector<std::string> argv = args;
    argv.insert(argv.begin(), kBin);
    servers_.push_back(testing::Spawn(argv));
    auto tls = node::TlsClientContext::Load(Env::Default(), ca_.cert_file());
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    node::HttpFetcherOptions options;
    options.stall_timeout = std::chrono::seconds(2);
    options.tls = *tls;
    node::HttpFetcher http(options);
    for (int i = 0; i < 200; ++i) {
      if (http.Fetch(url, 1 << 20).ok()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << args[0] << " " << args[1] << " did not come up at " << url;
  }

  // `node init` with the national hub and the given extra flags.
  void InitNode(const std::string& dir, const std::string& tier,
                const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"node",
                                     "init",
                                     dir,
                                     "--name",
                                     dir,
                                     "--tier",
                                     tier,
                                     "--region",
                                     "330106",
                                     "--national",
                                     hub_url_,
                                     "--root",
                                     hub_ + "/tuf/metadata/1.root.json",
                                     "--subscription",
                                     kSubscription};
    args.insert(args.end(), extra.begin(), extra.end());
    MustRun(args);
  }

  testing::TempDir tmp_;
  std::string hub_ = tmp_.Sub("hub");
  testing::TestCa ca_{tmp_.path(), "province-ca", "浙江省教育厅 test CA"};
  uint16_t hub_port_ = FreePort();
  std::string hub_url_ = "https://127.0.0.1:" + std::to_string(hub_port_);
  std::vector<pid_t> servers_;
};

TEST_F(TlsCliTest, NodesSyncFromTheHubAndFromEachOtherOverHttps) {
  testing::CertFiles hub_cert = ca_.IssueLoopback("hub");
  Start({"hub", "serve", hub_, "--listen", "127.0.0.1:" + std::to_string(hub_port_), "--tls-cert",
         hub_cert.cert, "--tls-key", hub_cert.key},
        hub_url_ + "/v1/status");
  // Plain HTTP to the hub's port is answered plainly (and the hub keeps serving).
  auto plain = node::HttpFetcher(std::chrono::seconds(2))
                   .Fetch("http://127.0.0.1:" + std::to_string(hub_port_) + "/v1/status", 4096);
  EXPECT_NE(plain.status().message().find("HTTP 400"), std::string::npos)
      << plain.status().ToString();

  // The county trusts the provincial CA and serves HTTPS itself.
  testing::CertFiles county_cert = ca_.IssueLoopback("county");
  const uint16_t county_port = FreePort();
  const std::string county = tmp_.Sub("county");
  InitNode(county, "county",
           {"--listen", "127.0.0.1:" + std::to_string(county_port), "--tls-ca", ca_.cert_file(),
            "--tls-cert", county_cert.cert, "--tls-key", county_cert.key});
  RunResult sync = Tiersync({"node", "sync", county});
  ASSERT_EQ(sync.exit_code, 0) << sync.err << sync.out;
  EXPECT_NE(sync.out.find("now serving r1"), std::string::npos) << sync.out;
  EXPECT_NE(sync.out.find("metadata from national (" + hub_url_ + ")"), std::string::npos)
      << sync.out;

  const std::string county_url = "https://localhost:" + std::to_string(county_port);
  Start({"node", "serve", county}, county_url + "/v1/status");
  RunResult status = Tiersync({"node", "status", county});  // over https, to itself
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("serving release r1"), std::string::npos) << status.out;

  // A school under the county: its parent over https by name, national last.
  const std::string school = tmp_.Sub("school");
  InitNode(school, "school", {"--upstream", county_url, "--tls-ca", ca_.cert_file()});
  RunResult school_sync = Tiersync({"node", "sync", school});
  ASSERT_EQ(school_sync.exit_code, 0) << school_sync.err << school_sync.out;
  EXPECT_NE(school_sync.out.find("metadata from parent (" + county_url + ")"), std::string::npos)
      << school_sync.out;
}

TEST_F(TlsCliTest, AnUntrustedCertificateIsAFailureOfThatSource) {
  testing::TestCa stranger(tmp_.path(), "stranger", "some other CA");
  testing::CertFiles hub_cert = stranger.IssueLoopback("hub");
  std::vector<std::string> serve = {"hub",
                                    "serve",
                                    hub_,
                                    "--listen",
                                    "127.0.0.1:" + std::to_string(hub_port_),
                                    "--tls-cert",
                                    hub_cert.cert,
                                    "--tls-key",
                                    hub_cert.key};
  servers_.push_back(testing::Spawn([&] {
    std::vector<std::string> argv = serve;
    argv.insert(argv.begin(), kBin);
    return argv;
  }()));
  const std::string node_dir = tmp_.Sub("county");
  const uint16_t port = FreePort();
  InitNode(node_dir, "county",
           {"--listen", "127.0.0.1:" + std::to_string(port), "--tls-ca", ca_.cert_file()});
  const std::string expected = "TLS handshake with 127.0.0.1:" + std::to_string(hub_port_) +
                               " failed: certificate verify failed";
  RunResult sync;
  for (int i = 0; i < 100; ++i) {  // until the hub listens
    sync = Tiersync({"node", "sync", node_dir});
    if (sync.err.find(expected) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(sync.exit_code, 0);
  EXPECT_NE(sync.err.find(expected), std::string::npos) << sync.err;

  // A running node records it as the source's last error, and keeps running.
  servers_.push_back(testing::Spawn({kBin, "node", "serve", node_dir}));
  nlohmann::json source;
  for (int i = 0; i < 200; ++i) {
    RunResult st = Tiersync({"--json", "node", "status", node_dir});
    auto j = nlohmann::json::parse(st.out, nullptr, false);
    // (exit 6 after a failed sync; the JSON is there all the same)
    if (j.is_object() && j["sources"].is_array() && !j["sources"].empty() &&
        !j["sources"][0].value("last_error", "").empty()) {
      source = j["sources"][0];
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(source.is_object()) << "no status with the source's error";
  EXPECT_NE(source.value("last_error", "").find(expected), std::string::npos) << source.dump();
  EXPECT_EQ(source.value("rejections", -1), 0) << "TLS failures are not verification failures";
}

TEST_F(TlsCliTest, TlsMistakesAreRefusedAtInitWithTheFileNamed) {
  testing::CertFiles a = ca_.IssueLoopback("a"), b = ca_.IssueLoopback("b");
  RunResult mismatch =
      Tiersync({"node", "init", tmp_.Sub("n1"), "--name", "n", "--tier", "school", "--region",
                "330106", "--national", hub_url_, "--root", hub_ + "/tuf/metadata/1.root.json",
                "--tls-cert", a.cert, "--tls-key", b.key});
  EXPECT_EQ(mismatch.exit_code, 2) << mismatch.err;
  EXPECT_NE(mismatch.err.find("key " + b.key + " does not belong to cert " + a.cert),
            std::string::npos)
      << mismatch.err;
  RunResult missing = Tiersync({"hub", "serve", hub_, "--listen", "127.0.0.1:0", "--tls-cert",
                                tmp_.Sub("nothing.pem"), "--tls-key", a.key});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find(tmp_.Sub("nothing.pem")), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace tiersync
