#include "node/node_sync.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/sha256.h"
#include "catalogs/git_transport.h"
#include "catalogs/release.h"
#include "catalogs/subscription.h"
#include "protocol/tuf_trusted_set.h"
#include "replication/chunk_sync.h"
#include "replication/tuf_updater.h"

namespace tiersync::node {
namespace {

namespace tuf = protocol::tuf;
using replication::TargetInfo;

int64_t NowMs(Env* env) { return static_cast<int64_t>(env->NowMicros() / 1000); }

constexpr uint64_t kMaxCatalogFetchBytes = 1ull << 30;

// A verified metadata refresh: the trusted state, every target, the catalog release.
struct Refreshed {
  std::unique_ptr<replication::Updater> updater;
  std::map<std::string, tuf::TargetFile> targets;
  catalogs::SignedRelease release;
  uint64_t version = 0;  // timestamp version
};

std::string Quote(const std::string& role) { return tuf::QuoteForFileName(role); }

Result<Refreshed> RefreshFrom(Env* env, replication::Fetcher* fetcher, const NodePaths& paths,
                              const std::string& url) {
  Refreshed r;
  r.updater = std::make_unique<replication::Updater>(
      env, fetcher,
      replication::UpdaterOptions{paths.trusted, url + "/v1/metadata", url + "/v1/targets",
                                  paths.downloads, /*keep_root_history=*/true});
  TS_RETURN_IF_ERROR(r.updater->Refresh());
  TS_ASSIGN_OR_RETURN(auto all, r.updater->ListAllTargets());
  for (auto& t : all) r.targets.emplace(t.path, std::move(t.file));
  auto manifest = r.targets.find(std::string(catalogs::kCatalogTarget));
  if (manifest == r.targets.end()) {
    return NotFoundError("the signed metadata names no catalog release yet");
  }
  const tuf::TargetFile& mf = manifest->second;
  TS_ASSIGN_OR_RETURN(r.release, catalogs::ParseCatalogTarget(mf.custom ? &*mf.custom : nullptr));
  TS_ASSIGN_OR_RETURN(std::string local,
                      r.updater->DownloadTarget(TargetInfo{manifest->first, mf}));
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, local, catalogs::kMaxManifestBytes));
  r.release.manifest.assign(bytes.begin(), bytes.end());
  r.release.digest = Sha256(bytes);  // DownloadTarget checked it against the signed hash
  r.version = r.updater->trusted()->timestamp()->version;
  return r;
}

// Puts the trusted metadata file `from` (durable: the updater wrote it atomically) into a
// release directory as a hard link — no copy, no fsync per file (the directory is synced
// once). The trusted file may be replaced later; the link keeps this release's bytes. Copies
// when the file system refuses links.
Status LinkOrCopy(Env* env, const std::string& from, const std::string& to) {
  if (env->LinkFile(from, to).ok()) return Status::Ok();
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, from, 256 << 20));
  return WriteFileAtomically(env, to, bytes);
}

