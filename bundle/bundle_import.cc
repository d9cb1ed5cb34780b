#include "bundle/bundle_import.h"

#include <nlohmann/json.hpp>

#include "bundle/bundle_fetcher.h"
#include "node/child_reports.h"
#include "node/garbage_collector.h"
#include "node/node_dir.h"
#include "node/sync_runner.h"
#include "replication/chunk_store.h"
#include "replication/source_policy.h"

namespace tiersync::bundle {
namespace {

Result<BundleManifest> ReadManifest(Env* env, const std::string& dir) {
  const std::string path = JoinPath(dir, kManifestFile);
  if (!env->FileExists(path)) {
    return FailedPreconditionError(dir + " is not a complete tiersync bundle (no " +
                                   std::string(kManifestFile) + ")");
  }
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, path, kMaxManifestBytes));
  auto m = DecodeManifest(AsChars(bytes));
  if (!m.ok() && m.status().code() == StatusCode::kInvalidArgument) {
    return FailedPreconditionError(m.status().message());
  }
  return m;
}

// When the bundle holds a root of the version this node was set up with, and it is not the
// node's pinned root, the bundle was signed under another national root: said in words (the
// TUF client only sees signatures that do not verify). "" otherwise. Only a message: trust
// decisions are the sync's.
std::string OtherRootHint(Env* env, const node::NodePaths& paths, const std::string& bundle_dir) {
  auto pinned = ReadFileToBytes(env, paths.root, 16 << 20);
  if (!pinned.ok()) return "";
  const nlohmann::json j = nlohmann::json::parse(AsChars(*pinned), nullptr, false);
  if (!j.is_object() || !j.contains("signed") || !j["signed"].contains("version") ||
      !j["signed"]["version"].is_number_unsigned()) {
    return "";
  }
  const std::string name = std::to_string(j["signed"]["version"].get<uint64_t>()) + ".root.json";
  auto theirs = ReadFileToBytes(env, JoinPath(JoinPath(bundle_dir, kMetadataDir), name), 16 << 20);
  if (!theirs.ok() || *theirs == *pinned) return "";
  return "; the bundle's " + name +
         " is not this node's pinned root: it was signed under another national root (another "
         "hub, or a test federation) and can never be imported here";
}

}  // namespace

Status ImportError(const Status& sync_error, const std::vector<std::string>& rejections,
                   uint64_t lacked) {
  if (sync_error.ok() || sync_error.local()) return sync_error;
  if (!rejections.empty()) {
    return VerificationError("the bundle was refused by verification (nothing was switched): " +
                             rejections.front());
  }
  if (lacked > 0) {
    return NotFoundError(
        "the bundle lacks files this node's subscription wants (export it without "
        "--subscription, or with this node's): " +
        sync_error.message());
  }
  return sync_error;
}

Result<ImportResult> ImportBundle(Env* env, const ImportOptions& o) {
  ImportResult result;
  TS_ASSIGN_OR_RETURN(result.manifest, ReadManifest(env, o.bundle_dir));
  node::NodePaths paths(o.node_dir);
  auto opened = node::OpenNodeForWriting(env, paths);
  if (!opened.ok() && opened.status().code() == StatusCode::kUnavailable) {
    return opened.status().WithContext("the node is running: stop it first, then import");
  }
  if (!opened.ok()) return opened.status();
  const node::NodeConfig& config = opened->config;
  replication::ChunkStoreOptions so;
  so.env = env;
  so.writable = true;
  so.auto_commit_bytes = 32ull << 20;
  TS_ASSIGN_OR_RETURN(auto store, replication::ChunkStore::Open(paths.store, so));
  // The bundle is the only source: the configured upstreams are never asked.
  const std::string url = "file://" + o.bundle_dir;
  BundleFetcher fetcher(env, url, o.bundle_dir);
  replication::SourcePolicy sources({{"bundle (" + url + ")", url}});
  node::ChildReports children(env, paths);
  children.Load();
  node::SyncRunner runner({env, paths, config, store.get(), &fetcher, &sources}, &children);
  auto outcome = runner.RunOnce(o.progress);
  if (!outcome.ok()) {
    const nlohmann::json rejected = runner.StatusJson()["recent_rejections"];
    std::vector<std::string> rejections;
    if (rejected.is_array()) rejections = rejected.get<std::vector<std::string>>();
    Status s = ImportError(outcome.status(), rejections, sources.Snapshot().front().lacked);
    if (s.code() == StatusCode::kVerificationFailed) {
      s = Status(s.code(), s.message() + OtherRootHint(env, paths, o.bundle_dir));
    }
    return s.WithContext("bundle " + o.bundle_dir);
  }
  if (!outcome->pending.empty()) {
    return VerificationError("bundle " + o.bundle_dir + ": its catalog lacks the signed " +
                             outcome->pending);
  }
  result.outcome = std::move(outcome).value();
  if (result.outcome.switched && config.gc) {
    node::GarbageCollector gc(env, paths, store.get());
    result.gc = gc.Collect("import", config, /*dry_run=*/false).status();
  }
  return result;
}

}  // namespace tiersync::bundle
