#include "replication/chunker.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "base/random.h"
#include "base/sha256.h"

namespace tiersync::replication {
namespace {

using protocol::ChunkerParams;

std::vector<uint8_t> RandomBytes(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  Random(seed).Fill(v);
  return v;
}

// Chunk sizes of `data`, fed to the chunker in pieces of `block` bytes.
std::vector<size_t> ChunkSizes(const ChunkerParams& p, const std::vector<uint8_t>& data,
                               size_t block) {
  Chunker c(p);
  std::vector<size_t> sizes;
  size_t current = 0;
  for (size_t off = 0; off < data.size(); off += block) {
    std::span<const uint8_t> piece(data.data() + off, std::min(block, data.size() - off));
    while (!piece.empty()) {
      size_t cut = c.Scan(piece);
      size_t take = cut == Chunker::kNoCut ? piece.size() : cut;
      current += take;
      piece = piece.subspan(take);
      if (cut != Chunker::kNoCut) {
        sizes.push_back(current);
        current = 0;
      }
    }
  }
  if (current > 0) sizes.push_back(current);
  return sizes;
}

TEST(ChunkerTest, SizesWithinBoundsAndSumToInput) {
  ChunkerParams p;
  auto data = RandomBytes(8 << 20, 1);
  auto sizes = ChunkSizes(p, data, 1 << 20);
  size_t total = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    total += sizes[i];
    EXPECT_LE(sizes[i], p.max_size);
    if (i + 1 < sizes.size()) {
      EXPECT_GE(sizes[i], p.min_size);
    }
  }
  EXPECT_EQ(total, data.size());
}

TEST(ChunkerTest, AverageNearTarget) {
  ChunkerParams p;
  auto data = RandomBytes(32 << 20, 2);
  auto sizes = ChunkSizes(p, data, 1 << 20);
  double avg = static_cast<double>(data.size()) / static_cast<double>(sizes.size());
  EXPECT_GT(avg, p.avg_size * 0.6);
  EXPECT_LT(avg, p.avg_size * 1.6);
}

TEST(ChunkerTest, FeedingInAnyPiecesGivesTheSameCuts) {
  ChunkerParams p{protocol::kChunkerFastCdcV1, 2, 2048, 8192, 32768};
  auto data = RandomBytes(1 << 20, 3);
  auto whole = ChunkSizes(p, data, data.size());
  for (size_t block : {1u, 7u, 4096u, 65537u})
    EXPECT_EQ(ChunkSizes(p, data, block), whole) << block;
}

TEST(ChunkerTest, MaxSizeForcedOnConstantInput) {
  ChunkerParams p;
  std::vector<uint8_t> zeros(1 << 20, 0);
  auto sizes = ChunkSizes(p, zeros, zeros.size());
  // The gear hash of a constant run is constant, so only the maximum cuts.
  for (size_t i = 0; i + 1 < sizes.size(); ++i) EXPECT_EQ(sizes[i], p.max_size);
}

TEST(ChunkerTest, InsertionChangesOnlyNearbyChunks) {
  ChunkerParams p;
  auto data = RandomBytes(16 << 20, 4);
  auto edited = data;
  auto insert = RandomBytes(100000, 5);
  edited.insert(edited.begin() + (8 << 20), insert.begin(), insert.end());
  auto digests = [&](const std::vector<uint8_t>& d) {
    std::set<Sha256Digest> out;
    size_t off = 0;
    for (size_t s : ChunkSizes(p, d, 1 << 20)) {
      out.insert(Sha256({d.data() + off, s}));
      off += s;
    }
    return out;
  };
  auto before = digests(data), after = digests(edited);
  size_t fresh = 0;
  for (const auto& d : after) fresh += before.count(d) == 0;
  EXPECT_LE(fresh, 6u) << "an insertion must only disturb the chunks around it";
}

// The gear table and masks are part of the format: chunk ids of everything ever stored depend
// on them. If this test fails, the chunker changed and old stores would no longer dedupe.
TEST(ChunkerTest, GoldenCutPointsNeverChange) {
  auto data = RandomBytes(4 << 20, 2026);
  auto sizes = ChunkSizes(ChunkerParams{}, data, 1 << 20);
  std::vector<uint8_t> encoded;
  for (size_t s : sizes) {
    for (int b = 0; b < 4; ++b) encoded.push_back(static_cast<uint8_t>(s >> (8 * b)));
  }
  EXPECT_EQ(sizes.size(), 57u);
  EXPECT_EQ(ToHex(Sha256(encoded)),
            "c6cf5801c7b788715c05ab765ba996b39294fe44082f3cc74e4cf72d1fc3ddcc");
}

}  // namespace
}  // namespace tiersync::replication
