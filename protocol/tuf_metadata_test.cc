#include "protocol/tuf_metadata.h"

#include <gtest/gtest.h>

#include <string>

#include "protocol/tuf_verify.h"

namespace tiersync::protocol::tuf {
namespace {

std::span<const uint8_t> B(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

const char kTimestamp[] = R"({
 "signatures": [{"keyid": "ab", "sig": "cd"}],
 "signed": {"_type": "timestamp", "spec_version": "1.0.31", "version": 3,
            "expires": "2030-01-01T00:00:00Z",
            "meta": {"snapshot.json": {"version": 2, "length": 10,
                                       "hashes": {"sha256": "00"}}}}})";

Result<Timestamp> ParseTs(const std::string& text) {
  TS_ASSIGN_OR_RETURN(Envelope env, ParseEnvelope(B(text), kMaxTimestampBytes));
  return ParseTimestamp(env.signed_json);
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

TEST(TufMetadataTest, ParsesTimestamp) {
  auto ts = ParseTs(kTimestamp);
  ASSERT_TRUE(ts.ok()) << ts.status().ToString();
  EXPECT_EQ(ts->version, 3u);
  EXPECT_EQ(ts->snapshot_meta.version, 2u);
  EXPECT_EQ(ts->snapshot_meta.length, 10u);
  EXPECT_EQ(ts->expires, 1893456000);
}

TEST(TufMetadataTest, SerialisationRoundTrips) {
  auto ts = ParseTs(kTimestamp);
  ASSERT_TRUE(ts.ok());
  auto again = ParseTimestamp(ToJson(*ts));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *ts);
}

// A root whose four roles share one (made-up) key.
Root OneKeyRoot() {
  Root root;
  Key key = MakeKey("ed25519", "ed25519", std::string(64, 'a'));
  const std::string id = KeyId(key);
  root.keys[id] = key;
  for (const char* role : {"root", "targets", "snapshot", "timestamp"}) {
    root.roles[role] = Role{{id}, 1};
  }
  return root;
}

// The root's offline grace (an extension field) survives a round trip, is absent by default,
// and a grace over a year is refused.
TEST(TufMetadataTest, RootOfflineGraceRoundTripsAndIsBounded) {
  Root root = OneKeyRoot();
  auto plain = ParseRoot(ToJson(root));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_FALSE(plain->offline_grace_seconds.has_value());
  root.offline_grace_seconds = 30 * 86400;
  auto graced = ParseRoot(ToJson(root));
  ASSERT_TRUE(graced.ok()) << graced.status().ToString();
  EXPECT_EQ(*graced, root);
  Json over = ToJson(root);
  over.Set(std::string(kOfflineGraceField),
           Json(static_cast<int64_t>(kMaxOfflineGraceSeconds + 1)));
  EXPECT_FALSE(ParseRoot(over).ok());
  over.Set(std::string(kOfflineGraceField), Json("30d"));
  EXPECT_FALSE(ParseRoot(over).ok());
}

// The root's identity CAs (an extension field): absent by default, round-trip when present,
// and only 1..4 single PEM certificates of bounded size, none twice, are accepted.
TEST(TufMetadataTest, RootIdentityCasRoundTripAndAreStrict) {
  Root root = OneKeyRoot();
  EXPECT_FALSE(ToJson(root).Find(kIdentityCaField));
  auto plain = ParseRoot(ToJson(root));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_TRUE(plain->identity_cas.empty());
  const std::string ca1 =
      "-----BEGIN CERTIFICATE-----\nMIIBazCCAR2gAwIBAgIQ\n-----END CERTIFICATE-----\n";
  const std::string ca2 =
      "-----BEGIN CERTIFICATE-----\nMIIBbzCCASGgAwIBAgIQ\n-----END CERTIFICATE-----\n";
  root.identity_cas = {ca1, ca2};
  auto with = ParseRoot(ToJson(root));
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  EXPECT_EQ(*with, root);

  auto refused = [&](Json value) {
    Json j = ToJson(root);
    j.Set(std::string(kIdentityCaField), std::move(value));
    auto r = ParseRoot(j);
    return !r.ok() && r.status().code() == StatusCode::kCorruption;
  };
  auto list = [](std::vector<std::string> pems) {
    Json a = Json::Array();
    for (auto& p : pems) a.Push(Json(p));
    return a;
  };
  EXPECT_TRUE(refused(Json::Array()));                                         // empty
  EXPECT_TRUE(refused(list({ca1, ca2, ca1 + " ", ca2 + " ", ca1 + "\n\n"})));  // five
  EXPECT_TRUE(refused(list({ca1, ca1})));                                      // twice
  EXPECT_TRUE(refused(Json(ca1)));                                             // not a list
  EXPECT_TRUE(refused(list({"not a certificate"})));
  EXPECT_TRUE(refused(list({ca1 + ca2})));  // two blocks in one
  EXPECT_TRUE(refused(list({"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"})));
  EXPECT_TRUE(refused(list({"-----BEGIN CERTIFICATE-----\nMII?\n-----END CERTIFICATE-----"})));
  const std::string big = "-----BEGIN CERTIFICATE-----\n" +
                          std::string(kMaxIdentityCaPemBytes, 'A') + "\n-----END CERTIFICATE-----";
  EXPECT_TRUE(refused(list({big})));
}

TEST(TufMetadataTest, RetractionsRoundTripAndAreChecked) {
  Targets t;
  t.expires = 1'900'000'000;
  EXPECT_FALSE(ToJson(t).Find(kRetractionsField));  // absent when there are none
  t.retractions = {
      {Retraction::Kind::kResource, "k12-math-001", "版权争议 copyright dispute", 1'800'000'000},
      {Retraction::Kind::kProvider, "某出版社", "provider withdrawn", 1'800'000'100},
      {Retraction::Kind::kSha256, std::string(64, 'a'), "harmful file", 1'800'000'200}};
  auto back = ParseTargets(ToJson(t));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, t);
  auto with = [&](const std::string& field, Json value) {
    Json j = ToJson(t);
    Json list = Json::Array();
    Json entry = Json::Object();
    entry.Set("resource", Json("k12-math-001"));
    entry.Set("reason", Json("r"));
    entry.Set("since", Json("2027-01-01T00:00:00Z"));
    entry.Set(field, std::move(value));
    list.Push(std::move(entry));
    j.Set(std::string(kRetractionsField), std::move(list));
    return ParseTargets(j);
  };
  EXPECT_TRUE(with("resource", Json("k12-math-002")).ok());
  EXPECT_EQ(with("provider", Json("x")).status().code(), StatusCode::kCorruption);  // two kinds
  EXPECT_EQ(with("since", Json("yesterday")).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(with("reason", Json(std::string(kMaxRetractionReasonBytes + 1, 'x'))).status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(with("extra", Json(true)).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(with("resource", Json("")).status().code(), StatusCode::kCorruption);
  Json bad_sha = ToJson(t);
  Json list = Json::Array();
  Json entry = Json::Object();
  entry.Set("sha256", Json(std::string(64, 'A')));
  entry.Set("reason", Json("r"));
  entry.Set("since", Json("2027-01-01T00:00:00Z"));
  list.Push(std::move(entry));
  bad_sha.Set(std::string(kRetractionsField), std::move(list));
  EXPECT_EQ(ParseTargets(bad_sha).status().code(), StatusCode::kCorruption);
  // The same rules for the writer (TufRepository::Retract, the CLI).
  EXPECT_TRUE(CheckRetraction(t.retractions[2]).ok());
  EXPECT_EQ(CheckRetraction({Retraction::Kind::kSha256, std::string(64, 'A'), "r", 0}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckRetraction({Retraction::Kind::kResource, "", "r", 0}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckRetraction({Retraction::Kind::kResource, "x",
                             std::string(kMaxRetractionReasonBytes + 1, 'x'), 0})
                .code(),
            StatusCode::kInvalidArgument);
}

TEST(TufMetadataTest, WrongType) {
  auto r = ParseTs(Replace(kTimestamp, "\"timestamp\"", "\"snapshot\""));
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("_type"), std::string::npos);
}

TEST(TufMetadataTest, DuplicateKey) {
  EXPECT_EQ(ParseTs(Replace(kTimestamp, "\"version\": 3,", "\"version\": 3, \"version\": 4,"))
                .status()
                .code(),
            StatusCode::kCorruption);
}

TEST(TufMetadataTest, TrailingData) {
  EXPECT_EQ(ParseTs(std::string(kTimestamp) + "{}").status().code(), StatusCode::kCorruption);
}

TEST(TufMetadataTest, ExtraEnvelopeField) {
  EXPECT_EQ(
      ParseTs(Replace(kTimestamp, "\"signatures\"", "\"x\": 1, \"signatures\"")).status().code(),
      StatusCode::kCorruption);
}

TEST(TufMetadataTest, TwoSignatureSections) {
  EXPECT_EQ(ParseTs(Replace(kTimestamp, "\"signatures\"", "\"signatures\": [], \"signatures\""))
                .status()
                .code(),
            StatusCode::kCorruption);
}

TEST(TufMetadataTest, ExtraSignatureField) {
  EXPECT_EQ(ParseTs(Replace(kTimestamp, "\"sig\": \"cd\"", "\"sig\": \"cd\", \"method\": \"x\""))
                .status()
                .code(),
            StatusCode::kCorruption);
}

TEST(TufMetadataTest, MissingVersion) {
  auto r = ParseTs(Replace(kTimestamp, "\"version\": 3,", ""));
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("version"), std::string::npos);
}

TEST(TufMetadataTest, ZeroVersion) {
  EXPECT_FALSE(ParseTs(Replace(kTimestamp, "\"version\": 3,", "\"version\": 0,")).ok());
}

TEST(TufMetadataTest, FloatVersion) {
  EXPECT_FALSE(ParseTs(Replace(kTimestamp, "\"version\": 3,", "\"version\": 3.0,")).ok());
}

TEST(TufMetadataTest, BadExpiry) {
  EXPECT_FALSE(ParseTs(Replace(kTimestamp, "2030-01-01T00:00:00Z", "2030-01-01")).ok());
}

TEST(TufMetadataTest, FutureSpecMajorIsNotSupported) {
  EXPECT_EQ(ParseTs(Replace(kTimestamp, "1.0.31", "2.0.0")).status().code(),
            StatusCode::kNotSupported);
}

TEST(TufMetadataTest, TimestampWithOtherMeta) {
  EXPECT_FALSE(
      ParseTs(Replace(kTimestamp, "\"meta\": {", "\"meta\": {\"targets.json\": {\"version\": 1}, "))
          .ok());
}

TEST(TufMetadataTest, EnvelopeOverCapIsResourceExhausted) {
  std::string big = Replace(kTimestamp, "\"ab\"", "\"" + std::string(20000, 'a') + "\"");
  EXPECT_EQ(ParseEnvelope(B(big), kMaxTimestampBytes).status().code(),
            StatusCode::kResourceExhausted);
}

const char kTargets[] = R"({"_type": "targets", "spec_version": "1.0.0", "version": 1,
 "expires": "2030-01-01T00:00:00Z", "targets": {},
 "delegations": {"keys": {}, "roles": [
   {"name": "330000", "keyids": [], "threshold": 1, "terminating": true,
    "paths": ["regions/330000/*"]}]}})";

Result<Targets> ParseT(const std::string& text) {
  TS_ASSIGN_OR_RETURN(Json j, ParseJson(text));
  return ParseTargets(j);
}

TEST(TufMetadataTest, DelegationWithBothPathsAndPrefixes) {
  EXPECT_FALSE(
      ParseT(Replace(kTargets, "\"paths\"", "\"path_hash_prefixes\": [\"ab\"], \"paths\"")).ok());
}

TEST(TufMetadataTest, DelegationToTopLevelName) {
  EXPECT_FALSE(ParseT(Replace(kTargets, "\"330000\"", "\"snapshot\"")).ok());
}

TEST(TufMetadataTest, DelegationThresholdZero) {
  EXPECT_FALSE(ParseT(Replace(kTargets, "\"threshold\": 1", "\"threshold\": 0")).ok());
}

TEST(TufMetadataTest, KeyIdIsSha256OfCanonicalKey) {
  Key k = MakeKey("ed25519", "ed25519",
                  "edcd0a32a07dce33f7c7873aaffbff36d20ea30787574ead335eefd337e4dacd");
  // Independently: printf '%s' '{"keytype":"ed25519","keyval":{"public":"edcd...dacd"},
  // "scheme":"ed25519"}' | sha256sum
  EXPECT_EQ(KeyId(k), "2345a90ad8d76f3677f9ad6695b0ba0b5c7b7fbf27fb0ed35fbdf7b71264a679");
}

TEST(TufMetadataTest, KeyRoundTripAndMissingKeyval) {
  Key k = MakeKey("ed25519", "ed25519", std::string(64, 'a'));
  auto back = ParseKey(ToJson(k));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, k);
  auto bad = ParseJson(R"({"keytype": "ed25519", "scheme": "ed25519"})");
  ASSERT_TRUE(bad.ok());
  auto r = ParseKey(*bad);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("keyval"), std::string::npos);
}

TEST(TufPathTest, PatternsDoNotCrossSlash) {
  EXPECT_TRUE(PathMatchesPattern("regions/330000/a.mp4", "regions/330000/*"));
  EXPECT_FALSE(PathMatchesPattern("regions/330000/x/a.mp4", "regions/330000/*"));
  EXPECT_TRUE(PathMatchesPattern("regions/330000/x/a.mp4", "regions/*/*/*.mp4"));
  EXPECT_FALSE(PathMatchesPattern("regions/110000/a.mp4", "regions/330000/*"));
  EXPECT_TRUE(PathMatchesPattern("a.txt", "?.txt"));
  EXPECT_TRUE(PathMatchesPattern("b", "[a-c]"));
  EXPECT_FALSE(PathMatchesPattern("d", "[a-c]"));
}

TEST(TufPathTest, TargetPathValidation) {
  EXPECT_TRUE(ValidateTargetPath("lessons/数学/1.mp4").ok());
  for (const char* bad : {"", "/abs", "a//b", "a/../b", "..", "./a", "a\\b", "a/"}) {
    EXPECT_FALSE(ValidateTargetPath(bad).ok()) << bad;
  }
}

TEST(TufPathTest, QuoteForFileName) {
  EXPECT_EQ(QuoteForFileName("role-1.a_b~"), "role-1.a_b~");
  EXPECT_EQ(QuoteForFileName("a/b"), "a%2Fb");
  EXPECT_EQ(QuoteForFileName(".."), "%2E%2E");  // never a path component that climbs
  EXPECT_EQ(QuoteForFileName("省"), "%E7%9C%81");
}

}  // namespace
}  // namespace tiersync::protocol::tuf
