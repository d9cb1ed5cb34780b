#include "node/scrubber.h"

#include <algorithm>
#include <set>

#include "base/hex.h"
#include "base/token_bucket.h"
#include "node/release_check.h"
#include "node/release_dir.h"

namespace tiersync::node {
namespace {

using nlohmann::json;

constexpr std::string_view kScrubStateFormat = "tiersync-scrub 1";

// At most this many problems are kept in a run (the counts are complete).
constexpr size_t kMaxListed = 50;

json RefsJson(const std::vector<protocol::ChunkRef>& refs) {
  json a = json::array();
  for (size_t i = 0; i < refs.size() && i < kMaxListed; ++i) a.push_back(ToHex(refs[i].id));
  return a;
}

json IdsJson(const std::vector<protocol::ChunkId>& ids) {
  json a = json::array();
  for (size_t i = 0; i < ids.size() && i < kMaxListed; ++i) a.push_back(ToHex(ids[i]));
  return a;
}

json ProblemsJson(const std::vector<replication::VerifyProblem>& problems) {
  json a = json::array();
  for (size_t i = 0; i < problems.size() && i < kMaxListed; ++i) {
    const auto& p = problems[i];
    a.push_back({{"kind", p.kind}, {"id", p.id}, {"error", p.error.ToString()}});
  }
  return a;
}

bool Listed(const std::vector<protocol::ChunkId>& ids, const std::string& hex) {
  return std::any_of(ids.begin(), ids.end(), [&](const auto& id) { return ToHex(id) == hex; });
}

}  // namespace

size_t ScrubRun::Remaining() const {
  size_t n = unrepaired.size() + unrepaired_indexes.size() + metadata_unrepaired.size();
  for (const auto& p : problems) {
    // Counted as unrepaired, or repaired.
    if (p.kind == "chunk" || p.kind == "metadata") continue;
    if (p.kind == "chunk-index" && Listed(damaged_indexes, p.id)) continue;
    if (!p.from_damaged_chunk || !unrepaired.empty()) ++n;
  }
  return n;
}

ScrubPolicy ScrubPolicyOf(const NodeConfig& config) {
  return {config.scrub_bytes_per_second, config.scrub_interval_hours};
}

Scrubber::Scrubber(Env* env, replication::ChunkStore* store, ScrubPolicy policy,
                   std::string state_path)
    : env_(env), store_(store), state_path_(std::move(state_path)), policy_(policy) {
  Load();
}

// scrub.json: {"format", "trigger", "started_at", "finished_at", "last_complete_at",
// "chunks_checked", "damaged", "repaired", "to_repair": [{"id": hex, "size": n}]}. A file that
// does not parse is ignored (the next check rewrites it): it only schedules, and every chunk
// is checked again anyway.
void Scrubber::Load() {
  if (state_path_.empty() || !env_->FileExists(state_path_)) return;
  auto bytes = ReadFileToBytes(env_, state_path_, 1 << 20);
  if (!bytes.ok()) return;
  json j = json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (!j.is_object() || j.value("format", std::string()) != kScrubStateFormat) return;
  MutexLock l(&mu_);
  last_.trigger = j.value("trigger", std::string());
  last_.started_at = j.value("started_at", int64_t{0});
  last_.finished_at = j.value("finished_at", int64_t{0});
  last_complete_at_ = j.value("last_complete_at", int64_t{0});
  last_.chunks_checked = j.value("chunks_checked", uint64_t{0});
  last_.repaired = j.value("repaired", uint64_t{0});
  if (j.contains("to_repair") && j["to_repair"].is_array()) {
    for (const auto& r : j["to_repair"]) {
      if (!r.is_object()) continue;
      auto id = HexDecode(r.value("id", std::string()));
      const uint64_t size = r.value("size", uint64_t{0});
      if (!id || id->size() != 32 || size == 0 || size > protocol::kMaxChunkBytes) continue;
      protocol::ChunkRef ref;
      std::copy(id->begin(), id->end(), ref.id.begin());
      ref.size = static_cast<uint32_t>(size);
      to_repair_.push_back(ref);
      last_.damaged.push_back(ref);
    }
    last_.unrepaired = to_repair_;
  }
  if (j.contains("indexes_to_repair") && j["indexes_to_repair"].is_array()) {
    for (const auto& h : j["indexes_to_repair"]) {
      auto id = h.is_string() ? HexDecode(h.get<std::string>()) : std::nullopt;
      if (!id || id->size() != 32) continue;
      protocol::ChunkId cid;
      std::copy(id->begin(), id->end(), cid.begin());
      indexes_to_repair_.push_back(cid);
    }
    last_.damaged_indexes = last_.unrepaired_indexes = indexes_to_repair_;
  }
  metadata_to_repair_ = j.value("metadata_to_repair", false);
}

void Scrubber::Save() {
  if (state_path_.empty()) return;
  json to_repair = json::array();
  for (const auto& r : to_repair_) to_repair.push_back({{"id", ToHex(r.id)}, {"size", r.size}});
  json j = {{"format", std::string(kScrubStateFormat)},
            {"trigger", last_.trigger},
            {"started_at", last_.started_at},
            {"finished_at", last_.finished_at},
            {"last_complete_at", last_complete_at_},
            {"chunks_checked", last_.chunks_checked},
            {"damaged", last_.damaged.size()},
            {"repaired", last_.repaired},
            {"to_repair", to_repair},
            {"indexes_to_repair", IdsJson(indexes_to_repair_)},
            {"metadata_to_repair", metadata_to_repair_}};
  const std::string text = j.dump(2) + "\n";
  // Best effort: a node whose disk refuses this small file has bigger news (and the store's
  // own writes say so); the schedule falls back to the process's start.
  WriteFileAtomically(env_, state_path_,
                      ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()))
      .IgnoreError();
}

