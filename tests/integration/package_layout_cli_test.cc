// `tiersync node init --instance NAME` and `tiersync hub init --system` (issue 18): the Debian
// package's layout (cli/package_layout.h) with both bases moved into a temporary directory,
// as the caller's own user (tests/package/package_test.sh runs it as root, for real).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/env.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"

namespace tiersync {
namespace {

using testing::RunProcess;
using testing::RunResult;

const std::string kBin = TIERSYNC_BIN;

struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

std::string Text(const std::string& path) {
  auto bytes = ReadFileToBytes(Env::Default(), path, 1 << 20);
  return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : bytes.status().ToString();
}

class PackageLayoutCliTest : public ::testing::Test {
 protected:
  // tiersync ARGS with the bases moved by the environment, as a test of the package would.
  RunResult Tiersync(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/env", "TIERSYNC_CONFIG_BASE=" + etc_,
                                     "TIERSYNC_STATE_BASE=" + var_, kBin};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }
  void MustRun(const std::vector<std::string>& args) {
    RunResult r = Tiersync(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err << r.out;
  }
  std::vector<std::string> NodeInit(const std::string& instance) {
    return {"node",     "init",           "--instance",     instance,
            "--name",   "西湖区实验小学", "--tier",         "school",
            "--region", "330106",         "--national",     "http://127.0.0.1:9",
            "--root",   root_json_,       "--subscription", "stage = 小学"};
  }
  void SetUp() override {
    MustRun({"keys", "gen", tmp_.Sub("root.key")});
    MustRun({"repo", "init", tmp_.Sub("repo"), "--root-key", tmp_.Sub("root.key"), "--targets-key",
             tmp_.Sub("root.key"), "--snapshot-key", tmp_.Sub("root.key"), "--timestamp-key",
             tmp_.Sub("root.key"), "-k", tmp_.Sub("root.key")});
  }

  testing::TempDir tmp_;
  std::string etc_ = tmp_.Sub("etc/tiersync"), var_ = tmp_.Sub("var/lib/tiersync");
  std::string root_json_ = tmp_.Sub("repo/metadata/1.root.json");
};

TEST_F(PackageLayoutCliTest, NodeInitInstancePutsConfigurationInEtcAndTheNodeInVarLib) {
  testing::TestCa ca(tmp_.path());
  testing::CertFiles cert = ca.IssueLoopback("operator-home-cert");
  std::vector<std::string> args = NodeInit("xihu");
  for (const std::string& s : std::vector<std::string>{"--tls-cert", cert.cert, "--tls-key",
                                                       cert.key, "--tls-ca", ca.cert_file()}) {
    args.push_back(s);
  }
  RunResult r = Tiersync(args);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("systemctl enable --now tiersync-node@xihu"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("systemctl reload tiersync-node@xihu"), std::string::npos) << r.out;

  const std::string conf = etc_ + "/xihu", node = var_ + "/xihu";
  EXPECT_EQ(Lstat(conf).st_mode & 07777, 0750u);
  for (const char* f : {"node.toml", "root.json", "tls.crt", "tls.key", "ca.pem"}) {
    EXPECT_EQ(Lstat(conf + "/" + f).st_mode & 07777, 0640u) << f;
  }
  EXPECT_EQ(Text(conf + "/tls.crt"), Text(cert.cert));
  EXPECT_EQ(Text(conf + "/root.json"), Text(root_json_));
  // node.toml names the copies (the sandbox of the unit cannot read the operator's home).
  const std::string toml = Text(conf + "/node.toml");
  EXPECT_NE(toml.find("cert = '" + conf + "/tls.crt'"), std::string::npos) << toml;
  EXPECT_NE(toml.find("key = '" + conf + "/tls.key'"), std::string::npos) << toml;
  EXPECT_NE(toml.find("ca = '" + conf + "/ca.pem'"), std::string::npos) << toml;
  EXPECT_EQ(toml.find(cert.cert), std::string::npos) << toml;
  // The node directory reads its node.toml where the operator edits it.
  EXPECT_TRUE(S_ISDIR(Lstat(node).st_mode));
  EXPECT_TRUE(Env::Default()->FileExists(node + "/NODE"));
  ASSERT_TRUE(S_ISLNK(Lstat(node + "/node.toml").st_mode));
  char target[4096] = {};
  ASSERT_GT(::readlink((node + "/node.toml").c_str(), target, sizeof target - 1), 0);
  EXPECT_EQ(std::string(target), conf + "/node.toml");

  // The node works from it: status loads the configuration through the link.
  RunResult status = Tiersync({"node", "status", node});
  EXPECT_NE(status.err.find("node 西湖区实验小学 is not running and has never synced"),
            std::string::npos)
      << status.err << status.out;

  // An edit in /etc is what the node reads next.
  const std::string edited = toml + "\n";
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), conf + "/node.toml", AsBytes(edited)).ok());
  EXPECT_EQ(Text(node + "/node.toml"), edited);

  // Once only: neither the node nor an operator's node.toml is overwritten.
  RunResult again = Tiersync(NodeInit("xihu"));
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("holds a node already"), std::string::npos) << again.err;
  EXPECT_EQ(Text(conf + "/node.toml"), edited);
}

