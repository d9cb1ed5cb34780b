#include "protocol/tuf_verify.h"

#include <gtest/gtest.h>

#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/crypto.h"
#include "base/sha256.h"
#include "base/sha512.h"
#include "base/sm3.h"

namespace tiersync::protocol::tuf {
namespace {

bool Contains(const Status& s, std::string_view text) {
  return s.message().find(text) != std::string_view::npos;
}

// A "signed" body and an envelope around it with the given signatures.
Json Body() {
  Json j = Json::Object();
  j.Set("_type", Json("timestamp"));
  j.Set("version", Json(int64_t{7}));
  return j;
}

Signature Sign(const PrivateKey& key, const std::string& keyid, const Json& body) {
  auto sig = key.Sign(AsBytes(SigningBytes(body)));
  EXPECT_TRUE(sig.ok());
  return {keyid, ToHex(*sig)};
}

Key KeyOf(const PrivateKey& key) {
  PublicKey pub = key.Public();
  return MakeKey(pub.keytype(), pub.scheme(), pub.public_value());
}

// A role of `threshold` over `keys` (keyid -> key).
Role RoleOver(const std::map<std::string, Key>& keys, uint32_t threshold) {
  Role role;
  for (const auto& [id, key] : keys) role.keyids.push_back(id);
  role.threshold = threshold;
  return role;
}

// `public_value` as another spelling of the same key: the second key of a pair whose keyids
// differ. Both sign the body with the same private key (each under its own keyid).
Status TwoSpellingsOfOneKey(const PrivateKey& key, Key first, Key second) {
  const std::string id1 = KeyId(first), id2 = KeyId(second);
  EXPECT_NE(id1, id2) << "the two spellings must give two keyids";
  std::map<std::string, Key> keys = {{id1, first}, {id2, second}};
  Envelope env{Body(), "timestamp", {}};
  env.signatures = {Sign(key, id1, env.signed_json), Sign(key, id2, env.signed_json)};
  return VerifyThreshold(env, keys, RoleOver(keys, 2), "timestamp");
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The body of a PEM re-wrapped at `width` characters a line, with no final newline.
std::string RewrapPem(const std::string& pem, size_t width) {
  const std::string begin = "-----BEGIN PUBLIC KEY-----\n", end = "-----END PUBLIC KEY-----";
  std::string body;
  for (char c : pem.substr(begin.size(), pem.find(end) - begin.size())) {
    if (c != '\n') body += c;
  }
  std::string out = begin;
  for (size_t i = 0; i < body.size(); i += width) out += body.substr(i, width) + "\n";
  return out + end;
}

TEST(TufVerifyTest, DistinctKeysMeetTheThreshold) {
  auto a = PrivateKey::Generate("ed25519"), b = PrivateKey::Generate("ed25519");
  ASSERT_TRUE(a.ok() && b.ok());
  std::map<std::string, Key> keys = {{KeyId(KeyOf(*a)), KeyOf(*a)}, {KeyId(KeyOf(*b)), KeyOf(*b)}};
  Envelope env{Body(), "timestamp", {}};
  env.signatures = {Sign(*a, KeyId(KeyOf(*a)), env.signed_json),
                    Sign(*b, KeyId(KeyOf(*b)), env.signed_json)};
  Status s = VerifyThreshold(env, keys, RoleOver(keys, 2), "timestamp");
  EXPECT_TRUE(s.ok()) << s.ToString();
}

// Spec 4: "each keyid in signatures must be unique". Two valid signatures under one keyid are
// refused even where one would meet the threshold.
TEST(TufVerifyTest, DuplicateKeyIdInSignatures) {
  auto a = PrivateKey::Generate("ed25519");
  ASSERT_TRUE(a.ok());
  const std::string id = KeyId(KeyOf(*a));
  std::map<std::string, Key> keys = {{id, KeyOf(*a)}};
  Envelope env{Body(), "timestamp", {}};
  env.signatures = {Sign(*a, id, env.signed_json), Sign(*a, id, env.signed_json)};
  Status s = VerifyThreshold(env, keys, RoleOver(keys, 1), "timestamp");
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
  EXPECT_TRUE(Contains(s, "timestamp: keyid " + id + " appears more than once")) << s.ToString();
  // The same with a junk second signature, and with a keyid outside the role repeated.
  env.signatures = {Sign(*a, id, env.signed_json), Signature{id, "00"}};
  EXPECT_EQ(VerifyThreshold(env, keys, RoleOver(keys, 1), "timestamp").code(),
            StatusCode::kVerificationFailed);
  env.signatures = {Sign(*a, id, env.signed_json), Signature{"ab", "00"}, Signature{"ab", "01"}};
  EXPECT_TRUE(Contains(VerifyThreshold(env, keys, RoleOver(keys, 1), "timestamp"),
                       "keyid ab appears more than once"));
}

TEST(TufVerifyTest, SameKeyTwiceInHexCases) {
  auto a = PrivateKey::Generate("ed25519");
  ASSERT_TRUE(a.ok());
  Key lower = KeyOf(*a), upper = KeyOf(*a);
  upper = MakeKey(upper.keytype, upper.scheme, Upper(upper.public_value));
  Status s = TwoSpellingsOfOneKey(*a, lower, upper);
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
  EXPECT_TRUE(Contains(s, "threshold not met (1 of 2")) << s.ToString();
}

TEST(TufVerifyTest, SameKeyTwiceInPemWrappings) {
  for (const char* scheme : {"ecdsa-sha2-nistp256", "rsassa-pss-sha256", "sm2-sm3"}) {
    auto a = PrivateKey::Generate(scheme);
    ASSERT_TRUE(a.ok());
    Key written = KeyOf(*a);
    Key rewrapped = MakeKey(written.keytype, written.scheme, RewrapPem(written.public_value, 48));
    ASSERT_TRUE(
        PublicKey::FromTuf(rewrapped.keytype, rewrapped.scheme, rewrapped.public_value).ok())
        << rewrapped.public_value;
    Status s = TwoSpellingsOfOneKey(*a, written, rewrapped);
    EXPECT_TRUE(Contains(s, "threshold not met (1 of 2")) << scheme << ": " << s.ToString();
  }
}

TEST(TufVerifyTest, SameKeyTwiceUnderKeytypeAliases) {
  auto a = PrivateKey::Generate("ecdsa-sha2-nistp256");
  ASSERT_TRUE(a.ok());
  Key ecdsa = KeyOf(*a);
  ASSERT_EQ(ecdsa.keytype, "ecdsa");
  Key legacy = MakeKey("ecdsa-sha2-nistp256", ecdsa.scheme, ecdsa.public_value);
  Status s = TwoSpellingsOfOneKey(*a, ecdsa, legacy);
  EXPECT_TRUE(Contains(s, "threshold not met (1 of 2")) << s.ToString();
}

// A role of one Ed25519 and one SM2 key, threshold 2: the suites count alike, each key once.
class MixedSuiteThresholdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ed = PrivateKey::Generate("ed25519"), sm2 = PrivateKey::Generate("sm2-sm3");
    ASSERT_TRUE(ed.ok() && sm2.ok());
    ed_.emplace(std::move(ed).value());
    sm2_.emplace(std::move(sm2).value());
    keys_ = {{EdId(), KeyOf(*ed_)}, {Sm2Id(), KeyOf(*sm2_)}};
  }
  std::string EdId() const { return KeyId(KeyOf(*ed_)); }
  std::string Sm2Id() const { return KeyId(KeyOf(*sm2_)); }
  Status Verify(std::vector<Signature> signatures) const {
    Envelope env{Body(), "timestamp", std::move(signatures)};
    return VerifyThreshold(env, keys_, RoleOver(keys_, 2), "timestamp");
  }

