#include "tests/fault_proxy/git_lies.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>

namespace tiersync::fault_proxy {
namespace {

std::string Pkt(const std::string& payload) {
  char length[5];
  std::snprintf(length, sizeof length, "%04zx", payload.size() + 4);
  return length + payload;
}

std::string Id(char c) { return std::string(40, c); }

std::string Advertisement(const std::vector<std::pair<std::string, std::string>>& refs) {
  std::string out = Pkt("# service=git-upload-pack\n") + "0000";
  for (size_t i = 0; i < refs.size(); ++i) {
    out += Pkt(refs[i].first + " " + refs[i].second +
               (i == 0 ? std::string(1, '\0') + "ofs-delta" : "") + "\n");
  }
  return out + "0000";
}

TEST(GitLiesTest, RotatesTheReleaseTagsOnly) {
  const std::string honest = Advertisement({{Id('3'), "HEAD"},
                                            {Id('3'), "refs/heads/main"},
                                            {Id('a'), "refs/tags/r1"},
                                            {Id('1'), "refs/tags/r1^{}"},
                                            {Id('b'), "refs/tags/r2"},
                                            {Id('2'), "refs/tags/r2^{}"},
                                            {Id('c'), "refs/tags/r3"},
                                            {Id('3'), "refs/tags/r3^{}"}});
  bool rotated = false;
  auto lie = RotateReleaseTags(honest, &rotated);
  ASSERT_TRUE(lie.ok()) << lie.status().ToString();
  EXPECT_TRUE(rotated);
  EXPECT_EQ(*lie, Advertisement({{Id('3'), "HEAD"},
                                 {Id('3'), "refs/heads/main"},
                                 {Id('c'), "refs/tags/r1"},
                                 {Id('3'), "refs/tags/r1^{}"},
                                 {Id('a'), "refs/tags/r2"},
                                 {Id('1'), "refs/tags/r2^{}"},
                                 {Id('b'), "refs/tags/r3"},
                                 {Id('2'), "refs/tags/r3^{}"}}));

  const std::string one = Advertisement({{Id('1'), "HEAD"}, {Id('a'), "refs/tags/r1"}});
  lie = RotateReleaseTags(one, &rotated);
  ASSERT_TRUE(lie.ok());
  EXPECT_FALSE(rotated);
  EXPECT_EQ(*lie, one);
  EXPECT_FALSE(RotateReleaseTags("00zz", &rotated).ok());
}

TEST(GitLiesTest, BombIsAWellFormedPackOfOneHugeBlob) {
  auto bomb = ReplacePackWithBomb(Pkt("NAK\n") + "PACK...", 64 << 20);
  ASSERT_TRUE(bomb.ok()) << bomb.status().ToString();
  ASSERT_TRUE(bomb->starts_with(Pkt("NAK\n") + "PACK"));
  const std::string pack = bomb->substr(8);
  EXPECT_EQ(pack.substr(4, 8), std::string("\0\0\0\2\0\0\0\1", 8));
  EXPECT_LT(pack.size(), 1u << 20);  // 64 MiB of zeros in well under 1 MiB
  // The blob's header says 64 MiB: type 3, size 0 + (4 << 20) << 4.
  EXPECT_EQ(static_cast<uint8_t>(pack[12]), 0x80 | (3 << 4) | 0);
  // And the zlib stream really inflates to that many bytes.
  size_t at = 13;
  while (static_cast<uint8_t>(pack[at - 1]) & 0x80) ++at;
  z_stream z = {};
  ASSERT_EQ(inflateInit(&z), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(pack.data() + at));
  z.avail_in = static_cast<uInt>(pack.size() - at - 20);
  std::vector<unsigned char> out(1 << 20);
  uint64_t total = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    rc = inflate(&z, Z_NO_FLUSH);
    total += out.size() - z.avail_out;
  }
  inflateEnd(&z);
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_EQ(total, 64u << 20);
  EXPECT_FALSE(ReplacePackWithBomb(Pkt("NAK\n"), 10).ok());
}

}  // namespace
}  // namespace tiersync::fault_proxy
