// A simulated federation (tests/sim/README.md): a hub and a tree of nodes on one SimNetwork,
// driven through a fault phase and a heal phase by one seed, with the invariants of
// threats.md checked as it goes and at the end. A run is a pure function of its options:
// the same seed replays the same events, faults and outcome.
#ifndef TIERSYNC_TESTS_SIM_SIM_WORLD_H_
#define TIERSYNC_TESTS_SIM_SIM_WORLD_H_

#include <cstdint>
#include <string>
#include <vector>

namespace tiersync::sim {

struct WorldOptions {
  uint64_t seed = 1;
  // Topology: the hub, then per province its cities, per city its counties, per county its
  // schools. Every node's sources: parent, further ancestors, the hub.
  int provinces = 1, cities = 2, counties = 1, schools = 2;
  int files = 10;                       // targets per release
  uint32_t max_file_bytes = 160 << 10;  // the hub's chunks average 64 KiB: 1-4 a file
  int64_t fault_seconds = 2 * 86400;    // the fault phase (releases keep coming)
  int64_t heal_seconds = 12 * 3600;     // then: no faults; every node must converge
  int64_t poll_seconds = 1800;
  int64_t release_every_seconds = 8 * 3600;
  // What the fault phase may do.
  bool network_faults = true;
  bool partitions = true;
  bool crashes = true;
  bool disk_faults = true;  // fsync EIO, ENOSPC
  bool clock_jumps = true;
  bool liar = true;             // one intermediate node lies (a lie drawn from the seed)
  int lie = -1;                 // >= 0: that lie of kAllLies (sim_liar.h) instead
  bool mid_read_switch = true;  // a parent switches releases while a child reads (F10)
  // Negative control: every node's disk acknowledges fsync without doing it. Power-loss
  // crashes must then break an invariant.
  bool sync_disabled = false;
  // Negative control: every node's report upward carries its own subscription only (the
  // orchestrator's roll-up broken on purpose). The roll-up invariant (I9) must then fail.
  bool break_rollup = false;
  // Where the nodes' LMDB indexes go (a real directory, removed afterwards).
  std::string scratch_dir;
};

struct WorldReport {
  std::vector<std::string> violations;  // "<invariant> <node>: <what>"
  std::vector<std::string> log;         // events, in order (printed for a failing seed)
  int nodes = 0;
  uint64_t cycles = 0, failed_cycles = 0, crashes = 0, disk_faults = 0, clock_jumps = 0,
           partitions = 0, mid_read_switches = 0;
  std::string lie;  // the liar's lie, "" if none
  std::string liar;
  uint64_t lies_told = 0, rejections = 0;
  uint64_t network_faults = 0;                // dropped + stalled + truncated + flipped + stale
  uint64_t hub_bytes_out = 0, all_bytes = 0;  // reply bytes out of the hub / on every link
  int64_t converge_seconds = -1;              // from the start of the heal phase; -1: never
  uint64_t final_version = 0;
  bool ok() const { return violations.empty(); }
  std::string Summary() const;
};

WorldReport RunWorld(const WorldOptions& options);

class SimHub;
class SimNetwork;
class SimNode;
// Reads `node` as a verifying client holding only the pinned root would (a school's browser,
// a child): a full TUF refresh against it, then every target its served rules want downloaded and
// checked against the signed length and hash and against the bytes the hub published. Returns the
// problems, each starting with the invariant it breaks ("I1 ...", "I4 ..."). A node serving
// nothing yet has none.
// True if `rules` (the simulation's subscription lines: "tag in (g0, g2)" or "all") select
// resources tagged `tag` — the checker's own reading, independent of the code under test.
bool RulesSelect(const std::string& rules, const std::string& tag);

std::vector<std::string> ProbeAsConsumer(SimNetwork* net, const SimHub& hub, SimNode& node,
                                         int64_t now_seconds);

}  // namespace tiersync::sim

#endif  // TIERSYNC_TESTS_SIM_SIM_WORLD_H_
