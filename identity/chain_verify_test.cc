#include "identity/chain_verify.h"

#include <gtest/gtest.h>

#include "identity/revocation.h"
#include "identity/test_federation.h"

namespace tiersync::identity {
namespace {

using identity_testing::Child;
using identity_testing::kDay;
using identity_testing::kNow;
using identity_testing::NationalCa;
using identity_testing::NewKey;
using identity_testing::TestFederation;
using identity_testing::TestNode;

const RevocationSet kNoRevocations;

Result<VerifiedChain> VerifySchool(const TestFederation& f, int64_t now = kNow,
                                   const RevocationSet& revocations = kNoRevocations) {
  return VerifyNodeChain(f.school.cert, f.Intermediates(), f.Roots(), now, revocations);
}

void ExpectRefused(const Result<VerifiedChain>& r, const std::string& message) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kVerificationFailed);
  EXPECT_EQ(r.status().message(), message);
}

// A revocation list of `issuer` revoking `victim`.
std::string ListRevoking(const TestNode& issuer, const NodeCertificate& victim,
                         uint64_t version = 1) {
  RevocationList list{issuer.cert.fingerprint(), version, kNow, {}};
  list.revoked.push_back({victim.serial(), victim.identity(), kNow - 60, "key compromise"});
  Result<std::string> text = SignRevocationList(list, issuer.cert, issuer.key);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *text : "";
}

TEST(ChainVerifyTest, FiveTiersVerify) {
  TestFederation f;
  Result<VerifiedChain> v = VerifySchool(f);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->identity, (NodeIdentity{"school", "330106", "xihu-no1"}));
  ASSERT_EQ(v->chain.size(), 5u);
  EXPECT_EQ(v->chain[0].fingerprint(), f.school.cert.fingerprint());
  EXPECT_EQ(v->chain[4].fingerprint(), f.national.cert.fingerprint());
  // Each CA verifies on its own as well; the national CA is its own chain.
  EXPECT_TRUE(
      VerifyNodeChain(f.city.cert, f.Intermediates(), f.Roots(), kNow, kNoRevocations).ok());
  EXPECT_TRUE(VerifyNodeChain(f.national.cert, {}, f.Roots(), kNow, kNoRevocations).ok());
}

TEST(ChainVerifyTest, IntermediatesInAnyOrderWithExtras) {
  TestFederation f;
  TestFederation other;
  std::vector<NodeCertificate> mixed = {other.city.cert, f.province.cert, f.county.cert,
                                        other.county.cert, f.city.cert};
  EXPECT_TRUE(VerifyNodeChain(f.school.cert, mixed, f.Roots(), kNow, kNoRevocations).ok());
}

TEST(ChainVerifyTest, MissingIntermediate) {
  TestFederation f;
  std::vector<NodeCertificate> partial = {f.county.cert, f.province.cert};
  ExpectRefused(VerifyNodeChain(f.school.cert, partial, f.Roots(), kNow, kNoRevocations),
                "certificate of county 'xihu' (330106) is not issued under the national "
                "identity CA (unable to get local issuer certificate)");
}

TEST(ChainVerifyTest, ProvinceCannotVouchForAnotherProvincesCounty) {
  TestFederation f;
  TestNode jiangsu = Child(f.national, {"province", "320000", "jiangsu"});
  // CheckScope refuses before signing...
  PrivateKey key = NewKey();
  EXPECT_EQ(Issue(jiangsu.cert, jiangsu.key, {"county", "330106", "xihu"}, key.Public(), kNow,
                  kNow + kDay)
                .status()
                .message(),
            "county 'xihu' (330106) is not inside its issuer province 'jiangsu' (320000)");
  // ...and a certificate forged past it (valid signature, wrong scope) does not verify.
  Result<NodeCertificate> forged =
      IssueUnchecked(jiangsu.cert, jiangsu.key, {"county", "330106", "xihu"}, key.Public(),
                     kNow - kDay, kNow + kDay);
  ASSERT_TRUE(forged.ok()) << forged.status().ToString();
  std::vector<NodeCertificate> intermediates = {jiangsu.cert};
  ExpectRefused(VerifyNodeChain(*forged, intermediates, f.Roots(), kNow, kNoRevocations),
                "certificate of county 'xihu' (330106) is not inside its issuer province 'jiangsu' "
                "(320000)");
}

