#include "node/enrollment_service.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "access/audit_log.h"
#include "base/bytes.h"
#include "base/mem_env.h"
#include "identity/chain_verify.h"
#include "identity/enrollment_request.h"
#include "identity/invitation.h"
#include "identity/test_federation.h"
#include "node/own_identity.h"
#include "protocol/tuf_metadata.h"

namespace tiersync::node {
namespace {

using identity::identity_testing::kNow;
using identity::identity_testing::NewKey;
using identity::identity_testing::TestFederation;
using nlohmann::json;

class EnrollmentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.SetNowMicros(static_cast<uint64_t>(kNow) * 1'000'000);
    ASSERT_TRUE(CreateDirs(&env_, paths_.dir).ok());
    WriteRoot({fed_.national.cert.ToPem()});
    config_.name = "xihu";
    config_.tier = Tier::kCounty;
    config_.region = "330106";
  }

  void WriteRoot(const std::vector<std::string>& cas) {
    protocol::tuf::Root root;
    auto key = protocol::tuf::MakeKey("ed25519", "ed25519", std::string(64, 'a'));
    root.keys[protocol::tuf::KeyId(key)] = key;
    for (const char* role : {"root", "targets", "snapshot", "timestamp"}) {
      root.roles[role] = protocol::tuf::Role{{protocol::tuf::KeyId(key)}, 1};
    }
    root.expires = kNow + 86400;
    root.identity_cas = cas;
    const std::string bytes = protocol::tuf::SerializeEnvelope(protocol::tuf::ToJson(root), {});
    ASSERT_TRUE(WriteFileAtomically(&env_, paths_.root, AsBytes(bytes)).ok());
  }

  // The county of the test federation is this node.
  void Enroll() {
    ASSERT_TRUE(CreateDirs(&env_, ip_.dir).ok());
    ASSERT_TRUE(WriteFileAtomically(&env_, ip_.key, AsBytes(fed_.county.key.ToPem())).ok());
    const std::string chain =
        fed_.county.cert.ToPem() + fed_.city.cert.ToPem() + fed_.province.cert.ToPem();
    ASSERT_TRUE(WriteFileAtomically(&env_, ip_.chain, AsBytes(chain)).ok());
  }

  std::string Invite(const identity::NodeIdentity& bound) {
    identity::InvitationStore::Options o;
    o.env = &env_;
    o.path = ip_.invitations;
    o.issuer = &fed_.county.cert;
    o.issuer_key = &fed_.county.key;
    auto store = identity::InvitationStore::Open(o);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    auto token = (*store)->Create(bound, kNow, kNow + 3600);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return *token;
  }

  HttpReply Post(EnrollmentService& s, const std::string& token,
                 const identity::NodeIdentity& asked, const PrivateKey& key) {
    auto csr = identity::MakeEnrollmentRequest(key, asked);
    EXPECT_TRUE(csr.ok()) << csr.status().ToString();
    return PostBody(s, json{{"token", token}, {"request", *csr}}.dump());
  }
  HttpReply PostBody(EnrollmentService& s, std::string body) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/v1/enroll";
    r.body = std::move(body);
    r.peer = "10.1.2.3";
    return s.Enroll(r);
  }
  static json Body(const HttpReply& r) { return json::parse(r.body); }

  MemEnv env_;
  NodePaths paths_{"/node"};
  IdentityPaths ip_{paths_};
  NodeConfig config_;
  TestFederation fed_;
};

TEST_F(EnrollmentServiceTest, IssuesOnceForAnInvitationMadeWhileRunning) {
  Enroll();
  EnrollmentService service(&env_, paths_, config_);
  const identity::NodeIdentity school{"school", "330106", "xihu-no2"};
  const std::string token = Invite({"school", "330106", ""});  // after the service started
  PrivateKey key = NewKey();
  HttpReply r = Post(service, token, school, key);
  ASSERT_EQ(r.status, 200) << r.body;
  auto chain = identity::NodeCertificate::ChainFromPem(Body(r)["chain"].get<std::string>());
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  ASSERT_EQ(chain->size(), 4u);  // school, county, city, province: no national CA
  std::vector<identity::NodeCertificate> rest(chain->begin() + 1, chain->end());
  identity::RevocationSet none;
  auto verified = identity::VerifyNodeChain(chain->front(), rest, fed_.Roots(), kNow + 60, none);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->identity, school);
  EXPECT_EQ(chain->front().public_key().canonical_der(), key.Public().canonical_der());

  HttpReply again = Post(service, token, school, key);
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(Body(again)["code"], "already exists");

  auto log = access::AuditLog::Open(&env_, ip_.audit);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  auto page = (*log)->Query({});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[1].outcome, "ok");
  EXPECT_EQ(page->entries[1].from, "10.1.2.3");
  EXPECT_EQ(page->entries[1].action, "enroll");
  EXPECT_NE(page->entries[0].outcome.find("was already used"), std::string::npos);
}

