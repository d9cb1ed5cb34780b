#include "node/node_sync.h"

#include <set>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/sha256.h"
#include "catalogs/git_fetch.h"
#include "catalogs/release.h"
#include "catalogs/subscription.h"
#include "node/release_dir.h"
#include "node/takedown.h"
#include "protocol/tuf_trusted_set.h"
#include "replication/chunk_sync.h"
#include "replication/cycle_machine.h"
#include "replication/release_sync.h"
#include "replication/source_walk.h"
#include "replication/tuf_updater.h"

namespace tiersync::node {
namespace {

namespace tuf = protocol::tuf;
using replication::TargetInfo;

}  // namespace

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

struct NodeSync::Refreshed {
  replication::VerifiedMetadata metadata;
  catalogs::SignedRelease release;
};

struct NodeSync::Plan {
  std::vector<replication::PlannedFile> files;
  std::string name;                   // the release directory: <version>-<hash of the rules>
  std::string previous;               // the release directory served now ("" before the first)
  std::vector<std::string> deferred;  // after the fetch: ordinary files left for a window
  Takedowns takedowns;                // what the signed retractions withdraw (not planned)
};

std::string ReleaseDirName(uint64_t version, const std::string& rules) {
  const std::string key = std::to_string(version) + "\n" + rules;
  return std::to_string(version) + "-" + ToHex(Sha256(AsBytes(key))).substr(0, 8);
}

bool QuietCycleAllowed(const QuietMark& mark, uint64_t root_version, uint64_t timestamp_version,
                       uint64_t snapshot_version, const std::string& rules,
                       const std::string& served_dir, int64_t now) {
  return mark.root_version == root_version && mark.timestamp_version == timestamp_version &&
         mark.snapshot_version == snapshot_version && mark.rules == rules && !served_dir.empty() &&
         mark.served_dir == served_dir && now < mark.roles_expire && now >= mark.verified_at &&
         now - mark.verified_at < kQuietMarkSeconds;
}

NodeSync::NodeSync(const SyncParts& parts, std::string rules, const QuietMark* quiet)
    : p_(parts), rules_(std::move(rules)), quiet_(quiet) {}

bool NodeSync::Quiet(const tuf::TrustedSet& trusted) const {
  if (quiet_ == nullptr || trusted.timestamp() == nullptr || trusted.snapshot() == nullptr) {
    return false;
  }
  auto served = CurrentReleaseDir(p_.env, p_.paths);
  return served.ok() &&
         QuietCycleAllowed(*quiet_, trusted.root().version, trusted.timestamp()->version,
                           trusted.snapshot()->version, rules_, *served, trusted.reference_time());
}

// The driver of the cycle's decisions (replication/cycle_machine.h): each step runs the I/O
// and hands what it found to the machine, which says what comes next.
Result<SyncOutcome> NodeSync::Run(const SyncProgress& progress, SyncOutcome* partial) {
  using replication::CycleOutcome;
  using replication::CycleStep;
  SyncOutcome local_outcome;
  SyncOutcome& out = partial ? *partial : local_outcome;
  out = SyncOutcome();
  auto report = [&](const std::string& phase) {
    if (progress) progress(phase, 0, 0);
  };
  replication::CycleMachine machine;
  std::optional<Refreshed> meta;
  std::optional<catalogs::ReleaseContent> content;
  std::optional<Plan> plan;
  for (;;) {
    switch (machine.Next()) {
      case CycleStep::kRefreshMetadata: {
        report("metadata");
        auto refreshed = RefreshStep(&out);
        if (refreshed.ok() && !refreshed->metadata.listed) {  // quiet: the mark's metadata
          out.quiet = true;
          out.wanted_files = quiet_->wanted_files;
          out.mark = *quiet_;
          TS_ASSIGN_OR_RETURN(auto current, ReadCurrent(p_.env, p_.paths));
          if (current) out.current = *current;
          machine.OnUnchangedMetadata();
          break;
        }
        if (refreshed.ok()) {
          meta = std::move(refreshed).value();
          if (auto local = ReadLocalCatalog(*meta); local.ok()) content = std::move(local).value();
        }
        machine.OnMetadata(refreshed.status(), content.has_value());
        break;
      }
      case CycleStep::kFetchCatalog: {
        report("catalog");
        auto fetched = CatalogStep(*meta, &out);
        if (fetched.ok()) content = std::move(fetched).value();
        machine.OnCatalog(fetched.status(), meta->release.release);
        break;
      }
      case CycleStep::kPlan: {
        report("plan");
        auto planned = PlanStep(*meta, *content, &out);
        content.reset();
        if (planned.ok()) plan = std::move(planned).value();
        machine.OnPlanned(planned.status(), plan ? plan->name : "", plan ? plan->previous : "",
                          WindowOpen());
        break;
      }
      case CycleStep::kFetch: {
        const Status fetched = FetchStep(&*plan, progress, &out);  // sets plan->deferred
        machine.OnFetched(fetched, plan->deferred.size());
        break;
      }
      case CycleStep::kSwitch:
        report("switch");
        machine.OnSwitched(SwitchStep(*meta, *plan, machine.switch_dir(), &out));
        break;
      case CycleStep::kDone:
        if (machine.outcome() == CycleOutcome::kFailed) return machine.status();
        if (machine.outcome() == CycleOutcome::kNotYet) out.pending = machine.pending();
        // The plan's whole release is served: the next cycles may be quiet.
        if (!out.quiet && plan && meta && meta->metadata.updater &&
            (machine.outcome() == CycleOutcome::kUpToDate ||
             (machine.outcome() == CycleOutcome::kSwitched && plan->deferred.empty()))) {
          const tuf::TrustedSet& t = *meta->metadata.updater->trusted();
          out.mark = QuietMark{t.root().version,
                               t.timestamp()->version,
                               t.snapshot()->version,
                               rules_,
                               plan->name,
                               t.EarliestTargetsExpiry(),
                               t.reference_time(),
                               plan->files.size()};
        }
        return out;
    }
  }
}

// 1. Metadata, from the first source whose refresh verifies and names a catalog release.
Result<NodeSync::Refreshed> NodeSync::RefreshStep(SyncOutcome* out) {
  Refreshed r;
  TS_ASSIGN_OR_RETURN(r.metadata,
                      replication::RefreshMetadata(
                          p_.env, p_.fetcher, p_.sources, {p_.paths.trusted, p_.paths.downloads},
                          [&](replication::VerifiedMetadata& m) -> Status {
                            TS_ASSIGN_OR_RETURN(r.release, SignedCatalogRelease(p_.env, m));
                            return Status::Ok();
                          },
                          &out->rejected, p_.config.parallel,
                          [this](const tuf::TrustedSet& t) { return Quiet(t); }));
  out->metadata_source = p_.sources->source(r.metadata.source).name;
  return r;
}

// 2. The catalog release, verified against the signed manifest: from the local repository
// when it holds it, otherwise fetched from the sources (kNotFound when none serves it yet).
// Only the manifest is kept: the records are read one at a time when planning, so the release
// is never held whole.
Result<catalogs::ReleaseContent> NodeSync::ReadLocalCatalog(const Refreshed& meta) {
  auto git = catalogs::GitCatalog::Open(p_.paths.catalog);
  if (!git.ok()) return git.status().AsLocal();
  return catalogs::ReadVerifiedRelease(git->get(), meta.release, /*keep_files=*/false);
}

Result<catalogs::ReleaseContent> NodeSync::CatalogStep(const Refreshed& meta, SyncOutcome* out) {
  std::optional<catalogs::ReleaseContent> content;
  // Fetched into quarantine, verified against the signed release, and only then made part of
  // the repository (catalogs/git_fetch.h); its errors say whose fault they are: a source
  // without the release answers kNotFound (it only lacks it), one whose release differs from
  // what was signed kVerificationFailed (it lied).
  auto ask = [&](size_t, const replication::Source& src) -> replication::SourceAnswer {
    auto fetched = catalogs::FetchVerifiedRelease(p_.paths.catalog, src.url + "/v1/catalog.git",
                                                  meta.release, p_.fetcher);
    if (!fetched.ok()) return {fetched.status()};
    content = std::move(fetched->content);  // verified in quarantine; not read again
    out->catalog_source = src.name;
    return {Status::Ok(), fetched->received_bytes};
  };
  auto rejected = [&](const std::string& what) { out->rejected.push_back(what); };
  TS_RETURN_IF_ERROR(replication::AskSources(p_.sources, p_.env, ask, rejected).status());
  return std::move(*content);
}

// 3. Plan: the rules applied to each record as it is read (a record is dropped as soon as its
// wanted files are taken).
Result<NodeSync::Plan> NodeSync::PlanStep(const Refreshed& meta,
                                          const catalogs::ReleaseContent& content,
                                          SyncOutcome* out) {
  const auto& taxonomy = catalogs::Taxonomy::Builtin();
  const auto& regions = catalogs::RegionTable::Builtin();
  auto sub = catalogs::Subscription::Parse(rules_, taxonomy, regions);
  if (!sub.ok()) return sub.status().WithContext("the subscription rolled up for this node");
  std::map<std::string, catalogs::WantedFile> wanted;
  // Retracted resources and files are not wanted (node/takedown.h).
  TakedownResolver takedown(meta.metadata.retractions, regions);
  {
    auto git = catalogs::GitCatalog::Open(p_.paths.catalog);
    if (!git.ok()) return git.status().AsLocal();
    TS_RETURN_IF_ERROR(catalogs::ForEachReleaseRecord(
        git->get(), content, taxonomy, regions, [&](catalogs::Resource&& r) -> Status {
          if (!takedown.empty()) takedown.Add(r);
          for (auto& w : catalogs::WantedFilesOf(r, *sub, regions)) {
            wanted.emplace(w.target_path, std::move(w));
          }
          return Status::Ok();
        }));
  }
  Plan plan;
  plan.takedowns = takedown.Finish();
  for (const auto& [path, w] : plan.takedowns.files) wanted.erase(path);
  plan.files.reserve(wanted.size());
  for (const auto& [path, w] : wanted) {
    auto t = meta.metadata.targets.find(path);
    if (t == meta.metadata.targets.end()) {
      return VerificationError("catalog release " + meta.release.release + " lists " + path +
                               " but the signed metadata has no such target");
    }
    TS_ASSIGN_OR_RETURN(auto file, replication::PlannedFileFor(path, *t->second, w.priority));
    plan.files.push_back(std::move(file));
  }
  out->wanted_files = plan.files.size();
  plan.name = ReleaseDirName(meta.metadata.version, rules_);
  TS_ASSIGN_OR_RETURN(plan.previous, CurrentReleaseDir(p_.env, p_.paths));
  if (plan.previous == plan.name || replication::IsPartialOf(plan.previous, plan.name)) {
    TS_ASSIGN_OR_RETURN(auto current, ReadCurrent(p_.env, p_.paths));
    if (current) out->current = *current;
  }
  return plan;
}

// 4. Execute: chunk indexes and chunks from the sources, each verified, within the quota.
Status NodeSync::FetchStep(Plan* plan, const SyncProgress& progress, SyncOutcome* out) {
  replication::SyncCounters counters;
  replication::SyncContext ctx{p_.env, p_.fetcher, p_.sources, p_.store, &counters, p_.scheduler};
  replication::ChunkSyncOptions options;
  options.parallel = p_.config.parallel;
  if (p_.window_open) {
    options.ordinary_allowed = [this](int64_t) { return WindowOpen(); };
  }
  options.progress = [&](uint64_t done, uint64_t total) {
    if (progress) progress("chunks", done, total);
  };
  auto check_quota = [&](const replication::ChunkPlan& chunks) -> Status {
    out->planned_bytes = chunks.missing_bytes;
    if (p_.config.quota_bytes == 0 || chunks.wanted_bytes <= p_.config.quota_bytes) {
      return Status::Ok();
    }
    return ResourceExhaustedError("the release needs " + std::to_string(chunks.wanted_bytes) +
                                  " bytes for " + std::to_string(plan->files.size()) +
                                  " files; the quota is " + std::to_string(p_.config.quota_bytes));
  };
  auto fetched = replication::FetchRelease(plan->files, ctx, options, check_quota);
  if (fetched.ok()) {
    plan->deferred = fetched->deferred;
    out->deferred_files = plan->deferred.size();
    out->quota_exceeded = fetched->quota_exceeded;
  }
  out->fetched_bytes = counters.chunk_bytes;
  out->fetched_chunks = counters.chunks;
  {
    MutexLock lock(&counters.mu);
    out->rejected.insert(out->rejected.end(), counters.rejected.begin(), counters.rejected.end());
    out->chunk_bytes_by_source = counters.chunk_bytes_by_source;
  }
  return fetched.status();
}

// 5. Switch: the release directory, then CURRENT.
Status NodeSync::SwitchStep(const Refreshed& meta, const Plan& plan, const std::string& name,
                            SyncOutcome* out) {
  ServedRelease served;
  served.version = meta.metadata.version;
  served.release = meta.release.release;
  const std::set<std::string> deferred(plan.deferred.begin(), plan.deferred.end());
  for (const auto& f : plan.files) {
    if (deferred.count(f.path)) continue;
    ++served.files;
    served.bytes += f.length;
  }
  served.deferred = deferred.size();
  served.switched_at = static_cast<int64_t>(p_.env->NowMicros() / 1000000);
  TS_RETURN_IF_ERROR(WriteReleaseDir(
      p_.env, p_.paths, *meta.metadata.updater->trusted(), name, served,
      {{"catalog/" + ToHex(meta.release.digest) + ".manifest.txt", meta.release.manifest}},
      plan.files,
      plan.takedowns.empty()
          ? std::map<std::string, std::string>{}
          : std::map<std::string, std::string>{{kTakedownsName, EncodeTakedowns(plan.takedowns)}}));
  TS_RETURN_IF_ERROR(
      SwitchCurrent(p_.env, p_.paths, name, plan.previous, p_.config.pinned_releases));
  out->switched = true;
  out->current = served;
  return Status::Ok();
}

}  // namespace tiersync::node