// Writes releases/<name>/ with the metadata exactly as verified and the manifest target.
Status WriteReleaseDir(Env* env, const NodePaths& paths, const Refreshed& r,
                       const std::string& name, const ServedRelease& served) {
  const tuf::TrustedSet* t = r.updater->trusted();
  const std::string dir = JoinPath(paths.releases, name);
  const std::string tmp = dir + ".tmp";
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  const std::string meta = JoinPath(tmp, "metadata");
  TS_RETURN_IF_ERROR(CreateDirs(env, meta));
  for (uint64_t v = 1; v <= t->root().version; ++v) {
    const std::string file = std::to_string(v) + ".root.json";
    TS_RETURN_IF_ERROR(LinkOrCopy(env, JoinPath(paths.trusted, file), JoinPath(meta, file)));
  }
  TS_RETURN_IF_ERROR(
      LinkOrCopy(env, JoinPath(paths.trusted, "timestamp.json"), JoinPath(meta, "timestamp.json")));
  TS_RETURN_IF_ERROR(LinkOrCopy(
      env, JoinPath(paths.trusted, "snapshot.json"),
      JoinPath(meta, std::to_string(t->timestamp()->snapshot_meta.version) + ".snapshot.json")));
  for (const auto& [file, m] : t->snapshot()->meta) {
    std::string role = file.substr(0, file.size() - 5);  // strip ".json"
    TS_RETURN_IF_ERROR(
        LinkOrCopy(env, JoinPath(paths.trusted, Quote(role) + ".json"),
                   JoinPath(meta, std::to_string(m.version) + "." + Quote(role) + ".json")));
  }
  const std::string targets = JoinPath(tmp, "targets/catalog");
  TS_RETURN_IF_ERROR(CreateDirs(env, targets));
  TS_RETURN_IF_ERROR(
      WriteFileAtomically(env, JoinPath(targets, ToHex(r.release.digest) + ".manifest.txt"),
                          AsBytes(r.release.manifest)));
  TS_RETURN_IF_ERROR(WriteFileAtomically(env, JoinPath(tmp, "release.json"),
                                         AsBytes(EncodeServedRelease(served))));
  TS_RETURN_IF_ERROR(env->SyncDir(meta));
  TS_RETURN_IF_ERROR(env->SyncDir(tmp));
  std::filesystem::remove_all(dir, ec);
  TS_RETURN_IF_ERROR(env->RenameFile(tmp, dir));
  return env->SyncDir(paths.releases);
}

// Removes release directories other than the current and the previous one.
void CollectOldReleases(const NodePaths& paths, const std::string& current,
                        const std::string& previous) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(paths.releases, ec)) {
    std::string name = e.path().filename();
    if (name != current && name != previous) std::filesystem::remove_all(e.path(), ec);
  }
}

}  // namespace

std::map<std::string, std::string> ReadChildSubscriptions(Env* env, const NodePaths& paths) {
  std::map<std::string, std::string> out;
  auto names = env->GetChildren(paths.children);
  if (!names.ok()) return out;
  for (const std::string& name : *names) {
    if (!name.ends_with(".json")) continue;
    auto bytes = ReadFileToBytes(env, JoinPath(paths.children, name), 128 << 10);
    if (!bytes.ok()) continue;
    nlohmann::json j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
    if (j.is_object() && j.contains("subscription") && j["subscription"].is_string()) {
      out[name.substr(0, name.size() - 5)] = j["subscription"].get<std::string>();
    }
  }
  return out;
}

NodeSync::NodeSync(Env* env, const NodePaths& paths, const NodeConfig& config,
                   replication::ChunkStore* store, replication::Fetcher* fetcher,
                   replication::SourcePolicy* sources)
    : env_(env),
      paths_(paths),
      config_(config),
      store_(store),
      fetcher_(fetcher),
      sources_(sources) {}

