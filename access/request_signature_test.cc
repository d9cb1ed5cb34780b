#include "access/request_signature.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "access/operator_test_util.h"
#include "base/mem_env.h"

namespace tiersync::access {
namespace {

using testing::kNow;
using testing::MakeOperator;

constexpr char kNonce[] = "00112233445566778899aabbccddeeff";

class RequestSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.CreateDir("/node").ok());
    auto r = OperatorRegistry::Open(&env_, "/node/operators.json");
    ASSERT_TRUE(r.ok());
    registry_ = std::move(r).value();
    ASSERT_TRUE(registry_->Bootstrap(root_.op, kNow).ok());
    ASSERT_TRUE(registry_->Add("root", zj_.op, kNow).ok());
  }

  RequestParts Request() const {
    return {"POST", "/admin/v1/children/xihu/pause?reason=exam", R"({"until":1767312000})",
            "HZ.example.cn:8443"};
  }

  std::string Sign(const testing::KeyedOperator& who, const RequestParts& req, int64_t at = kNow,
                   std::string_view nonce = kNonce) {
    auto h = SignRequest(who.key, who.op.name, req, at, nonce);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? *h : "";
  }

  StatusCode Verify(const std::string& header, const RequestParts& req, int64_t now = kNow) {
    return VerifyRequest(header, req, now, *registry_, nonces_).status().code();
  }

  MemEnv env_;
  testing::KeyedOperator root_ = MakeOperator("root", Role::kNationalAdmin, "110000");
  testing::KeyedOperator zj_ =
      MakeOperator("zj-admin", Role::kProvincialAdmin, "330000", "sm2-sm3");
  std::unique_ptr<OperatorRegistry> registry_;
  NonceCache nonces_;
};

TEST_F(RequestSignatureTest, RoundTripWithEd25519) {
  const std::string header = Sign(root_, Request());
  EXPECT_TRUE(header.starts_with("Tiersync-Sig op=\"root\", ts=\"1767225600\", nonce=\""));
  auto op = VerifyRequest(header, Request(), kNow + 10, *registry_, nonces_);
  ASSERT_TRUE(op.ok()) << op.status().ToString();
  EXPECT_EQ(op->name, "root");
  EXPECT_EQ(op->role, Role::kNationalAdmin);
}

TEST_F(RequestSignatureTest, RoundTripWithSm2Sm3) {
  auto op = VerifyRequest(Sign(zj_, Request()), Request(), kNow - 10, *registry_, nonces_);
  ASSERT_TRUE(op.ok()) << op.status().ToString();
  EXPECT_EQ(op->name, "zj-admin");
}

TEST_F(RequestSignatureTest, HostCaseDoesNotMatter) {
  const std::string header = Sign(root_, Request());
  RequestParts req = Request();
  req.host = "hz.EXAMPLE.cn:8443";
  EXPECT_EQ(Verify(header, req), StatusCode::kOk);
}

TEST_F(RequestSignatureTest, TamperedBodyPathMethodOrHostIsRefused) {
  const std::string header = Sign(zj_, Request());
  RequestParts body = Request(), path = Request(), method = Request(), host = Request();
  body.body = R"({"until":1767398400})";
  path.target = "/admin/v1/children/gongshu/pause?reason=exam";
  method.method = "PUT";
  host.host = "nj.example.cn:8443";
  for (const RequestParts& req : {body, path, method, host}) {
    EXPECT_EQ(Verify(header, req), StatusCode::kVerificationFailed);
  }
  EXPECT_EQ(Verify(header, Request()), StatusCode::kOk);  // untampered, still fresh
}

TEST_F(RequestSignatureTest, TamperedTsOrNonceIsRefused) {
  const std::string header = Sign(root_, Request());
  std::string ts = header, nonce = header;
  ts.replace(ts.find("1767225600"), 10, "1767225601");
  nonce.replace(nonce.find(kNonce), 2, "ff");
  EXPECT_EQ(Verify(ts, Request()), StatusCode::kVerificationFailed);
  EXPECT_EQ(Verify(nonce, Request()), StatusCode::kVerificationFailed);
}

TEST_F(RequestSignatureTest, AnotherOperatorsKeyIsRefused) {
  // zj-admin's name, root's key.
  auto forged = SignRequest(root_.key, "zj-admin", Request(), kNow, kNonce);
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(Verify(*forged, Request()), StatusCode::kVerificationFailed);
}

TEST_F(RequestSignatureTest, ReplayedNonceIsRefused) {
  const std::string header = Sign(root_, Request());
  EXPECT_EQ(Verify(header, Request()), StatusCode::kOk);
  EXPECT_EQ(Verify(header, Request(), kNow + 100), StatusCode::kAlreadyExists);
  // A new nonce is a new request.
  EXPECT_EQ(Verify(Sign(root_, Request(), kNow, "ffeeddccbbaa99887766554433221100"), Request()),
            StatusCode::kOk);
}

