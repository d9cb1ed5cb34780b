#include "node/garbage_collector.h"

#include <sys/statvfs.h>

#include <algorithm>

#include "base/bytes.h"
#include "node/release_dir.h"
#include "node/takedown.h"

namespace tiersync::node {
namespace {

using nlohmann::json;

constexpr std::string_view kGcStateFormat = "tiersync-gc 1";

json RunJson(const GcRun& r) {
  const replication::GcReport& g = r.report;
  json j = {{"trigger", r.trigger},
            {"dry_run", r.dry_run},
            {"started_at", r.started_at},
            {"finished_at", r.finished_at},
            {"kept_releases", r.kept_releases},
            {"kept_files", r.kept_files},
            {"withdrawn_files", r.withdrawn_files},
            {"kept_indexes", g.kept_indexes},
            {"absent_indexes", g.absent_indexes},
            {"kept_chunks", g.kept_chunks},
            {"kept_bytes", g.kept_bytes},
            {"deleted_indexes", g.deleted_indexes},
            {"deleted_chunks", g.deleted_chunks},
            {"deleted_bytes", g.deleted_bytes},
            {"packs_compacted", g.packs_compacted},
            {"copied_bytes", g.copied_bytes},
            {"pack_bytes_before", g.pack_bytes_before},
            {"pack_bytes_after", g.pack_bytes_after},
            {"damaged_chunks", g.damaged.size()}};
  if (!r.error.empty()) j["error"] = r.error;
  return j;
}

}  // namespace

Result<KeptFiles> ListKeptFiles(Env* env, const NodePaths& paths) {
  KeptFiles kept;
  TS_ASSIGN_OR_RETURN(kept.releases, KeptReleaseDirs(env, paths));
  // What the served release's signed retractions withdrew is kept by no release, pinned or
  // previous: a takedown purges the bytes (node/takedown.h).
  TS_ASSIGN_OR_RETURN(const std::string current, CurrentReleaseDir(env, paths));
  Takedowns takedowns;
  if (!current.empty()) {
    auto read = ReadTakedowns(env, JoinPath(paths.releases, current));
    if (!read.ok()) {
      return read.status().WithContext(
          "nothing was collected: what the served release withdrew "
          "cannot be known");
    }
    takedowns = std::move(read).value();
  }
  for (const std::string& name : kept.releases) {
    auto files = ReadReleaseFiles(env, paths, name);
    if (!files.ok()) {
      return files.status().WithContext("nothing was collected: what release " + name +
                                        " needs cannot be known");
    }
    for (const auto& f : *files) {
      if (takedowns.files.count(f.path)) {
        ++kept.withdrawn_files;
        continue;
      }
      ++kept.files;
      kept.indexes.push_back(f.index_id);
    }
  }
  std::sort(kept.indexes.begin(), kept.indexes.end());
  kept.indexes.erase(std::unique(kept.indexes.begin(), kept.indexes.end()), kept.indexes.end());
  return kept;
}

GarbageCollector::GarbageCollector(Env* env, const NodePaths& paths, replication::ChunkStore* store)
    : env_(env), paths_(paths), store_(store) {
  if (!env_->FileExists(paths_.gc)) return;
  auto bytes = ReadFileToBytes(env_, paths_.gc, 1 << 20);
  if (!bytes.ok()) return;
  json j = json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (!j.is_object() || j.value("format", std::string()) != kGcStateFormat) return;
  MutexLock l(&mu_);
  last_.trigger = j.value("trigger", std::string());
  last_.dry_run = j.value("dry_run", false);
  last_.started_at = j.value("started_at", int64_t{0});
  last_.finished_at = j.value("finished_at", int64_t{0});
  last_.kept_files = j.value("kept_files", uint64_t{0});
  last_.withdrawn_files = j.value("withdrawn_files", uint64_t{0});
  if (j.contains("kept_releases") && j["kept_releases"].is_array()) {
    for (const auto& r : j["kept_releases"]) {
      if (r.is_string()) last_.kept_releases.push_back(r.get<std::string>());
    }
  }
  last_.error = j.value("error", std::string());
  auto& g = last_.report;
  g.kept_bytes = j.value("kept_bytes", uint64_t{0});
  g.deleted_chunks = j.value("deleted_chunks", uint64_t{0});
  g.deleted_bytes = j.value("deleted_bytes", uint64_t{0});
  g.pack_bytes_before = j.value("pack_bytes_before", uint64_t{0});
  g.pack_bytes_after = j.value("pack_bytes_after", uint64_t{0});
}

Result<GcRun> GarbageCollector::Collect(const std::string& trigger, const NodeConfig& config,
                                        bool dry_run) {
  GcRun run;
  run.trigger = trigger;
  run.dry_run = dry_run;
  run.started_at = NowSeconds(env_);
  Status status = Status::Ok();
  auto kept = ListKeptFiles(env_, paths_);
  if (kept.ok()) {
    run.kept_releases = kept->releases;
    run.kept_files = kept->files;
    run.withdrawn_files = kept->withdrawn_files;
    replication::GcOptions options;
    options.min_live_fraction = config.compact_below_percent / 100.0;
    options.dry_run = dry_run;
    auto report = store_->CollectGarbage(kept->indexes, options);
    if (report.ok()) {
      run.report = std::move(report).value();
    } else {
      status = report.status();
    }
  } else {
    status = kept.status();
  }
  run.finished_at = NowSeconds(env_);
  if (!status.ok()) run.error = status.ToString();
  MutexLock l(&mu_);
  last_ = run;
  if (!dry_run) {
    ++runs_total_;
    if (!status.ok()) ++failures_total_;
    deleted_chunks_total_ += run.report.deleted_chunks;
    deleted_bytes_total_ += run.report.deleted_bytes;
    copied_bytes_total_ += run.report.copied_bytes;
    Save();
  }
  if (!status.ok()) return status;
  return run;
}

void GarbageCollector::Save() {
  json j = RunJson(last_);
  j["format"] = std::string(kGcStateFormat);
  const std::string text = j.dump(2) + "\n";
  // Best effort, like scrub.json: it only informs status after a restart.
  WriteFileAtomically(env_, paths_.gc, AsBytes(text)).IgnoreError();
}

GcRun GarbageCollector::last() const {
  MutexLock l(&mu_);
  return last_;
}

json GarbageCollector::StatusJson() const {
  json j = json::object();
  {
    MutexLock l(&mu_);
    if (!last_.trigger.empty()) j["last"] = RunJson(last_);
  }
  if (auto usage = store_->IndexUsage(); usage.ok() && usage->map_bytes > 0) {
    const double ratio =
        static_cast<double>(usage->used_bytes) / static_cast<double>(usage->map_bytes);
    j["index"] = {{"used_bytes", usage->used_bytes},
                  {"map_bytes", usage->map_bytes},
                  {"alarm", ratio >= kIndexMapAlarmRatio}};
  }
  return j;
}

MetricsText GarbageCollector::Metrics() const {
  MetricsText m;
  auto one = [](double v) { return std::vector<MetricsText::Sample>{{{}, v}}; };
  {
    MutexLock l(&mu_);
    m.Counter("tiersync_gc_runs_total", "Garbage collections run (dry runs not counted).",
              one(static_cast<double>(runs_total_)));
    m.Counter("tiersync_gc_failures_total", "Garbage collections that stopped on an error.",
              one(static_cast<double>(failures_total_)));
    m.Counter("tiersync_gc_deleted_chunks_total", "Chunks forgotten by garbage collection.",
              one(static_cast<double>(deleted_chunks_total_)));
    m.Counter("tiersync_gc_deleted_bytes_total",
              "Stored bytes of the chunks garbage collection forgot.",
              one(static_cast<double>(deleted_bytes_total_)));
    m.Counter("tiersync_gc_copied_bytes_total", "Bytes copied by pack compaction.",
              one(static_cast<double>(copied_bytes_total_)));
    if (!last_.trigger.empty() && !last_.dry_run && last_.error.empty()) {
      m.Gauge("tiersync_store_pack_bytes", "Bytes in the store's pack files after the last GC.",
              one(static_cast<double>(last_.report.pack_bytes_after)));
      m.Gauge("tiersync_store_kept_bytes", "Bytes the kept releases take in the store.",
              one(static_cast<double>(last_.report.kept_bytes)));
    }
  }
  if (auto usage = store_->IndexUsage(); usage.ok()) {
    m.Gauge("tiersync_store_index_used_bytes", "Pages in use in the store index's LMDB map.",
            one(static_cast<double>(usage->used_bytes)));
    m.Gauge("tiersync_store_index_map_bytes",
            "Size of the store index's LMDB map (commits fail once it is full).",
            one(static_cast<double>(usage->map_bytes)));
  }
  // The disk under the node, where the store, the release directories and the proxy cache
  // grow (alert: deploy/prometheus/tiersync-alerts.yml).
  if (struct statvfs fs; ::statvfs(paths_.dir.c_str(), &fs) == 0 && fs.f_blocks > 0) {
    const double unit = static_cast<double>(fs.f_frsize);
    m.Gauge("tiersync_filesystem_size_bytes", "Size of the file system holding the node directory.",
            one(static_cast<double>(fs.f_blocks) * unit));
    m.Gauge("tiersync_filesystem_avail_bytes",
            "Bytes still available to the node on the file system holding its directory.",
            one(static_cast<double>(fs.f_bavail) * unit));
  }
  return m;
}

}  // namespace tiersync::node
