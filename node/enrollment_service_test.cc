#include "node/enrollment_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

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

using identity::identity_testing::NewKey;
using identity::identity_testing::TestFederation;
using nlohmann::json;

constexpr int64_t kEnrollNow = identity::identity_testing::kNow;
const identity::NodeIdentity kEnrollingSchool{"school", "330106", "xihu-no2"};

// Holds the first LockFile of `path` until Release(): an enrollment in flight, stopped where
// it takes the identity lock.
class HoldingEnv : public EnvWrapper {
 public:
  HoldingEnv(Env* target, std::string path) : EnvWrapper(target), path_(std::move(path)) {}
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& p) override {
    if (p == path_) {
      std::unique_lock l(mu_);
      if (!held_) {
        held_ = true;
        cv_.notify_all();
        cv_.wait(l, [&] { return released_; });
      }
    }
    return EnvWrapper::LockFile(p);
  }
  void WaitUntilHolding() {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return held_; });
  }
  void Release() {
    std::lock_guard l(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  const std::string path_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false, released_ = false;
};

class EnrollmentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.SetNowMicros(static_cast<uint64_t>(kEnrollNow) * 1'000'000);
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
    root.expires = kEnrollNow + 86400;
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
    auto token = (*store)->Create(bound, kEnrollNow, kEnrollNow + 3600);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return *token;
  }

  static std::string EnrollBody(const std::string& token, const identity::NodeIdentity& asked,
                                const PrivateKey& key) {
    auto csr = identity::MakeEnrollmentRequest(key, asked);
    EXPECT_TRUE(csr.ok()) << csr.status().ToString();
    return json{{"token", token}, {"request", csr.ok() ? *csr : ""}}.dump();
  }
  HttpReply Post(EnrollmentService& s, const std::string& token,
                 const identity::NodeIdentity& asked, const PrivateKey& key,
                 const std::string& peer = "10.1.2.3") {
    return PostBody(s, EnrollBody(token, asked, key), peer);
  }
  HttpReply PostBody(EnrollmentService& s, std::string body, const std::string& peer = "10.1.2.3") {
    HttpRequest r;
    r.method = "POST";
    r.target = "/v1/enroll";
    r.body = std::move(body);
    r.peer = peer;
    return s.Enroll(r);
  }
  static json Body(const HttpReply& r) { return json::parse(r.body); }
  static std::string Error(const HttpReply& r) { return Body(r).value("error", std::string()); }
  static std::string Header(const HttpReply& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }
  // The token with another secret of the right shape.
  static std::string WrongSecret(const std::string& token) {
    std::string t = token;
    const size_t secret = t.rfind('.') + 1;
    t[secret] = t[secret] == 'A' ? 'B' : 'A';
    return t;
  }
  std::vector<access::AuditEntry> AuditEntries() {
    auto log = access::AuditLog::Open(&env_, ip_.audit);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    if (!log.ok()) return {};
    auto page = (*log)->Query({});
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->entries : std::vector<access::AuditEntry>{};
  }

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
  auto verified =
      identity::VerifyNodeChain(chain->front(), rest, fed_.Roots(), kEnrollNow + 60, none);
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
  const std::string bound = Invite({"school", "330106", "bound"});
  HttpReply wrong_name = Post(service, bound, {"school", "330106", "other"}, key);
  EXPECT_EQ(wrong_name.status, 400) << wrong_name.body;
  // A refusal inside the redemption does not use the token up either.
  HttpReply right_name = Post(service, bound, {"school", "330106", "bound"}, key);
  EXPECT_EQ(right_name.status, 200) << right_name.body;

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
  EXPECT_EQ(Error(r).find("identity/"), std::string::npos) << r.body;  // no file of the node
  EXPECT_NE(Error(r).find("cannot enroll nodes: it holds no valid certificate"), std::string::npos)
      << r.body;
  // The detail is in the audit log.
  ASSERT_FALSE(AuditEntries().empty());
  EXPECT_NE(AuditEntries().front().outcome.find("this node is not enrolled (no identity/node.crt)"),
            std::string::npos)
      << AuditEntries().front().outcome;

  NodeConfig school = config_;
  school.tier = Tier::kSchool;
  EnrollmentService leaf(&env_, paths_, school);
  HttpReply from_school = Post(leaf, "x", {"school", "330106", "a"}, key);
  EXPECT_EQ(from_school.status, 403) << from_school.body;
  EXPECT_NE(Error(from_school).find("this node is a school node: it enrolls no one"),
            std::string::npos)
      << from_school.body;

  // A root without an identity CA: nothing verifies.
  Enroll();
  WriteRoot({});
  HttpReply no_ca =
      Post(unenrolled, Invite({"school", "330106", ""}), {"school", "330106", "a"}, key);
  EXPECT_EQ(no_ca.status, 403) << no_ca.body;
  EXPECT_NE(AuditEntries().front().outcome.find("carries no identity CA"), std::string::npos)
      << AuditEntries().front().outcome;
}

