#include "bundle/bundle_fetcher.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/mem_env.h"
#include "base/sha256.h"
#include "bundle/bundle_layout.h"
#include "protocol/chunk_batch.h"

namespace tiersync::bundle {
namespace {

constexpr char kDir[] = "/usb/bundle";
constexpr char kUrl[] = "file:///usb/bundle";

class BundleFetcherTest : public ::testing::Test {
 protected:
  BundleFetcherTest() : fetcher_(&env_, kUrl, kDir) {}

  void Put(const std::string& rel, std::string_view bytes) {
    ASSERT_TRUE(CreateDirs(&env_, DirName(JoinPath(kDir, rel))).ok());
    ASSERT_TRUE(WriteFileAtomically(&env_, JoinPath(kDir, rel), AsBytes(bytes)).ok());
  }
  // A chunk of `text` stored in the bundle (or not); its id.
  protocol::ChunkId Chunk(std::string_view text, bool stored = true) {
    const protocol::ChunkId id = Sha256(AsBytes(text));
    if (stored) Put(ChunkFile(id), text);
    return id;
  }
  std::string Get(const std::string& rel) {
    auto r = fetcher_.Fetch(std::string(kUrl) + "/" + rel, 1 << 20);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::string(AsChars(*r)) : "";
  }
  Result<std::vector<uint8_t>> Batch(const std::vector<protocol::ChunkId>& ids,
                                     size_t max = 1 << 20) {
    return fetcher_.Post(std::string(kUrl) + "/v1/chunks/batch", protocol::kBatchRequestTypeZstd,
                         protocol::EncodeBatchRequest(ids), max);
  }

  MemEnv env_;
  BundleFetcher fetcher_;
};

TEST_F(BundleFetcherTest, GetsTheFilesOfTheUrlLayout) {
  Put("v1/metadata/timestamp.json", "ts");
  Put("v1/metadata/2.root.json", "root2");
  Put("v1/targets/catalog/ab.manifest.txt", "manifest");
  Put("v1/catalog.git/info-refs", "advertisement");
  EXPECT_EQ(Get("v1/metadata/timestamp.json"), "ts");
  EXPECT_EQ(Get("v1/metadata/2.root.json"), "root2");
  EXPECT_EQ(Get("v1/targets/catalog/ab.manifest.txt"), "manifest");
  EXPECT_EQ(Get("v1/catalog.git/info/refs?service=git-upload-pack"), "advertisement");
}

TEST_F(BundleFetcherTest, MissingFileIsNotFoundAndTheSources) {
  auto r = fetcher_.Fetch(std::string(kUrl) + "/v1/metadata/3.root.json", 100);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(r.status().remote());  // a bundle's gap is the source's, not this node's
}

TEST_F(BundleFetcherTest, NothingOutsideTheBundle) {
  Put("tiersync-bundle.json", "{}");
  ASSERT_TRUE(WriteFileAtomically(&env_, "/usb/secret", AsBytes("no")).ok());
  for (const std::string& url :
       {std::string(kUrl) + "/v1/metadata/../../secret",
        std::string(kUrl) + "/v1/metadata/%2e%2e/x", std::string(kUrl) + "/tiersync-bundle.json",
        std::string("file:///usb/other/v1/metadata/a"), std::string(kUrl) + "x/v1/metadata/a"}) {
    EXPECT_EQ(fetcher_.Fetch(url, 100).status().code(), StatusCode::kNotFound) << url;
  }
}

TEST_F(BundleFetcherTest, OversizeFileIsCut) {
  Put("v1/metadata/timestamp.json", std::string(200, 'x'));
  EXPECT_EQ(fetcher_.Fetch(std::string(kUrl) + "/v1/metadata/timestamp.json", 100).status().code(),
            StatusCode::kResourceExhausted);
}

TEST_F(BundleFetcherTest, UploadPackAnswersTheRecording) {
  Put("v1/catalog.git/upload-pack", "0008NAK\nPACK...");
  auto r = fetcher_.Post(std::string(kUrl) + "/v1/catalog.git/git-upload-pack",
                         "application/x-git-upload-pack-request", AsBytes("anything"), 1 << 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(AsChars(*r), "0008NAK\nPACK...");
  EXPECT_EQ(
      fetcher_.Post(std::string(kUrl) + "/v1/reports", "application/json", {}, 100).status().code(),
      StatusCode::kNotFound);
}

TEST_F(BundleFetcherTest, ChunkBatchFromChunkFiles) {
  const auto a = Chunk("first chunk");
  const auto b = Chunk("second chunk");
  const auto absent = Chunk("not in the bundle", false);
  const std::vector<protocol::ChunkId> ids = {a, absent, b};
  auto body = Batch(ids);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  auto frames = protocol::DecodeBatchResponse(*body, ids);
  ASSERT_TRUE(frames.ok()) << frames.status().ToString();
  ASSERT_EQ(frames->size(), 3u);
  EXPECT_EQ((*frames)[0].kind, protocol::BatchFrameKind::kChunk);
  EXPECT_EQ(AsChars((*frames)[0].bytes), "first chunk");
  EXPECT_EQ((*frames)[1].kind, protocol::BatchFrameKind::kAbsent);
  EXPECT_EQ((*frames)[2].kind, protocol::BatchFrameKind::kChunk);
  EXPECT_EQ(AsChars((*frames)[2].bytes), "second chunk");
}

// The fetcher never checks content: a flipped byte reaches the sync, which refuses it.
TEST_F(BundleFetcherTest, DamagedChunkIsDeliveredForTheSyncToRefuse) {
  const auto a = Chunk("a chunk");
  Put(ChunkFile(a), "a chunK");
  auto body = Batch({a});
  ASSERT_TRUE(body.ok());
  auto frames = protocol::DecodeBatchResponse(*body, std::vector<protocol::ChunkId>{a});
  ASSERT_TRUE(frames.ok());
  EXPECT_NE(Sha256((*frames)[0].bytes), a);
}

TEST_F(BundleFetcherTest, BatchPastTheCapIsNotSent) {
  const auto a = Chunk(std::string(100, 'a'));
  const auto b = Chunk(std::string(100, 'b'));
  const std::vector<protocol::ChunkId> ids = {a, b};
  auto body = Batch(ids, protocol::kBatchHeaderBytes + protocol::kBatchFrameHeaderBytes * 2 + 150);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  auto frames = protocol::DecodeBatchResponse(*body, ids);
  ASSERT_TRUE(frames.ok());
  EXPECT_EQ((*frames)[0].kind, protocol::BatchFrameKind::kChunk);
  EXPECT_EQ((*frames)[1].kind, protocol::BatchFrameKind::kNotSent);
}

TEST_F(BundleFetcherTest, MalformedBatchRequest) {
  auto r = fetcher_.Post(std::string(kUrl) + "/v1/chunks/batch", protocol::kBatchRequestType,
                         AsBytes("short"), 1 << 20);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().remote());
}

}  // namespace
}  // namespace tiersync::bundle
