#include "identity/invitation.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "base/mem_env.h"
#include "identity/chain_verify.h"
#include "identity/enrollment_request.h"
#include "identity/test_federation.h"

namespace tiersync::identity {
namespace {

using identity_testing::kDay;
using identity_testing::kNow;
using identity_testing::kSchool;
using identity_testing::NewKey;
using identity_testing::TestFederation;

class InvitationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CreateDirs(&env_, "/node").ok());
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
  }
  std::unique_ptr<InvitationStore> OpenStore() {
    Result<std::unique_ptr<InvitationStore>> s =
        InvitationStore::Open({.env = &env_,
                               .path = "/node/invitations.json",
                               .issuer = &f_.county.cert,
                               .issuer_key = &f_.county.key});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::string Invite(const NodeIdentity& id = kSchool) {
    Result<std::string> token = store_->Create(id, kNow, kNow + 7 * kDay);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return token.ok() ? *token : "";
  }
  std::string Request(const NodeIdentity& id = kSchool) {
    Result<std::string> pem = MakeEnrollmentRequest(key_, id);
    EXPECT_TRUE(pem.ok()) << pem.status().ToString();
    return pem.ok() ? *pem : "";
  }
  // The token with another secret of the right shape.
  static std::string WrongSecret(const std::string& token) {
    std::string t = token;
    t.back() = t.back() == 'A' ? 'B' : 'A';
    return t;
  }

  MemEnv env_;
  TestFederation f_;
  PrivateKey key_ = NewKey();
  std::unique_ptr<InvitationStore> store_;
};

TEST_F(InvitationTest, TokenShape) {
  std::string token = Invite();
  ASSERT_EQ(token.size(), 6 + 1 + 32 + 1 + 43u);
  EXPECT_TRUE(token.starts_with("tsinv1."));
  // The secret is not stored anywhere.
  const std::string secret = token.substr(token.rfind('.') + 1);
  Result<std::vector<uint8_t>> file = ReadFileToBytes(&env_, "/node/invitations.json", 1 << 20);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(std::string(file->begin(), file->end()).find(secret), std::string::npos);
}

TEST_F(InvitationTest, RedeemIssuesAVerifiableCertificate) {
  std::string token = Invite();
  Result<NodeCertificate> cert = store_->Redeem(token, Request(), kNow + kDay);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_EQ(cert->identity(), kSchool);
  // Valid from an hour before the issuer's clock: a child whose clock is behind accepts it.
  EXPECT_EQ(cert->not_before(), kNow + kDay - kNotBeforeBackdateSeconds);
  // 30 days from now, cut to the county's own not_after.
  EXPECT_EQ(cert->not_after(), f_.county.cert.not_after());
  RevocationSet none;
  EXPECT_TRUE(VerifyNodeChain(*cert, f_.Intermediates(), f_.Roots(), kNow + kDay, none).ok());
  for (int64_t behind : {int64_t{1}, kNotBeforeBackdateSeconds}) {
    Status s =
        VerifyNodeChain(*cert, f_.Intermediates(), f_.Roots(), kNow + kDay - behind, none).status();
    EXPECT_TRUE(s.ok()) << "a clock " << behind << " s behind: " << s.ToString();
  }
  ASSERT_EQ(store_->List().size(), 1u);
  EXPECT_EQ(store_->List()[0].serial, cert->serial());
}

TEST_F(InvitationTest, SingleUse) {
  std::string token = Invite();
  ASSERT_TRUE(store_->Redeem(token, Request(), kNow).ok());
  Status again = store_->Redeem(token, Request(), kNow).status();
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(again.message().ends_with("was already used at 2026-01-01T00:00:00Z"))
      << again.message();
  // Survives a restart: the "used" mark is on disk.
  store_ = OpenStore();
  EXPECT_EQ(store_->Redeem(token, Request(), kNow).status().code(), StatusCode::kAlreadyExists);
}

