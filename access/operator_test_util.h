// Test helpers: operators with fresh keys. For tests only.
#ifndef TIERSYNC_ACCESS_OPERATOR_TEST_UTIL_H_
#define TIERSYNC_ACCESS_OPERATOR_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>

#include "access/operator.h"
#include "base/crypto.h"

namespace tiersync::access::testing {

// The tests' clock: 2026-01-01 00:00:00 UTC.
constexpr int64_t kNow = 1'767'225'600;

// An operator and its private key.
struct KeyedOperator {
  Operator op;
  PrivateKey key;
};

// A fresh key of `scheme` ("ed25519", "sm2-sm3") for a new operator.
inline KeyedOperator MakeOperator(std::string name, Role role, std::string scope,
                                  std::string_view scheme = "ed25519") {
  auto key = PrivateKey::Generate(scheme);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  Operator op;
  op.name = std::move(name);
  op.role = role;
  op.scope = std::move(scope);
  op.key = KeyOf(key->Public());
  return {std::move(op), std::move(key).value()};
}

}  // namespace tiersync::access::testing

#endif  // TIERSYNC_ACCESS_OPERATOR_TEST_UTIL_H_