TEST_F(EnrollmentServiceTest, WrongSecretsAreRefusedThenTheInvitationIsBurned) {
  Enroll();
  EnrollmentService service(&env_, paths_, config_);
  PrivateKey key = NewKey();
  const std::string token = Invite({"school", "330106", ""});
  for (int i = 0; i < 5; ++i) {
    HttpReply wrong = Post(service, WrongSecret(token), kEnrollingSchool, key);
    EXPECT_EQ(wrong.status, 403) << i << ": " << wrong.body;
  }
  HttpReply burned = Post(service, token, kEnrollingSchool, key);
  EXPECT_EQ(burned.status, 410) << burned.body;
  EXPECT_EQ(Body(burned)["code"], "failed precondition");
}

TEST_F(EnrollmentServiceTest, SecondConcurrentEnrollmentIsAnswered503AtOnce) {
  Enroll();
  HoldingEnv holding(&env_, ip_.lock);
  EnrollmentService service(&holding, paths_, config_);
  PrivateKey key = NewKey();
  const std::string first_body =
      EnrollBody(Invite({"school", "330106", ""}), kEnrollingSchool, key);
  const std::string second_token = Invite({"school", "330106", ""});
  HttpReply first;
  std::thread in_flight([&] { first = PostBody(service, first_body, "10.0.0.1"); });
  holding.WaitUntilHolding();
  const uint64_t before = env_.NowMicros();
  HttpReply second = Post(service, second_token, kEnrollingSchool, key, "10.0.0.2");
  EXPECT_EQ(second.status, 503) << second.body;
  EXPECT_EQ(Header(second, "Retry-After"), "1");
  EXPECT_EQ(env_.NowMicros(), before) << "the second enrollment waited";
  holding.Release();
  in_flight.join();
  EXPECT_EQ(first.status, 200) << first.body;

  // A command (node invite) holds the identity lock: 503 at once, no wait for it either.
  auto command = IdentityLock::Take(&env_, ip_);
  ASSERT_TRUE(command.ok()) << command.status().ToString();
  HttpReply busy = Post(service, second_token, kEnrollingSchool, key, "10.0.0.2");
  EXPECT_EQ(busy.status, 503) << busy.body;
  EXPECT_EQ(Header(busy, "Retry-After"), "1");
  EXPECT_EQ(Error(busy).find(ip_.lock), std::string::npos) << busy.body;
  EXPECT_EQ(env_.NowMicros(), before) << "the enrollment waited for the lock";
  command->reset();
  EXPECT_EQ(Post(service, second_token, kEnrollingSchool, key, "10.0.0.2").status, 200);
}

TEST_F(EnrollmentServiceTest, FailureLimitCountsRequestsInFlight) {
  Enroll();
  HoldingEnv holding(&env_, ip_.lock);
  EnrollmentService service(&holding, paths_, config_);
  const std::string wrong =
      EnrollBody(WrongSecret(Invite({"school", "330106", ""})), kEnrollingSchool, NewKey());
  HttpReply first;
  std::thread in_flight([&] { first = PostBody(service, wrong); });
  holding.WaitUntilHolding();
  std::vector<int> burst;
  for (int i = 0; i < 2 * kFailureBurst; ++i) burst.push_back(PostBody(service, wrong).status);
  holding.Release();
  in_flight.join();
  EXPECT_EQ(first.status, 403) << first.body;
  // Each was charged as it arrived: the one in flight and kFailureBurst - 1 more were admitted
  // (503: one enrollment at a time), every later one is 429.
  for (int i = 0; i < 2 * kFailureBurst; ++i) {
    EXPECT_EQ(burst[i], i < kFailureBurst - 1 ? 503 : 429) << i;
  }
  EXPECT_EQ(PostBody(service, wrong).status, 429);
  EXPECT_EQ(PostBody(service, wrong, "10.9.9.9").status, 403);  // another address
}

