#include "node/node_config.h"

#include <gtest/gtest.h>

namespace tiersync::node {
namespace {

constexpr char kCounty[] = R"(
[node]
name = "西湖区教育局"
tier = "county"
region = "330106"
listen = "127.0.0.1:8103"

[upstream]
sources = ["http://127.0.0.1:8102/", "http://127.0.0.1:8101"]
national = "http://127.0.0.1:8100"

[subscription]
rules = """
platform = k12 and board = 课程教学 and edition in (人教版)
"""

[storage]
quota = "2G"

[sync]
parallel = 8
)";

TEST(NodeConfigTest, ParsesEveryKeyAndDefaults) {
  auto c = ParseNodeConfig(kCounty, "node.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->name, "西湖区教育局");
  EXPECT_EQ(c->tier, Tier::kCounty);
  EXPECT_EQ(c->listen_port, 8103);
  EXPECT_EQ(c->AllSources(),
            (std::vector<std::string>{"http://127.0.0.1:8102", "http://127.0.0.1:8101",
                                      "http://127.0.0.1:8100"}));
  EXPECT_EQ(c->quota_bytes, 2ull << 30);
  EXPECT_EQ(c->parallel, 8);
  EXPECT_EQ(c->poll_seconds, 300) << "default";
  EXPECT_NE(c->subscription.find("人教版"), std::string::npos);
  // What init writes parses back to the same configuration.
  auto again = ParseNodeConfig(FormatNodeConfig(*c), "node.toml");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << FormatNodeConfig(*c);
  EXPECT_EQ(again->AllSources(), c->AllSources());
  EXPECT_EQ(again->subscription, c->subscription);
  EXPECT_EQ(again->quota_bytes, c->quota_bytes);
  EXPECT_EQ(again->name, c->name);
}

TEST(NodeConfigTest, AQuotaThatIsNoWholeNumberOfMebibytesIsWrittenExactly) {
  for (const char* quota : {"648", "1000000000", "3M"}) {
    std::string text = kCounty;
    text.replace(text.find("\"2G\""), 4, std::string("\"") + quota + "\"");
    auto c = ParseNodeConfig(text, "node.toml");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto again = ParseNodeConfig(FormatNodeConfig(*c), "node.toml");
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->quota_bytes, c->quota_bytes) << quota;
    EXPECT_GT(again->quota_bytes, 0u) << quota;
  }
}

TEST(NodeConfigTest, MistakesAreNamed) {
  auto expect = [](std::string text, const std::string& says) {
    auto c = ParseNodeConfig(text, "node.toml");
    ASSERT_FALSE(c.ok()) << says;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find(says), std::string::npos) << c.status().ToString();
  };
  std::string base = kCounty;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = base;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  expect(with("tier = \"county\"", "tier = \"village\""), "[node]: tier");
  expect(with("西湖区教育局", std::string(129, 'x')), "[node]: name: node name longer than 128");
  expect(with("region = \"330106\"", "region = \"339999\""), "not a GB/T 2260 region code");
  expect(with("parallel = 8", "paralel = 8"), "[sync]: unknown key paralel");
  expect(with("parallel = 8", "parallel = 0"), "[sync]: parallel: must be 1..64");
  expect(with("quota = \"2G\"", "quota = \"lots\""), "not a size");
  expect(with("listen = \"127.0.0.1:8103\"", "listen = \"8103\""), "[node]: listen");
  expect(with("\"http://127.0.0.1:8101\"", "\"ftp://x\""), "[upstream] sources");
  expect(with("[storage]", "[store]"), "unknown section [store]");
  expect(with("national = \"http://127.0.0.1:8100\"", ""), "national: is required");
  expect("[node\nname=1", "node.toml line 1");
  // The rules are checked when the file is read (at start and on every reload), not at the
  // first sync.
  expect(with("board = 课程教学", "board = 课程教育"), "[subscription] rules: subscription line 1");
}