Result<SyncOutcome> NodeSync::Run(const SyncProgress& progress, SyncOutcome* partial) {
  SyncOutcome local_outcome;
  SyncOutcome& out = partial ? *partial : local_outcome;
  out = SyncOutcome();
  auto report = [&](const std::string& phase, uint64_t done, uint64_t total) {
    if (progress) progress(phase, done, total);
  };
  auto reject = [&](size_t i, const Status& s) {
    if (s.code() == StatusCode::kVerificationFailed) {
      out.rejected.push_back(sources_->source(i).name + ": " + s.message());
    }
    sources_->Failed(i, s, NowMs(env_));
  };

  // 1. Metadata.
  report("metadata", 0, 0);
  std::optional<Refreshed> refreshed;
  Status last = UnavailableError("no sources configured");
  for (size_t i : sources_->Order(NowMs(env_))) {
    auto r = RefreshFrom(env_, fetcher_, paths_, sources_->source(i).url);
    if (!r.ok()) {
      last = r.status().WithContext(sources_->source(i).name);
      reject(i, r.status());
      continue;
    }
    sources_->Succeeded(i, 0, NowMs(env_));
    out.metadata_source = sources_->source(i).name;
    refreshed.emplace(std::move(r).value());
    break;
  }
  if (!refreshed) return last.WithContext("no source gave verified metadata");
  const catalogs::SignedRelease& signed_release = refreshed->release;

  // 2. The catalog release, verified against the signed manifest.
  report("catalog", 0, 0);
  TS_ASSIGN_OR_RETURN(auto git, catalogs::GitCatalog::Open(paths_.catalog));
  auto content = catalogs::ReadVerifiedRelease(git.get(), signed_release);
  if (!content.ok()) {
    for (size_t i : sources_->Order(NowMs(env_))) {
      const replication::Source& src = sources_->source(i);
      auto fetched =
          catalogs::FetchCatalog(paths_.catalog, src.url + "/v1/catalog.git",
                                 std::chrono::seconds(config_.stall_seconds * 4),
                                 kMaxCatalogFetchBytes, catalogs::FetchTls{config_.tls_ca});
      if (!fetched.ok()) {
        last = fetched.status().WithContext(src.name);
        reject(i, fetched.status());
        continue;
      }
      TS_ASSIGN_OR_RETURN(git, catalogs::GitCatalog::Open(paths_.catalog));
      content = catalogs::ReadVerifiedRelease(git.get(), signed_release);
      if (!content.ok()) {
        Status s = content.status().code() == StatusCode::kNotFound
                       ? NotFoundError(content.status().message())
                       : VerificationError(content.status().message());
        last = s.WithContext(src.name);
        reject(i, s);
        continue;
      }
      sources_->Succeeded(i, fetched->received_bytes, NowMs(env_));
      out.catalog_source = src.name;
      break;
    }
    if (!content.ok()) return last.WithContext("catalog release " + signed_release.release);
  }
  const auto& taxonomy = catalogs::Taxonomy::Builtin();
  const auto& regions = catalogs::RegionTable::Builtin();
  TS_ASSIGN_OR_RETURN(auto records, catalogs::ParseReleaseRecords(*content, taxonomy, regions));
  std::vector<catalogs::Resource> resources;
  resources.reserve(records.size());
  for (auto& [id, r] : records) resources.push_back(std::move(r));

  // 3. Plan: this node's subscription and its children's.
  report("plan", 0, 0);
  std::map<std::string, std::string> subscriptions = ReadChildSubscriptions(env_, paths_);
  subscriptions[""] = config_.subscription;
  std::map<std::string, catalogs::WantedFile> wanted;
  std::string plan_key = std::to_string(refreshed->version);
  for (const auto& [child, text] : subscriptions) {
    auto sub = catalogs::Subscription::Parse(text, taxonomy, regions);
    if (!sub.ok()) {
      if (child.empty()) return sub.status().WithContext(paths_.config + " [subscription] rules");
      continue;  // a child's bad subscription is its problem; it was refused when reported
    }
    plan_key += "\n" + text;
    for (auto& w : catalogs::SelectWanted(resources, *sub, regions)) {
      wanted.emplace(w.target_path, std::move(w));
    }
  }
  std::vector<replication::PlannedFile> files;
  for (const auto& [path, w] : wanted) {
    auto t = refreshed->targets.find(path);
    if (t == refreshed->targets.end()) {
      return VerificationError("catalog release " + signed_release.release + " lists " + path +
                               " but the signed metadata has no such target");
    }
    const tuf::TargetFile& tf = t->second;
    auto sha = tf.hashes.find("sha256");
    const protocol::Json* index = tf.custom ? tf.custom->Find("chunk_index") : nullptr;
    std::optional<Sha256Digest> sha_d =
        sha == tf.hashes.end() ? std::nullopt : Sha256FromHex(sha->second);
    std::optional<Sha256Digest> index_d =
        index && index->is_string() ? Sha256FromHex(index->as_string()) : std::nullopt;
    if (!sha_d || !index_d) {
      return VerificationError("signed target " + path + " lacks its sha256 or chunk_index");
    }
    files.push_back({path, tf.length, *sha_d, *index_d, w.priority});
  }
  out.wanted_files = files.size();
  const std::string plan_name =
      std::to_string(refreshed->version) + "-" + ToHex(Sha256(AsBytes(plan_key))).substr(0, 8);

  TS_ASSIGN_OR_RETURN(auto current, ReadCurrent(env_, paths_));
  TS_ASSIGN_OR_RETURN(const std::string previous_dir, CurrentReleaseDir(env_, paths_));
  if (current && previous_dir == plan_name) {
    out.current = *current;
    return out;  // up to date: same release, same subscriptions
  }

  // 4. Execute.
  replication::SyncCounters counters;
  replication::SyncContext ctx{env_, fetcher_, sources_, store_, &counters};
  auto finish_counters = [&] {
    out.fetched_bytes = counters.chunk_bytes;
    out.fetched_chunks = counters.chunks;
    std::lock_guard<std::mutex> lock(counters.mu);
    out.rejected.insert(out.rejected.end(), counters.rejected.begin(), counters.rejected.end());
    out.chunk_bytes_by_source = counters.chunk_bytes_by_source;
  };
  auto indexes = replication::LoadIndexes(files, ctx);
  if (!indexes.ok()) {
    finish_counters();
    return indexes.status();
  }
  auto have = [&](const protocol::ChunkId& id) {
    auto r = store_->Contains(id);
    return r.ok() && *r;
  };
  replication::ChunkPlan plan = replication::PlanChunks(files, *indexes, have);
  out.planned_bytes = plan.missing_bytes;
  if (config_.quota_bytes > 0 && plan.wanted_bytes > config_.quota_bytes) {
    return ResourceExhaustedError("release " + signed_release.release + " needs " +
                                  std::to_string(plan.wanted_bytes) + " bytes for " +
                                  std::to_string(files.size()) + " files; the quota is " +
                                  std::to_string(config_.quota_bytes));
  }
  replication::ChunkSyncOptions options;
  options.parallel = config_.parallel;
  options.max_bytes_per_second = config_.max_bytes_per_second;
  options.progress = [&](uint64_t done, uint64_t total) { report("chunks", done, total); };
  Status fetched = replication::FetchChunks(plan.missing, ctx, options);
  Status committed = store_->Commit();  // keep what arrived, whatever happened
  finish_counters();
  TS_RETURN_IF_ERROR(fetched);
  TS_RETURN_IF_ERROR(committed);
  TS_RETURN_IF_ERROR(replication::StoreIndexes(files, *indexes, store_));
  TS_RETURN_IF_ERROR(store_->Commit());

  // 5. Verify that everything is there, then switch.
  report("switch", 0, 0);
  replication::ChunkPlan check = replication::PlanChunks(files, *indexes, have);
  if (!check.missing.empty()) {
    return CorruptionError(std::to_string(check.missing.size()) +
                           " chunks still missing after the fetch; not switching");
  }
  for (const auto& f : files) {
    if (!store_->GetIndexBytes(f.index_id).ok()) {
      return CorruptionError("chunk index of " + f.path + " missing after the fetch");
    }
  }
  ServedRelease served;
  served.version = refreshed->version;
  served.release = signed_release.release;
  served.files = files.size();
  served.bytes = 0;
  for (const auto& f : files) served.bytes += f.length;
  served.switched_at = static_cast<int64_t>(env_->NowMicros() / 1000000);
  TS_RETURN_IF_ERROR(WriteReleaseDir(env_, paths_, *refreshed, plan_name, served));
  TS_RETURN_IF_ERROR(WriteFileAtomically(env_, paths_.current, AsBytes(plan_name + "\n")));
  CollectOldReleases(paths_, plan_name, previous_dir);
  out.switched = true;
  out.current = served;
  return out;
}

}  // namespace tiersync::node
