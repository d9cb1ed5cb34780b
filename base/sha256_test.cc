#include "base/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/env.h"

namespace tiersync {
namespace {

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(ToHex(Sha256(AsBytes(""))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, IncrementalEqualsOneShot) {
  std::string data(100000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31);
  Sha256Hasher h;
  h.Update(AsBytes(data.substr(0, 777)));
  h.Update(AsBytes(data.substr(777)));
  EXPECT_EQ(h.Finish(), Sha256(AsBytes(data)));
  // Finish resets the hasher.
  h.Update(AsBytes("abc"));
  EXPECT_EQ(h.Finish(), Sha256(AsBytes("abc")));
}

TEST(Sha256Test, HexRoundTripAndRejects) {
  Sha256Digest d = Sha256(AsBytes("abc"));
  EXPECT_EQ(Sha256FromHex(ToHex(d)), d);
  EXPECT_EQ(Sha256FromHex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"), d);
  EXPECT_FALSE(Sha256FromHex("ba78"));
  EXPECT_FALSE(Sha256FromHex(std::string(64, 'g')));
  EXPECT_FALSE(Sha256FromHex(ToHex(d) + "0"));
}

}  // namespace
}  // namespace tiersync
