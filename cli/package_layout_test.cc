#include "cli/package_layout.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/env.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::cli {
namespace {

TEST(CheckInstanceNameTest, NamesAUnitAndTwoDirectories) {
  for (const char* good : {"xihu", "ci-school", "school_2", "A1"}) {
    EXPECT_TRUE(CheckInstanceName(good).ok()) << good;
  }
  for (const char* bad : {"", "..", "a/b", "/etc", "西湖", "a b", "x@y", "a.b", "hub"}) {
    EXPECT_EQ(CheckInstanceName(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(CheckInstanceName(std::string(kMaxInstanceName + 1, 'a')).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckInstanceName(std::string(kMaxInstanceName, 'a')).ok());
}

TEST(LayoutOfTest, ThePackagesPaths) {
  InstanceLayout l = LayoutOf(kDefaultConfigBase, kDefaultStateBase, "xihu");
  EXPECT_EQ(l.config_dir, "/etc/tiersync/xihu");
  EXPECT_EQ(l.state_dir, "/var/lib/tiersync/xihu");
  EXPECT_EQ(l.config, "/etc/tiersync/xihu/node.toml");
}

TEST(PlaceInConfigTest, CopiesFromElsewhereKeepsWhatIsThere) {
  EXPECT_EQ(PlaceInConfig("/etc/tiersync/x", "/home/op/node.crt", "tls.crt"),
            "/etc/tiersync/x/tls.crt");
  EXPECT_EQ(PlaceInConfig("/etc/tiersync/x", "/etc/tiersync/x/renewed.pem", "tls.crt"),
            "/etc/tiersync/x/renewed.pem");
  EXPECT_EQ(PlaceInConfig("/etc/tiersync/x/", "/etc/tiersync/x/./root.json", "root.json"),
            "/etc/tiersync/x/root.json");
  // A subdirectory is not the configuration directory itself.
  EXPECT_EQ(PlaceInConfig("/etc/tiersync/x", "/etc/tiersync/x/old/tls.crt", "tls.crt"),
            "/etc/tiersync/x/tls.crt");
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode;
}

TEST(PackageFilesTest, ModesNoOverwriteAndTheLink) {
  testing::TempDir tmp;
  if (::geteuid() != 0) {
    std::string warning;
    EXPECT_FALSE(ServiceAccountIfRoot(&warning).has_value()) << "not root: files stay the caller's";
    EXPECT_EQ(warning, "");
  }
  const std::optional<ServiceAccount> account;  // the caller's files (root: see package_test.sh)
  const std::string dir = tmp.Sub("etc/tiersync/x");
  ASSERT_TRUE(MakeConfigDir(dir, account).ok());
  EXPECT_EQ(ModeOf(dir) & 07777, 0750u);
  const std::string toml = dir + "/node.toml";
  ASSERT_TRUE(InstallConfigFile(toml, AsBytes("a"), account, false).ok());
  EXPECT_EQ(ModeOf(toml) & 07777, 0640u);
  // An operator's file is never overwritten by init.
  EXPECT_EQ(InstallConfigFile(toml, AsBytes("b"), account, false).code(),
            StatusCode::kAlreadyExists);
  auto text = ReadFileToBytes(Env::Default(), toml, 10);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(std::string(text->begin(), text->end()), "a");
  // The node directory's node.toml becomes a link to it.
  const std::string link = tmp.Sub("node.toml");
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), link, AsBytes("old")).ok());
  ASSERT_TRUE(ReplaceWithSymlink(link, toml).ok());
  EXPECT_TRUE(S_ISLNK(ModeOf(link)));
  auto via = ReadFileToBytes(Env::Default(), link, 10);
  ASSERT_TRUE(via.ok());
  EXPECT_EQ(std::string(via->begin(), via->end()), "a");
  EXPECT_TRUE(GiveToService(tmp.path(), std::nullopt).ok());
}

}  // namespace
}  // namespace tiersync::cli
