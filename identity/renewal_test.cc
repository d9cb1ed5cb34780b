#include "identity/renewal.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "identity/chain_verify.h"
#include "identity/enrollment_request.h"
#include "identity/test_federation.h"

namespace tiersync::identity {
namespace {

using identity_testing::kDay;
using identity_testing::kNow;
using identity_testing::NewKey;
using identity_testing::TestFederation;

class RenewalTest : public ::testing::Test {
 protected:
  std::vector<NodeCertificate> SchoolChain() const {
    return {f_.school.cert, f_.county.cert, f_.city.cert, f_.province.cert};
  }
  std::string Request(const PrivateKey& key, const NodeIdentity& id) {
    Result<std::string> pem = MakeEnrollmentRequest(key, id);
    EXPECT_TRUE(pem.ok());
    return pem.ok() ? *pem : "";
  }
  Result<NodeCertificate> RenewSchool(std::string_view pem, std::span<const uint8_t> rotation = {},
                                      int64_t now = kNow) {
    std::vector<NodeCertificate> chain = SchoolChain();
    return Renew(f_.county.cert, f_.county.key, {chain, pem, rotation}, f_.Roots(), revocations_,
                 now);
  }

  TestFederation f_;
  RevocationSet revocations_;
};

TEST(ShouldRenewTest, LastThird) {
  TestFederation f;
  const NodeCertificate& c = f.school.cert;  // 30 days from kNow - 1 day
  EXPECT_FALSE(ShouldRenew(c, c.not_before()));
  EXPECT_FALSE(ShouldRenew(c, c.not_before() + 20 * kDay - 1));
  EXPECT_TRUE(ShouldRenew(c, c.not_before() + 20 * kDay));
  EXPECT_TRUE(ShouldRenew(c, c.not_after() + 1));
}

TEST_F(RenewalTest, SameKey) {
  Result<NodeCertificate> renewed = RenewSchool(Request(f_.school.key, f_.school.cert.identity()));
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_EQ(renewed->identity(), f_.school.cert.identity());
  EXPECT_NE(renewed->serial(), f_.school.cert.serial());
  EXPECT_EQ(renewed->not_before(), kNow - kNotBeforeBackdateSeconds);
  EXPECT_TRUE(VerifyNodeChain(*renewed, f_.Intermediates(), f_.Roots(), kNow, revocations_).ok());
  // A renewing node whose clock is a second behind its issuer's accepts it.
  EXPECT_TRUE(
      VerifyNodeChain(*renewed, f_.Intermediates(), f_.Roots(), kNow - 1, revocations_).ok());
}

TEST_F(RenewalTest, NewKeyNeedsTheCurrentKeysSignature) {
  PrivateKey next = NewKey("ecdsa-sha2-nistp256");
  std::string pem = Request(next, f_.school.cert.identity());
  Status none = RenewSchool(pem).status();
  EXPECT_EQ(none.code(), StatusCode::kVerificationFailed);
  EXPECT_EQ(none.message(), "the request has a new key but no signature by the current key");
  Result<EnrollmentRequest> req = ParseEnrollmentRequest(pem);
  ASSERT_TRUE(req.ok());
  Result<std::vector<uint8_t>> by_other = next.Sign(AsBytes(req->der));
  ASSERT_TRUE(by_other.ok());
  EXPECT_EQ(RenewSchool(pem, *by_other).status().code(), StatusCode::kVerificationFailed);
  Result<std::vector<uint8_t>> by_current = f_.school.key.Sign(AsBytes(req->der));
  ASSERT_TRUE(by_current.ok());
  Result<NodeCertificate> renewed = RenewSchool(pem, *by_current);
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_EQ(renewed->public_key().canonical_der(), next.Public().canonical_der());
}

TEST_F(RenewalTest, RevokedCertificateIsNotRenewed) {
  RevocationList list{f_.county.cert.fingerprint(), 1, kNow, {}};
  list.revoked.push_back({f_.school.cert.serial(), f_.school.cert.identity(), kNow, "stolen"});
  Result<std::string> text = SignRevocationList(list, f_.county.cert, f_.county.key);
  ASSERT_TRUE(text.ok());
  ASSERT_TRUE(revocations_.Add(*text, f_.county.cert).ok());
  Status s = RenewSchool(Request(f_.school.key, f_.school.cert.identity())).status();
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
  EXPECT_EQ(s.message(),
            "current certificate: certificate of school 'xihu-no1' (330106) revoked by county "
            "'xihu' (330106) at 2026-01-01T00:00:00Z: stolen");
}

TEST_F(RenewalTest, ExpiredCertificateIsNotRenewed) {
  Status s = RenewSchool(Request(f_.school.key, f_.school.cert.identity()), {},
                         f_.school.cert.not_after() + 1)
                 .status();
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
}

TEST_F(RenewalTest, OtherIdentityIsRefused) {
  Status s = RenewSchool(Request(f_.school.key, {"school", "330106", "other"})).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "the request asks for school 'other' (330106), the current certificate is school "
            "'xihu-no1' (330106)");
}

TEST_F(RenewalTest, OnlyTheIssuerRenews) {
  std::vector<NodeCertificate> chain = SchoolChain();
  std::string pem = Request(f_.school.key, f_.school.cert.identity());
  Status s =
      Renew(f_.city.cert, f_.city.key, {chain, pem, {}}, f_.Roots(), revocations_, kNow).status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tiersync::identity