TEST_F(RequestSignatureTest, ClockSkewBeyondTheWindowIsRefused) {
  const std::string header = Sign(root_, Request());
  EXPECT_EQ(Verify(header, Request(), kNow + kMaxClockSkewSeconds + 1),
            StatusCode::kDeadlineExceeded);
  EXPECT_EQ(Verify(header, Request(), kNow - kMaxClockSkewSeconds - 1),
            StatusCode::kDeadlineExceeded);
  EXPECT_EQ(Verify(header, Request(), kNow + kMaxClockSkewSeconds), StatusCode::kOk);
}

TEST_F(RequestSignatureTest, DisabledOperatorIsRefused) {
  const std::string header = Sign(zj_, Request());
  ASSERT_TRUE(registry_->Disable("root", "zj-admin", kNow).ok());
  EXPECT_EQ(Verify(header, Request()), kPermissionDenied);
}

TEST_F(RequestSignatureTest, UnknownOperatorIsRefused) {
  auto stranger = MakeOperator("stranger", Role::kNationalAdmin, "110000");
  EXPECT_EQ(Verify(Sign(stranger, Request()), Request()), StatusCode::kNotFound);
}

TEST_F(RequestSignatureTest, MalformedHeadersAreRefused) {
  const std::string good = Sign(root_, Request());
  const std::string sig = good.substr(good.find("sig="));
  for (std::string bad : {
           std::string(""),
           std::string("Bearer abc"),
           std::string("Tiersync-Sig"),
           "tiersync-sig" + good.substr(12),
           good + " ",
           good + ", extra=\"1\"",
           "Tiersync-Sig ts=\"1767225600\", op=\"root\", nonce=\"" + std::string(kNonce) + "\", " +
               sig,
           "Tiersync-Sig op=\"ro ot\", ts=\"1767225600\", nonce=\"" + std::string(kNonce) + "\", " +
               sig,
           "Tiersync-Sig op=\"root\", ts=\"01767225600\", nonce=\"" + std::string(kNonce) + "\", " +
               sig,
           "Tiersync-Sig op=\"root\", ts=\"-5\", nonce=\"" + std::string(kNonce) + "\", " + sig,
           "Tiersync-Sig op=\"root\", ts=\"1767225600\", nonce=\"0011\", " + sig,
           "Tiersync-Sig op=\"root\", ts=\"1767225600\", nonce=\"" + std::string(kNonce) +
               "\", sig=\"ABCD\"",
           "Tiersync-Sig op=\"root\", ts=\"1767225600\", nonce=\"" + std::string(kNonce) +
               "\", sig=\"abc",
           "Tiersync-Sig op=\"root\", ts=\"99999999999999999999\", nonce=\"" + std::string(kNonce) +
               "\", " + sig,
           good + std::string(kMaxAuthorizationBytes, 'a'),
       }) {
    EXPECT_EQ(Verify(bad, Request()), StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(RequestSignatureTest, ParserIsTotalOverTruncationsAndByteFlips) {
  const std::string good = Sign(root_, Request());
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(ParseSignatureHeader(good.substr(0, n)).ok()) << n;
    std::string flipped = good;
    flipped[n] = static_cast<char>(flipped[n] ^ 0x80);
    EXPECT_FALSE(ParseSignatureHeader(flipped).ok()) << n;
  }
  EXPECT_TRUE(ParseSignatureHeader(good).ok());
}

TEST_F(RequestSignatureTest, ControlCharactersInRequestPartsAreRefused) {
  RequestParts req = Request();
  req.target = "/admin/v1/x\nHost: evil";
  EXPECT_EQ(SignRequest(root_.key, "root", req, kNow, kNonce).status().code(),
            StatusCode::kInvalidArgument);
  req = Request();
  req.method = "post";
  EXPECT_EQ(SignRequest(root_.key, "root", req, kNow, kNonce).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(RequestSignatureTest, CanonicalRequestLayout) {
  auto c = CanonicalRequest({"GET", "/a?b=1", "", "H"}, "12", kNonce);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c,
            "tiersync-admin-v1\nGET\n/a?b=1\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nh\n12\n" +
                std::string(kNonce));
}

TEST(NewNonceTest, SixteenBytesOfHex) {
  MemEnv env;
  const std::string n = NewNonce(&env);
  EXPECT_EQ(n.size(), 32u);
  EXPECT_TRUE(
      ParseSignatureHeader("Tiersync-Sig op=\"a\", ts=\"1\", nonce=\"" + n + "\", sig=\"00\"")
          .ok());
}

}  // namespace
}  // namespace tiersync::access
