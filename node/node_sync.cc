#include "node/node_sync.h"

#include <nlohmann/json.hpp>
#include <set>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/sha256.h"
#include "catalogs/git_fetch.h"
#include "catalogs/release.h"
#include "catalogs/subscription.h"
#include "node/release_dir.h"
#include "protocol/tuf_trusted_set.h"
#include "replication/chunk_sync.h"
#include "replication/release_sync.h"
#include "replication/tuf_updater.h"

namespace tiersync::node {
namespace {

namespace tuf = protocol::tuf;
using replication::TargetInfo;

int64_t NowMs(Env* env) { return static_cast<int64_t>(env->NowMicros() / 1000); }

// The catalog release a verified refresh names, with its manifest downloaded and checked
// against the signed hash.
Result<catalogs::SignedRelease> SignedCatalogRelease(Env* env, replication::VerifiedMetadata& m) {
  auto manifest = m.targets.find(std::string(catalogs::kCatalogTarget));
  if (manifest == m.targets.end()) {
    return NotFoundError("the signed metadata names no catalog release yet");
  }
  const tuf::TargetFile& mf = *manifest->second;
  TS_ASSIGN_OR_RETURN(catalogs::SignedRelease release,
                      catalogs::ParseCatalogTarget(mf.custom ? &*mf.custom : nullptr));
  TS_ASSIGN_OR_RETURN(std::string local,
                      m.updater->DownloadTarget(TargetInfo{manifest->first, mf}));
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, local, catalogs::kMaxManifestBytes));
  release.manifest.assign(bytes.begin(), bytes.end());
  release.digest = Sha256(bytes);  // DownloadTarget checked it against the signed hash
  return release;
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

  // 1. Metadata, from the first source whose refresh verifies and names a catalog release.
  report("metadata", 0, 0);
  catalogs::SignedRelease signed_release;
  auto refreshed = replication::RefreshMetadata(
      env_, fetcher_, sources_, {paths_.trusted, paths_.downloads},
      [&](replication::VerifiedMetadata& m) -> Status {
        TS_ASSIGN_OR_RETURN(signed_release, SignedCatalogRelease(env_, m));
        return Status::Ok();
      },
      &out.rejected, config_.parallel);
  if (!refreshed.ok()) return refreshed.status();
  out.metadata_source = sources_->source(refreshed->source).name;
  Status last = UnavailableError("no source has the catalog release");

  // 2. The catalog release, verified against the signed manifest. Only the manifest is kept:
  // the records are read one at a time in step 3, so the release is never held whole.
  report("catalog", 0, 0);
  TS_ASSIGN_OR_RETURN(auto git, catalogs::GitCatalog::Open(paths_.catalog));
  auto content = catalogs::ReadVerifiedRelease(git.get(), signed_release, /*keep_files=*/false);
  if (!content.ok()) {
    for (size_t i : sources_->Order(NowMs(env_))) {
      const replication::Source& src = sources_->source(i);
      // Fetched into quarantine, verified, and only then made part of the repository.
      auto fetched = catalogs::FetchVerifiedRelease(paths_.catalog, src.url + "/v1/catalog.git",
                                                    signed_release, fetcher_);
      if (!fetched.ok()) {
        last = fetched.status().WithContext(src.name);
        reject(i, fetched.status());
        continue;
      }
      TS_ASSIGN_OR_RETURN(git, catalogs::GitCatalog::Open(paths_.catalog));
      content = catalogs::ReadVerifiedRelease(git.get(), signed_release, /*keep_files=*/false);
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

  // 3. Plan: this node's subscription and its children's, applied to each record as it is
  // read (a record is dropped as soon as its wanted files are taken).
  report("plan", 0, 0);
  std::map<std::string, std::string> subscriptions = ReadChildSubscriptions(env_, paths_);
  subscriptions[""] = config_.subscription;
  std::vector<catalogs::Subscription> parsed;
  std::string plan_key = std::to_string(refreshed->version);
  for (const auto& [child, text] : subscriptions) {
    auto sub = catalogs::Subscription::Parse(text, taxonomy, regions);
    if (!sub.ok()) {
      if (child.empty()) return sub.status().WithContext(paths_.config + " [subscription] rules");
      continue;  // a child's bad subscription is its problem; it was refused when reported
    }
    plan_key += "\n" + text;
    parsed.push_back(std::move(sub).value());
  }
  std::map<std::string, catalogs::WantedFile> wanted;
  TS_RETURN_IF_ERROR(catalogs::ForEachReleaseRecord(
      git.get(), *content, taxonomy, regions, [&](catalogs::Resource&& r) -> Status {
        for (const catalogs::Subscription& sub : parsed) {
          for (auto& w : catalogs::WantedFilesOf(r, sub, regions)) {
            wanted.emplace(w.target_path, std::move(w));
          }
        }
        return Status::Ok();
      }));
  content = catalogs::ReleaseContent();
  git.reset();
  std::vector<replication::PlannedFile> files;
  files.reserve(wanted.size());
  for (const auto& [path, w] : wanted) {
    auto t = refreshed->targets.find(path);
    if (t == refreshed->targets.end()) {
      return VerificationError("catalog release " + signed_release.release + " lists " + path +
                               " but the signed metadata has no such target");
    }
    TS_ASSIGN_OR_RETURN(auto file, replication::PlannedFileFor(path, *t->second, w.priority));
    files.push_back(std::move(file));
  }
  wanted.clear();
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
  replication::ChunkSyncOptions options;
  options.parallel = config_.parallel;
  options.max_bytes_per_second = config_.max_bytes_per_second;
  options.progress = [&](uint64_t done, uint64_t total) { report("chunks", done, total); };
  auto check_quota = [&](const replication::ChunkPlan& plan) -> Status {
    out.planned_bytes = plan.missing_bytes;
    if (config_.quota_bytes == 0 || plan.wanted_bytes <= config_.quota_bytes) return Status::Ok();
    return ResourceExhaustedError("release " + signed_release.release + " needs " +
                                  std::to_string(plan.wanted_bytes) + " bytes for " +
                                  std::to_string(files.size()) + " files; the quota is " +
                                  std::to_string(config_.quota_bytes));
  };
  auto fetched = replication::FetchRelease(files, ctx, options, check_quota);
  finish_counters();
  if (!fetched.ok()) return fetched.status();

  // 5. Switch: the release directory, then CURRENT.
  report("switch", 0, 0);
  ServedRelease served;
  served.version = refreshed->version;
  served.release = signed_release.release;
  served.files = files.size();
  served.bytes = 0;
  for (const auto& f : files) served.bytes += f.length;
  served.switched_at = static_cast<int64_t>(env_->NowMicros() / 1000000);
  TS_RETURN_IF_ERROR(WriteReleaseDir(
      env_, paths_, *refreshed->updater->trusted(), plan_name, served,
      {{"catalog/" + ToHex(signed_release.digest) + ".manifest.txt", signed_release.manifest}}));
  TS_RETURN_IF_ERROR(SwitchCurrent(env_, paths_, plan_name, previous_dir));
  out.switched = true;
  out.current = served;
  return out;
}

}  // namespace tiersync::node
