// OperatorRegistry: the operators of one node (who may sign its admin requests, with which
// key, in which role and scope), kept in one JSON file through Env.
//
// File (docs/formats/operators-and-audit.md), written by EncodePretty:
//   {"format": "tiersync-operators", "version": 1,
//    "operators": [<operator>, ...]}          // access/operator.h; sorted by name
// Every change rewrites the whole file atomically and durably (WriteFileAtomically: temp
// file, write, fsync, rename, fsync of the directory), so a crash leaves the old or the new
// registry, never a mixture; a change is reported OK only once it is durable. A failed write
// leaves the registry in memory as it was.
//
// Rules: names are unique for ever (a disabled operator keeps its name, so audit lines stay
// unambiguous); adding or disabling an operator is the action manage_operators in the scope
// of the operator added or disabled (access/roles.h), authorized by an enabled operator of
// this registry; only a national_admin may add or disable a national_admin; nobody disables
// itself. The first operator of an empty registry is added by Bootstrap (the local setup
// command: whoever can write the file could write it anyway).
//
// Thread safety: all methods may be called from several threads; one mutex serializes them,
// and changes hold it across the file write (changes are rare).
#ifndef TIERSYNC_ACCESS_OPERATOR_REGISTRY_H_
#define TIERSYNC_ACCESS_OPERATOR_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "access/operator.h"
#include "base/env.h"
#include "base/mutex.h"
#include "base/status.h"

namespace tiersync::access {

inline constexpr size_t kMaxRegistryFileBytes = 4 << 20;
inline constexpr size_t kMaxOperators = 10'000;
inline constexpr std::string_view kBootstrapAddedBy = "(bootstrap)";

class OperatorRegistry {
 public:
  // Reads the registry at `path`; a missing file is an empty registry (the file is created by
  // the first change). `env` must outlive the registry.
  // Errors, each naming the file: kCorruption (not JSON, another format, a bad operator, a
  // repeated name), kNotSupported (a newer version), kResourceExhausted (over the size or
  // count limits), and the Env's errors reading it.
  static Result<std::unique_ptr<OperatorRegistry>> Open(Env* env, std::string path);

  // Adds the first operator of an empty registry (added_by "(bootstrap)", added_at `now`).
  // Errors: kFailedPrecondition if the registry is not empty; kInvalidArgument /
  // kNotSupported from CheckOperator; the write's errors.
  Status Bootstrap(Operator first, int64_t now) EXCLUDES(mu_);

  // Adds `op` (its added_by, added_at and disabled fields are set here) on behalf of the
  // enabled operator named `by`.
  // Errors: kInvalidArgument / kNotSupported (CheckOperator); kPermissionDenied if `by` is
  // unknown, disabled, not allowed manage_operators in op.scope, or not a national_admin
  // adding one; kAlreadyExists if the name is taken; kResourceExhausted over kMaxOperators;
  // the write's errors.
  Status Add(std::string_view by, Operator op, int64_t now) EXCLUDES(mu_);

  // Disables operator `name` on behalf of `by` (same authorization as Add, in the scope of
  // the operator disabled). Disabling a disabled operator is OK and changes nothing.
  // Errors: kNotFound (no such operator); kPermissionDenied; kFailedPrecondition if `by`
  // names itself; the write's errors.
  Status Disable(std::string_view by, std::string_view name, int64_t now) EXCLUDES(mu_);

  // The operator named `name` (enabled or not); kNotFound otherwise.
  Result<Operator> Find(std::string_view name) const EXCLUDES(mu_);
  // Every operator, by name.
  std::vector<Operator> List() const EXCLUDES(mu_);

  const std::string& path() const { return path_; }

 private:
  using Map = std::map<std::string, Operator, std::less<>>;
  OperatorRegistry(Env* env, std::string path, Map ops)
      : env_(env), path_(std::move(path)), ops_(std::move(ops)) {}

  // OK if the enabled operator `by` may add or disable an operator like `subject`.
  Status MayManage(std::string_view by, const Operator& subject) const REQUIRES(mu_);
  // Writes `next` to the file; on success it becomes the registry.
  Status Commit(Map next) REQUIRES(mu_);

  Env* const env_;
  const std::string path_;
  mutable Mutex mu_;
  Map ops_ GUARDED_BY(mu_);
};

}  // namespace tiersync::access

#endif  // TIERSYNC_ACCESS_OPERATOR_REGISTRY_H_
