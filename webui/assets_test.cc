#include "webui/assets.h"

#include <gtest/gtest.h>

#include <string>

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

TEST(AssetsTest, NothingFromTheInternet) {
  for (const char* path : {"/", "/ui/app.js", "/ui/app.css"}) {
    const Asset* a = FindAsset(path);
    ASSERT_NE(a, nullptr) << path;
    EXPECT_EQ(a->body.find("http://"), std::string_view::npos) << path;
    EXPECT_EQ(a->body.find("https://"), std::string_view::npos) << path;
    EXPECT_EQ(a->body.find("//fonts."), std::string_view::npos) << path;
  }
}

TEST(AssetsTest, EtagIsAQuotedSha256PerBody) {
  const Asset* index = FindAsset("/");
  const Asset* js = FindAsset("/ui/app.js");
  const Asset* css = FindAsset("/ui/app.css");
  ASSERT_TRUE(index && js && css);
  for (const Asset* a : {index, js, css}) {
    ASSERT_EQ(a->etag.size(), 66u) << a->path;
    EXPECT_EQ(a->etag.front(), '"');
    EXPECT_EQ(a->etag.back(), '"');
    EXPECT_EQ(a->etag.substr(1, 64).find_first_not_of("0123456789abcdef"), std::string::npos);
  }
  EXPECT_NE(index->etag, js->etag);
  EXPECT_NE(js->etag, css->etag);
}

TEST(AssetsTest, UnknownPaths) {
  for (const char* path : {"", "/index.html", "/ui/", "/ui/app.js?v=1", "/ui/../ui/app.js",
                           "/ui/missing.js", "/app.js", "/UI/app.js", "/v1/status"}) {
    EXPECT_EQ(FindAsset(path), nullptr) << path;
  }
}

}  // namespace
}  // namespace tiersync::webui
