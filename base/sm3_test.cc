#include "base/sm3.h"

#include <gtest/gtest.h>

#include <string>

#include "base/bytes.h"
#include "base/hex.h"

namespace tiersync {
namespace {

// GM/T 0004-2012 (GB/T 32905-2016) Appendix A: example 1 ("abc", 24 bits) and example 2
// ("abcd" sixteen times, 512 bits: a message of exactly one block, so padding adds a second).
TEST(Sm3Test, GmT0004Example1Abc) {
  EXPECT_EQ(ToHex(Sm3(AsBytes("abc"))),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
}

TEST(Sm3Test, GmT0004Example2FullBlock) {
  std::string m;
  for (int i = 0; i < 16; ++i) m += "abcd";
  ASSERT_EQ(m.size(), 64u);
  EXPECT_EQ(ToHex(Sm3(AsBytes(m))),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
}

// Not in the standard; from `printf '' | openssl dgst -sm3`.
TEST(Sm3Test, EmptyMessage) {
  EXPECT_EQ(ToHex(Sm3(AsBytes(""))),
            "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b");
}

}  // namespace
}  // namespace tiersync
