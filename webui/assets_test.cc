#include "webui/assets.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>

#include "base/hex.h"
#include "base/sha256.h"

namespace tiersync::webui {
namespace {

TEST(AssetsTest, IndexIsServedAtRoot) {
  const Asset* a = FindAsset("/");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->path, "/");
  EXPECT_EQ(a->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(a->body.substr(0, 15), "<!doctype html>");
  EXPECT_NE(a->body.find("/ui/app.js"), std::string_view::npos);
  EXPECT_NE(a->body.find("/ui/app.css"), std::string_view::npos);
  // UTF-8 kept byte for byte: the Chinese title.
  EXPECT_NE(a->body.find("国家智慧教育资源"), std::string_view::npos);
}

TEST(AssetsTest, ScriptAndStyle) {
  const Asset* js = FindAsset("/ui/app.js");
  ASSERT_NE(js, nullptr);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(js->body.find("/v1/catalog/tree"), std::string_view::npos);
  const Asset* css = FindAsset("/ui/app.css");
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  EXPECT_FALSE(css->body.empty());
}

// Our own files name no other origin. (The vendored ECharts carries URLs in its licence
// header and XML namespaces, and loads nothing by itself: the browser test checks that no
// request leaves the node's origin.)
TEST(AssetsTest, NothingFromTheInternet) {
  for (const char* path : {"/", "/ui/app.js", "/ui/app.css", "/federation/", "/federation/app.js",
                           "/federation/app.css"}) {
    const Asset* a = FindAsset(path);
    ASSERT_NE(a, nullptr) << path;
    EXPECT_EQ(a->body.find("http://"), std::string_view::npos) << path;
    EXPECT_EQ(a->body.find("https://"), std::string_view::npos) << path;
    EXPECT_EQ(a->body.find("//fonts."), std::string_view::npos) << path;
  }
}

constexpr const char* kAllPaths[] = {"/",
                                     "/ui/app.js",
                                     "/ui/app.css",
                                     "/federation/",
                                     "/federation/app.js",
                                     "/federation/app.css",
                                     "/federation/echarts.min.js"};

std::string QuotedSha256(std::string_view body) {
  return "\"" +
         ToHex(Sha256(std::span(reinterpret_cast<const uint8_t*>(body.data()), body.size()))) +
         "\"";
}

TEST(AssetsTest, EtagIsTheQuotedSha256OfTheBody) {
  for (const char* path : kAllPaths) {
    const Asset* a = FindAsset(path);
    ASSERT_NE(a, nullptr) << path;
    EXPECT_EQ(a->path, path);
    EXPECT_EQ(a->etag, QuotedSha256(a->body)) << path;
  }
  EXPECT_NE(FindAsset("/")->etag, FindAsset("/ui/app.js")->etag);
  EXPECT_NE(FindAsset("/")->etag, FindAsset("/federation/")->etag);
}

// The federation dashboard (docs/operators/monitoring.md): its page, script and style, and
// the vendored ECharts, whole (about 1 MB through embed.cmake).
TEST(AssetsTest, FederationDashboard) {
  const Asset* page = FindAsset("/federation/");
  ASSERT_NE(page, nullptr);
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page->body.substr(0, 15), "<!doctype html>");
  for (const char* ref :
       {"/federation/app.js", "/federation/app.css", "/federation/echarts.min.js"}) {
    EXPECT_NE(page->body.find(ref), std::string_view::npos) << ref;
  }
  EXPECT_NE(page->body.find("联邦监控"), std::string_view::npos);

  const Asset* js = FindAsset("/federation/app.js");
  ASSERT_NE(js, nullptr);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  for (const char* api : {"/v1/federation/summary", "/v1/federation/nodes",
                          "/v1/federation/propagation", "/v1/federation/usage"}) {
    EXPECT_NE(js->body.find(api), std::string_view::npos) << api;
  }
  const Asset* css = FindAsset("/federation/app.css");
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  EXPECT_FALSE(css->body.empty());

  const Asset* echarts = FindAsset("/federation/echarts.min.js");
  ASSERT_NE(echarts, nullptr);
  EXPECT_EQ(echarts->content_type, "text/javascript; charset=utf-8");
  // webui/vendor/echarts/README.md: 5.6.0, 1,034,102 bytes.
  EXPECT_EQ(echarts->body.size(), 1034102u);
  EXPECT_EQ(echarts->etag, "\"bf4a223524e40b77c304bec67e1222cf551f14880cf42c69dc046558e11c07b1\"");
  EXPECT_NE(echarts->body.find("Licensed to the Apache Software Foundation"),
            std::string_view::npos);
}

TEST(AssetsTest, UnknownPaths) {
  for (const char* path : {"", "/index.html", "/ui/", "/ui/app.js?v=1", "/ui/../ui/app.js",
                           "/ui/missing.js", "/app.js", "/UI/app.js", "/v1/status", "/federation",
                           "/federation/index.html", "/federation/app.js?v=1", "/federation/x.js",
                           "/echarts.min.js", "/ui/echarts.min.js", "/v1/federation/summary"}) {
    EXPECT_EQ(FindAsset(path), nullptr) << path;
  }
}

}  // namespace
}  // namespace tiersync::webui