TEST(ChainVerifyTest, TierInversionIsRefused) {
  TestFederation f;
  PrivateKey key = NewKey();
  // A county certifying a city below its own region: the signature is fine, the tier is not.
  Result<NodeCertificate> forged =
      IssueUnchecked(f.county.cert, f.county.key, {"city", "330100", "hangzhou-2"}, key.Public(),
                     kNow - kDay, kNow + kDay);
  ASSERT_TRUE(forged.ok()) << forged.status().ToString();
  ExpectRefused(VerifyNodeChain(*forged, f.Intermediates(), f.Roots(), kNow, kNoRevocations),
                "certificate of city 'hangzhou-2' (330100) is not below its issuer county "
                "'xihu' (330106)");
  // The same tier is not below either: a province issuing a province.
  Result<NodeCertificate> sibling =
      IssueUnchecked(f.province.cert, f.province.key, {"province", "330000", "zj-2"}, key.Public(),
                     kNow - kDay, kNow + kDay);
  ASSERT_TRUE(sibling.ok());
  EXPECT_FALSE(VerifyNodeChain(*sibling, f.Intermediates(), f.Roots(), kNow, kNoRevocations).ok());
}

TEST(ChainVerifyTest, SchoolCannotIssue) {
  TestFederation f;
  PrivateKey key = NewKey();
  Result<NodeCertificate> forged =
      IssueUnchecked(f.school.cert, f.school.key, {"school", "330106", "sub"}, key.Public(),
                     kNow - kDay, kNow + kDay);
  ASSERT_TRUE(forged.ok());
  std::vector<NodeCertificate> intermediates = {f.school.cert, f.county.cert, f.city.cert,
                                                f.province.cert};
  Result<VerifiedChain> r =
      VerifyNodeChain(*forged, intermediates, f.Roots(), kNow, kNoRevocations);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kVerificationFailed);
}

// A school certificate valid from `not_before` to `not_after`, under f's county.
NodeCertificate SchoolValid(const TestFederation& f, int64_t not_before, int64_t not_after) {
  Result<NodeCertificate> c = Issue(f.county.cert, f.county.key, f.school.cert.identity(),
                                    f.school.key.Public(), not_before, not_after);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c).value();
}

TEST(ChainVerifyTest, Expired) {
  TestFederation f;
  NodeCertificate school = SchoolValid(f, kNow - kDay, kNow - kDay / 2);
  ExpectRefused(VerifyNodeChain(school, f.Intermediates(), f.Roots(), kNow, kNoRevocations),
                "certificate of school 'xihu-no1' (330106) expired on 2025-12-31T12:00:00Z");
  // The control: the same chain verifies while the certificate is valid.
  EXPECT_TRUE(
      VerifyNodeChain(school, f.Intermediates(), f.Roots(), kNow - kDay * 3 / 4, kNoRevocations)
          .ok());
}

TEST(ChainVerifyTest, NotYetValid) {
  TestFederation f;
  NodeCertificate school = SchoolValid(f, kNow + kDay, kNow + 10 * kDay);
  ExpectRefused(VerifyNodeChain(school, f.Intermediates(), f.Roots(), kNow, kNoRevocations),
                "certificate of school 'xihu-no1' (330106) is not valid before "
                "2026-01-02T00:00:00Z");
}

TEST(ChainVerifyTest, ExpiredIntermediate) {
  TestFederation f;
  PrivateKey key = NewKey();
  Result<NodeCertificate> old_city =
      Issue(f.province.cert, f.province.key, {"city", "330100", "hangzhou"}, f.city.key.Public(),
            kNow - 10 * kDay, kNow - kDay);
  ASSERT_TRUE(old_city.ok());
  std::vector<NodeCertificate> intermediates = {f.county.cert, *old_city, f.province.cert};
  ExpectRefused(VerifyNodeChain(f.school.cert, intermediates, f.Roots(), kNow, kNoRevocations),
                "certificate of city 'hangzhou' (330100) expired on 2025-12-31T00:00:00Z");
}

TEST(ChainVerifyTest, ForgedSignature) {
  TestFederation f;
  // Names the county as its issuer (DN and key identifier) but is signed by another key.
  PrivateKey forger = NewKey();
  PrivateKey key = NewKey();
  Result<NodeCertificate> forged =
      IssueUnchecked(f.county.cert, forger, {"school", "330106", "xihu-no1"}, key.Public(),
                     kNow - kDay, kNow + kDay);
  ASSERT_TRUE(forged.ok());
  ExpectRefused(VerifyNodeChain(*forged, f.Intermediates(), f.Roots(), kNow, kNoRevocations),
                "certificate of school 'xihu-no1' (330106): signature does not verify");
}

TEST(ChainVerifyTest, SelfSignedImpostorNational) {
  TestFederation f;
  TestNode impostor = NationalCa();  // same name, another key
  TestNode province = Child(impostor, {"province", "330000", "zhejiang"});
  std::vector<NodeCertificate> intermediates = {impostor.cert};
  ExpectRefused(
      VerifyNodeChain(province.cert, intermediates, f.Roots(), kNow, kNoRevocations),
      "certificate of national 'national-ca' (000000) is not issued under the national identity "
      "CA (self-signed certificate in certificate chain)");
  ExpectRefused(VerifyNodeChain(impostor.cert, {}, f.Roots(), kNow, kNoRevocations),
                "certificate of national 'national-ca' (000000) is not issued under the "
                "national identity CA (self-signed certificate)");
}

