#include "replication/chunk_sync.h"

#include <gtest/gtest.h>

#include "base/hex.h"
#include "base/random.h"
#include "base/sha256.h"
#include "base/zstd_codec.h"
#include "protocol/chunk_batch.h"
#include "replication/chunker.h"
#include "replication/file_restore.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::replication {
namespace {

// In-memory upstreams "mem://<name>" answering the two chunk endpoints, each with a fault.
class FakeSources : public Fetcher {
 public:
  // kZstd: chunks that shrink go as zstd frames (kChunkZstd), to clients that ask for them;
  // kFlipZstd: the same with a byte of every frame flipped.
  enum class Mode { kGood, kDown, kFlipBytes, kEmpty, kZstd, kFlipZstd };
  struct Upstream {
    Mode mode = Mode::kGood;
    std::map<protocol::ChunkId, std::vector<uint8_t>> objects;  // chunks and indexes
    uint64_t bytes_sent = 0;
  };
  std::map<std::string, Upstream> upstreams;

  Result<std::vector<uint8_t>> Fetch(const std::string& url, size_t max_bytes) override {
    auto [u, path] = Split(url);
    if (u == nullptr || u->mode == Mode::kDown) return UnavailableError(url + ": refused");
    auto id = Sha256FromHex(path.substr(path.rfind('/') + 1));
    auto it = id ? u->objects.find(*id) : u->objects.end();
    if (u->mode == Mode::kEmpty || it == u->objects.end()) return NotFoundError(url);
    std::vector<uint8_t> out = it->second;
    if (u->mode == Mode::kFlipBytes) out[0] ^= 1;
    u->bytes_sent += out.size();
    return out;
  }

  Result<std::vector<uint8_t>> Post(const std::string& url, std::string_view content_type,
                                    std::span<const uint8_t> body, size_t max_bytes) override {
    auto [u, path] = Split(url);
    if (u == nullptr || u->mode == Mode::kDown) return UnavailableError(url + ": refused");
    TS_ASSIGN_OR_RETURN(auto ids, protocol::DecodeBatchRequest(body));
    protocol::BatchResponseWriter w;
    ZstdCodec codec;  // one per call: batches are fetched in parallel
    for (const auto& id : ids) {
      auto it = u->objects.find(id);
      if (u->mode == Mode::kEmpty || it == u->objects.end()) {
        w.AddMissing(id, protocol::BatchFrameKind::kAbsent);
        continue;
      }
      std::vector<uint8_t> bytes = it->second;
      if (u->mode == Mode::kFlipBytes) bytes[0] ^= 1;
      std::vector<uint8_t> frame;
      const bool zstd = (u->mode == Mode::kZstd || u->mode == Mode::kFlipZstd) &&
                        content_type == protocol::kBatchRequestTypeZstd &&
                        codec.CompressIfSmaller(bytes, &frame);
      if (zstd) {
        if (u->mode == Mode::kFlipZstd) frame[frame.size() / 2] ^= 1;
        w.AddCompressedChunk(id, frame);
        u->bytes_sent += frame.size();
        continue;
      }
      w.AddChunk(id, bytes);
      u->bytes_sent += bytes.size();
    }
    const std::string response = std::move(w).Finish();
    return std::vector<uint8_t>(response.begin(), response.end());
  }

 private:
  std::pair<Upstream*, std::string> Split(const std::string& url) {
    std::string rest = url.substr(6);  // after "mem://"
    size_t slash = rest.find('/');
    auto it = upstreams.find(rest.substr(0, slash));
    return {it == upstreams.end() ? nullptr : &it->second, rest.substr(slash)};
  }
};

class ChunkSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ChunkStoreOptions o;
    o.writable = true;
    ASSERT_TRUE(ChunkStore::Create(tmp_.Sub("store"), o).ok());
    store_ = ChunkStore::Open(tmp_.Sub("store"), o).value();
    // Two files, chunked as the hub would: random bytes, and text-like bytes (eight letters,
    // which compress).
    for (uint64_t seed : {1, 2}) {
      std::vector<uint8_t> data(300'000);
      Random(seed).Fill(data);
      if (seed == 2) {
        for (uint8_t& b : data) b = static_cast<uint8_t>('a' + b % 8);
      }
      protocol::ChunkIndex index;
      index.file_size = data.size();
      index.file_sha256 = Sha256(data);
      Chunker chunker(index.params);
      for (size_t start = 0; start < data.size();) {
        size_t n = chunker.Scan(std::span(data).subspan(start));
        size_t end = n == Chunker::kNoCut ? data.size() : start + n;
        std::vector<uint8_t> c(data.begin() + start, data.begin() + end);
        index.chunks.push_back({Sha256(c), static_cast<uint32_t>(c.size())});
        for (auto& [name, u] : sources_.upstreams) u.objects[index.chunks.back().id] = c;
        start = end;
      }
      auto encoded = protocol::EncodeChunkIndex(index);
      for (auto& [name, u] : sources_.upstreams)
        u.objects[protocol::ChunkIndexId(encoded)] = encoded;
      files_.push_back({"f" + std::to_string(seed), data.size(), index.file_sha256,
                        protocol::ChunkIndexId(encoded), false});
      contents_.push_back(std::move(data));
    }
  }

