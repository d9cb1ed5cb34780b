#include "replication/file_ingest.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "base/mem_env.h"
#include "base/random.h"
#include "base/sha256.h"
#include "replication/file_restore.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::replication {
namespace {

class FileIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.env = &env_;
    options_.index_dir = tmp_.Sub("index");
    options_.writable = true;
    ASSERT_TRUE(ChunkStore::Create("/store", options_).ok());
    store_ = std::move(ChunkStore::Open("/store", options_)).value();
  }

  void WriteFile(const std::string& path, const std::vector<uint8_t>& data) {
    auto f = env_.NewWritableFile(path);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(data).ok());
    ASSERT_TRUE((*f)->Sync().ok());
  }

  std::vector<uint8_t> Restore(const ChunkId& id) {
    std::vector<uint8_t> out;
    Status s = RestoreFile(*store_, id, [&](ByteSpan b) {
      out.insert(out.end(), b.begin(), b.end());
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  IngestResult Ingest(const std::string& path, int threads = 2) {
    IngestOptions o;
    o.threads = threads;
    auto r = IngestFile(store_.get(), &env_, path, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : IngestResult{};
  }

  testing::TempDir tmp_;
  MemEnv env_;
  ChunkStoreOptions options_;
  std::unique_ptr<ChunkStore> store_;
};

std::vector<uint8_t> RandomFileBytes(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  Random(seed).Fill(v);
  return v;
}

TEST_F(FileIngestTest, RoundTripAndFileHash) {
  auto data = RandomFileBytes(3'000'003, 1);
  WriteFile("/a", data);
  IngestResult r = Ingest("/a");
  EXPECT_EQ(r.file_size, data.size());
  EXPECT_EQ(r.file_sha256, Sha256(data));
  EXPECT_EQ(r.new_raw_bytes, data.size());
  EXPECT_EQ(r.new_stored_bytes, data.size());  // random bytes are stored raw
  EXPECT_EQ(Restore(r.index_id), data);
}

TEST_F(FileIngestTest, SecondAddStoresNothingNew) {
  auto data = RandomFileBytes(2 << 20, 2);
  WriteFile("/a", data);
  IngestResult first = Ingest("/a");
  IngestResult second = Ingest("/a");
  EXPECT_EQ(second.index_id, first.index_id);
  EXPECT_EQ(second.new_chunks, 0u);
  EXPECT_EQ(second.new_raw_bytes, 0u);
}

TEST_F(FileIngestTest, InsertionStoresAtMostInsertPlusTwoMaxChunks) {
  auto data = RandomFileBytes(8 << 20, 3);
  WriteFile("/a", data);
  Ingest("/a");
  auto edited = data;
  auto insert = RandomFileBytes(1 << 20, 4);
  edited.insert(edited.begin() + (4 << 20), insert.begin(), insert.end());
  WriteFile("/b", edited);
  IngestResult r = Ingest("/b");
  EXPECT_LE(r.new_raw_bytes, (1u << 20) + 2 * protocol::ChunkerParams{}.max_size);
  EXPECT_EQ(Restore(r.index_id), edited);
}

TEST_F(FileIngestTest, ThreadedAndInlineGiveTheSameIndex) {
  auto data = RandomFileBytes(5 << 20, 5);
  WriteFile("/a", data);
  IngestResult threaded = Ingest("/a", 2);
  IngestResult inline_ = Ingest("/a", 1);
  EXPECT_EQ(threaded.index_id, inline_.index_id);
}

TEST_F(FileIngestTest, TextIsStoredCompressed) {
  std::vector<uint8_t> text;
  const std::string line = "第一单元 lesson textbook 练习 exercise 42\n";
  while (text.size() < (2u << 20)) text.insert(text.end(), line.begin(), line.end());
  WriteFile("/t", text);
  IngestResult r = Ingest("/t");
  EXPECT_LT(r.new_stored_bytes, r.new_raw_bytes / 4);
  EXPECT_EQ(Restore(r.index_id), text);
}

TEST_F(FileIngestTest, EmptyFile) {
  WriteFile("/empty", {});
  IngestResult r = Ingest("/empty");
  EXPECT_EQ(r.chunks, 0u);
  EXPECT_TRUE(Restore(r.index_id).empty());
}

TEST_F(FileIngestTest, MissingFileIsNotFound) {
  auto r = IngestFile(store_.get(), &env_, "/nope", IngestOptions{});
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST_F(FileIngestTest, RestoreOfUnknownIdIsNotFound) {
  ChunkId id{};
  Status s = RestoreFile(*store_, id, [](ByteSpan) { return Status::Ok(); });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

TEST_F(FileIngestTest, RestoreStopsBeforeABadChunkAndWritesNoWrongBytes) {
  auto data = RandomFileBytes(1 << 20, 6);
  WriteFile("/a", data);
  IngestResult r = Ingest("/a");
  auto index = LoadChunkIndex(*store_, r.index_id);
  ASSERT_TRUE(index.ok());
  ASSERT_GT(index->chunks.size(), 3u);
  // Damage a byte inside the third chunk's record.
  uint64_t offset = kPackHeaderBytes;
  for (int i = 0; i < 2; ++i) offset += kRecordHeaderBytes + index->chunks[i].size;
  offset += kRecordHeaderBytes + 10;
  ASSERT_TRUE(env_.CorruptByte("/store/packs/" + PackFileName(1), offset, 0x40).ok());
  std::vector<uint8_t> out;
  Status s = RestoreFile(*store_, r.index_id, [&](ByteSpan b) {
    out.insert(out.end(), b.begin(), b.end());
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("chunk 2 of"), std::string::npos) << s.ToString();
  // Everything written is correct: exactly the first two chunks.
  ASSERT_EQ(out.size(), size_t{index->chunks[0].size} + index->chunks[1].size);
  EXPECT_TRUE(std::equal(out.begin(), out.end(), data.begin()));
}

}  // namespace
}  // namespace tiersync::replication