TEST(NodeConfigTest, ServingTableDefaultsRoundTripsAndNamesMistakes) {
  auto c = ParseNodeConfig(kCounty, "node.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->miss, NodeConfig::MissPolicy::kProxy) << "default";
  EXPECT_EQ(c->cache_quota_bytes, 2ull << 30) << "default";
  auto r = ParseNodeConfig(
      std::string(kCounty) + "\n[serving]\nmiss = \"redirect\"\ncache_quota = \"0\"\n",
      "node.toml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->miss, NodeConfig::MissPolicy::kRedirect);
  EXPECT_EQ(r->cache_quota_bytes, 0u);
  auto again = ParseNodeConfig(FormatNodeConfig(*r), "node.toml");
  ASSERT_TRUE(again.ok()) << FormatNodeConfig(*r);
  EXPECT_EQ(again->miss, NodeConfig::MissPolicy::kRedirect);
  EXPECT_EQ(again->cache_quota_bytes, 0u);
  auto bad =
      ParseNodeConfig(std::string(kCounty) + "\n[serving]\nmiss = \"mirror\"\n", "node.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("[serving]: miss: must be proxy or redirect"),
            std::string::npos)
      << bad.status().ToString();
}

TEST(NodeConfigTest, RetentionTableDefaultsRoundTripsAndNamesMistakes) {
  auto c = ParseNodeConfig(kCounty, "node.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->pinned_releases.empty()) << "default";
  EXPECT_TRUE(c->gc) << "default";
  EXPECT_EQ(c->compact_below_percent, 50) << "default";
  auto r = ParseNodeConfig(std::string(kCounty) +
                               "\n[retention]\npinned = [\"r12\", \"r40\"]\ncollect = false\n"
                               "compact_below_percent = 75\n",
                           "node.toml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pinned_releases, (std::vector<std::string>{"r12", "r40"}));
  EXPECT_FALSE(r->gc);
  auto again = ParseNodeConfig(FormatNodeConfig(*r), "node.toml");
  ASSERT_TRUE(again.ok()) << FormatNodeConfig(*r);
  EXPECT_EQ(again->pinned_releases, r->pinned_releases);
  EXPECT_FALSE(again->gc);
  EXPECT_EQ(again->compact_below_percent, 75);
  auto bad =
      ParseNodeConfig(std::string(kCounty) + "\n[retention]\npinned = [\"12\"]\n", "node.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("[retention]: pinned"), std::string::npos)
      << bad.status().ToString();
  bad = ParseNodeConfig(std::string(kCounty) + "\n[retention]\ncompact_below_percent = 100\n",
                        "node.toml");
  EXPECT_FALSE(bad.ok());
}

TEST(NodeConfigTest, ChildrenTableDefaultsRoundTripsAndNamesMistakes) {
  auto c = ParseNodeConfig(kCounty, "node.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->children_max_bytes_per_second, 0u) << "default: unlimited";
  EXPECT_TRUE(c->children_windows.empty());
  EXPECT_EQ(c->children_outside_bytes_per_second, 0u);
  // The same key names as [sync], kept apart by their section.
  auto r = ParseNodeConfig(std::string(kCounty) +
                               "\n[children]\nmax_bytes_per_second = 2000000\n"
                               "windows = [\"22:00-06:00\"]\noutside_bytes_per_second = 500000\n",
                           "node.toml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->children_max_bytes_per_second, 2'000'000u);
  EXPECT_EQ(r->children_windows, (std::vector<std::string>{"22:00-06:00"}));
  EXPECT_EQ(r->children_outside_bytes_per_second, 500'000u);
  EXPECT_EQ(r->max_bytes_per_second, c->max_bytes_per_second) << "[sync] untouched";
  EXPECT_EQ(r->windows, c->windows) << "[sync] untouched";
  auto again = ParseNodeConfig(FormatNodeConfig(*r), "node.toml");
  ASSERT_TRUE(again.ok()) << FormatNodeConfig(*r);
  EXPECT_EQ(again->children_max_bytes_per_second, 2'000'000u);
  EXPECT_EQ(again->children_windows, r->children_windows);
  EXPECT_EQ(again->children_outside_bytes_per_second, 500'000u);
  auto bad = ParseNodeConfig(std::string(kCounty) + "\n[children]\nwindows = [\"25:00-06:00\"]\n",
                             "node.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("[children]: windows"), std::string::npos)
      << bad.status().ToString();
  bad = ParseNodeConfig(std::string(kCounty) + "\n[children]\nrate = 5\n", "node.toml");
  EXPECT_FALSE(bad.ok());
}

TEST(NodeConfigTest, TlsTableIsOptionalAndRoundTrips) {
  auto plain = ParseNodeConfig(kCounty, "node.toml");
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->tls_cert.empty() && plain->tls_key.empty() && plain->tls_ca.empty());
  EXPECT_EQ(FormatNodeConfig(*plain).find("[tls]"), std::string::npos) << "unchanged without TLS";

  std::string text =
      std::string(kCounty) +
      "\n[tls]\ncert = \"/etc/tiersync/node.crt\"\nkey = \"/etc/tiersync/node.key\"\n"
      "ca = \"/etc/tiersync/province-ca.pem\"\n";
  // https:// upstreams are fine, with or without [tls].
  text.replace(text.find("http://127.0.0.1:8102/"), 22, "https://zhejiang.example:8443/");
  auto c = ParseNodeConfig(text, "node.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->tls_cert, "/etc/tiersync/node.crt");
  EXPECT_EQ(c->tls_key, "/etc/tiersync/node.key");
  EXPECT_EQ(c->tls_ca, "/etc/tiersync/province-ca.pem");
  EXPECT_EQ(c->sources.front(), "https://zhejiang.example:8443");
  auto again = ParseNodeConfig(FormatNodeConfig(*c), "node.toml");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << FormatNodeConfig(*c);
  EXPECT_EQ(again->tls_cert, c->tls_cert);
  EXPECT_EQ(again->tls_key, c->tls_key);
  EXPECT_EQ(again->tls_ca, c->tls_ca);
  EXPECT_EQ(again->sources, c->sources);

  // Only a CA (plain HTTP served, https:// upstreams from a private PKI).
  auto ca_only = ParseNodeConfig(std::string(kCounty) + "\n[tls]\nca = \"/ca.pem\"\n", "node.toml");
  ASSERT_TRUE(ca_only.ok()) << ca_only.status().ToString();
  EXPECT_TRUE(ca_only->tls_cert.empty());
  EXPECT_EQ(ParseNodeConfig(FormatNodeConfig(*ca_only), "node.toml")->tls_ca, "/ca.pem");
}

TEST(NodeConfigTest, TlsMistakesNameTheField) {
  auto expect = [](const std::string& table, const std::string& says) {
    auto c = ParseNodeConfig(std::string(kCounty) + "\n[tls]\n" + table, "node.toml");
    ASSERT_FALSE(c.ok()) << table;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find(says), std::string::npos) << c.status().ToString();
  };
  expect("cert = \"/a.crt\"\n", "node.toml: [tls]: key: is required with cert");
  expect("key = \"/a.key\"\n", "node.toml: [tls]: cert: is required with key");
  expect("cert = \"a.crt\"\nkey = \"/a.key\"\n",
         "node.toml: [tls]: cert: \"a.crt\" must be an absolute path");
  expect("ca = \"ca.pem\"\n", "[tls]: ca: \"ca.pem\" must be an absolute path");
  expect("ca = 7\n", "[tls]: ca: must be a string");
  expect("certificate = \"/a.crt\"\n", "[tls]: unknown key certificate");
}

}  // namespace
}  // namespace tiersync::node
