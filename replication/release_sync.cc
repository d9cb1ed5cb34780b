#include "replication/release_sync.h"

#include <cerrno>
#include <cstring>

#include "base/sha256.h"

namespace tiersync::replication {
namespace {

namespace tuf = protocol::tuf;

int64_t NowMs(Env* env) { return static_cast<int64_t>(env->NowMicros() / 1000); }

// An error of this node's own disk (the updater persisting what it verified): no source is to
// blame and no other source would do better, so the refresh stops there. Sources report only
// kUnavailable, kDeadlineExceeded, kNotFound, kVerificationFailed and, for bodies over a cap,
// kResourceExhausted without an errno text (replication/fetcher.h).
bool LocalDiskError(const Status& s) {
  if (s.code() == StatusCode::kIOError) return true;
  return s.code() == StatusCode::kResourceExhausted &&
         (s.message().find(std::strerror(ENOSPC)) != std::string::npos ||
          s.message().find(std::strerror(EDQUOT)) != std::string::npos);
}

Result<VerifiedMetadata> RefreshFrom(Env* env, Fetcher* fetcher, const MetadataDirs& dirs,
                                     const std::string& url, int parallel_fetches) {
  VerifiedMetadata m;
  m.updater = std::make_unique<Updater>(
      env, fetcher,
      UpdaterOptions{dirs.trusted, url + "/v1/metadata", url + "/v1/targets", dirs.downloads,
                     /*keep_root_history=*/true, parallel_fetches});
  TS_RETURN_IF_ERROR(m.updater->Refresh());
  TS_ASSIGN_OR_RETURN(m.targets, m.updater->ListAllTrustedTargets());
  m.version = m.updater->trusted()->timestamp()->version;
  return m;
}

}  // namespace

Result<VerifiedMetadata> RefreshMetadata(Env* env, Fetcher* fetcher, SourcePolicy* sources,
                                         const MetadataDirs& dirs, const AcceptMetadata& accept,
                                         std::vector<std::string>* rejected, int parallel_fetches) {
  Status last = UnavailableError("no sources configured");
  for (size_t i : sources->Order(NowMs(env))) {
    const Source& src = sources->source(i);
    auto m = RefreshFrom(env, fetcher, dirs, src.url, parallel_fetches);
    Status s = m.ok() ? Status::Ok() : m.status();
    if (s.ok()) {
      m->source = i;
      if (accept) s = accept(*m);
    }
    if (!s.ok() && LocalDiskError(s)) return s.WithContext("this node's disk");
    if (!s.ok()) {
      if (s.code() == StatusCode::kVerificationFailed && rejected != nullptr) {
        rejected->push_back(src.name + ": " + s.message());
      }
      sources->Failed(i, s, NowMs(env));
      last = s.WithContext(src.name);
      continue;
    }
    sources->Succeeded(i, 0, NowMs(env));
    return std::move(m).value();
  }
  return last.WithContext("no source gave verified metadata");
}

Result<PlannedFile> PlannedFileFor(const std::string& path, const tuf::TargetFile& target,
                                   bool priority) {
  auto sha = target.hashes.find("sha256");
  const protocol::Json* index = target.custom ? target.custom->Find("chunk_index") : nullptr;
  std::optional<Sha256Digest> sha_d =
      sha == target.hashes.end() ? std::nullopt : Sha256FromHex(sha->second);
  std::optional<Sha256Digest> index_d =
      index && index->is_string() ? Sha256FromHex(index->as_string()) : std::nullopt;
  if (!sha_d || !index_d) {
    return VerificationError("signed target " + path + " lacks its sha256 or chunk_index");
  }
  return PlannedFile{path, target.length, *sha_d, *index_d, priority};
}

Result<FetchedRelease> FetchRelease(const std::vector<PlannedFile>& files, const SyncContext& ctx,
                                    const ChunkSyncOptions& options, const CheckPlan& check_plan) {
  FetchedRelease out;
  TS_ASSIGN_OR_RETURN(auto indexes, LoadIndexes(files, ctx, options.parallel));
  auto have = [&](const protocol::ChunkId& id) {
    auto r = ctx.store->Contains(id);
    return r.ok() && *r;
  };
  ChunkPlan plan = PlanChunks(files, indexes, have);
  out.wanted_bytes = plan.wanted_bytes;
  out.planned_bytes = plan.missing_bytes;
  if (check_plan) TS_RETURN_IF_ERROR(check_plan(plan));
  Status fetched = FetchChunks(plan.missing, ctx, options);
  Status committed = ctx.store->Commit();  // keep what arrived, whatever happened
  TS_RETURN_IF_ERROR(fetched);
  TS_RETURN_IF_ERROR(committed);
  TS_RETURN_IF_ERROR(StoreIndexes(files, indexes, ctx.store));
  TS_RETURN_IF_ERROR(ctx.store->Commit());

  ChunkPlan check = PlanChunks(files, indexes, have);
  if (!check.missing.empty()) {
    return CorruptionError(std::to_string(check.missing.size()) +
                           " chunks still missing after the fetch; not switching");
  }
  for (const auto& f : files) {
    if (!ctx.store->GetIndexBytes(f.index_id).ok()) {
      return CorruptionError("chunk index of " + f.path + " missing after the fetch");
    }
  }
  return out;
}

}  // namespace tiersync::replication
