#include "identity/enrollment_request.h"

#include <gtest/gtest.h>

#include "identity/test_federation.h"

namespace tiersync::identity {
namespace {

using identity_testing::kSchool;
using identity_testing::NewKey;

TEST(EnrollmentRequestTest, RoundTripForEveryKeyType) {
  for (const char* scheme : {"ed25519", "ecdsa-sha2-nistp256", "sm2-sm3"}) {
    PrivateKey key = NewKey(scheme);
    Result<std::string> pem = MakeEnrollmentRequest(key, kSchool);
    ASSERT_TRUE(pem.ok()) << pem.status().ToString();
    EXPECT_TRUE(pem->starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
    Result<EnrollmentRequest> req = ParseEnrollmentRequest(*pem);
    ASSERT_TRUE(req.ok()) << scheme << ": " << req.status().ToString();
    EXPECT_EQ(req->identity, kSchool);
    EXPECT_EQ(req->key.canonical_der(), key.Public().canonical_der());
    EXPECT_FALSE(req->der.empty());
  }
}

TEST(EnrollmentRequestTest, TamperedSignatureIsNoProofOfPossession) {
  for (const char* scheme : {"ed25519", "sm2-sm3"}) {
    Result<std::string> pem = MakeEnrollmentRequest(NewKey(scheme), kSchool);
    ASSERT_TRUE(pem.ok());
    // Flip a base64 character inside the signature (the end of the body).
    std::string bad = *pem;
    size_t end = bad.find("-----END");
    size_t at = end - 5;
    bad[at] = bad[at] == 'A' ? 'B' : 'A';
    Result<EnrollmentRequest> req = ParseEnrollmentRequest(bad);
    ASSERT_FALSE(req.ok()) << scheme;
    EXPECT_EQ(req.status().code(), StatusCode::kVerificationFailed) << req.status().ToString();
  }
}

TEST(EnrollmentRequestTest, MalformedInputs) {
  EXPECT_EQ(ParseEnrollmentRequest("nothing").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(MakeEnrollmentRequest(NewKey(), {"school", "330106", ""}).ok());
  Result<PrivateKey> rsa = PrivateKey::Generate("rsassa-pss-sha256");
  ASSERT_TRUE(rsa.ok());
  EXPECT_EQ(MakeEnrollmentRequest(*rsa, kSchool).status().code(), StatusCode::kNotSupported);
}

}  // namespace
}  // namespace tiersync::identity
