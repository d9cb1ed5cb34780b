#include "cli/node_maintenance.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/units.h"
#include "node/garbage_collector.h"
#include "node/http_fetcher.h"
#include "node/node_dir.h"
#include "node/node_sources.h"
#include "node/scrubber.h"
#include "replication/chunk_store.h"
#include "replication/source_policy.h"

namespace tiersync::cli {

Status RunNodeScrub(const std::string& dir, uint64_t bytes_per_second, CommandContext* ctx) {
  node::NodePaths paths(dir);
  Env* env = Env::Default();
  TS_ASSIGN_OR_RETURN(node::OpenedNode opened, node::OpenNodeForWriting(env, paths));
  const node::NodeConfig& config = opened.config;
  replication::ChunkStoreOptions so;
  so.writable = true;
  TS_ASSIGN_OR_RETURN(auto store, replication::ChunkStore::Open(paths.store, so));
  node::Scrubber scrubber(env, store.get(), {bytes_per_second, config.scrub_interval_hours},
                          paths.scrub);
  scrubber.CheckReleasesOf(paths);
  const node::ScrubRun checked = scrubber.Check("command", nullptr);
  Status repair = Status::Ok();
  if (scrubber.RepairPending()) {
    TS_ASSIGN_OR_RETURN(node::HttpFetcherOptions fo, node::SyncFetcherOptions(env, config, paths));
    node::HttpFetcher fetcher(fo);
    replication::SourcePolicy policy(node::NamedSources(config));
    replication::ChunkSyncOptions options;
    options.parallel = config.parallel;
    repair = scrubber.Repair({env, &fetcher, &policy, store.get(), nullptr}, options);
  }
  // The whole store was checked: whatever an unclean shutdown may have left is known now.
  TS_RETURN_IF_ERROR(node::MarkStopped(env, paths.running));
  const node::ScrubRun run = scrubber.last();
  if (ctx->json) {
    std::cout << scrubber.StatusJson()["last"].dump(2) << std::endl;
  } else {
    std::cout << "checked " << run.chunks_checked << " chunk(s) (" << FormatBytes(run.bytes_checked)
              << "), " << run.indexes_checked << " chunk index(es) and the metadata of "
              << run.releases_checked << " release(s): " << run.problems.size() << " problem(s)";
    if (!run.damaged.empty()) {
      std::cout << "; " << run.damaged.size() << " damaged chunk(s), " << run.repaired
                << " replaced from the sources";
    }
    if (!run.damaged_indexes.empty()) {
      std::cout << "; " << run.damaged_indexes.size() << " damaged chunk index(es), "
                << run.indexes_repaired << " replaced";
    }
    if (run.metadata_repaired > 0 || !run.metadata_unrepaired.empty()) {
      std::cout << "; " << run.metadata_repaired << " metadata file(s) replaced, "
                << run.metadata_unrepaired.size() << " still damaged";
    }
    std::cout << std::endl;
    for (const auto& p : checked.problems) {
      std::cout << "  " << p.kind << " " << p.id << ": " << p.error.ToString() << std::endl;
    }
  }
  if (const size_t remaining = run.Remaining(); remaining > 0) {
    std::string why = std::to_string(remaining) + " problem(s) remain after the repair";
    if (!repair.ok()) why += " (" + repair.ToString() + ")";
    return CorruptionError(why);
  }
  return Status::Ok();
}

Status RunNodeGc(const std::string& dir, bool dry_run, CommandContext* ctx) {
  node::NodePaths paths(dir);
  Env* env = Env::Default();
  TS_ASSIGN_OR_RETURN(node::OpenedNode opened, node::OpenNodeForWriting(env, paths));
  replication::ChunkStoreOptions so;
  so.writable = true;
  TS_ASSIGN_OR_RETURN(auto store, replication::ChunkStore::Open(paths.store, so));
  node::GarbageCollector gc(env, paths, store.get());
  TS_ASSIGN_OR_RETURN(node::GcRun run, gc.Collect("command", opened.config, dry_run));
  const replication::GcReport& g = run.report;
  if (ctx->json) {
    std::cout << gc.StatusJson()["last"].dump(2) << std::endl;
    return Status::Ok();
  }
  std::cout << (dry_run ? "would keep " : "kept ") << run.kept_files << " file(s) of "
            << run.kept_releases.size() << " release(s) (";
  for (size_t i = 0; i < run.kept_releases.size(); ++i) {
    std::cout << (i ? ", " : "") << run.kept_releases[i];
  }
  std::cout << "): " << g.kept_chunks << " chunk(s), " << FormatBytes(g.kept_bytes) << "\n";
  if (run.withdrawn_files > 0) {
    std::cout << run.withdrawn_files
              << " file(s) of those releases withdrawn by signed retractions: not kept\n";
  }
  std::cout << (dry_run ? "would forget " : "forgot ") << g.deleted_chunks << " chunk(s) ("
            << FormatBytes(g.deleted_bytes) << ") and " << g.deleted_indexes << " chunk index(es); "
            << (dry_run ? "would compact " : "compacted ") << g.packs_compacted
            << " pack(s), copying " << FormatBytes(g.copied_bytes) << "\n"
            << "packs: " << FormatBytes(g.pack_bytes_before) << " -> "
            << FormatBytes(g.pack_bytes_after) << std::endl;
  if (g.absent_indexes > 0) {
    std::cout << g.absent_indexes
              << " file(s) of the kept releases are not stored yet (deferred to a sync window)"
              << std::endl;
  }
  if (!g.damaged.empty()) {
    std::cout << g.damaged.size()
              << " kept chunk(s) failed their check and stayed in place: run `tiersync node "
                 "scrub`"
              << std::endl;
  }
  return Status::Ok();
}

}  // namespace tiersync::cli
