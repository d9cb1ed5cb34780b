#include "catalogs/git_pack_scan.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "base/bytes.h"

namespace tiersync::catalogs {
namespace {

std::string Deflate(const std::string& data) {
  uLongf size = compressBound(data.size());
  std::string out(size, '\0');
  EXPECT_EQ(compress(reinterpret_cast<Bytef*>(out.data()), &size,
                     reinterpret_cast<const Bytef*>(data.data()), data.size()),
            Z_OK);
  out.resize(size);
  return out;
}

// An object header: type, then `size` in 4 + 7k bits.
std::string Header(int type, uint64_t size) {
  std::string out;
  uint64_t rest = size >> 4;
  out += static_cast<char>((rest ? 0x80 : 0) | (type << 4) | (size & 0x0f));
  while (rest != 0) {
    const uint8_t byte = rest & 0x7f;
    rest >>= 7;
    out += static_cast<char>((rest ? 0x80 : 0) | byte);
  }
  return out;
}

std::string Varint(uint64_t n) {
  std::string out;
  do {
    const uint8_t byte = n & 0x7f;
    n >>= 7;
    out += static_cast<char>((n ? 0x80 : 0) | byte);
  } while (n != 0);
  return out;
}

// A pack of `objects` (each header + body), claiming `count` objects; a zero trailer (ScanPack
// leaves the checksum to the indexer).
std::string Pack(const std::vector<std::string>& objects, int count = -1) {
  const uint32_t n = count < 0 ? static_cast<uint32_t>(objects.size()) : count;
  std::string out = "PACK";
  out += std::string("\0\0\0\2", 4);
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
  for (const std::string& o : objects) out += o;
  return out + std::string(20, '\0');
}

std::string Blob(const std::string& data) { return Header(3, data.size()) + Deflate(data); }

Result<PackSummary> Scan(const std::string& pack, PackLimits limits = {}) {
  return ScanPack(AsBytes(pack), limits);
}

void ExpectLie(const Result<PackSummary>& r, const std::string& expected) {
  ASSERT_EQ(r.status().code(), StatusCode::kVerificationFailed) << r.status().ToString();
  EXPECT_NE(r.status().message().find(expected), std::string::npos) << r.status().message();
}

TEST(GitPackScanTest, AcceptsAWellFormedPack) {
  const std::string first = Blob("hello, world");
  // An ofs-delta on the first object: base size 12, result size 5, insert "hello".
  const std::string delta = Varint(12) + Varint(5) + "\x05hello";
  // The ofs-delta's offset leads back from its start to the first object's.
  auto r = Scan(
      Pack({first, Header(6, delta.size()) + std::string(1, char(first.size())) + Deflate(delta),
            Header(7, delta.size()) + std::string(20, 'x') + Deflate(delta)}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->objects, 3u);
  EXPECT_EQ(r->deltas, 2u);
  EXPECT_EQ(r->inflated_bytes, 12u + 2 * delta.size());
}

TEST(GitPackScanTest, CountOverTheCapIsRefusedBeforeAnythingIsRead) {
  PackLimits limits;
  limits.max_objects = 3;
  ExpectLie(Scan(Pack({}, 4), limits), "holds 4 objects, over the cap of 3");
  EXPECT_TRUE(Scan(Pack({Blob("a"), Blob("b"), Blob("c")}), limits).ok());
}

TEST(GitPackScanTest, ZlibBombIsRefusedFromItsHeader) {
  PackLimits limits;
  limits.max_object_bytes = 1 << 20;
  // 64 MiB of zeros: its stream is never inflated.
  ExpectLie(Scan(Pack({Header(3, 64 << 20) + Deflate(std::string(1 << 16, '\0'))}), limits),
            "object 0 (blob) inflates to 67108864 bytes, over the cap of 1048576");
}

TEST(GitPackScanTest, DeltaResultOverTheCapIsRefused) {
  PackLimits limits;
  limits.max_object_bytes = 1 << 20;
  const std::string delta = Varint(12) + Varint(1ull << 40) + "\x05hello";
  ExpectLie(Scan(Pack({Blob("hello, world"),
                       Header(7, delta.size()) + std::string(20, 'x') + Deflate(delta)}),
                 limits),
            "object 1 (ref-delta) makes an object of 1099511627776 bytes, over the cap");
}

TEST(GitPackScanTest, AllInflatedBytesAreCapped) {
  PackLimits limits;
  limits.max_inflated_bytes = 100;
  ExpectLie(Scan(Pack({Blob(std::string(60, 'a')), Blob(std::string(60, 'b'))}), limits),
            "inflates to more than the cap of 100 bytes");
}

TEST(GitPackScanTest, MalformedPacksAreNamed) {
  const std::string good = Blob("record");
  ExpectLie(Scan("PACK"), "does not start with a pack header");
  ExpectLie(Scan("KCAP" + std::string(40, '\0')), "does not start with a pack header");
  std::string v4 = Pack({good});
  v4[7] = 4;
  ExpectLie(Scan(v4), "version 4 is not 2 or 3");
  ExpectLie(Scan(Pack({Header(5, 6) + Deflate("record")})), "has type 5, which does not exist");
  ExpectLie(Scan(Pack({Header(3, 3) + Deflate("record")})),
            "inflates to more than the 3 bytes its header says");
  ExpectLie(Scan(Pack({Header(3, 60) + Deflate("record")})),
            "inflates to 6 bytes, not the 60 its header says");
  ExpectLie(Scan(Pack({good}, 2)), "object 1 runs past the end of the pack");
  ExpectLie(Scan(Pack({good.substr(0, good.size() - 3)})), "object 0");
  std::string damaged = good;
  damaged[3] ^= 0x40;
  ExpectLie(Scan(Pack({damaged})), "object 0");
  ExpectLie(Scan(Pack({good, "junk"}, 1)), "4 bytes between the last object and the trailer");
  // An ofs-delta must point back at the start of an earlier object.
  const std::string delta = Varint(6) + Varint(6) + "\x06record";
  ExpectLie(Scan(Pack({good, Header(6, delta.size()) + "\x03" + Deflate(delta)})),
            "object 1: its base offset 3 does not lead to an earlier object");
  ExpectLie(Scan(Pack({Header(6, delta.size()) + "\x7f" + Deflate(delta)})),
            "object 0: its base offset 127 does not lead to an earlier object");
  EXPECT_TRUE(
      Scan(Pack({good, Header(6, delta.size()) + static_cast<char>(good.size()) + Deflate(delta)}))
          .ok());
}

}  // namespace
}  // namespace tiersync::catalogs