TEST(ChainVerifyTest, TrustedMustBeNational) {
  TestFederation f;
  std::vector<NodeCertificate> trusted = {f.province.cert};
  Result<VerifiedChain> r =
      VerifyNodeChain(f.school.cert, f.Intermediates(), trusted, kNow, kNoRevocations);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyNodeChain(f.school.cert, f.Intermediates(), {}, kNow, kNoRevocations)
                .status()
                .message(),
            "no trusted national identity CA");
}

TEST(ChainVerifyTest, RevokedLeaf) {
  TestFederation f;
  RevocationSet set;
  ASSERT_TRUE(set.Add(ListRevoking(f.county, f.school.cert), f.county.cert).ok());
  ExpectRefused(VerifySchool(f, kNow, set),
                "certificate of school 'xihu-no1' (330106) revoked by county 'xihu' (330106) at "
                "2025-12-31T23:59:00Z: key compromise");
  // The county itself is not affected.
  EXPECT_TRUE(VerifyNodeChain(f.county.cert, f.Intermediates(), f.Roots(), kNow, set).ok());
}

TEST(ChainVerifyTest, RevokedIntermediate) {
  TestFederation f;
  RevocationSet set;
  // The province revokes the city: everything below the city fails.
  ASSERT_TRUE(set.Add(ListRevoking(f.province, f.city.cert), f.province.cert).ok());
  ExpectRefused(VerifySchool(f, kNow, set),
                "certificate of city 'hangzhou' (330100) revoked by province 'zhejiang' "
                "(330000) at 2025-12-31T23:59:00Z: key compromise");
}

TEST(ChainVerifyTest, RevokedByAnAncestorAboveTheIssuer) {
  TestFederation f;
  RevocationSet set;
  ASSERT_TRUE(set.Add(ListRevoking(f.national, f.school.cert), f.national.cert).ok());
  EXPECT_FALSE(VerifySchool(f, kNow, set).ok());
}

TEST(ChainVerifyTest, RevocationOutsideTheIssuersChainHasNoEffect) {
  TestFederation f;
  TestNode jiangsu = Child(f.national, {"province", "320000", "jiangsu"});
  // Jiangsu cannot even sign a list naming a Zhejiang school (outside its scope).
  RevocationList list{jiangsu.cert.fingerprint(), 1, kNow, {}};
  list.revoked.push_back({f.school.cert.serial(), f.school.cert.identity(), kNow, "spite"});
  EXPECT_FALSE(SignRevocationList(list, jiangsu.cert, jiangsu.key).ok());
  // A sibling county's list naming the school's serial is never consulted for its chain.
  TestNode other_county = Child(f.city, {"county", "330105", "gongshu"});
  RevocationSet set;
  RevocationList other{other_county.cert.fingerprint(), 1, kNow, {}};
  other.revoked.push_back({f.school.cert.serial(), {"school", "330105", "xihu-no1"}, kNow, "x"});
  Result<std::string> text = SignRevocationList(other, other_county.cert, other_county.key);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  ASSERT_TRUE(set.Add(*text, other_county.cert).ok());
  EXPECT_TRUE(VerifySchool(f, kNow, set).ok());
}

TEST(ChainVerifyTest, Sm2NationalCaWithEd25519Children) {
  TestFederation f("ed25519", "sm2-sm3");
  Result<VerifiedChain> v = VerifySchool(f);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
}

TEST(ChainVerifyTest, AllSm2Chain) {
  TestFederation f("sm2-sm3");
  Result<VerifiedChain> v = VerifySchool(f);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  // A forged SM2 signature is caught as well.
  PrivateKey forger = NewKey("sm2-sm3");
  Result<NodeCertificate> forged = IssueUnchecked(f.county.cert, forger, {"school", "330106", "x"},
                                                  forger.Public(), kNow - kDay, kNow + kDay);
  ASSERT_TRUE(forged.ok());
  ExpectRefused(VerifyNodeChain(*forged, f.Intermediates(), f.Roots(), kNow, kNoRevocations),
                "certificate of school 'x' (330106): signature does not verify");
}

TEST(ChainVerifyTest, MixedKeyTypes) {
  TestNode national = NationalCa("ecdsa-sha2-nistp256");
  TestNode province = Child(national, {"province", "330000", "zj"}, "sm2-sm3");
  TestNode county = Child(province, {"county", "330106", "xihu"}, "ed25519");
  TestNode school = Child(county, {"school", "330106", "s"}, "ecdsa-sha2-nistp256");
  std::vector<NodeCertificate> intermediates = {county.cert, province.cert};
  std::vector<NodeCertificate> roots = {national.cert};
  Result<VerifiedChain> v =
      VerifyNodeChain(school.cert, intermediates, roots, kNow, kNoRevocations);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
}

}  // namespace
}  // namespace tiersync::identity
