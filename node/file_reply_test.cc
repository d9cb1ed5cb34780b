#include "node/file_reply.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/random.h"
#include "base/sha256.h"

namespace tiersync::node {
namespace {

// A file of `sizes` chunks of random bytes, read from memory; counts reads, can fail one.
class MemoryChunks : public ChunkSource {
 public:
  explicit MemoryChunks(const std::vector<uint32_t>& sizes) {
    Random rng(7);
    for (uint32_t n : sizes) {
      std::string c(n, '\0');
      rng.Fill({reinterpret_cast<uint8_t*>(c.data()), c.size()});
      chunks.push_back(c);
      whole += c;
    }
  }
  protocol::ChunkIndex Index() const {
    protocol::ChunkIndex index;
    for (const auto& c : chunks) index.chunks.push_back({Sha256(AsBytes(c)), uint32_t(c.size())});
    index.file_size = whole.size();
    index.file_sha256 = Sha256(AsBytes(whole));
    return index;
  }
  Result<std::vector<uint8_t>> Read(size_t i) override {
    ++reads;
    if (static_cast<int>(i) == fail_at) return CorruptionError("damaged");
    return std::vector<uint8_t>(chunks.at(i).begin(), chunks.at(i).end());
  }
  void Finished() override { finished = true; }
  void Want(uint64_t first, uint64_t last) override { wanted.push_back({first, last}); }