TEST_F(InvitationTest, ConcurrentRedemptionsExactlyOneWins) {
  std::string token = Invite();
  std::string pem = Request();
  constexpr int kThreads = 8;
  std::atomic<int> won{0}, used{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      Result<NodeCertificate> r = store_->Redeem(token, pem, kNow);
      if (r.ok()) ++won;
      if (r.status().code() == StatusCode::kAlreadyExists) ++used;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(used.load(), kThreads - 1);
}

TEST_F(InvitationTest, Expired) {
  std::string token = Invite();
  Status s = store_->Redeem(token, Request(), kNow + 7 * kDay).status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(s.message().ends_with("expired at 2026-01-08T00:00:00Z")) << s.message();
  EXPECT_TRUE(store_->Redeem(token, Request(), kNow + 7 * kDay - 1).ok());
}

TEST_F(InvitationTest, UnknownAndMalformedTokens) {
  std::string token = Invite();
  std::string unknown = token;
  unknown[7] = unknown[7] == 'a' ? 'b' : 'a';
  EXPECT_EQ(store_->Redeem(unknown, Request(), kNow).status().code(), StatusCode::kNotFound);
  for (std::string bad : {std::string("tsinv1"), token.substr(0, token.size() - 1),
                          "tsinv2" + token.substr(6), token + "=", std::string("")}) {
    EXPECT_EQ(store_->Redeem(bad, Request(), kNow).status().message(), "malformed invitation token")
        << bad;
  }
}

TEST_F(InvitationTest, WrongSecretThenBurned) {
  std::string token = Invite();
  for (uint32_t i = 1; i < kMaxSecretFailures; ++i) {
    Status s = store_->Redeem(WrongSecret(token), Request(), kNow).status();
    EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
    EXPECT_TRUE(s.message().starts_with("wrong secret for invitation")) << s.message();
  }
  Status last = store_->Redeem(WrongSecret(token), Request(), kNow).status();
  EXPECT_TRUE(last.message().ends_with("the invitation is now burned")) << last.message();
  // Now even the right secret is refused, also after a restart.
  store_ = OpenStore();
  Status burned = store_->Redeem(token, Request(), kNow).status();
  EXPECT_EQ(burned.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(burned.message().ends_with("is burned after 5 wrong secrets")) << burned.message();
}

TEST_F(InvitationTest, RightSecretAfterFewFailuresStillWorks) {
  std::string token = Invite();
  EXPECT_FALSE(store_->Redeem(WrongSecret(token), Request(), kNow).ok());
  EXPECT_TRUE(store_->Redeem(token, Request(), kNow).ok());
}

TEST_F(InvitationTest, RequestMustMatchTheInvitation) {
  std::string token = Invite();
  Status other_name = store_->Redeem(token, Request({"school", "330106", "other"}), kNow).status();
  EXPECT_EQ(other_name.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(other_name.message(),
            "the request asks for school 'other' (330106), the invitation is for school "
            "'xihu-no1' (330106)");
  EXPECT_FALSE(store_->Redeem(token, Request({"county", "330106", "xihu-no1"}), kNow).ok());
  EXPECT_FALSE(store_->Redeem(token, Request({"school", "330105", "xihu-no1"}), kNow).ok());
  // A refused request does not use the invitation up.
  EXPECT_TRUE(store_->Redeem(token, Request(), kNow).ok());
}

TEST_F(InvitationTest, UnboundNameAcceptsAnyName) {
  std::string token = Invite({"school", "330106", ""});
  Result<NodeCertificate> cert = store_->Redeem(token, Request({"school", "330106", "new"}), kNow);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_EQ(cert->identity().name, "new");
}

TEST_F(InvitationTest, InvitationsOutsideScopeCannotBeCreated) {
  EXPECT_EQ(store_->Create({"school", "320106", "x"}, kNow, kNow + kDay).status().message(),
            "school 'x' (320106) is not inside its issuer county 'xihu' (330106)");
  EXPECT_FALSE(store_->Create({"county", "330106", "x"}, kNow, kNow + kDay).ok());
  EXPECT_FALSE(store_->Create(kSchool, kNow, kNow).ok());
}

TEST_F(InvitationTest, TamperedRequestIsRefused) {
  std::string token = Invite();
  std::string pem = Request();
  size_t at = pem.find("-----END") - 5;
  pem[at] = pem[at] == 'A' ? 'B' : 'A';
  EXPECT_EQ(store_->Redeem(token, pem, kNow).status().code(), StatusCode::kVerificationFailed);
}

TEST_F(InvitationTest, SchoolCannotHoldAStore) {
  Result<std::unique_ptr<InvitationStore>> s =
      InvitationStore::Open({.env = &env_,
                             .path = "/node/x.json",
                             .issuer = &f_.school.cert,
                             .issuer_key = &f_.school.key});
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tiersync::identity
