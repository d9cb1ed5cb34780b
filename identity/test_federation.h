// Test support (compiled into identity_test only): a federation of node keys and certificates,
// national -> province 330000 -> city 330100 -> county 330106 -> school, built with the real
// Issue(), at a fixed clock.
#ifndef TIERSYNC_IDENTITY_TEST_FEDERATION_H_
#define TIERSYNC_IDENTITY_TEST_FEDERATION_H_

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "base/crypto.h"
#include "identity/node_certificate.h"

namespace tiersync::identity::identity_testing {

inline constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
inline constexpr int64_t kDay = 86400;

// The school at the bottom of the federation below.
inline const NodeIdentity kSchool{"school", "330106", "xihu-no1"};

inline PrivateKey NewKey(const std::string& scheme = "ed25519") {
  Result<PrivateKey> key = PrivateKey::Generate(scheme);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::move(key).value();
}

// A node: its key and certificate.
struct TestNode {
  PrivateKey key;
  NodeCertificate cert;
};

inline TestNode NationalCa(const std::string& scheme = "ed25519", int64_t now = kNow) {
  PrivateKey key = NewKey(scheme);
  Result<NodeCertificate> cert = MakeNationalCa(key, "national-ca", now - kDay, now + 365 * kDay);
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  return {std::move(key), std::move(cert).value()};
}

inline TestNode Child(const TestNode& parent, const NodeIdentity& id,
                      const std::string& scheme = "ed25519", int64_t now = kNow,
                      int64_t lifetime = kNodeCertificateLifetimeSeconds) {
  PrivateKey key = NewKey(scheme);
  Result<NodeCertificate> cert =
      Issue(parent.cert, parent.key, id, key.Public(), now - kDay, now - kDay + lifetime);
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  return {std::move(key), std::move(cert).value()};
}

// The five tiers, every key of `scheme` (the national CA's of `ca_scheme`).
struct TestFederation {
  explicit TestFederation(const std::string& scheme = "ed25519", const std::string& ca_scheme = "")
      : national(NationalCa(ca_scheme.empty() ? scheme : ca_scheme)),
        province(Child(national, {"province", "330000", "zhejiang"}, scheme)),
        city(Child(province, {"city", "330100", "hangzhou"}, scheme)),
        county(Child(city, {"county", "330106", "xihu"}, scheme)),
        school(Child(county, kSchool, scheme)) {}

  // The intermediates of the school's chain (county, city, province).
  std::vector<NodeCertificate> Intermediates() const {
    return {county.cert, city.cert, province.cert};
  }
  std::vector<NodeCertificate> Roots() const { return {national.cert}; }

  TestNode national, province, city, county, school;
};

}  // namespace tiersync::identity::identity_testing

#endif  // TIERSYNC_IDENTITY_TEST_FEDERATION_H_