  std::vector<std::string> chunks;
  std::string whole;
  std::vector<std::pair<uint64_t, uint64_t>> wanted;  // Want() calls, in order
  int reads = 0;
  int fail_at = -1;
  bool finished = false;
};

const FileInfo kInfo{"video/mp4", "\"abc\"", "no-cache"};

HttpRequest Get(std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpRequest r{"GET", "/v1/files/x/y.mp4", "", {}, ""};
  for (auto& [k, v] : headers) r.headers[k] = v;
  return r;
}

std::string Header(const HttpReply& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

// The whole body of a reply; fails the test if the stream errs or overruns its length.
std::string Drain(HttpReply& r) {
  if (!r.stream) return r.body;
  std::string out;
  for (;;) {
    auto piece = r.stream();
    EXPECT_TRUE(piece.ok()) << piece.status().ToString();
    if (!piece.ok() || piece->empty()) break;
    EXPECT_LE(piece->size(), kFilePieceBytes);
    out += *piece;
  }
  EXPECT_EQ(out.size(), r.length);
  return out;
}

class FileReplyTest : public ::testing::Test {
 protected:
  FileReplyTest()
      : chunks_(std::make_shared<MemoryChunks>(
            std::vector<uint32_t>{100000, 70000, 300000, 5, 900000, 1200000, 12345})) {}
  HttpReply Reply(const HttpRequest& r) { return FileReply(r, chunks_->Index(), chunks_, kInfo); }
  std::shared_ptr<MemoryChunks> chunks_;
};

TEST_F(FileReplyTest, WholeFileStreamsInBoundedPieces) {
  HttpReply r = Reply(Get());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "video/mp4");
  EXPECT_EQ(Header(r, "Accept-Ranges"), "bytes");
  EXPECT_EQ(Header(r, "ETag"), "\"abc\"");
  EXPECT_EQ(Drain(r), chunks_->whole);
  EXPECT_EQ(chunks_->reads, 7);  // each chunk read once
  EXPECT_TRUE(chunks_->finished);
}

TEST_F(FileReplyTest, SingleRangesAcrossChunkBoundaries) {
  const uint64_t size = chunks_->whole.size();
  for (auto [header, first, last] : std::vector<std::tuple<std::string, uint64_t, uint64_t>>{
           {"bytes=0-0", 0, 0},
           {"bytes=99990-170010", 99990, 170010},
           {"bytes=-12346", size - 12346, size - 1},
           {"bytes=470004-", 470004, size - 1},
           {"bytes=0-18446744073709551615", 0, size - 1}}) {
    HttpReply r = Reply(Get({{"range", header}}));
    EXPECT_EQ(r.status, 206) << header;
    EXPECT_EQ(Header(r, "Content-Range"), "bytes " + std::to_string(first) + "-" +
                                              std::to_string(last) + "/" + std::to_string(size));
    EXPECT_EQ(Drain(r), chunks_->whole.substr(first, last - first + 1)) << header;
  }
}

TEST_F(FileReplyTest, MultipleRangesMakeAMultipartBody) {
  HttpReply r = Reply(Get({{"range", "bytes=500-599,0-99,50-149,2000000-2000009"}}));
  EXPECT_EQ(r.status, 206);
  ASSERT_TRUE(r.content_type.starts_with("multipart/byteranges; boundary="));
  const std::string boundary = r.content_type.substr(r.content_type.find('=') + 1);
  const std::string body = Drain(r);
  // Three parts after merging 0-99 and 50-149, in order.
  const std::string part1 =
      "--" + boundary + "\r\nContent-Type: video/mp4\r\nContent-Range: bytes 0-149/" +
      std::to_string(chunks_->whole.size()) + "\r\n\r\n" + chunks_->whole.substr(0, 150);
  EXPECT_EQ(body.substr(0, part1.size()), part1);
  EXPECT_NE(body.find("Content-Range: bytes 500-599/"), std::string::npos);
  EXPECT_NE(body.find("Content-Range: bytes 2000000-2000009/"), std::string::npos);
  EXPECT_TRUE(body.ends_with("\r\n--" + boundary + "--\r\n"));
  EXPECT_EQ(Header(r, "Content-Range"), "");
}

// A source that fetches learns which bytes each range needs before it reads them.
TEST_F(FileReplyTest, TheSourceIsToldTheRangesBeforeReadingThem) {
  using Wanted = std::vector<std::pair<uint64_t, uint64_t>>;
  HttpReply one = Reply(Get({{"range", "bytes=99990-170010"}}));
  Drain(one);
  EXPECT_EQ(chunks_->wanted, (Wanted{{99990, 170010}}));
  chunks_->wanted.clear();
  HttpReply several = Reply(Get({{"range", "bytes=500-599,0-99,50-149,2000000-2000009"}}));
  Drain(several);
  EXPECT_EQ(chunks_->wanted, (Wanted{{0, 149}, {500, 599}, {2000000, 2000009}}));
  chunks_->wanted.clear();
  HttpReply whole = Reply(Get());
  Drain(whole);
  EXPECT_EQ(chunks_->wanted, (Wanted{{0, chunks_->whole.size() - 1}}));
}

TEST_F(FileReplyTest, UnsatisfiableRangeIs416) {
  HttpReply r = Reply(Get({{"range", "bytes=" + std::to_string(chunks_->whole.size()) + "-"}}));
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(Header(r, "Content-Range"), "bytes */" + std::to_string(chunks_->whole.size()));
  EXPECT_EQ(chunks_->reads, 0);
}

TEST_F(FileReplyTest, ConditionalRequests) {
  HttpReply not_modified = Reply(Get({{"if-none-match", "\"abc\""}}));
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_FALSE(not_modified.stream);
  EXPECT_EQ(Header(not_modified, "ETag"), "\"abc\"");
  HttpReply other = Reply(Get({{"if-none-match", "\"other\""}}));
  EXPECT_EQ(other.status, 200);
  // If-Range: the range only when the tag matches.
  HttpReply ranged = Reply(Get({{"range", "bytes=0-9"}, {"if-range", "\"abc\""}}));
  EXPECT_EQ(ranged.status, 206);
  HttpReply whole = Reply(Get({{"range", "bytes=0-9"}, {"if-range", "\"changed\""}}));
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.length, chunks_->whole.size());
}

TEST_F(FileReplyTest, ADamagedChunkStopsTheStream) {
  chunks_->fail_at = 4;
  HttpReply r = Reply(Get());
  std::string sent;
  Status error;
  for (;;) {
    auto piece = r.stream();
    if (!piece.ok()) {
      error = piece.status();
      break;
    }
    if (piece->empty()) break;
    sent += *piece;
  }
  EXPECT_EQ(error.code(), StatusCode::kCorruption);
  EXPECT_LT(sent.size(), chunks_->whole.size());
  EXPECT_EQ(sent, chunks_->whole.substr(0, sent.size()));  // never a wrong byte
  EXPECT_FALSE(chunks_->finished);
}

TEST(CountsAsDownloadTest, WholeGetsNotRangesOrHeads) {
  EXPECT_TRUE(CountsAsDownload(Get()));
  EXPECT_FALSE(CountsAsDownload(Get({{"range", "bytes=0-"}})));  // a video element's first ask
  EXPECT_FALSE(CountsAsDownload(Get({{"range", "bytes=50-"}})));
  HttpRequest head = Get();
  head.method = "HEAD";
  EXPECT_FALSE(CountsAsDownload(head));
}

}  // namespace
}  // namespace tiersync::node
