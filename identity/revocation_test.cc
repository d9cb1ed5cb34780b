#include "identity/revocation.h"

#include <gtest/gtest.h>

#include "identity/test_federation.h"
#include "protocol/json.h"

namespace tiersync::identity {
namespace {

using identity_testing::kNow;
using identity_testing::TestFederation;

RevocationList SchoolList(const TestFederation& f, uint64_t version) {
  RevocationList list{f.county.cert.fingerprint(), version, kNow, {}};
  list.revoked.push_back({f.school.cert.serial(), f.school.cert.identity(), kNow, "lost"});
  return list;
}

TEST(RevocationTest, SignVerifyRoundTrip) {
  for (const char* scheme : {"ed25519", "sm2-sm3", "ecdsa-sha2-nistp256"}) {
    TestFederation f(scheme);
    RevocationList list = SchoolList(f, 2);
    Result<std::string> text = SignRevocationList(list, f.county.cert, f.county.key);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    Result<RevocationList> back = VerifyRevocationList(*text, f.county.cert);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, list);
  }
}

TEST(RevocationTest, WrongIssuerOrTamperedIsRefused) {
  TestFederation f;
  Result<std::string> text = SignRevocationList(SchoolList(f, 1), f.county.cert, f.county.key);
  ASSERT_TRUE(text.ok());
  // Checked against another certificate: no signature of its key.
  EXPECT_EQ(VerifyRevocationList(*text, f.city.cert).status().code(),
            StatusCode::kVerificationFailed);
  // A changed reason breaks the signature.
  std::string tampered = *text;
  tampered.replace(tampered.find("lost"), 4, "gone");
  EXPECT_EQ(VerifyRevocationList(tampered, f.county.cert).status().message(),
            "revocation list: no valid signature of the issuer's key");
  // Signing with a key that is not the issuer's.
  EXPECT_FALSE(SignRevocationList(SchoolList(f, 1), f.county.cert, f.city.key).ok());
  // A list naming another issuer.
  RevocationList other = SchoolList(f, 1);
  other.issuer = f.city.cert.fingerprint();
  EXPECT_FALSE(SignRevocationList(other, f.county.cert, f.county.key).ok());
  EXPECT_FALSE(VerifyRevocationList("{}", f.county.cert).ok());
}

TEST(RevocationTest, NewerReplacesOlderAndReplaysAreRefused) {
  TestFederation f;
  RevocationSet set;
  Result<std::string> v1 = SignRevocationList(SchoolList(f, 1), f.county.cert, f.county.key);
  RevocationList empty{f.county.cert.fingerprint(), 2, kNow + 60, {}};
  Result<std::string> v2 = SignRevocationList(empty, f.county.cert, f.county.key);
  ASSERT_TRUE(v1.ok() && v2.ok());
  ASSERT_TRUE(set.Add(*v1, f.county.cert).ok());
  EXPECT_TRUE(
      set.Find(f.county.cert.fingerprint(), f.school.cert.serial(), f.school.cert.identity()));
  EXPECT_TRUE(set.Add(*v1, f.county.cert).ok());  // the same list again: no change
  ASSERT_TRUE(set.Add(*v2, f.county.cert).ok());
  EXPECT_EQ(set.Version(f.county.cert.fingerprint()), 2u);
  EXPECT_FALSE(
      set.Find(f.county.cert.fingerprint(), f.school.cert.serial(), f.school.cert.identity()));
  Status replay = set.Add(*v1, f.county.cert);
  EXPECT_EQ(replay.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(replay.message(),
            "revocation list version 1 of county 'xihu' (330106) replayed: version 2 is held");
  // Another list with the version held is refused too.
  RevocationList same_version{f.county.cert.fingerprint(), 2, kNow + 120, {}};
  Result<std::string> v2b = SignRevocationList(same_version, f.county.cert, f.county.key);
  ASSERT_TRUE(v2b.ok());
  EXPECT_EQ(set.Add(*v2b, f.county.cert).code(), StatusCode::kFailedPrecondition);
}

TEST(RevocationTest, SerialAndSubjectMustBothMatch) {
  TestFederation f;
  RevocationSet set;
  ASSERT_TRUE(
      set.Add(*SignRevocationList(SchoolList(f, 1), f.county.cert, f.county.key), f.county.cert)
          .ok());
  NodeIdentity other = f.school.cert.identity();
  other.name = "another";
  EXPECT_FALSE(set.Find(f.county.cert.fingerprint(), f.school.cert.serial(), other));
  EXPECT_FALSE(set.Find(f.county.cert.fingerprint(), "01", f.school.cert.identity()));
}

TEST(RevocationTest, UnknownMembersAreRefused) {
  TestFederation f;
  Result<std::string> text = SignRevocationList(SchoolList(f, 1), f.county.cert, f.county.key);
  ASSERT_TRUE(text.ok());
  Result<protocol::Json> doc = protocol::ParseJson(*text);
  ASSERT_TRUE(doc.ok());
  protocol::Json extra = *doc;
  extra.Set("extra", 1);
  EXPECT_EQ(VerifyRevocationList(protocol::EncodePretty(extra), f.county.cert).status().code(),
            StatusCode::kCorruption);
}

}  // namespace
}  // namespace tiersync::identity
