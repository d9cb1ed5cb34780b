#include "bundle/bundle_import.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/mem_env.h"

namespace tiersync::bundle {
namespace {

const Status kNoSource =
    UnavailableError("1 chunks could not be fetched from any source").AsRemote();

TEST(ImportErrorTest, RejectionIsAVerificationFailure) {
  Status s = ImportError(kNoSource,
                         {"bundle (file:///b): chunk ab: bytes do not match the id",
                          "bundle (file:///b): chunk cd: bytes do not match the id"},
                         0);
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
  EXPECT_NE(s.message().find("chunk ab: bytes do not match"), std::string::npos);
  EXPECT_NE(s.message().find("nothing was switched"), std::string::npos);
}

TEST(ImportErrorTest, RejectionWinsOverLack) {
  EXPECT_EQ(ImportError(kNoSource, {"bundle: x"}, 3).code(), StatusCode::kVerificationFailed);
}

TEST(ImportErrorTest, LackSaysWhatToExport) {
  Status s = ImportError(kNoSource, {}, 2);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("subscription"), std::string::npos);
  EXPECT_NE(s.message().find(kNoSource.message()), std::string::npos);
}

TEST(ImportErrorTest, LocalFailureStaysAsItIs) {
  const Status disk = ResourceExhaustedError("no space left on device").AsLocal();
  EXPECT_EQ(ImportError(disk, {"bundle: x"}, 1).code(), StatusCode::kResourceExhausted);
}

TEST(ImportErrorTest, MetadataVerificationFailureKeepsItsCode) {
  const Status expired = VerificationError("expired: timestamp expired").AsRemote();
  EXPECT_EQ(ImportError(expired, {}, 0).code(), StatusCode::kVerificationFailed);
}

TEST(ImportErrorTest, OtherFailureUnchanged) {
  EXPECT_EQ(ImportError(kNoSource, {}, 0).code(), StatusCode::kUnavailable);
}

// A directory without tiersync-bundle.json (not a bundle, or an export that did not finish)
// is refused before the node is touched.
TEST(ImportBundleTest, IncompleteBundleRefusedFirst) {
  MemEnv env;
  ASSERT_TRUE(CreateDirs(&env, "/usb/b/v1/metadata").ok());
  auto r = ImportBundle(&env, {"/no/node/here", "/usb/b", nullptr});
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("not a complete tiersync bundle"), std::string::npos);
}

TEST(ImportBundleTest, NewerBundleFormatSaysUpgrade) {
  MemEnv env;
  ASSERT_TRUE(CreateDirs(&env, "/usb/b").ok());
  ASSERT_TRUE(WriteFileAtomically(&env, "/usb/b/tiersync-bundle.json",
                                  AsBytes(R"({"format": "tiersync-bundle 2"})"))
                  .ok());
  auto r = ImportBundle(&env, {"/no/node/here", "/usb/b", nullptr});
  EXPECT_EQ(r.status().code(), StatusCode::kNewerFormat);
}

}  // namespace
}  // namespace tiersync::bundle
