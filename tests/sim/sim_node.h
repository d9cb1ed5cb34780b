// The nodes of a simulated federation. Each has its own in-memory disk (MemEnv, wrapped by a
// seeded FaultEnv), its own clock (the MemEnv's), a real ChunkStore (pack files on that disk;
// the LMDB index in a real temporary directory, as LMDB does its own I/O) and answers its
// children with the real node::RepositoryService.
//
// SimHub publishes releases with the real TufRepository (top-level targets, each file's entry
// naming its chunk index, as `hub publish` writes them) and ingests the files with the real
// IngestFile.
//
// SimNode runs a node's sync cycle with the code `tiersync node sync` runs
// (replication/release_sync.h, node/release_dir.h): verified metadata from the first good
// source, the plan over its wanted targets, verified chunks from its sources in order, the
// release directory and the atomic switch of CURRENT. What it leaves out of NodeSync is the
// catalog over git (its wanted targets come from a predicate on target paths instead of a
// subscription over catalog records) and child reports (the scenario gives each upper tier
// the union of its children's wants, as the reports would).
#ifndef TIERSYNC_TESTS_SIM_SIM_NODE_H_
#define TIERSYNC_TESTS_SIM_SIM_NODE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "base/fault_env.h"
#include "base/mem_env.h"
#include "node/node_dir.h"
#include "node/repository_service.h"
#include "replication/chunk_store.h"
#include "replication/source_policy.h"
#include "replication/tuf_repository.h"
#include "tests/sim/sim_network.h"

namespace tiersync::sim {

// Small chunks, so that files of tens of KiB have many.
protocol::ChunkerParams SimChunkerParams();

// A deterministic Ed25519 key from `seed` (the simulator's keys replay with the run).
PrivateKey SimKey(uint64_t seed);

class SimHub : public node::HttpHandler {
 public:
  // `index_dir`: a real, empty directory for the store's LMDB index.
  SimHub(SimNetwork* net, std::string host, std::string index_dir, uint64_t seed,
         int64_t now_seconds);
  ~SimHub() override;

  // Publishes `files` (target path -> bytes) as the next release: every target replaced.
  Status Publish(const std::map<std::string, std::string>& files, int64_t now_seconds);
  // A new timestamp (what a hub's cron does); its lifetime is `timestamp_seconds`.
  Status RefreshTimestamp(int64_t now_seconds);

  node::HttpReply Handle(const node::HttpRequest& request) override;

  const std::string& host() const { return host_; }
  const std::vector<uint8_t>& root_json() const { return root_json_; }
  uint64_t latest_version() const { return latest_version_; }
  // The published bytes of target `path` in timestamp version `version` (nullptr if none).
  const std::string* Published(uint64_t version, const std::string& path) const;

 private:
  replication::KeyRing Ring() const;  // every key of the hub

  SimNetwork* net_;
  std::string host_;
  MemEnv mem_;
  std::unique_ptr<replication::ChunkStore> store_;
  std::unique_ptr<node::RepositoryService> service_;
  std::map<std::string, PrivateKey> keys_;
  replication::ExpiryPolicy expiry_;
  std::vector<uint8_t> root_json_;
  uint64_t latest_version_ = 0;
  std::map<uint64_t, std::map<std::string, std::string>> releases_;
};

struct CycleOutcome {
  Status status;          // what the cycle ended with
  bool switched = false;  // CURRENT moved to a new release
  uint64_t version = 0;   // the served timestamp version after the cycle
  uint64_t planned_bytes = 0;
  uint64_t fetched_bytes = 0;  // verified chunk bytes received
  std::vector<std::string> rejected;
};

class SimNode : public node::HttpHandler {
 public:
  using Wants = std::function<bool(const std::string& target_path)>;

  // `sources`: hosts in order of preference (parent, further ancestors, the hub).
  SimNode(SimNetwork* net, std::string host, std::vector<std::string> sources, Wants wants,
          ByteSpan root_json, std::string index_dir, uint64_t seed);
  ~SimNode() override;

  // Starts the node process: opens (creating on first boot) its store and serves CURRENT.
  Status Boot();
  // One sync cycle at the node's clock.
  CycleOutcome SyncCycle();
  // The process dies; with `power_loss`, un-fsynced data vanish and the last write may be
  // torn (MemEnv::SimulateCrash). The node is down until Boot().
  void Crash(bool power_loss, Random* tear);

  node::HttpReply Handle(const node::HttpRequest& request) override;

  const std::string& host() const { return host_; }
  bool up() const { return store_ != nullptr; }
  MemEnv* clock() { return &mem_; }
  FaultEnv* faults() { return &fault_; }
  const replication::SourcePolicy& sources() const { return *sources_; }
  const Wants& wants() const { return wants_; }
  // The served release's timestamp version (0 before the first switch); from disk.
  Result<uint64_t> ServedVersion();
  // The version of each trusted role on disk ("root", "timestamp", "snapshot", "targets").
  std::map<std::string, uint64_t> TrustedVersions();
  const replication::ChunkStore* store() const { return store_.get(); }

 private:
  Status ServeCurrent();

  SimNetwork* net_;
  std::string host_;
  Wants wants_;
  std::string index_dir_;
  MemEnv mem_;
  FaultEnv fault_;
  SimFetcher fetcher_;
  node::NodePaths paths_;
  std::unique_ptr<replication::SourcePolicy> sources_;
  std::unique_ptr<replication::ChunkStore> store_;
  std::unique_ptr<node::RepositoryService> service_;
};

}  // namespace tiersync::sim

#endif  // TIERSYNC_TESTS_SIM_SIM_NODE_H_
