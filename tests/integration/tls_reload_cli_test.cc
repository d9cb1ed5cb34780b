// systemctl reload after a certificate renewal (issue 18), through the real binary: a node
// serving HTTPS with certificate A; its [tls] files replaced by a broken certificate, then by
// certificate B (same CA); SIGHUP after each. The broken one changes nothing (A is still
// served, status and log say why); B is served to new connections after the signal, and
// status names "tls_files" among what applied. A node that lost its TLS files keeps serving.
// Loopback only; ports from TIERSYNC_TEST_PORT (18540: the node; +9: a national URL nobody
// answers).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/env.h"
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

int BasePort() {
  const char* p = std::getenv("TIERSYNC_TEST_PORT");
  return p ? std::atoi(p) : 18540;
}

void Copy(const std::string& from, const std::string& to) {
  auto bytes = ReadFileToBytes(Env::Default(), from, 1 << 20);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), to, *bytes).ok());
}

class TlsReloadCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MustRun({"keys", "gen", tmp_.Sub("root.key")});
    MustRun({"repo", "init", tmp_.Sub("repo"), "--root-key", tmp_.Sub("root.key"), "--targets-key",
             tmp_.Sub("root.key"), "--snapshot-key", tmp_.Sub("root.key"), "--timestamp-key",
             tmp_.Sub("root.key"), "-k", tmp_.Sub("root.key")});
    Copy(a_.cert, live_.cert);
    Copy(a_.key, live_.key);
    MustRun({"node",
             "init",
             node_,
             "--name",
             "tls reload",
             "--tier",
             "school",
             "--region",
             "330106",
             "--listen",
             "127.0.0.1:" + std::to_string(port_),
             "--national",
             "http://127.0.0.1:" + std::to_string(port_ + 9),
             "--root",
             tmp_.Sub("repo/metadata/1.root.json"),
             "--subscription",
             "all",
             "--tls-cert",
             live_.cert,
             "--tls-key",
             live_.key});
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      testing::Wait(pid_);
    }
  }
  void MustRun(std::vector<std::string> args) {
    args.insert(args.begin(), kBin);
    RunResult r = RunProcess(args);
    ASSERT_EQ(r.exit_code, 0) << args[1] << " " << args[2] << ": " << r.err << r.out;
  }

  // A fetcher that accepts exactly the certificate in `cert_file` (nothing else of the CA).
  node::HttpFetcher Pinned(const std::string& cert_file) {
    auto tls = node::TlsClientContext::PinnedTo(Env::Default(), cert_file);
    EXPECT_TRUE(tls.ok()) << tls.status().ToString();
    node::HttpFetcherOptions options;
    options.stall_timeout = std::chrono::seconds(2);
    options.handshake_timeout = std::chrono::seconds(2);
    if (tls.ok()) options.tls = *tls;
    return node::HttpFetcher(options);
  }
  std::string Url(const std::string& path) {
    return "https://127.0.0.1:" + std::to_string(port_) + path;
  }
  // The node's /v1/status over a connection that trusts the CA (either certificate).
  nlohmann::json NodeStatus() {
    auto tls = node::TlsClientContext::Load(Env::Default(), ca_.cert_file());
    node::HttpFetcherOptions options;
    options.stall_timeout = std::chrono::seconds(2);
    options.tls = *tls;
    auto got = node::HttpFetcher(options).Fetch(Url("/v1/status"), 1 << 20);
    if (!got.ok()) return nlohmann::json();
    return nlohmann::json::parse(got->begin(), got->end(), nullptr, false);
  }
  // Sends SIGHUP and waits (at most 20 s) until status shows a reload other than `before`
  // (each step of the test leaves a different one).
  nlohmann::json Reload(const nlohmann::json& before) {
    ::kill(pid_, SIGHUP);
    for (int i = 0; i < 200; ++i) {
      nlohmann::json s = NodeStatus();
      if (s.is_object() && s.contains("reload") && s["reload"] != before) {
        return s["reload"];
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no reload in status after SIGHUP: " << NodeStatus().dump();
    return nlohmann::json::object();
  }
  std::string Log() {
    auto bytes = ReadFileToBytes(Env::Default(), log_, 1 << 20);
    return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : "";
  }

  testing::TempDir tmp_;
  testing::TestCa ca_{tmp_.path(), "ca", "县教育局 test CA"};
  testing::CertFiles a_ = ca_.IssueLoopback("a"), b_ = ca_.IssueLoopback("b");
  testing::CertFiles live_{tmp_.Sub("node.crt"), tmp_.Sub("node.key")};
  std::string node_ = tmp_.Sub("node");
  std::string log_ = tmp_.Sub("node.log");
  int port_ = BasePort();
  pid_t pid_ = -1;
};

TEST_F(TlsReloadCliTest, SighupServesTheRenewedCertificateAndKeepsTheOldOneIfBroken) {
  pid_ = testing::Spawn(
      {"/bin/sh", "-c", "exec \"$0\" node serve \"$1\" 2>\"$2\"", kBin, node_, log_});
  node::HttpFetcher only_a = Pinned(a_.cert), only_b = Pinned(b_.cert);
  bool up = false;
  for (int i = 0; i < 200 && !up; ++i) {
    up = only_a.Fetch(Url("/v1/status"), 1 << 20).ok();
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(up) << "the node does not serve certificate A: " << Log();
  EXPECT_FALSE(only_b.Fetch(Url("/v1/status"), 1 << 20).ok());

  // A broken renewal (the certificate file is garbage): nothing changes, and it is said.
  ASSERT_TRUE(
      WriteFileAtomically(Env::Default(), live_.cert, AsBytes("-----BEGIN CERTIFICATE-----\n"))
          .ok());
  nlohmann::json broken = Reload(nlohmann::json());
  EXPECT_NE(broken.value("tls_error", "").find("cert " + live_.cert + ": no PEM certificate"),
            std::string::npos)
      << broken.dump();
  EXPECT_TRUE(only_a.Fetch(Url("/v1/status"), 1 << 20).ok()) << "A is no longer served";
  EXPECT_NE(Log().find("TLS files not applied, the running certificate is kept"), std::string::npos)
      << Log();

  // The renewal: B's files in place; after SIGHUP new connections get B.
  Copy(b_.cert, live_.cert);
  Copy(b_.key, live_.key);
  nlohmann::json renewed = Reload(broken);
  EXPECT_FALSE(renewed.contains("tls_error")) << renewed.dump();
  EXPECT_NE(renewed["applied"].dump().find("tls_files"), std::string::npos) << renewed.dump();
  EXPECT_TRUE(only_b.Fetch(Url("/v1/status"), 1 << 20).ok()) << "B is not served";
  EXPECT_FALSE(only_a.Fetch(Url("/v1/status"), 1 << 20).ok()) << "A is still served";
  EXPECT_NE(Log().find("TLS certificate and key reloaded"), std::string::npos) << Log();

  // The files gone: B goes on.
  ASSERT_TRUE(Env::Default()->RemoveFile(live_.key).ok());
  nlohmann::json gone = Reload(renewed);
  EXPECT_NE(gone.value("tls_error", "").find(live_.key), std::string::npos) << gone.dump();
  EXPECT_TRUE(only_b.Fetch(Url("/v1/status"), 1 << 20).ok());
}

}  // namespace
}  // namespace tiersync