TEST_F(EnrollmentServiceTest, SuccessIsNotCountedAsAFailure) {
  Enroll();
  EnrollmentService service(&env_, paths_, config_);
  for (int i = 0; i < kFailureBurst - 1; ++i) ASSERT_EQ(PostBody(service, "{}").status, 400) << i;
  PrivateKey key = NewKey();
  EXPECT_EQ(Post(service, Invite({"school", "330106", ""}), kEnrollingSchool, key).status, 200);
  EXPECT_EQ(PostBody(service, "{}").status, 400);
  EXPECT_EQ(PostBody(service, "{}").status, 429);
}

TEST_F(EnrollmentServiceTest, TheNodesOwnTroubleIsLoggedNotSent) {
  Enroll();
  EnrollmentService service(&env_, paths_, config_);
  PrivateKey key = NewKey();
  const std::string token = Invite({"school", "330106", ""});
  const std::string plain = "the parent could not record the enrollment; try again later";

  // The invitation cannot be marked used: 500, the token still good.
  ASSERT_TRUE(env_.CreateDir(ip_.invitations + ".tmp").ok());
  HttpReply unmarked = Post(service, token, kEnrollingSchool, key, "10.0.0.1");
  EXPECT_EQ(unmarked.status, 500) << unmarked.body;
  EXPECT_EQ(Error(unmarked), plain) << unmarked.body;
  EXPECT_NE(AuditEntries().front().outcome.find(ip_.invitations), std::string::npos)
      << AuditEntries().front().outcome;
  ASSERT_TRUE(env_.RemoveDir(ip_.invitations + ".tmp").ok());

  // The invitation file cannot be read.
  ASSERT_TRUE(env_.RenameFile(ip_.invitations, "/node/invitations.json.saved").ok());
  ASSERT_TRUE(env_.CreateDir(ip_.invitations).ok());
  HttpReply unread = Post(service, token, kEnrollingSchool, key, "10.0.0.2");
  EXPECT_EQ(unread.status, 500) << unread.body;
  EXPECT_EQ(Error(unread), plain) << unread.body;
  EXPECT_NE(AuditEntries().front().outcome.find("invitations"), std::string::npos);
  ASSERT_TRUE(env_.RemoveDir(ip_.invitations).ok());
  ASSERT_TRUE(env_.RenameFile("/node/invitations.json.saved", ip_.invitations).ok());
  EXPECT_EQ(Post(service, token, kEnrollingSchool, key, "10.0.0.3").status, 200);

  // The audit log cannot be written: 500, and still charged to the address.
  ASSERT_TRUE(env_.RenameFile(ip_.audit, "/node/audit.log.saved").ok());
  ASSERT_TRUE(env_.CreateDir(ip_.audit).ok());
  for (int i = 0; i < kFailureBurst; ++i) {
    HttpReply unrecorded = PostBody(service, "{}", "10.0.0.4");
    EXPECT_EQ(unrecorded.status, 500) << i << ": " << unrecorded.body;
    EXPECT_EQ(Error(unrecorded), plain) << unrecorded.body;
  }
  EXPECT_EQ(PostBody(service, "{}", "10.0.0.4").status, 429);
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

TEST(OwnIdentityFilesTest, KeyAndAuditLogAreOwnerOnly) {
  char tmpl[] = "/tmp/tiersync-identity-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const IdentityPaths ip(NodePaths{tmpl});
  Env* env = Env::Default();
  auto mode = [](const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
  };
  bool created = false;
  ASSERT_TRUE(LoadOrCreateNodeKey(env, ip, "", &created).ok());
  EXPECT_TRUE(created);
  EXPECT_EQ(mode(ip.key), 0600);
  access::AuditEntry entry;
  entry.action = "test";
  ASSERT_TRUE(AppendAudit(env, ip, entry).ok());
  EXPECT_EQ(mode(ip.audit), 0600);
  ASSERT_TRUE(AppendAudit(env, ip, entry).ok());
  EXPECT_EQ(mode(ip.audit), 0600);
  EXPECT_EQ(RemoveTree(env, tmpl).code(), StatusCode::kOk);
}

TEST_F(EnrollmentServiceTest, StatusShowsTheIdentity) {
  EXPECT_EQ(IdentityStatusJson(&env_, paths_, config_, kEnrollNow)["enrolled"], false);
  Enroll();
  json j = IdentityStatusJson(&env_, paths_, config_, kEnrollNow);
  EXPECT_EQ(j["enrolled"], true);
  EXPECT_EQ(j["issuer"], "city 'hangzhou' (330100)");
  EXPECT_FALSE(j.contains("error")) << j.dump();
  j = IdentityStatusJson(&env_, paths_, config_, kEnrollNow + 40 * 86400);
  EXPECT_NE(j.value("error", "").find("expired"), std::string::npos) << j.dump();
}

}  // namespace
}  // namespace tiersync::node