  SyncContext Ctx() { return {Env::Default(), &sources_, &policy_, store_.get(), &counters_}; }

  // Runs the whole execute step; OK when every file is present.
  Status Sync() {
    TS_ASSIGN_OR_RETURN(auto indexes, LoadIndexes(files_, Ctx()));
    ChunkPlan plan = PlanChunks(files_, indexes, [&](const auto& id) {
      auto has = store_->Contains(id);
      return has.ok() && *has;
    });
    planned_bytes_ = plan.missing_bytes;
    ChunkSyncOptions options;
    options.batch_bytes = 64 << 10;  // several batches
    TS_RETURN_IF_ERROR(FetchChunks(plan.missing, Ctx(), options));
    TS_RETURN_IF_ERROR(StoreIndexes(files_, indexes, store_.get()));
    return store_->Commit();
  }

  void ExpectFilesRestore() {
    for (size_t i = 0; i < files_.size(); ++i) {
      std::vector<uint8_t> out;
      ASSERT_TRUE(RestoreFile(*store_, files_[i].index_id, [&](ByteSpan b) {
                    out.insert(out.end(), b.begin(), b.end());
                    return Status::Ok();
                  }).ok());
      EXPECT_EQ(out, contents_[i]);
    }
  }

  testing::TempDir tmp_;
  FakeSources sources_ = [] {
    FakeSources f;
    for (const char* name : {"county", "city", "national"}) f.upstreams[name];
    return f;
  }();
  SourcePolicy policy_{
      {{"county", "mem://county"}, {"city", "mem://city"}, {"national", "mem://national"}}};
  SyncCounters counters_;
  std::unique_ptr<ChunkStore> store_;
  std::vector<PlannedFile> files_;
  std::vector<std::vector<uint8_t>> contents_;
  uint64_t planned_bytes_ = 0;
};