TEST_F(EnrollmentServiceTest, RefusesEachWrongRequestWithItsStatus) {
  Enroll();
  EnrollmentService service(&env_, paths_, config_);
  PrivateKey key = NewKey();
  const std::string token = Invite({"school", "330106", ""});

  HttpRequest get;
  get.method = "GET";
  EXPECT_EQ(service.Enroll(get).status, 405);
  EXPECT_EQ(PostBody(service, "not json").status, 400);
  EXPECT_EQ(PostBody(service, std::string(kMaxEnrollBodyBytes + 1, ' ')).status, 413);

  HttpReply other = Post(service, token, {"school", "320102", "nanjing"}, key);
  EXPECT_EQ(other.status, 403) << other.body;
  EXPECT_NE(Body(other)["error"].get<std::string>().find("outside the scope of county 'xihu'"),
            std::string::npos)
      << other.body;
  HttpReply mismatch = Post(service, token, {"county", "330106", "x"}, key);
  EXPECT_EQ(mismatch.status, 403) << mismatch.body;  // not below the county
  HttpReply unknown =
      Post(service, "tsinv1.0123456789abcdef0123456789abcdef." + std::string(43, 'A'),
           {"school", "330106", "a"}, key);
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  HttpReply wrong_tier =
      Post(service, Invite({"school", "330106", "bound"}), {"school", "330106", "other"}, key);
  EXPECT_EQ(wrong_tier.status, 400) << wrong_tier.body;

  env_.AdvanceMicros(7200ull * 1'000'000);  // the invitation expired
  HttpReply expired = Post(service, token, {"school", "330106", "a"}, key);
  EXPECT_EQ(expired.status, 410) << expired.body;
  // The refused requests did not use the invitation up: only time did.
  EXPECT_NE(Body(expired)["error"].get<std::string>().find("expired at"), std::string::npos);
}

TEST_F(EnrollmentServiceTest, NodeWithoutIssuingCertificateEnrollsNoOne) {
  EnrollmentService unenrolled(&env_, paths_, config_);
  PrivateKey key = NewKey();
  HttpReply r = Post(unenrolled, "tsinv1.0123456789abcdef0123456789abcdef." + std::string(43, 'A'),
                     {"school", "330106", "a"}, key);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Body(r)["code"], "failed precondition");
  EXPECT_NE(Body(r)["error"].get<std::string>().find("not enrolled"), std::string::npos);

  NodeConfig school = config_;
  school.tier = Tier::kSchool;
  EnrollmentService leaf(&env_, paths_, school);
  EXPECT_EQ(Post(leaf, "x", {"school", "330106", "a"}, key).status, 403);

  // A root without an identity CA: nothing verifies.
  Enroll();
  WriteRoot({});
  HttpReply no_ca =
      Post(unenrolled, Invite({"school", "330106", ""}), {"school", "330106", "a"}, key);
  EXPECT_EQ(no_ca.status, 403) << no_ca.body;
  EXPECT_NE(Body(no_ca)["error"].get<std::string>().find("carries no identity CA"),
            std::string::npos)
      << no_ca.body;
}

TEST_F(EnrollmentServiceTest, FailedAttemptsFromOneAddressAreLimited) {
  Enroll();
  EnrollmentService service(&env_, paths_, config_);
  for (int i = 0; i < kFailureBurst; ++i) {
    ASSERT_EQ(PostBody(service, "{}").status, 400) << i;
  }
  HttpReply limited = PostBody(service, "{}");
  EXPECT_EQ(limited.status, 429) << limited.body;
  env_.AdvanceMicros(uint64_t{kFailureIntervalSeconds} * 1'000'000);
  EXPECT_EQ(PostBody(service, "{}").status, 400);
  EXPECT_EQ(PostBody(service, "{}").status, 429);
}

TEST_F(EnrollmentServiceTest, StatusShowsTheIdentity) {
  EXPECT_EQ(IdentityStatusJson(&env_, paths_, config_, kNow)["enrolled"], false);
  Enroll();
  json j = IdentityStatusJson(&env_, paths_, config_, kNow);
  EXPECT_EQ(j["enrolled"], true);
  EXPECT_EQ(j["issuer"], "city 'hangzhou' (330100)");
  EXPECT_FALSE(j.contains("error")) << j.dump();
  j = IdentityStatusJson(&env_, paths_, config_, kNow + 40 * 86400);
  EXPECT_NE(j.value("error", "").find("expired"), std::string::npos) << j.dump();
}

}  // namespace
}  // namespace tiersync::node
