// Interoperability of the sm2-sm3 scheme with the `openssl` command line tool, both ways, run
// live (crypto_test.cc holds vectors the CLI made once; this test runs the binary each time, so
// a change of OpenSSL's defaults — its SM2 distinguishing ID among them — shows up here).
// Skipped if there is no openssl binary on PATH.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/crypto.h"
#include "base/env.h"

namespace tiersync {
namespace {

// What the test signs: the canonical JSON of a TUF "signed" object, Chinese text included.
constexpr std::string_view kMessage =
    "{\"_type\":\"root\",\"note\":\"国家智慧教育平台\",\"spec_version\":\"1.0.31\",\"version\":2}";
const std::string kDistId = "distid:" + std::string(kSm2DistinguishingId);

class Sm2OpensslCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("openssl version >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "no openssl binary";
    }
    char tmpl[] = "/tmp/tiersync-sm2-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Write("msg", kMessage);
  }
  void TearDown() override {
    if (!dir_.empty()) {
      ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
    }
  }

  std::string Path(const std::string& name) const { return JoinPath(dir_, name); }
  void Write(const std::string& name, std::string_view text) {
    ASSERT_TRUE(WriteFileAtomically(Env::Default(), Path(name), AsBytes(text)).ok());
  }
  void Write(const std::string& name, const std::vector<uint8_t>& bytes) {
    ASSERT_TRUE(WriteFileAtomically(Env::Default(), Path(name), bytes).ok());
  }
  std::vector<uint8_t> Read(const std::string& name) const {
    auto bytes = ReadFileToBytes(Env::Default(), Path(name), 1 << 20);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    return bytes.ok() ? *bytes : std::vector<uint8_t>{};
  }
  std::string ReadText(const std::string& name) const {
    std::vector<uint8_t> b = Read(name);
    return std::string(b.begin(), b.end());
  }
  // Runs `openssl ARGS` in the scratch directory; true if it exited 0.
  bool Openssl(const std::string& args) const {
    std::string cmd = "cd " + dir_ + " && openssl " + args + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  }
  bool OpensslVerifies(const std::string& pub, const std::string& sig, const std::string& id) {
    return Openssl("pkeyutl -verify -rawin -digest sm3 -pubin -inkey " + pub +
                   " -in msg -sigfile " + sig + " -pkeyopt " + id);
  }

  std::string dir_;
};

TEST_F(Sm2OpensslCliTest, OurSignatureVerifiesWithOpenssl) {
  auto key = PrivateKey::Generate("sm2-sm3");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto sig = key->Sign(AsBytes(kMessage));
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  Write("ours.pub", key->Public().public_value());  // keyval.public is the SPKI PEM as it is
  Write("ours.sig", *sig);
  EXPECT_TRUE(OpensslVerifies("ours.pub", "ours.sig", kDistId));
  // The negative control: openssl does check the ID, so the line above proved something.
  EXPECT_FALSE(OpensslVerifies("ours.pub", "ours.sig", "distid:ALICE123@YAHOO.COM"));
}

TEST_F(Sm2OpensslCliTest, OurPrivateKeyFileIsReadByOpenssl) {
  auto key = PrivateKey::Generate("sm2-sm3");
  ASSERT_TRUE(key.ok());
  Write("ours.key", key->ToPem());
  ASSERT_TRUE(Openssl("pkey -in ours.key -pubout -out ours.pub"));
  auto from_cli = PublicKey::FromTuf("sm2", "sm2-sm3", ReadText("ours.pub"));
  ASSERT_TRUE(from_cli.ok()) << from_cli.status().ToString();
  EXPECT_EQ(from_cli->canonical_der(), key->Public().canonical_der());
  ASSERT_TRUE(
      Openssl("pkeyutl -sign -rawin -digest sm3 -inkey ours.key -in msg -out cli.sig "
              "-pkeyopt " +
              kDistId));
  EXPECT_TRUE(key->Public().Verify(AsBytes(kMessage), Read("cli.sig")).ok());
}

TEST_F(Sm2OpensslCliTest, OpensslSignatureVerifiesWithUs) {
  ASSERT_TRUE(Openssl("genpkey -algorithm SM2 -out cli.key"));
  ASSERT_TRUE(Openssl("pkey -in cli.key -pubout -out cli.pub"));
  ASSERT_TRUE(
      Openssl("pkeyutl -sign -rawin -digest sm3 -inkey cli.key -in msg -out cli.sig "
              "-pkeyopt " +
              kDistId));
  auto pub = PublicKey::FromTuf("sm2", "sm2-sm3", ReadText("cli.pub"));
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_TRUE(pub->Verify(AsBytes(kMessage), Read("cli.sig")).ok());
  EXPECT_FALSE(pub->Verify(AsBytes(std::string(kMessage) + " "), Read("cli.sig")).ok());

  // The CLI's private key file loads as ours and signs what the CLI verifies.
  auto key = PrivateKey::FromPem("sm2-sm3", ReadText("cli.key"));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto sig = key->Sign(AsBytes(kMessage));
  ASSERT_TRUE(sig.ok());
  Write("ours.sig", *sig);
  EXPECT_TRUE(OpensslVerifies("cli.pub", "ours.sig", kDistId));
}

TEST_F(Sm2OpensslCliTest, OpensslSignatureUnderAnotherIdIsRefused) {
  ASSERT_TRUE(Openssl("genpkey -algorithm SM2 -out cli.key"));
  ASSERT_TRUE(Openssl("pkey -in cli.key -pubout -out cli.pub"));
  // Without -pkeyopt distid (the CLI's own default) and with another ID.
  ASSERT_TRUE(Openssl("pkeyutl -sign -rawin -digest sm3 -inkey cli.key -in msg -out none.sig"));
  ASSERT_TRUE(
      Openssl("pkeyutl -sign -rawin -digest sm3 -inkey cli.key -in msg -out other.sig "
              "-pkeyopt distid:ALICE123@YAHOO.COM"));
  auto pub = PublicKey::FromTuf("sm2", "sm2-sm3", ReadText("cli.pub"));
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->Verify(AsBytes(kMessage), Read("other.sig")).code(),
            StatusCode::kVerificationFailed);
  // If the CLI's default ever becomes the standard one, this signature is a valid one and
  // the check below says so rather than failing for no reason.
  if (!OpensslVerifies("cli.pub", "none.sig", kDistId)) {
    EXPECT_EQ(pub->Verify(AsBytes(kMessage), Read("none.sig")).code(),
              StatusCode::kVerificationFailed);
  }
}

}  // namespace
}  // namespace tiersync