TEST_F(PackageLayoutCliTest, NodeInitRefusesBadInstancesAndStillTakesAPlainDirectory) {
  for (const char* bad : {"../x", "a/b", "hub", "西湖"}) {
    RunResult r = Tiersync(NodeInit(bad));
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("instance name"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(Env::Default()->FileExists(var_)) << "nothing written for a refused name";
  // Both a directory and --instance: which one was meant?
  std::vector<std::string> both = NodeInit("x");
  both.insert(both.begin() + 2, tmp_.Sub("plain"));
  EXPECT_NE(Tiersync(both).exit_code, 0);
  std::vector<std::string> neither = NodeInit("x");
  neither.erase(neither.begin() + 2, neither.begin() + 4);
  RunResult none = Tiersync(neither);
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("give a node directory or --instance"), std::string::npos) << none.err;
  // A plain directory as before, whatever the environment says about the bases.
  std::vector<std::string> plain = neither;
  plain.insert(plain.begin() + 2, tmp_.Sub("plain"));
  RunResult r = Tiersync(plain);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(S_ISLNK(Lstat(tmp_.Sub("plain/node.toml")).st_mode));
  EXPECT_FALSE(Env::Default()->FileExists(etc_));
  // The bases as options instead of the environment.
  std::vector<std::string> opts = NodeInit("by-option");
  for (const std::string& s : std::vector<std::string>{"--config-base", tmp_.Sub("etc2"),
                                                       "--state-base", tmp_.Sub("var2")}) {
    opts.push_back(s);
  }
  std::vector<std::string> argv = {kBin};
  argv.insert(argv.end(), opts.begin(), opts.end());
  RunResult o = RunProcess(argv);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_TRUE(Env::Default()->FileExists(tmp_.Sub("etc2/by-option/node.toml")));
  EXPECT_TRUE(Env::Default()->FileExists(tmp_.Sub("var2/by-option/NODE")));
}

TEST_F(PackageLayoutCliTest, HubInitSystemCopiesTheOnlineKeysAndNeverTheRootKey) {
  for (const char* role : {"targets", "snapshot", "timestamp"}) {
    MustRun({"keys", "gen", tmp_.Sub(std::string(role) + ".key")});
  }
  auto key = [&](const std::string& role) { return tmp_.Sub(role + ".key"); };
  RunResult r = Tiersync({"hub",
                          "init",
                          "--system",
                          "--listen",
                          "0.0.0.0:8443",
                          "--root-key",
                          key("root"),
                          "--targets-key",
                          key("targets"),
                          "--snapshot-key",
                          key("snapshot"),
                          "--timestamp-key",
                          key("timestamp"),
                          "-k",
                          key("root"),
                          "-k",
                          key("targets"),
                          "-k",
                          key("snapshot"),
                          "-k",
                          key("timestamp")});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("systemctl enable --now tiersync-hub"), std::string::npos) << r.out;
  EXPECT_TRUE(Env::Default()->FileExists(var_ + "/hub/HUB"));
  const std::string keys = etc_ + "/hub/keys";
  EXPECT_EQ(Lstat(keys).st_mode & 07777, 0750u);
  for (const char* role : {"targets", "snapshot", "timestamp"}) {
    const std::string copy = keys + "/" + role + ".key";
    EXPECT_EQ(Text(copy), Text(key(role))) << role;
    EXPECT_EQ(Lstat(copy).st_mode & 07777, 0640u) << role;
  }
  auto children = Env::Default()->GetChildren(keys);
  ASSERT_TRUE(children.ok());
  EXPECT_EQ(children->size(), 3u) << "the root key stays offline";
  EXPECT_NE(Text(etc_ + "/hub.env").find("TIERSYNC_HUB_LISTEN=0.0.0.0:8443\n"), std::string::npos)
      << Text(etc_ + "/hub.env");

  // A single key for every role (a test setup): it signs root, so it is not put online.
  RunResult one =
      Tiersync({"hub", "init", "--system", "--state-base", tmp_.Sub("var3"), "--config-base",
                tmp_.Sub("etc3"), "--root-key", key("root"), "--targets-key", key("root"),
                "--snapshot-key", key("root"), "--timestamp-key", key("root"), "-k", key("root")});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("also signs root: not copied"), std::string::npos) << one.out;
  auto none = Env::Default()->GetChildren(tmp_.Sub("etc3/hub/keys"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace tiersync
