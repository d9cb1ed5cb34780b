#include "serving/request_path.h"

#include <gtest/gtest.h>

namespace tiersync::serving {
namespace {

TEST(RequestPathTest, SplitsAndDecodes) {
  auto p = SplitPath("/v1/files/k12-1/a%20b.mp4?x=1");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<std::string>{"v1", "files", "k12-1", "a b.mp4"}));
  auto root = SplitPath("/");
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->empty());
  auto chinese = SplitPath("/v1/x/%E4%B8%AD%E6%96%87");
  ASSERT_TRUE(chinese.ok());
  EXPECT_EQ((*chinese)[2], "中文");
}

TEST(RequestPathTest, RefusesTraversalAndControlCharacters) {
  for (const char* t :
       {"/v1/files/../../etc/passwd", "/v1/files/%2e%2e/x", "/v1/files/.%2e/x", "/v1/files/%2E./x",
        "/v1/files/./x", "/v1//x", "/v1/files/a%2fb", "/v1/files/a%2Fb", "/v1/files/a\\b",
        "/v1/files/a%5cb", "/v1/files/a%00b", "/v1/files/a%0d%0ab", "/v1/files/%zz", "/v1/files/%4",
        "/v1/files/%", "/v1/files/%ff", "/v1/files/%c0%ae%c0%ae", "relative", ""}) {
    EXPECT_FALSE(SplitPath(t).ok()) << t;
  }
  EXPECT_FALSE(SplitPath(std::string_view("/v1/files/a\0b", 13)).ok());
  EXPECT_FALSE(SplitPath("/" + std::string(3000, 'a')).ok());
}

TEST(RequestPathTest, QueryParameters) {
  auto q = QueryParameters("/v1/catalog/search?q=%E5%8F%A4%E8%AF%97+%E4%B8%89&limit=5&bad=%zz&&x");
  EXPECT_EQ(q["q"], "古诗 三");
  EXPECT_EQ(q["limit"], "5");
  EXPECT_EQ(q.count("bad"), 0u);
  EXPECT_EQ(q["x"], "");
  EXPECT_TRUE(QueryParameters("/v1/catalog/search").empty());
}

TEST(RequestPathTest, Utf8Validation) {
  EXPECT_TRUE(ValidUtf8("中文 abc"));
  EXPECT_FALSE(ValidUtf8("\xc0\xae"));          // overlong '.'
  EXPECT_FALSE(ValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(ValidUtf8("\xe4\xb8"));          // truncated
  EXPECT_FALSE(ValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

}  // namespace
}  // namespace tiersync::serving
