// Operator: one person (or tool) allowed to administer a node, as the operator registry
// (access/operator_registry.h) keeps it, and its JSON form in the registry file.
//
// JSON form (one element of the registry file's "operators" array):
//   {"name": "zj-admin", "role": "provincial_admin", "scope": "330000",
//    "key": {"keytype": "sm2", "scheme": "sm2-sm3", "keyval": {"public": "-----BEGIN ..."}},
//    "added_by": "root-admin", "added_at": 1767225600, "disabled": false,
//    "disabled_by": "", "disabled_at": 0}
// Every member is required on reading; unknown members are refused (the file is written only
// by tiersync and read by security decisions: nothing ambiguous is kept).
//
// Names: 1..64 bytes of [A-Za-z0-9._-], starting with a letter or digit (they appear inside
// the quoted op="..." of a request signature and in audit lines, unescaped).
#ifndef TIERSYNC_ACCESS_OPERATOR_H_
#define TIERSYNC_ACCESS_OPERATOR_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "access/roles.h"
#include "base/crypto.h"
#include "base/status.h"
#include "protocol/json.h"

namespace tiersync::access {

inline constexpr size_t kMaxOperatorNameBytes = 64;

// The three strings of a TUF key object (base/crypto.h), as the registry stores them.
struct OperatorKey {
  std::string keytype;  // "ed25519", "sm2", "ecdsa", "rsa"
  std::string scheme;   // "ed25519", "sm2-sm3", ...
  std::string public_value;
  bool operator==(const OperatorKey&) const = default;
};

// The key object of `key` (what PrivateKey::Public() gives).
OperatorKey KeyOf(const PublicKey& key);
// The verifying key; errors of PublicKey::FromTuf.
Result<PublicKey> ParseKey(const OperatorKey& key);

struct Operator {
  std::string name;
  Role role = Role::kNodeOperator;
  std::string scope;  // 6-digit region code (see access/roles.h for what it grants)
  OperatorKey key;
  std::string added_by;  // the authorizing operator's name; "(bootstrap)" for the first
  int64_t added_at = 0;  // unix seconds
  bool disabled = false;
  std::string disabled_by;  // "" while enabled
  int64_t disabled_at = 0;
  bool operator==(const Operator&) const = default;
};

// OK or kInvalidArgument ("operator name: ...").
Status CheckOperatorName(std::string_view name);

// The checks a registry applies before it keeps an operator: name, 6-digit scope, a key that
// parses for a supported scheme. kInvalidArgument / kNotSupported naming the member.
Status CheckOperator(const Operator& op);

protocol::Json OperatorJson(const Operator& op);
// Strict reading of the form above, then CheckOperator. `where` names the element in
// messages; errors are kCorruption naming the member ("operators[2].scope: is not a string").
Result<Operator> OperatorFromJson(const protocol::Json& j, const std::string& where);

}  // namespace tiersync::access

#endif  // TIERSYNC_ACCESS_OPERATOR_H_
