#include "node/layout_migration.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "base/bytes.h"
#include "base/layout_version.h"
#include "node/child_reports.h"
#include "replication/chunk_store.h"

namespace tiersync::node {
namespace {

constexpr size_t kMaxMigratedFileBytes = 1 << 20;

std::string What(const NodePaths& paths) { return "node " + paths.dir; }

// True if `text` is a JSON object with a "format" field.
bool HasFormat(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  return j.is_object() && j.contains("format");
}

// Rewrites the JSON file at `path` as `reencode` makes it, unless it has a format already or
// does not decode (kept as it is). `reencode` returns "" for "leave it".
Status AddFormat(Env* env, const std::string& path,
                 const std::function<std::string(std::string_view)>& reencode) {
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, path, kMaxMigratedFileBytes));
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (HasFormat(text)) return Status::Ok();
  const std::string out = reencode(text);
  if (out.empty()) return Status::Ok();
  return WriteFileAtomically(env, path, AsBytes(out));
}

// children/<hash>.json: "format": "tiersync-child-report 1".
Status MigrateChildReports(Env* env, const NodePaths& paths) {
  if (!env->FileExists(paths.children)) return Status::Ok();
  TS_ASSIGN_OR_RETURN(auto names, env->GetChildren(paths.children));
  for (const std::string& name : names) {
    if (!name.ends_with(".json")) continue;
    TS_RETURN_IF_ERROR(AddFormat(env, JoinPath(paths.children, name), [](std::string_view text) {
      auto r = DecodeChildReport(text);
      return r.ok() ? EncodeChildReportFile(*r) : std::string();
    }));
  }
  return Status::Ok();
}

// releases/<V>-<plan>/release.json: "format": "tiersync-release 1".
Status MigrateReleaseFiles(Env* env, const NodePaths& paths) {
  if (!env->FileExists(paths.releases)) return Status::Ok();
  TS_ASSIGN_OR_RETURN(auto names, env->GetChildren(paths.releases));
  for (const std::string& name : names) {
    const std::string file = JoinPath(JoinPath(paths.releases, name), "release.json");
    if (!env->FileExists(file)) continue;  // a release directory a crash left half-written
    TS_RETURN_IF_ERROR(AddFormat(env, file, [](std::string_view text) {
      auto r = DecodeServedRelease(text);
      return r.ok() ? EncodeServedRelease(*r) : std::string();
    }));
  }
  return Status::Ok();
}

std::vector<MigrationStep> Steps(Env* env, const NodePaths& paths) {
  return {{1, "children/*.json and releases/*/release.json name their format", [env, &paths] {
             TS_RETURN_IF_ERROR(MigrateChildReports(env, paths));
             return MigrateReleaseFiles(env, paths);
           }}};
}

}  // namespace

Status CheckNodeLayout(Env* env, const NodePaths& paths) {
  auto version = ReadLayoutVersion(env, paths.marker, kNodeLayoutKind);
  if (version.status().code() == StatusCode::kNotFound) {
    return FailedPreconditionError(paths.dir +
                                   " is not a node (no NODE file; see tiersync node init)");
  }
  if (!version.ok()) return version.status();
  TS_RETURN_IF_ERROR(CheckLayoutVersion(*version, kNodeLayoutVersion, What(paths), paths.marker));
  // The store has a version of its own; a newer one is refused here too, before the lock.
  if (!env->FileExists(paths.store)) return Status::Ok();
  return replication::ChunkStore::CheckFormat(paths.store, env);
}

Status MigrateNodeLayout(Env* env, const NodePaths& paths,
                         const std::function<void(const std::string&)>& log) {
  TS_RETURN_IF_ERROR(CheckNodeLayout(env, paths));
  return MigrateLayout(env, paths.marker, kNodeLayoutKind, What(paths), kNodeLayoutVersion,
                       Steps(env, paths), log);
}

}  // namespace tiersync::node
