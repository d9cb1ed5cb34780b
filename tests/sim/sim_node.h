// The hub and nodes of a simulated federation.
//
// SimHub is the real hub: created with hub::InitHub and publishing each catalog release with
// hub::Publish (records, media ingested into its chunk store, the catalog committed and tagged
// in git, the TUF metadata signed — what `tiersync hub publish` does), in a real scratch
// directory, with deterministic keys; it answers with the real node::RepositoryService and
// node::GitHttpService.
//
// SimNode is a node process: its own in-memory disk (MemEnv, wrapped by a seeded FaultEnv), its
// own clock (the MemEnv's), a real ChunkStore (pack files on that disk; the LMDB index in a
// real temporary directory, as LMDB does its own I/O), its catalog repository in a real
// directory (libgit2 does its own I/O: a power loss does not reach it, which the catalog's
// verification against the signed manifest makes harmless). Each sync cycle is a turn of the
// node's own orchestrator (node/sync_cycle.h: SyncRunner, NodeSync, the report upward and the
// next delay) — the code `node serve` and `node sync` run, not a copy of it. It answers its
// children with the node's handlers: the repository service, the catalog over git and the
// report intake (node/child_reports.h).
#ifndef TIERSYNC_TESTS_SIM_SIM_NODE_H_
#define TIERSYNC_TESTS_SIM_SIM_NODE_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "base/fault_env.h"
#include "base/mem_env.h"
#include "catalogs/resource.h"
#include "node/child_reports.h"
#include "node/git_http_service.h"
#include "node/node_config.h"
#include "node/node_dir.h"
#include "node/repository_service.h"
#include "node/sync_cycle.h"
#include "node/sync_runner.h"
#include "replication/chunk_store.h"
#include "replication/source_policy.h"
#include "replication/tuf_repository.h"
#include "tests/sim/sim_network.h"
#include "tests/sim/sim_scheduler.h"

namespace tiersync::sim {

// A deterministic Ed25519 key from `seed` (the simulator's keys replay with the run).
PrivateKey SimKey(uint64_t seed);

// One release of the simulated catalog: the records (publishing input: files carry size and
// sha256) and the bytes of every file, by "<resource id>/<file name>".
struct SimCatalog {
  std::vector<catalogs::Resource> resources;
  std::map<std::string, std::string> media;

  // Adds (or replaces, keeping its place) resource `id`: a K-12 lesson tagged `tag` with one
  // file, lesson.bin, holding `bytes`.
  void Put(const std::string& id, const std::string& tag, const std::string& bytes);
};

class SimHub : public node::HttpHandler {
 public:
  // `dir`: a real directory (created) that holds the hub's directory and publishing input.
  SimHub(SimNetwork* net, std::string host, std::string dir, uint64_t seed, int64_t now_seconds);
  ~SimHub() override;

  // Publishes `catalog` as the next release (hub::Publish): every record and file replaced.
  Status Publish(const SimCatalog& catalog, int64_t now_seconds);
  // A new timestamp (what a hub's timer does).
  Status RefreshTimestamp(int64_t now_seconds);

  node::HttpReply Handle(const node::HttpRequest& request) override;

  const std::string& host() const { return host_; }
  const std::vector<uint8_t>& root_json() const { return root_json_; }
  uint64_t latest_version() const { return latest_version_; }
  // The published bytes of target `path` in timestamp version `version` (nullptr if none).
  const std::string* Published(uint64_t version, const std::string& path) const;
  // The served target paths of a release and the records they belong to, by path.
  const std::map<std::string, catalogs::Resource>* Records(uint64_t version) const;

 private:
  replication::KeyRing Ring() const;  // every key of the hub
  Status Serve();                     // (re)opens the store and the handlers on the hub dir

