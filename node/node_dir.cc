#include "node/node_dir.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "base/layout_version.h"
#include "catalogs/git_catalog.h"
#include "node/layout_migration.h"
#include "replication/chunk_store.h"
#include "replication/tuf_updater.h"

namespace tiersync::node {

NodePaths::NodePaths(std::string dir_in) : dir(std::move(dir_in)) {
  marker = JoinPath(dir, "NODE");
  config = JoinPath(dir, "node.toml");
  root = JoinPath(dir, "root.json");
  lock = JoinPath(dir, "LOCK");
  running = JoinPath(dir, "RUNNING");
  store = JoinPath(dir, "store");
  catalog = JoinPath(dir, "catalog.git");
  trusted = JoinPath(dir, "trusted");
  downloads = JoinPath(dir, "downloads");
  releases = JoinPath(dir, "releases");
  current = JoinPath(dir, "CURRENT");
  fleet = JoinPath(dir, "fleet");
  state = JoinPath(dir, "state.json");
  scrub = JoinPath(dir, "scrub.json");
  gc = JoinPath(dir, "gc.json");
  children = JoinPath(dir, "children");
}

Status InitNode(Env* env, const std::string& dir, const NodeConfig& config, ByteSpan root_json) {
  NodePaths p(dir);
  if (env->FileExists(p.marker)) return AlreadyExistsError(dir + " already holds a node");
  auto root = protocol::tuf::ParseEnvelope(root_json, protocol::tuf::kMaxRootBytes);
  if (!root.ok()) return root.status().WithContext("pinned root");
  auto parsed = protocol::tuf::ParseRoot(root->signed_json);
  if (!parsed.ok()) return parsed.status().WithContext("pinned root");
  TS_RETURN_IF_ERROR(CreateDirs(env, dir));
  for (const std::string& d : {p.releases, p.children, p.downloads}) {
    TS_RETURN_IF_ERROR(CreateDirs(env, d));
  }
  TS_RETURN_IF_ERROR(WriteFileAtomically(env, p.config, AsBytes(FormatNodeConfig(config))));
  TS_RETURN_IF_ERROR(WriteFileAtomically(env, p.root, root_json));
  TS_RETURN_IF_ERROR(replication::Updater::Init(env, p.trusted, root_json));
  TS_RETURN_IF_ERROR(WriteFileAtomically(
      env, JoinPath(p.trusted, std::to_string(parsed->version) + ".root.json"), root_json));
  replication::ChunkStoreOptions store;
  store.env = env;
  if (!env->FileExists(JoinPath(p.store, "STORE"))) {
    TS_RETURN_IF_ERROR(replication::ChunkStore::Create(p.store, store));
  }
  if (!env->FileExists(JoinPath(p.catalog, "HEAD"))) {
    TS_RETURN_IF_ERROR(catalogs::GitCatalog::Init(p.catalog));
  }
  // The marker last: a node whose init was interrupted is not a node, and init can run again.
  return WriteFileAtomically(env, p.marker,
                             AsBytes(LayoutMarker(kNodeLayoutKind, kNodeLayoutVersion)));
}

Result<NodeConfig> LoadNodeConfig(Env* env, const NodePaths& paths) {
  TS_RETURN_IF_ERROR(CheckNodeLayout(env, paths));
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, paths.config, 1 << 20));
  return ParseNodeConfig(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), paths.config);
}

Result<std::unique_ptr<FileLock>> LockNode(Env* env, const NodePaths& paths) {
  Result<std::unique_ptr<FileLock>> lock = env->LockFile(paths.lock);
  if (!lock.ok()) {
    return UnavailableError("node " + paths.dir + " is busy (another tiersync process holds " +
                            paths.lock + ")");
  }
  return lock;
}

Result<OpenedNode> OpenNodeForWriting(Env* env, const NodePaths& paths) {
  TS_RETURN_IF_ERROR(CheckNodeLayout(env, paths));
  OpenedNode node;
  TS_ASSIGN_OR_RETURN(node.lock, LockNode(env, paths));
  TS_RETURN_IF_ERROR(MigrateNodeLayout(env, paths, [](const std::string& line) {
    std::cerr << "tiersync node: " << line << std::endl;
  }));
  TS_ASSIGN_OR_RETURN(node.config, LoadNodeConfig(env, paths));
  return node;
}

std::string EncodeServedRelease(const ServedRelease& r) {
  nlohmann::json j = {{"format", kServedReleaseFormat},
                      {"version", r.version},
                      {"release", r.release},
                      {"files", r.files},
                      {"bytes", r.bytes},
                      {"switched_at", r.switched_at}};
  if (r.deferred > 0) j["deferred"] = r.deferred;
  return j.dump(2) + "\n";
}

Result<ServedRelease> DecodeServedRelease(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object() && j.contains("format") && j["format"] != kServedReleaseFormat) {
    return Status(StatusCode::kNewerFormat,
                  "release.json has format " + j["format"].dump() + "; this tiersync reads " +
                      std::string(kServedReleaseFormat) + ": upgrade tiersync")
        .AsLocal();
  }
  ServedRelease r;
  try {
    r.version = j.at("version").get<uint64_t>();
    r.release = j.at("release").get<std::string>();
    r.files = j.at("files").get<uint64_t>();
    r.bytes = j.at("bytes").get<uint64_t>();
    r.switched_at = j.at("switched_at").get<int64_t>();
    if (j.contains("deferred")) r.deferred = j.at("deferred").get<uint64_t>();
  } catch (const std::exception& e) {
    return CorruptionError(std::string("release.json: ") + e.what());
  }
  return r;
}

Result<std::string> CurrentReleaseDir(Env* env, const NodePaths& paths) {
  if (!env->FileExists(paths.current)) return std::string();
  TS_ASSIGN_OR_RETURN(auto name, ReadFileToBytes(env, paths.current, 64));
  std::string dir(name.begin(), name.end());
  while (!dir.empty() && dir.back() == '\n') dir.pop_back();
  if (dir.empty() || dir.size() > 64 || dir[0] == '.' ||
      dir.find_first_not_of("0123456789abcdef-") != std::string::npos) {
    return CorruptionError(paths.current + ": not a release name");
  }
  return dir;
}

Result<std::optional<ServedRelease>> ReadCurrent(Env* env, const NodePaths& paths) {
  TS_ASSIGN_OR_RETURN(std::string dir, CurrentReleaseDir(env, paths));
  if (dir.empty()) return std::optional<ServedRelease>();
  TS_ASSIGN_OR_RETURN(
      auto json,
      ReadFileToBytes(env, JoinPath(JoinPath(paths.releases, dir), "release.json"), 1 << 16));
  TS_ASSIGN_OR_RETURN(ServedRelease r,
                      DecodeServedRelease(std::string_view(
                          reinterpret_cast<const char*>(json.data()), json.size())));
  return std::optional<ServedRelease>(std::move(r));
}

}  // namespace tiersync::node
