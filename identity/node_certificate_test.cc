#include "identity/node_certificate.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/bytes.h"
#include "identity/test_federation.h"

namespace tiersync::identity {
namespace {

using identity_testing::Child;
using identity_testing::kDay;
using identity_testing::kNow;
using identity_testing::NationalCa;
using identity_testing::NewKey;
using identity_testing::TestFederation;

TEST(NodeCertificateTest, NationalCaIsSelfIssued) {
  identity_testing::TestNode ca = NationalCa();
  const NodeCertificate& c = ca.cert;
  EXPECT_EQ(c.identity(), (NodeIdentity{"national", "000000", "national-ca"}));
  EXPECT_EQ(c.issuer(), c.identity());
  EXPECT_TRUE(c.is_ca());
  EXPECT_EQ(c.serial().size(), 32u);
  EXPECT_EQ(c.fingerprint().size(), 64u);
  EXPECT_EQ(c.not_before(), kNow - kDay);
  EXPECT_EQ(c.not_after(), kNow + 365 * kDay);
  EXPECT_EQ(c.public_key().canonical_der(), ca.key.Public().canonical_der());
}

TEST(NodeCertificateTest, ProfileExtensions) {
  TestFederation f;
  X509* school = f.school.cert.x509();
  X509* county = f.county.cert.x509();
  EXPECT_EQ(X509_get_extension_flags(school) & EXFLAG_CA, 0u);
  EXPECT_NE(X509_get_extension_flags(county) & EXFLAG_CA, 0u);
  EXPECT_EQ(X509_get_pathlen(county), 0);
  EXPECT_EQ(X509_get_pathlen(f.province.cert.x509()), 2);
  EXPECT_EQ(X509_get_key_usage(school), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_key_usage(county),
            static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_EQ(X509_get_extended_key_usage(school),
            static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  for (int nid : {NID_basic_constraints, NID_key_usage}) {
    int at = X509_get_ext_by_NID(school, nid, -1);
    ASSERT_GE(at, 0);
    EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(school, at)), 1) << nid;
  }
  // authorityKeyIdentifier names the issuer's subjectKeyIdentifier.
  ASSERT_NE(X509_get0_authority_key_id(school), nullptr);
  EXPECT_EQ(
      ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(school), X509_get0_subject_key_id(county)),
      0);
  EXPECT_EQ(f.school.cert.issuer(), f.county.cert.identity());
}

TEST(NodeCertificateTest, SerialsAreRandom) {
  TestFederation f;
  EXPECT_NE(f.school.cert.serial(), f.county.cert.serial());
  EXPECT_NE(f.city.cert.serial(), f.province.cert.serial());
}

TEST(NodeCertificateTest, PemAndDerRoundTrip) {
  TestFederation f;
  Result<NodeCertificate> pem = NodeCertificate::FromPem(f.school.cert.ToPem());
  ASSERT_TRUE(pem.ok()) << pem.status().ToString();
  EXPECT_EQ(pem->der(), f.school.cert.der());
  EXPECT_EQ(pem->identity(), f.school.cert.identity());
  EXPECT_EQ(pem->serial(), f.school.cert.serial());
  Result<NodeCertificate> der = NodeCertificate::FromDer(AsBytes(f.school.cert.der()));
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  EXPECT_EQ(der->fingerprint(), f.school.cert.fingerprint());

  Result<std::vector<NodeCertificate>> chain =
      NodeCertificate::ChainFromPem(f.school.cert.ToPem() + f.county.cert.ToPem());
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[1].identity().name, "xihu");
  EXPECT_FALSE(NodeCertificate::FromPem(f.school.cert.ToPem() + f.county.cert.ToPem()).ok());
}