int64_t Scrubber::NextDueAt(int64_t since) const {
  MutexLock l(&mu_);
  if (policy_.interval_hours <= 0) return 0;
  const int64_t from = last_complete_at_ > 0 ? last_complete_at_ : since;
  return from + int64_t{policy_.interval_hours} * 3600;
}

void Scrubber::CheckReleasesOf(const NodePaths& paths) { paths_ = paths; }

void Scrubber::SetPolicy(ScrubPolicy policy) {
  MutexLock l(&mu_);
  policy_ = policy;
}

ScrubPolicy Scrubber::policy() const {
  MutexLock l(&mu_);
  return policy_;
}

ScrubRun Scrubber::Check(const std::string& trigger, const std::function<bool()>& stop) {
  ScrubRun run;
  run.trigger = trigger;
  run.started_at = NowSeconds(env_);
  {
    MutexLock l(&mu_);
    running_ = true;
  }
  TokenBucket bucket(policy().bytes_per_second);
  replication::VerifyOptions options;
  options.stop = stop;
  options.pace = [&](uint64_t bytes) {
    bucket.SetRate(policy().bytes_per_second);  // a reload applies mid-check
    const auto now = static_cast<int64_t>(env_->MonotonicMicros());
    bucket.Charge(bytes, now);
    const int64_t ready = bucket.ReadyAt(now);
    // Paced in slices, so that a stop is seen within 100 ms.
    for (int64_t t = now; t < ready && !(stop && stop());
         t = static_cast<int64_t>(env_->MonotonicMicros())) {
      env_->SleepForMicroseconds(static_cast<uint64_t>(std::min<int64_t>(ready - t, 100'000)));
    }
  };
  auto report = store_->Verify(options);
  if (report.ok()) {
    run.stopped = report->stopped;
    run.chunks_checked = report->chunks_checked;
    run.bytes_checked = report->bytes_checked;
    run.indexes_checked = report->indexes_checked;
    run.problems = std::move(report->problems);
    run.damaged = std::move(report->damaged);
    run.damaged_indexes = std::move(report->damaged_indexes);
  } else {
    run.problems.push_back({"store", "", report.status()});
  }
  if (paths_ && !run.stopped && !(stop && stop())) {
    auto kept = KeptReleaseDirs(env_, *paths_);
    run.releases_checked = kept.ok() ? kept->size() : 0;
    run.metadata_unrepaired = CheckNodeMetadata(env_, *paths_);
    run.problems.insert(run.problems.end(), run.metadata_unrepaired.begin(),
                        run.metadata_unrepaired.end());
  }
  run.finished_at = NowSeconds(env_);
  MutexLock l(&mu_);
  running_ = false;
  ++checks_total_;
  chunks_checked_total_ += run.chunks_checked;
  bytes_checked_total_ += run.bytes_checked;
  damaged_total_ += run.damaged.size();
  if (run.stopped) {
    // A check cut short neither moves the schedule nor forgets damage an earlier check found
    // in the part it did not reach.
    for (const auto& ref : to_repair_) {
      if (std::find(run.damaged.begin(), run.damaged.end(), ref) == run.damaged.end()) {
        run.damaged.push_back(ref);
      }
    }
    for (const auto& id : indexes_to_repair_) {
      if (std::find(run.damaged_indexes.begin(), run.damaged_indexes.end(), id) ==
          run.damaged_indexes.end()) {
        run.damaged_indexes.push_back(id);
      }
    }
    metadata_to_repair_ = metadata_to_repair_ || !run.metadata_unrepaired.empty();
  } else {
    last_complete_at_ = run.finished_at;
    metadata_to_repair_ = !run.metadata_unrepaired.empty();
  }
  to_repair_ = run.damaged;
  indexes_to_repair_ = run.damaged_indexes;
  run.unrepaired = run.damaged;  // until a repair says otherwise
  run.unrepaired_indexes = run.damaged_indexes;
  last_ = run;
  Save();
  return run;
}

bool Scrubber::RepairPending() const {
  MutexLock l(&mu_);
  return !to_repair_.empty() || !indexes_to_repair_.empty() || metadata_to_repair_;
}

Status Scrubber::Repair(replication::SyncContext ctx,
                        const replication::ChunkSyncOptions& options) {
  std::vector<protocol::ChunkRef> damaged;
  std::vector<protocol::ChunkId> indexes;
  bool metadata = false;
  {
    MutexLock l(&mu_);
    damaged = to_repair_;
    indexes = indexes_to_repair_;
    metadata = metadata_to_repair_;
  }
  Status s = Status::Ok();
  // A chunk the store no longer holds (garbage collection forgot it since the check: no kept
  // release needs it) needs no repair.
  std::erase_if(damaged, [&](const protocol::ChunkRef& ref) {
    auto held = ctx.store->Contains(ref.id);
    return held.ok() && !*held;
  });
  std::vector<protocol::ChunkRef> unrepaired;
  Status committed = Status::Ok();
  if (!damaged.empty()) {
    ctx.replace = true;
    replication::SyncCounters counters;
    ctx.counters = &counters;
    s = replication::FetchChunks(damaged, ctx, options);
    // What arrived is stored even when some did not: commit it either way.
    committed = ctx.store->Commit();
    if (s.ok()) s = committed;
    // Which ones are good now: the store answers (a replaced chunk reads back clean).
    for (const auto& ref : damaged) {
      if (!committed.ok() || !ctx.store->Get(ref.id, replication::ReadCheck::kFull).ok()) {
        unrepaired.push_back(ref);
      }
    }
  }
  // Chunk indexes: fetched again by id for the kept releases' files that use them (checked
  // against the id and the signed file, as in a sync); one nothing kept uses is left to the
  // garbage collection.
  std::vector<protocol::ChunkId> unrepaired_indexes;
  uint64_t indexes_repaired = 0;
  if (!indexes.empty() && paths_ && committed.ok()) {
    std::vector<replication::PlannedFile> files;
    std::set<protocol::ChunkId> wanted(indexes.begin(), indexes.end()), found;
    auto kept = KeptReleaseDirs(env_, *paths_);
    for (const std::string& name : kept.ok() ? *kept : std::vector<std::string>{}) {
      auto listed = ReadReleaseFiles(env_, *paths_, name);
      if (!listed.ok()) continue;
      for (auto& f : *listed) {
        if (wanted.count(f.index_id) && found.insert(f.index_id).second) files.push_back(f);
      }
    }
    replication::SyncCounters counters;
    ctx.counters = &counters;
    auto loaded = replication::LoadIndexes(files, ctx, options.parallel);
    Status stored =
        loaded.ok() ? replication::StoreIndexes(files, *loaded, ctx.store) : loaded.status();
    if (stored.ok()) stored = ctx.store->Commit();
    if (s.ok()) s = stored;
    for (const auto& id : indexes) {
      if (!found.count(id)) continue;  // no kept release uses it
      if (ctx.store->GetIndexBytes(id).ok()) {
        ++indexes_repaired;
      } else {
        unrepaired_indexes.push_back(id);
      }
    }
  } else {
    unrepaired_indexes = indexes;
  }
  // Metadata: fetched again by name, kept only when the check then passes.
  std::vector<replication::VerifyProblem> metadata_left;
  uint64_t metadata_repaired = 0;
  if (metadata && paths_) {
    metadata_repaired = RepairNodeMetadata(env_, *paths_, ctx.fetcher, *ctx.sources);
    metadata_left = CheckNodeMetadata(env_, *paths_);
    if (s.ok() && !metadata_left.empty()) {
      s = UnavailableError(std::to_string(metadata_left.size()) +
                           " damaged metadata file(s) no source mended, first " +
                           metadata_left[0].id);
    }
  }
  MutexLock l(&mu_);
  const uint64_t repaired = damaged.size() - unrepaired.size();
  repaired_total_ += repaired;
  indexes_repaired_total_ += indexes_repaired;
  metadata_repaired_total_ += metadata_repaired;
  last_.repaired += repaired;
  last_.unrepaired = unrepaired;
  last_.indexes_repaired += indexes_repaired;
  last_.unrepaired_indexes = unrepaired_indexes;
  if (metadata) {
    last_.metadata_repaired += metadata_repaired;
    last_.metadata_unrepaired = metadata_left;
  }
  last_.repair_error = s.ok() ? "" : s.ToString();
  to_repair_ = std::move(unrepaired);
  indexes_to_repair_ = std::move(unrepaired_indexes);
  metadata_to_repair_ = !metadata_left.empty();
  Save();
  return s;
}

ScrubRun Scrubber::last() const {
  MutexLock l(&mu_);
  return last_;
}

json Scrubber::StatusJson() const {
  MutexLock l(&mu_);
  json j = {{"bytes_per_second", policy_.bytes_per_second},
            {"interval_hours", policy_.interval_hours},
            {"running", running_}};
  if (last_.trigger.empty()) return j;
  json run = {{"trigger", last_.trigger},
              {"started_at", last_.started_at},
              {"finished_at", last_.finished_at},
              {"chunks_checked", last_.chunks_checked},
              {"bytes_checked", last_.bytes_checked},
              {"indexes_checked", last_.indexes_checked},
              {"problems", last_.problems.size()},
              {"problem_list", ProblemsJson(last_.problems)},
              {"damaged", RefsJson(last_.damaged)},
              {"repaired", last_.repaired},
              {"unrepaired", RefsJson(last_.unrepaired)},
              {"releases_checked", last_.releases_checked},
              {"damaged_indexes", IdsJson(last_.damaged_indexes)},
              {"indexes_repaired", last_.indexes_repaired},
              {"unrepaired_indexes", IdsJson(last_.unrepaired_indexes)},
              {"metadata_repaired", last_.metadata_repaired},
              {"metadata_unrepaired", ProblemsJson(last_.metadata_unrepaired)},
              {"remaining", last_.Remaining()}};
  if (last_.stopped) run["stopped"] = true;
  if (!last_.repair_error.empty()) run["repair_error"] = last_.repair_error;
  j["last"] = std::move(run);
  return j;
}

MetricsText Scrubber::Metrics() const {
  MutexLock l(&mu_);
  MetricsText m;
  auto one = [](double v) { return std::vector<MetricsText::Sample>{{{}, v}}; };
  m.Counter("tiersync_scrub_checks_total", "Store checks (scrubs) finished or stopped.",
            one(static_cast<double>(checks_total_)));
  m.Counter("tiersync_scrub_chunks_checked_total", "Chunks re-read and re-hashed by scrubs.",
            one(static_cast<double>(chunks_checked_total_)));
  m.Counter("tiersync_scrub_bytes_checked_total", "Chunk bytes re-hashed by scrubs.",
            one(static_cast<double>(bytes_checked_total_)));
  m.Counter("tiersync_scrub_damaged_chunks_total", "Damaged chunks found by scrubs.",
            one(static_cast<double>(damaged_total_)));
  m.Counter("tiersync_scrub_repaired_chunks_total",
            "Damaged chunks replaced by verified copies from the sources.",
            one(static_cast<double>(repaired_total_)));
  m.Counter("tiersync_scrub_repaired_indexes_total",
            "Damaged chunk indexes replaced by verified copies from the sources.",
            one(static_cast<double>(indexes_repaired_total_)));
  m.Counter("tiersync_scrub_repaired_metadata_total",
            "Damaged metadata files replaced by copies that verify.",
            one(static_cast<double>(metadata_repaired_total_)));
  m.Gauge("tiersync_scrub_problems", "Problems the last scrub found (chunks and indexes).",
          one(static_cast<double>(last_.problems.size())));
  m.Gauge("tiersync_scrub_unrepaired_chunks",
          "Damaged chunks of the last scrub that no source has supplied yet.",
          one(static_cast<double>(to_repair_.size())));
  m.Gauge("tiersync_scrub_unrepaired_indexes",
          "Damaged chunk indexes of the last scrub that no source has supplied yet.",
          one(static_cast<double>(indexes_to_repair_.size())));
  m.Gauge("tiersync_scrub_unrepaired_metadata",
          "Damaged metadata files the last scrub or repair still finds.",
          one(static_cast<double>(last_.metadata_unrepaired.size())));
  return m;
}

Result<bool> MarkRunning(Env* env, const std::string& marker_path) {
  const bool was_there = env->FileExists(marker_path);
  static constexpr std::string_view kText = "tiersync node running\n";
  TS_RETURN_IF_ERROR(WriteFileAtomically(
      env, marker_path, ByteSpan(reinterpret_cast<const uint8_t*>(kText.data()), kText.size())));
  return was_there;
}

Status MarkStopped(Env* env, const std::string& marker_path) {
  if (!env->FileExists(marker_path)) return Status::Ok();
  TS_RETURN_IF_ERROR(env->RemoveFile(marker_path));
  return env->SyncDir(DirName(marker_path));
}

}  // namespace tiersync::node