  std::optional<PrivateKey> ed_, sm2_;
  std::map<std::string, Key> keys_;
  const Json body_ = Body();
};

TEST_F(MixedSuiteThresholdTest, BothSuitesSignedMeetsTheThreshold) {
  Status s = Verify({Sign(*ed_, EdId(), body_), Sign(*sm2_, Sm2Id(), body_)});
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(MixedSuiteThresholdTest, EitherSuiteMissingFails) {
  for (const auto& sigs : {std::vector<Signature>{Sign(*ed_, EdId(), body_)},
                           std::vector<Signature>{Sign(*sm2_, Sm2Id(), body_)}}) {
    Status s = Verify(sigs);
    EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
    EXPECT_TRUE(Contains(s, "threshold not met (1 of 2")) << s.ToString();
  }
}

TEST_F(MixedSuiteThresholdTest, SignatureUnderTheOtherSuitesKeyIdDoesNotCount) {
  // The SM2 signature filed under the Ed25519 keyid (and a second SM2 one under its own): the
  // Ed25519 key does not verify it, so only one key has signed.
  Status s = Verify({Sign(*sm2_, EdId(), body_), Sign(*sm2_, Sm2Id(), body_)});
  EXPECT_TRUE(Contains(s, "threshold not met (1 of 2")) << s.ToString();
}

TEST_F(MixedSuiteThresholdTest, Sm2KeyUnderAnotherKeytypeOrSchemeDoesNotCount) {
  // The same SM2 public key listed as keytype "ecdsa", and as scheme "ecdsa-sha2-nistp256":
  // FromTuf refuses both, so its (valid) signature is ignored.
  const Key sm2 = KeyOf(*sm2_);
  for (const Key& wrong : {MakeKey("ecdsa", "sm2-sm3", sm2.public_value),
                           MakeKey("ecdsa", "ecdsa-sha2-nistp256", sm2.public_value),
                           MakeKey("sm2", "sm2-sha256", sm2.public_value)}) {
    std::map<std::string, Key> keys = {{EdId(), KeyOf(*ed_)}, {"sm2", wrong}};
    Envelope env{Body(), "timestamp", {Sign(*ed_, EdId(), body_), Sign(*sm2_, "sm2", body_)}};
    Status s = VerifyThreshold(env, keys, RoleOver(keys, 2), "timestamp");
    EXPECT_TRUE(Contains(s, "threshold not met (1 of 2")) << wrong.keytype << "/" << wrong.scheme;
  }
}

// GM/T 0004 example 1 as a target hash.
TEST(TufVerifyTest, Sm3OnlyTarget) {
  const std::string bytes = "abc";
  std::map<std::string, std::string> hashes = {
      {"sm3", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"}};
  Status ok = VerifyLengthAndHashes(AsBytes(bytes), 3, hashes, "lesson.mp4");
  EXPECT_TRUE(ok.ok()) << ok.ToString();
  Status bad = VerifyLengthAndHashes(AsBytes("abd"), 3, hashes, "lesson.mp4");
  EXPECT_EQ(bad.code(), StatusCode::kVerificationFailed);
  EXPECT_TRUE(Contains(bad, "lesson.mp4: sm3 mismatch")) << bad.ToString();
}

// Both present: both checked, either one wrong refuses the bytes.
TEST(TufVerifyTest, Sm3BesideSha256BothChecked) {
  const std::string bytes = "lesson one";
  const std::string sha256 = ToHex(Sha256(AsBytes(bytes))), sm3 = ToHex(Sm3(AsBytes(bytes)));
  EXPECT_TRUE(
      VerifyLengthAndHashes(AsBytes(bytes), {}, {{"sha256", sha256}, {"sm3", sm3}}, "f").ok());
  const std::string other_sm3 = ToHex(Sm3(AsBytes("other")));
  const std::string other_sha256 = ToHex(Sha256(AsBytes("other")));
  Status s =
      VerifyLengthAndHashes(AsBytes(bytes), {}, {{"sha256", sha256}, {"sm3", other_sm3}}, "f");
  EXPECT_TRUE(Contains(s, "sm3 mismatch")) << s.ToString();
  s = VerifyLengthAndHashes(AsBytes(bytes), {}, {{"sha256", other_sha256}, {"sm3", sm3}}, "f");
  EXPECT_TRUE(Contains(s, "sha256 mismatch")) << s.ToString();
  // SM3 beside an algorithm this client does not know: SM3 vouches alone.
  EXPECT_TRUE(
      VerifyLengthAndHashes(AsBytes(bytes), {}, {{"blake2b", "00"}, {"sm3", sm3}}, "f").ok());
}

TEST(TufVerifyTest, Sha512OnlyTarget) {
  const std::string bytes = "lesson one";
  std::map<std::string, std::string> hashes = {{"sha512", ToHex(Sha512(AsBytes(bytes)))}};
  Status ok = VerifyLengthAndHashes(AsBytes(bytes), bytes.size(), hashes, "lesson.mp4");
  EXPECT_TRUE(ok.ok()) << ok.ToString();
  Status bad = VerifyLengthAndHashes(AsBytes("lesson two"), bytes.size(), hashes, "lesson.mp4");
  EXPECT_EQ(bad.code(), StatusCode::kVerificationFailed);
  EXPECT_TRUE(Contains(bad, "lesson.mp4: sha512 mismatch")) << bad.ToString();
}

TEST(TufVerifyTest, Sha512BesideSha256BothChecked) {
  const std::string bytes = "lesson one";
  const std::string sha256 = ToHex(Sha256(AsBytes(bytes)));
  const std::string sha512 = ToHex(Sha512(AsBytes(bytes)));
  EXPECT_TRUE(
      VerifyLengthAndHashes(AsBytes(bytes), {}, {{"sha256", sha256}, {"sha512", sha512}}, "f")
          .ok());
  // A wrong sha512 fails though sha256 matches, and the other way round.
  const std::string other512 = ToHex(Sha512(AsBytes("other")));
  const std::string other256 = ToHex(Sha256(AsBytes("other")));
  Status s =
      VerifyLengthAndHashes(AsBytes(bytes), {}, {{"sha256", sha256}, {"sha512", other512}}, "f");
  EXPECT_TRUE(Contains(s, "sha512 mismatch")) << s.ToString();
  s = VerifyLengthAndHashes(AsBytes(bytes), {}, {{"sha256", other256}, {"sha512", sha512}}, "f");
  EXPECT_TRUE(Contains(s, "sha256 mismatch")) << s.ToString();
}

TEST(TufVerifyTest, UnsupportedHashAloneIsRefusedBesideASupportedOneSkipped) {
  const std::string bytes = "lesson one";
  Status s = VerifyLengthAndHashes(AsBytes(bytes), {}, {{"md5", "00"}}, "f");
  EXPECT_EQ(s.code(), StatusCode::kNotSupported) << s.ToString();
  s = VerifyLengthAndHashes(AsBytes(bytes), {},
                            {{"blake2b", "00"}, {"sha256", ToHex(Sha256(AsBytes(bytes)))}}, "f");
  EXPECT_TRUE(s.ok()) << s.ToString();
  // No hashes at all (a meta entry that gives only a length) checks the length alone.
  EXPECT_TRUE(VerifyLengthAndHashes(AsBytes(bytes), bytes.size(), {}, "f").ok());
  EXPECT_EQ(VerifyLengthAndHashes(AsBytes(bytes), 3, {}, "f").code(),
            StatusCode::kVerificationFailed);
}

}  // namespace
}  // namespace tiersync::protocol::tuf
