// The chunk batch endpoint of RepositoryService over a real chunk store: what each kind of
// client is sent, and that a batch reads what it answers from the store.
#include "node/repository_service.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/random.h"
#include "base/sha256.h"
#include "base/zstd_codec.h"
#include "protocol/chunk_batch.h"
#include "replication/chunk_store.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::node {
namespace {

using protocol::BatchFrameKind;

class RepositoryServiceBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    replication::ChunkStoreOptions o;
    o.writable = true;
    ASSERT_TRUE(replication::ChunkStore::Create(tmp_.Sub("store"), o).ok());
    store_ = replication::ChunkStore::Open(tmp_.Sub("store"), o).value();
    // A text-like chunk (stored compressed) and a random one (stored raw).
    text_.assign(64 * 1024, 0);
    Random(1).Fill(text_);
    for (uint8_t& b : text_) b = static_cast<uint8_t>('a' + b % 4);
    media_.assign(64 * 1024, 0);
    Random(2).Fill(media_);
    for (auto* bytes : {&text_, &media_}) {
      std::vector<uint8_t> raw = *bytes;
      ASSERT_TRUE(store_->Put(replication::PrepareChunk(Sha256(raw), &raw, &codec_)).ok());
    }
    ASSERT_TRUE(store_->Commit().ok());
    absent_ = Sha256(AsBytes(std::string("not stored")));
    ids_ = {Sha256(text_), absent_, Sha256(media_)};
  }

  // POSTs the ids with `content_type` and decodes the answer.
  std::vector<protocol::BatchFrame> Ask(const std::string& content_type) {
    RepositoryService service(Env::Default(), tmp_.Sub("tuf"), store_.get());
    HttpRequest request;
    request.method = "POST";
    request.target = "/v1/chunks/batch";
    auto body = protocol::EncodeBatchRequest(ids_);
    request.body.assign(body.begin(), body.end());
    request.headers["content-type"] = content_type;
    HttpReply reply = service.Handle(request);
    EXPECT_EQ(reply.status, 200) << reply.body;
    body_ = reply.body;
    auto frames = protocol::DecodeBatchResponse(AsBytes(body_), ids_);
    EXPECT_TRUE(frames.ok()) << frames.status().ToString();
    return frames.ok() ? *frames : std::vector<protocol::BatchFrame>{};
  }

  testing::TempDir tmp_;
  ZstdCodec codec_;
  std::unique_ptr<replication::ChunkStore> store_;
  std::vector<uint8_t> text_, media_;
  protocol::ChunkId absent_{};
  std::vector<protocol::ChunkId> ids_;
  std::string body_;
};

TEST_F(RepositoryServiceBatchTest, AClientThatTakesZstdGetsTheCompressedChunkAsStored) {
  auto frames = Ask(protocol::kBatchRequestTypeZstd);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].kind, BatchFrameKind::kChunkZstd);
  EXPECT_LT(frames[0].bytes.size(), text_.size() / 2);
  auto text = codec_.Decompress(frames[0].bytes, text_.size(), text_.size());
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, text_);
  EXPECT_EQ(frames[1].kind, BatchFrameKind::kAbsent);
  EXPECT_EQ(frames[2].kind, BatchFrameKind::kChunk) << "incompressible: stored and sent raw";
  EXPECT_EQ(std::vector<uint8_t>(frames[2].bytes.begin(), frames[2].bytes.end()), media_);
}

TEST_F(RepositoryServiceBatchTest, AnOlderClientGetsEveryChunkAsItsBytes) {
  auto frames = Ask(protocol::kBatchRequestType);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].kind, BatchFrameKind::kChunk);
  EXPECT_EQ(std::vector<uint8_t>(frames[0].bytes.begin(), frames[0].bytes.end()), text_);
  EXPECT_EQ(frames[1].kind, BatchFrameKind::kAbsent);
  EXPECT_EQ(frames[2].kind, BatchFrameKind::kChunk);
}

TEST_F(RepositoryServiceBatchTest, ADamagedStoredChunkIsAbsentNotSent) {
  // Flip a byte of the compressed chunk's payload in its pack file.
  auto loc = store_->Locate(Sha256(text_));
  ASSERT_TRUE(loc.ok());
  const std::string pack = tmp_.Sub("store") + "/packs/pack-" +
                           std::string(8 - std::to_string(loc->pack).size(), '0') +
                           std::to_string(loc->pack) + ".tsp";
  FILE* f = std::fopen(pack.c_str(), "r+b");
  ASSERT_NE(f, nullptr) << pack;
  ASSERT_EQ(std::fseek(f, static_cast<long>(loc->offset + 3), SEEK_SET), 0);
  int c = std::fgetc(f);
  ASSERT_EQ(std::fseek(f, static_cast<long>(loc->offset + 3), SEEK_SET), 0);
  std::fputc(c ^ 0x40, f);
  std::fclose(f);
  for (const char* type : {protocol::kBatchRequestTypeZstd, protocol::kBatchRequestType}) {
    auto frames = Ask(type);
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0].kind, BatchFrameKind::kAbsent) << type;
    EXPECT_EQ(frames[2].kind, BatchFrameKind::kChunk) << type;
  }
}

}  // namespace
}  // namespace tiersync::node
