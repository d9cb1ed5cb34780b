#include "access/operator.h"

#include "protocol/json_fields.h"

namespace tiersync::access {

using protocol::Json;
using protocol::JsonFields;

OperatorKey KeyOf(const PublicKey& key) {
  return {key.keytype(), key.scheme(), key.public_value()};
}

Result<PublicKey> ParseKey(const OperatorKey& key) {
  return PublicKey::FromTuf(key.keytype, key.scheme, key.public_value);
}

Status CheckOperatorName(std::string_view name) {
  auto bad = [](std::string what) { return InvalidArgumentError("operator name: " + what); };
  if (name.empty() || name.size() > kMaxOperatorNameBytes) {
    return bad("must be 1 to " + std::to_string(kMaxOperatorNameBytes) + " bytes");
  }
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name[0])) return bad("must start with a letter or digit");
  for (char c : name) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') {
      return bad("only letters, digits, '.', '_' and '-' are allowed");
    }
  }
  return Status::Ok();
}

Status CheckOperator(const Operator& op) {
  TS_RETURN_IF_ERROR(CheckOperatorName(op.name));
  TS_RETURN_IF_ERROR(CheckRegionCode(op.scope).WithContext("scope"));
  if (!op.added_by.empty()) {
    if (Status s = CheckOperatorName(op.added_by); !s.ok() && op.added_by != "(bootstrap)") {
      return s.WithContext("added_by");
    }
  }
  return ParseKey(op.key).status().WithContext("key");
}

Json OperatorJson(const Operator& op) {
  Json keyval = Json::Object();
  keyval.Set("public", op.key.public_value);
  Json key = Json::Object();
  key.Set("keytype", op.key.keytype).Set("scheme", op.key.scheme).Set("keyval", keyval);
  Json j = Json::Object();
  j.Set("name", op.name)
      .Set("role", RoleName(op.role))
      .Set("scope", op.scope)
      .Set("key", key)
      .Set("added_by", op.added_by)
      .Set("added_at", op.added_at)
      .Set("disabled", op.disabled)
      .Set("disabled_by", op.disabled_by)
      .Set("disabled_at", op.disabled_at);
  return j;
}

namespace {

Result<OperatorKey> KeyFromJson(const Json& j, const std::string& where) {
  JsonFields f(j, where, StatusCode::kCorruption, "");
  TS_RETURN_IF_ERROR(f.OnlyKnown({"keytype", "scheme", "keyval"}));
  OperatorKey key;
  TS_ASSIGN_OR_RETURN(key.keytype, f.String("keytype"));
  TS_ASSIGN_OR_RETURN(key.scheme, f.String("scheme"));
  TS_ASSIGN_OR_RETURN(const Json* keyval, f.Object("keyval"));
  JsonFields kv(*keyval, f.Field("keyval"), StatusCode::kCorruption, "");
  TS_RETURN_IF_ERROR(kv.OnlyKnown({"public"}));
  TS_ASSIGN_OR_RETURN(key.public_value, kv.String("public"));
  return key;
}

Result<int64_t> Seconds(const JsonFields& f, std::string_view name) {
  TS_ASSIGN_OR_RETURN(uint64_t v, f.Uint(name, 0));
  return static_cast<int64_t>(v);
}

}  // namespace

Result<Operator> OperatorFromJson(const Json& j, const std::string& where) {
  JsonFields f(j, where, StatusCode::kCorruption, "");
  TS_RETURN_IF_ERROR(f.OnlyKnown({"name", "role", "scope", "key", "added_by", "added_at",
                                  "disabled", "disabled_by", "disabled_at"}));
  Operator op;
  TS_ASSIGN_OR_RETURN(op.name, f.String("name"));
  TS_ASSIGN_OR_RETURN(std::string role, f.String("role"));
  std::optional<Role> r = RoleFromName(role);
  if (!r) return f.Bad(f.Field("role"), "unknown role '" + role + "'");
  op.role = *r;
  TS_ASSIGN_OR_RETURN(op.scope, f.String("scope"));
  TS_ASSIGN_OR_RETURN(const Json* key, f.Object("key"));
  TS_ASSIGN_OR_RETURN(op.key, KeyFromJson(*key, f.Field("key")));
  TS_ASSIGN_OR_RETURN(op.added_by, f.String("added_by"));
  TS_ASSIGN_OR_RETURN(op.added_at, Seconds(f, "added_at"));
  TS_ASSIGN_OR_RETURN(op.disabled, f.Bool("disabled"));
  TS_ASSIGN_OR_RETURN(op.disabled_by, f.String("disabled_by"));
  TS_ASSIGN_OR_RETURN(op.disabled_at, Seconds(f, "disabled_at"));
  if (Status s = CheckOperator(op); !s.ok()) {
    return Status(StatusCode::kCorruption, where + ": " + s.message());
  }
  return op;
}

}  // namespace tiersync::access
