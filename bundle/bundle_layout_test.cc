#include "bundle/bundle_layout.h"

#include <gtest/gtest.h>

namespace tiersync::bundle {
namespace {

BundleManifest Sample() {
  BundleManifest m;
  m.release = "r7";
  m.version = 12;
  m.files = 3;
  m.bytes = 12345;
  m.chunks = 9;
  m.created_at = 1'700'000'000;
  m.exported_from = "西湖区教育局";
  m.subscription = "stage = 小学";
  m.delta_from = "r6";
  return m;
}

TEST(BundleManifestTest, RoundTrip) {
  const std::string text = EncodeManifest(Sample());
  auto back = DecodeManifest(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, Sample());
  EXPECT_EQ(EncodeManifest(*back), text);
}

TEST(BundleManifestTest, WholeBundleNeedsNoDeltaField) {
  std::string text = EncodeManifest(Sample());
  text.replace(text.find("\"delta_from\": \"r6\","), 19, "");
  auto back = DecodeManifest(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << text;
  EXPECT_EQ(back->delta_from, "");
}

TEST(BundleManifestTest, NotJson) {
  EXPECT_EQ(DecodeManifest("not json").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeManifest("[1]").status().code(), StatusCode::kInvalidArgument);
}

TEST(BundleManifestTest, OtherFormatIsNotABundle) {
  EXPECT_EQ(DecodeManifest(R"({"format": "tiersync-release 1"})").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(BundleManifestTest, NewerFormatSaysUpgrade) {
  auto r = DecodeManifest(R"({"format": "tiersync-bundle 2"})");
  EXPECT_EQ(r.status().code(), StatusCode::kNewerFormat);
  EXPECT_NE(r.status().message().find("upgrade"), std::string::npos);
}

TEST(BundleManifestTest, MissingField) {
  std::string text = EncodeManifest(Sample());
  text.replace(text.find("\"chunks\""), 8, "\"chunkz\"");
  EXPECT_EQ(DecodeManifest(text).status().code(), StatusCode::kInvalidArgument);
}

TEST(BundleLayoutTest, FilesOfIds) {
  protocol::ChunkId id{};
  id[0] = 0xab;
  id[31] = 0x01;
  EXPECT_EQ(ChunkFile(id), "v1/chunks/ab" + std::string(60, '0') + "01");
  EXPECT_EQ(IndexFile(id), "v1/indexes/ab" + std::string(60, '0') + "01");
}

TEST(BundleLayoutTest, GetsMapToTheUrlLayout) {
  EXPECT_EQ(*FileForGet("v1/metadata/timestamp.json"), "v1/metadata/timestamp.json");
  EXPECT_EQ(*FileForGet("v1/metadata/3.root.json"), "v1/metadata/3.root.json");
  EXPECT_EQ(*FileForGet("v1/targets/catalog/ab.manifest.txt"),
            "v1/targets/catalog/ab.manifest.txt");
  const std::string hex(64, 'a');
  bool content_addressed = false;
  EXPECT_EQ(*FileForGet("v1/indexes/" + hex, &content_addressed), "v1/indexes/" + hex);
  EXPECT_TRUE(content_addressed);
  EXPECT_EQ(*FileForGet("v1/chunks/" + hex, &content_addressed), "v1/chunks/" + hex);
  EXPECT_TRUE(content_addressed);
  EXPECT_EQ(*FileForGet("v1/metadata/timestamp.json", &content_addressed),
            "v1/metadata/timestamp.json");
  EXPECT_FALSE(content_addressed);
  EXPECT_EQ(*FileForGet("v1/catalog.git/info/refs?service=git-upload-pack"),
            "v1/catalog.git/info-refs");
}

TEST(BundleLayoutTest, WhatABundleNeverHolds) {
  for (const char* request :
       {"tiersync-bundle.json", "v1/status", "v1/metadata", "v1/metadata/", "v1/metadatax/a",
        "v1/catalog.git/upload-pack", "v1/catalog.git/info-refs",
        "v1/catalog.git/info/refs?service=git-receive-pack", "v1/chunks/ab?x=1", "v1/events",
        "v1/chunks/00", "v1/indexes/ab",
        "v1/chunks/../indexes/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "v1/chunks/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
    EXPECT_EQ(FileForGet(request).status().code(), StatusCode::kNotFound) << request;
  }
}

}  // namespace
}  // namespace tiersync::bundle
