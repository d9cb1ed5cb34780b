#include "replication/release_sync.h"

#include <algorithm>
#include <optional>

#include "base/sha256.h"
#include "replication/source_walk.h"

namespace tiersync::replication {
namespace {

namespace tuf = protocol::tuf;

Result<VerifiedMetadata> RefreshFrom(Env* env, Fetcher* fetcher, const MetadataDirs& dirs,
                                     const std::string& url, int parallel_fetches,
                                     const SkipListing& skip) {
  VerifiedMetadata m;
  m.updater = std::make_unique<Updater>(
      env, fetcher,
      UpdaterOptions{dirs.trusted, url + "/v1/metadata", url + "/v1/targets", dirs.downloads,
                     /*keep_root_history=*/true, parallel_fetches});
  TS_RETURN_IF_ERROR(m.updater->Refresh());
  m.version = m.updater->trusted()->timestamp()->version;
  if (skip && skip(*m.updater->trusted())) {
    m.listed = false;
    return m;
  }
  TS_ASSIGN_OR_RETURN(m.targets, m.updater->ListAllTrustedTargets());
  m.retractions = m.updater->retractions();
  return m;
}

}  // namespace

Result<VerifiedMetadata> RefreshMetadata(Env* env, Fetcher* fetcher, SourcePolicy* sources,
                                         const MetadataDirs& dirs, const AcceptMetadata& accept,
                                         std::vector<std::string>* rejected, int parallel_fetches,
                                         const SkipListing& skip) {
  std::optional<VerifiedMetadata> verified;
  auto got = AskSources(
      sources, env,
      [&](size_t i, const Source& src) -> SourceAnswer {
        auto m = RefreshFrom(env, fetcher, dirs, src.url, parallel_fetches, skip);
        if (!m.ok()) return {m.status()};
        m->source = i;
        if (accept && m->listed) {
          if (Status s = accept(*m); !s.ok()) return {s};
        }
        verified = std::move(m).value();
        return {Status::Ok()};
      },
      [&](const std::string& what) {
        if (rejected != nullptr) rejected->push_back(what);
      });
  if (!got.ok() && got.status().local()) return got.status().WithContext("this node's disk");
  if (!got.ok()) return got.status().WithContext("no source gave verified metadata");
  return std::move(*verified);
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
  auto have = [&](const protocol::ChunkId& id) {
    auto r = ctx.store->Contains(id);
    return r.ok() && *r;
  };
  // Outside the windows only priority files are fetched, and ordinary ones whose index is
  // stored already are checked (they may be complete from an earlier release).
  bool open = !options.ordinary_allowed || options.ordinary_allowed(int64_t(ctx.env->NowMicros()));
  std::vector<PlannedFile> fetched_files;
  auto choose = [&] {
    fetched_files.clear();
    out.deferred.clear();
    for (const PlannedFile& f : files) {
      if (open || f.priority || ctx.store->GetIndexBytes(f.index_id).ok()) {
        fetched_files.push_back(f);
      } else {
        out.deferred.push_back(f.path);
      }
    }
  };
  choose();
  TS_ASSIGN_OR_RETURN(auto indexes, LoadIndexes(fetched_files, ctx, options.parallel));
  ChunkPlan plan = PlanChunks(fetched_files, indexes, have);
  out.wanted_bytes = plan.wanted_bytes;
  out.planned_bytes = plan.missing_bytes;
  if (check_plan) {
    Status checked = check_plan(plan);
    const bool has_priority =
        std::any_of(files.begin(), files.end(), [](const auto& f) { return f.priority; });
    if (!checked.ok() && checked.code() == StatusCode::kResourceExhausted && open && has_priority) {
      // An emergency package ignores the quota of ordinary content: it is fetched alone, as
      // outside a window, and the release served with the rest deferred.
      out.quota_exceeded = checked.message();
      open = false;
      choose();
      plan = PlanChunks(fetched_files, indexes, have);
      out.planned_bytes = plan.missing_bytes;
    } else {
      TS_RETURN_IF_ERROR(checked);
    }
  }
  std::vector<protocol::ChunkRef> deferred_chunks;
  Status fetched = FetchChunks(plan.missing, ctx, options, plan.priority_missing, &deferred_chunks);
  Status committed = ctx.store->Commit();  // keep what arrived, whatever happened
  TS_RETURN_IF_ERROR(fetched);
  TS_RETURN_IF_ERROR(committed);

  // What is complete now; an incomplete file is a failure unless it is ordinary content that
  // waits for a window.
  std::vector<PlannedFile> complete;
  for (const PlannedFile& f : fetched_files) {
    if (PlanChunks({f}, indexes, have).missing.empty()) {
      complete.push_back(f);
    } else if (!f.priority && (!open || !deferred_chunks.empty())) {
      out.deferred.push_back(f.path);
    } else {
      return CorruptionError("chunks of " + f.path +
                             " still missing after the fetch; not switching");
    }
  }
  TS_RETURN_IF_ERROR(StoreIndexes(complete, indexes, ctx.store));
  TS_RETURN_IF_ERROR(ctx.store->Commit());
  for (const auto& f : complete) {
    if (!ctx.store->GetIndexBytes(f.index_id).ok()) {
      return CorruptionError("chunk index of " + f.path + " missing after the fetch");
    }
  }
  return out;
}

}  // namespace tiersync::replication