  SimNetwork* net_;
  std::string host_;
  std::string dir_;
  std::unique_ptr<replication::ChunkStore> store_;
  std::unique_ptr<node::RepositoryService> service_;
  std::unique_ptr<node::GitHttpService> git_;
  uint64_t release_number_ = 0;  // the catalog release r<N> served
  std::map<std::string, PrivateKey> keys_;
  std::vector<uint8_t> root_json_;
  uint64_t latest_version_ = 0;
  struct Release {
    std::map<std::string, std::string> files;           // target path -> bytes
    std::map<std::string, catalogs::Resource> records;  // target path -> its record
  };
  std::map<uint64_t, Release> releases_;
};

struct CycleOutcome {
  Status status;          // what the cycle ended with
  bool switched = false;  // CURRENT moved to a new release
  std::string pending;    // "not yet": the signed catalog release no source serves yet
  uint64_t version = 0;   // the served timestamp version after the cycle
  uint64_t planned_bytes = 0;
  uint64_t fetched_bytes = 0;  // verified chunk bytes received
  std::vector<std::string> rejected;
  bool reported = false;      // the parent accepted the report upward
  int64_t next_delay_ms = 0;  // when the node's loop would turn again
};

struct SimNodeSpec {
  std::string host;
  node::Tier tier = node::Tier::kSchool;
  // Ancestors in order of preference (parent first), then the hub.
  std::vector<std::string> sources;
  std::string subscription;  // the node's own rules ("" for upper tiers that mirror their subtree)
  int poll_seconds = 1800;
};

class SimNode : public node::HttpHandler {
 public:
  // `scratch`: a real, empty directory for the LMDB index and the catalog repository.
  SimNode(SimNetwork* net, SimNodeSpec spec, ByteSpan root_json, std::string scratch,
          uint64_t seed);
  ~SimNode() override;

  // Starts the node process: opens (creating on first boot) its store, reads its children's
  // reports and serves CURRENT.
  Status Boot();
  // One turn of the node's sync loop at the node's clock. `jitter`: the loop's random number.
  CycleOutcome SyncCycle(uint64_t jitter = 0);
  // The process dies; with `power_loss`, un-fsynced data vanish and the last write may be
  // torn (MemEnv::SimulateCrash). The node is down until Boot().
  void Crash(bool power_loss, Random* tear);

  // Replaces how the node's report upward is made (a negative control breaks the roll-up).
  void SetReportMaker(node::ReportMaker maker) { report_maker_ = std::move(maker); }

  node::HttpReply Handle(const node::HttpRequest& request) override;

  const std::string& host() const { return spec_.host; }
  const SimNodeSpec& spec() const { return spec_; }
  bool up() const { return store_ != nullptr; }
  MemEnv* clock() { return &mem_; }
  FaultEnv* faults() { return &fault_; }
  const replication::SourcePolicy& sources() const { return *sources_; }
  // The served release's timestamp version (0 before the first switch); from disk.
  Result<uint64_t> ServedVersion();
  // The rules (subscription text) the served release was planned for; "" before the first.
  std::string ServedRules();
  // The version of each trusted role on disk ("root", "timestamp", "snapshot", "targets").
  std::map<std::string, uint64_t> TrustedVersions();
  // The switches whose release the node's status named before the node served it (I10).
  int status_ahead_of_serving() const { return status_ahead_of_serving_; }
  const replication::ChunkStore* store() const { return store_.get(); }

 private:
  Status ServeCurrent();

  SimNetwork* net_;
  SimNodeSpec spec_;
  std::string scratch_;
  MemEnv mem_;
  FaultEnv fault_;
  SimFetcher fetcher_;
  SeededScheduler scheduler_;
  node::NodePaths paths_;
  node::NodeConfig config_;
  std::unique_ptr<replication::SourcePolicy> sources_;
  std::unique_ptr<replication::ChunkStore> store_;
  std::unique_ptr<node::RepositoryService> service_;
  std::unique_ptr<node::GitHttpService> git_;
  std::unique_ptr<node::ChildReports> children_;
  std::unique_ptr<node::SyncRunner> runner_;
  std::unique_ptr<node::SyncCycle> cycle_;
  node::ReportMaker report_maker_;
  uint64_t release_number_ = 0;  // the catalog release r<N> served
  // Every rules text a cycle planned for (the checker's record, kept across crashes).
  std::set<std::string> rules_seen_;
  int status_ahead_of_serving_ = 0;
};

}  // namespace tiersync::sim

#endif  // TIERSYNC_TESTS_SIM_SIM_NODE_H_