TEST_F(ChunkSyncTest, HealthyParentSuppliesEverythingOnce) {
  ASSERT_TRUE(Sync().ok());
  ExpectFilesRestore();
  EXPECT_EQ(counters_.chunk_bytes, 600'000u);
  EXPECT_EQ(sources_.upstreams["county"].bytes_sent, 600'000u + counters_.index_bytes);
  EXPECT_EQ(sources_.upstreams["national"].bytes_sent, 0u);
  // A second sync plans and moves nothing.
  uint64_t before = sources_.upstreams["county"].bytes_sent;
  ASSERT_TRUE(Sync().ok());
  EXPECT_EQ(planned_bytes_, 0u);
  EXPECT_EQ(sources_.upstreams["county"].bytes_sent, before);
}

TEST_F(ChunkSyncTest, ParentDownFallsBackToTheNextSourceAndDemotesIt) {
  sources_.upstreams["county"].mode = FakeSources::Mode::kDown;
  ASSERT_TRUE(Sync().ok());
  ExpectFilesRestore();
  EXPECT_GT(sources_.upstreams["city"].bytes_sent, 600'000u);
  auto health = policy_.Snapshot();
  EXPECT_GT(health[0].failures, 0u);
  EXPECT_GT(health[0].demoted_until_ms, 0);
  EXPECT_EQ(health[0].rejections, 0u);
}

TEST_F(ChunkSyncTest, LyingParentIsRejectedAndTheBytesComeFromTheNextSource) {
  sources_.upstreams["county"].mode = FakeSources::Mode::kFlipBytes;
  ASSERT_TRUE(Sync().ok());
  ExpectFilesRestore();
  auto health = policy_.Snapshot();
  EXPECT_GE(health[0].rejections, 1u);
  ASSERT_FALSE(counters_.rejected.empty());
  EXPECT_NE(counters_.rejected[0].find("county"), std::string::npos) << counters_.rejected[0];
  EXPECT_GT(sources_.upstreams["city"].bytes_sent, 600'000u);
}

TEST_F(ChunkSyncTest, MissingChunksComeFromFurtherUpWithoutDemotingTheParent) {
  auto& county = sources_.upstreams["county"].objects;
  for (auto it = county.begin(); it != county.end();) {
    it = (it->first[0] % 2 == 0) ? county.erase(it) : std::next(it);
  }
  ASSERT_TRUE(Sync().ok());
  ExpectFilesRestore();
  EXPECT_EQ(policy_.Snapshot()[0].failures, 0u);
  EXPECT_GT(sources_.upstreams["city"].bytes_sent, 0u);
}

TEST_F(ChunkSyncTest, NoSourceHasItFailsButKeepsWhatArrivedAndResumes) {
  // Every source lacks one chunk of file f1.
  protocol::ChunkId gone = sources_.upstreams["county"].objects.begin()->first;
  for (const auto& f : files_) ASSERT_NE(f.index_id, gone);
  std::map<std::string, std::vector<uint8_t>> kept;
  for (auto& [name, u] : sources_.upstreams) kept[name] = u.objects[gone], u.objects.erase(gone);
  Status s = Sync();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find(ToHex(gone)), std::string::npos) << s.ToString();
  ASSERT_TRUE(store_->Commit().ok());
  const uint64_t first = counters_.chunk_bytes;
  EXPECT_EQ(first, 600'000u - kept["county"].size());
  // The chunk turns up at national: the next sync moves exactly that chunk.
  sources_.upstreams["national"].objects[gone] = kept["national"];
  ASSERT_TRUE(Sync().ok());
  EXPECT_EQ(planned_bytes_, kept["national"].size());
  EXPECT_EQ(counters_.chunk_bytes - first, kept["national"].size());
  ExpectFilesRestore();
}

TEST_F(ChunkSyncTest, ZstdFramesMoveFewerBytesAreVerifiedAndStoredAsTheyCame) {
  sources_.upstreams["county"].mode = FakeSources::Mode::kZstd;
  ASSERT_TRUE(Sync().ok());
  ExpectFilesRestore();
  EXPECT_EQ(counters_.chunk_bytes, 600'000u);  // counted as chunk bytes, not frame bytes
  const uint64_t sent = sources_.upstreams["county"].bytes_sent - counters_.index_bytes;
  EXPECT_LT(sent, 500'000u) << "the text-like file went compressed";
  EXPECT_EQ(sources_.upstreams["city"].bytes_sent, 0u);
  EXPECT_EQ(policy_.Snapshot()[0].rejections, 0u);
  auto stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_LT(stats->stored_bytes, stats->raw_bytes) << "kept compressed";
  auto verify = store_->Verify(nullptr);
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->clean());
}

TEST_F(ChunkSyncTest, DamagedZstdFrameIsALieAndTheChunkComesFromTheNextSource) {
  sources_.upstreams["county"].mode = FakeSources::Mode::kFlipZstd;
  ASSERT_TRUE(Sync().ok());
  ExpectFilesRestore();
  EXPECT_GE(policy_.Snapshot()[0].rejections, 1u);
  ASSERT_FALSE(counters_.rejected.empty());
  EXPECT_NE(counters_.rejected[0].find("bytes do not match the id"), std::string::npos)
      << counters_.rejected[0];
  EXPECT_GT(sources_.upstreams["city"].bytes_sent, 0u);
}

TEST_F(ChunkSyncTest, IndexThatDoesNotDescribeTheSignedFileIsRefused) {
  files_[0].length += 1;  // what the signed target says differs from the index
  auto indexes = LoadIndexes(files_, Ctx());
  EXPECT_EQ(indexes.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(indexes.status().message().find("signed as"), std::string::npos)
      << indexes.status().ToString();
}

}  // namespace
}  // namespace tiersync::replication