TEST(NodeCertificateTest, GarbageIsRefused) {
  EXPECT_EQ(NodeCertificate::FromPem("hello").status().message(), "no PEM certificate");
  std::string der = TestFederation().school.cert.der();
  EXPECT_FALSE(NodeCertificate::FromDer(AsBytes(der.substr(0, der.size() - 1))).ok());
  EXPECT_FALSE(NodeCertificate::FromDer(AsBytes(der + "x")).ok());
}

TEST(NodeCertificateTest, IssueChecksScopeAndKey) {
  TestFederation f;
  PrivateKey key = NewKey();
  Status wrong_province = Issue(f.province.cert, f.province.key, {"county", "320106", "gulou"},
                                key.Public(), kNow, kNow + kDay)
                              .status();
  EXPECT_EQ(wrong_province.message(),
            "county 'gulou' (320106) is not inside its issuer province 'zhejiang' (330000)");
  Status wrong_key =
      Issue(f.province.cert, f.city.key, {"county", "330106", "x"}, key.Public(), kNow, kNow + kDay)
          .status();
  EXPECT_EQ(wrong_key.message(), "the signing key is not the key of province 'zhejiang' (330000)");
  Status school_issues =
      Issue(f.school.cert, f.school.key, {"school", "330106", "x"}, key.Public(), kNow, kNow + kDay)
          .status();
  EXPECT_EQ(school_issues.message(), "school 'xihu-no1' (330106) cannot issue certificates");
  EXPECT_FALSE(
      Issue(f.county.cert, f.county.key, {"school", "330106", "x"}, key.Public(), kNow, kNow).ok());
}

TEST(NodeCertificateTest, NotAfterIsCutToTheIssuers) {
  TestFederation f;
  PrivateKey key = NewKey();
  Result<NodeCertificate> c = Issue(f.county.cert, f.county.key, {"school", "330106", "long"},
                                    key.Public(), kNow, kNow + 1000 * kDay);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->not_after(), f.county.cert.not_after());
}

TEST(NodeCertificateTest, KeyTypes) {
  for (const char* scheme : {"ed25519", "ecdsa-sha2-nistp256", "sm2-sm3"}) {
    TestFederation f(scheme);
    EXPECT_EQ(f.school.cert.public_key().scheme(), scheme);
    EXPECT_EQ(f.national.cert.public_key().scheme(), scheme);
  }
  // RSA keys are not node keys.
  identity_testing::TestNode ca = NationalCa();
  Result<PrivateKey> rsa = PrivateKey::Generate("rsassa-pss-sha256");
  ASSERT_TRUE(rsa.ok());
  EXPECT_EQ(Issue(ca.cert, ca.key, {"province", "330000", "zj"}, rsa->Public(), kNow, kNow + kDay)
                .status()
                .code(),
            StatusCode::kNotSupported);
}

TEST(NodeCertificateTest, Sm2CertificatesAreSignedWithSm3AndTheStandardId) {
  TestFederation f("ed25519", "sm2-sm3");  // an SM2 national CA, ed25519 below it
  const X509_ALGOR* alg = nullptr;
  X509_get0_signature(nullptr, &alg, f.province.cert.x509());
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, alg);
  EXPECT_EQ(OBJ_obj2nid(oid), NID_SM2_with_SM3);
  // The signature verifies under the national CA's key (the ID is attached when parsed).
  Result<NodeCertificate> parsed = NodeCertificate::FromPem(f.province.cert.ToPem());
  ASSERT_TRUE(parsed.ok());
  EVP_PKEY* ca_key = X509_get0_pubkey(f.national.cert.x509());
  EXPECT_EQ(X509_verify(parsed->x509(), ca_key), 1);
}

TEST(NodeCertificateTest, ChineseNames) {
  identity_testing::TestNode ca = NationalCa();
  identity_testing::TestNode p = Child(ca, {"province", "330000", "浙江省教育厅"});
  Result<NodeCertificate> parsed = NodeCertificate::FromPem(p.cert.ToPem());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->identity().name, "浙江省教育厅");
}

}  // namespace
}  // namespace tiersync::identity
