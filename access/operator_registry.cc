#include "access/operator_registry.h"

#include <utility>

#include "protocol/json.h"
#include "protocol/json_fields.h"

namespace tiersync::access {

using protocol::Json;

namespace {

constexpr std::string_view kFormat = "tiersync-operators";
constexpr int64_t kVersion = 1;

Result<std::map<std::string, Operator, std::less<>>> Decode(std::string_view text) {
  TS_ASSIGN_OR_RETURN(Json doc, protocol::ParseJson(text));
  protocol::JsonFields f(doc, "registry", StatusCode::kCorruption, "");
  TS_RETURN_IF_ERROR(f.OnlyKnown({"format", "version", "operators"}));
  TS_ASSIGN_OR_RETURN(std::string format, f.String("format"));
  TS_ASSIGN_OR_RETURN(uint64_t version, f.Uint("version", 0));
  if (format != kFormat) return CorruptionError("not an operator registry: format " + format);
  if (version != kVersion) {
    return NotSupportedError("operator registry version " + std::to_string(version));
  }
  TS_ASSIGN_OR_RETURN(const Json* list, f.Array("operators"));
  if (list->as_array().size() > kMaxOperators) {
    return ResourceExhaustedError("more than " + std::to_string(kMaxOperators) + " operators");
  }
  std::map<std::string, Operator, std::less<>> ops;
  for (size_t i = 0; i < list->as_array().size(); ++i) {
    const std::string where = "operators[" + std::to_string(i) + "]";
    TS_ASSIGN_OR_RETURN(Operator op, OperatorFromJson(list->as_array()[i], where));
    if (ops.contains(op.name)) return CorruptionError(where + ": repeated name " + op.name);
    std::string name = op.name;
    ops.emplace(std::move(name), std::move(op));
  }
  return ops;
}

std::string Encode(const std::map<std::string, Operator, std::less<>>& ops) {
  Json list = Json::Array();
  for (const auto& [name, op] : ops) list.Push(OperatorJson(op));
  Json doc = Json::Object();
  doc.Set("format", kFormat).Set("version", kVersion).Set("operators", std::move(list));
  return protocol::EncodePretty(doc);
}

Status Denied(std::string message) { return Status(kPermissionDenied, std::move(message)); }

std::string Who(const Operator& op) {
  return std::string(RoleName(op.role)) + " '" + op.name + "' (" + op.scope + ")";
}

}  // namespace

Result<std::unique_ptr<OperatorRegistry>> OperatorRegistry::Open(Env* env, std::string path) {
  Map ops;
  if (env->FileExists(path)) {
    auto bytes = ReadFileToBytes(env, path, kMaxRegistryFileBytes);
    if (!bytes.ok()) return bytes.status().WithContext("operator registry " + path);
    const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    auto decoded = Decode(text);
    if (!decoded.ok()) return decoded.status().WithContext("operator registry " + path);
    ops = std::move(decoded).value();
  }
  return std::unique_ptr<OperatorRegistry>(
      new OperatorRegistry(env, std::move(path), std::move(ops)));
}

Status OperatorRegistry::Commit(Map next) {
  const std::string text = Encode(next);
  TS_RETURN_IF_ERROR(WriteFileAtomically(
      env_, path_, ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
  ops_ = std::move(next);
  return Status::Ok();
}

Status OperatorRegistry::Bootstrap(Operator first, int64_t now) {
  TS_RETURN_IF_ERROR(CheckOperator(first));
  MutexLock l(&mu_);
  if (!ops_.empty()) {
    return FailedPreconditionError("operator registry " + path_ + " is not empty");
  }
  first.added_by = std::string(kBootstrapAddedBy);
  first.added_at = now;
  first.disabled = false;
  first.disabled_by.clear();
  first.disabled_at = 0;
  Map next;
  std::string name = first.name;
  next.emplace(std::move(name), std::move(first));
  return Commit(std::move(next));
}

Status OperatorRegistry::MayManage(std::string_view by, const Operator& subject) const {
  auto it = ops_.find(by);
  if (it == ops_.end()) return Denied("unknown operator '" + std::string(by) + "'");
  const Operator& actor = it->second;
  if (actor.disabled) return Denied("operator '" + actor.name + "' is disabled");
  TS_RETURN_IF_ERROR(Authorize(actor, Action::kManageOperators, subject.scope));
  if (subject.role == Role::kNationalAdmin && actor.role != Role::kNationalAdmin) {
    return Denied(Who(actor) + " may not manage a national_admin");
  }
  return Status::Ok();
}

Status OperatorRegistry::Add(std::string_view by, Operator op, int64_t now) {
  TS_RETURN_IF_ERROR(CheckOperator(op));
  MutexLock l(&mu_);
  TS_RETURN_IF_ERROR(MayManage(by, op));
  if (ops_.contains(op.name)) {
    return AlreadyExistsError("operator '" + op.name + "' already exists");
  }
  if (ops_.size() >= kMaxOperators) {
    return ResourceExhaustedError("operator registry holds " + std::to_string(kMaxOperators) +
                                  " operators");
  }
  op.added_by = std::string(by);
  op.added_at = now;
  op.disabled = false;
  op.disabled_by.clear();
  op.disabled_at = 0;
  Map next = ops_;
  std::string name = op.name;
  next.emplace(std::move(name), std::move(op));
  return Commit(std::move(next));
}

Status OperatorRegistry::Disable(std::string_view by, std::string_view name, int64_t now) {
  MutexLock l(&mu_);
  auto it = ops_.find(name);
  if (it == ops_.end()) return NotFoundError("no operator '" + std::string(name) + "'");
  TS_RETURN_IF_ERROR(MayManage(by, it->second));
  if (by == name) return FailedPreconditionError("an operator may not disable itself");
  if (it->second.disabled) return Status::Ok();
  Map next = ops_;
  Operator& op = next.find(name)->second;
  op.disabled = true;
  op.disabled_by = std::string(by);
  op.disabled_at = now;
  return Commit(std::move(next));
}

Result<Operator> OperatorRegistry::Find(std::string_view name) const {
  MutexLock l(&mu_);
  auto it = ops_.find(name);
  if (it == ops_.end()) return NotFoundError("no operator '" + std::string(name) + "'");
  return it->second;
}

std::vector<Operator> OperatorRegistry::List() const {
  MutexLock l(&mu_);
  std::vector<Operator> out;
  out.reserve(ops_.size());
  for (const auto& [name, op] : ops_) out.push_back(op);
  return out;
}

}  // namespace tiersync::access
