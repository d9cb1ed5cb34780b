// The simulation's tests (README.md here). A failing seed is printed with the command that
// replays it: build/tests/sim/tiersync-sim --seed N --verbose.
//
// Environment: TIERSYNC_SIM_SEEDS (how many seeds the many-seeds test runs; default 8),
// TIERSYNC_SIM_FIRST_SEED (default 1).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "base/random.h"
#include "tests/sim/national.h"
#include "tests/sim/sim_liar.h"
#include "tests/sim/sim_node.h"
#include "tests/sim/sim_world.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::sim {
namespace {

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

std::string Explain(const WorldOptions& o, const WorldReport& r) {
  std::string out = "seed " + std::to_string(o.seed) + ": " + r.Summary() + "\n";
  for (const auto& v : r.violations) out += "  " + v + "\n";
  size_t from = r.log.size() > 40 ? r.log.size() - 40 : 0;
  out += "  last events:\n";
  for (size_t i = from; i < r.log.size(); ++i) out += "    " + r.log[i] + "\n";
  out += "  replay: tiersync-sim --seed " + std::to_string(o.seed) + " --verbose\n";
  return out;
}

// Runs `count` seeds from `first` with every fault; each must hold every invariant and
// converge, and the faults must really have happened.
void RunSeeds(uint64_t first, uint64_t count) {
  testing::TempDir tmp;
  uint64_t lies = 0, crashes = 0, faults = 0, rejections = 0;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    WorldOptions o;
    o.seed = seed;
    o.scratch_dir = tmp.Sub("s" + std::to_string(seed));
    WorldReport r = RunWorld(o);
    EXPECT_TRUE(r.ok()) << Explain(o, r);
    EXPECT_GE(r.converge_seconds, 0) << Explain(o, r);
    lies += r.lies_told;
    crashes += r.crashes;
    faults += r.network_faults + r.disk_faults;
    rejections += r.rejections;
  }
  // The faults really happened (a harness that injects nothing proves nothing).
  EXPECT_GT(lies, 0u);
  EXPECT_GT(crashes, 0u);
  EXPECT_GT(faults, 0u);
  EXPECT_GT(rejections, 0u);
}

// The seeds in two halves, so that ctest runs them side by side.
TEST(SimTest, ManySeedsWithEveryFaultHoldEveryInvariant) {
  const uint64_t seeds = EnvNumber("TIERSYNC_SIM_SEEDS", 8);
  RunSeeds(EnvNumber("TIERSYNC_SIM_FIRST_SEED", 1), (seeds + 1) / 2);
}

TEST(SimTest, ManySeedsWithEveryFaultHoldEveryInvariantSecondHalf) {
  const uint64_t seeds = EnvNumber("TIERSYNC_SIM_SEEDS", 8);
  if (seeds < 2) GTEST_SKIP() << "one seed: the first half runs it";
  RunSeeds(EnvNumber("TIERSYNC_SIM_FIRST_SEED", 1) + (seeds + 1) / 2, seeds / 2);
}

TEST(SimTest, ASeedReplaysExactly) {
  testing::TempDir tmp;
  WorldOptions o;
  o.seed = 7;
  o.fault_seconds = 86400;  // a day of every fault is enough to tell two runs apart
  o.scratch_dir = tmp.Sub("a");
  WorldReport a = RunWorld(o);
  o.scratch_dir = tmp.Sub("b");
  WorldReport b = RunWorld(o);
  EXPECT_EQ(a.log, b.log);
  EXPECT_EQ(a.Summary(), b.Summary());
  o.seed = 8;
  o.scratch_dir = tmp.Sub("c");
  EXPECT_NE(RunWorld(o).log, a.log);
}

// Every lie of a compromised intermediate, alone: it is told, its children notice (I8), nothing
// it forged is stored or served (I1), and every node still converges (I5, I7).
TEST(SimTest, EachLieOfACompromisedNodeIsNoticedAndContained) {
  testing::TempDir tmp;
  for (size_t l = 0; l < std::size(kAllLies); ++l) {
    WorldOptions o;
    o.seed = 100 + l;
    o.lie = static_cast<int>(l);
    o.fault_seconds = 86400;  // the liar lies from the second release (8 h) on
    o.network_faults = o.partitions = o.crashes = o.disk_faults = o.clock_jumps = false;
    o.scratch_dir = tmp.Sub("lie" + std::to_string(l));
    WorldReport r = RunWorld(o);
    SCOPED_TRACE(LieName(kAllLies[l]));
    EXPECT_TRUE(r.ok()) << Explain(o, r);
    EXPECT_GT(r.lies_told, 0u) << Explain(o, r);
    EXPECT_GE(r.converge_seconds, 0) << Explain(o, r);
  }
}

// The negative control: a disk that acknowledges fsync without doing it, and power losses.
// What a node reported as switched does not survive: the checker must say so.
TEST(SimTest, NegativeControlADiskIgnoringFsyncBreaksDurability) {
  testing::TempDir tmp;
  int broken = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    WorldOptions o;
    o.seed = seed;
    o.sync_disabled = true;
    o.network_faults = o.partitions = o.disk_faults = o.clock_jumps = o.liar = false;
    o.scratch_dir = tmp.Sub("n" + std::to_string(seed));
    WorldReport r = RunWorld(o);
    if (!r.ok()) ++broken;
    if (broken > 0) break;
  }
  EXPECT_GT(broken, 0) << "crashes on a disk that ignores fsync went unnoticed";
}

// The simulation runs the node's own orchestrator (node/sync_cycle.h), reports and roll-up
// included: break its report upward on purpose (each node reports its own subscription only,
// the field defect where a county held its schools' files and the city and province nothing)
// and a seed must catch it.
TEST(SimTest, NegativeControlABrokenRollUpIsCaught) {
  testing::TempDir tmp;
  int caught = 0;
  for (uint64_t seed = 1; seed <= 2; ++seed) {
    WorldOptions o;
    o.seed = seed;
    o.break_rollup = true;
    o.network_faults = o.partitions = o.disk_faults = o.clock_jumps = o.liar = false;
    o.crashes = false;
    o.scratch_dir = tmp.Sub("r" + std::to_string(seed));
    WorldReport r = RunWorld(o);
    for (const auto& v : r.violations) caught += v.starts_with("I9") ? 1 : 0;
    if (caught > 0) break;
  }
  EXPECT_GT(caught, 0) << "a node that reports upward without its subtree went unnoticed";
}

// Crash-point loop of a sync (threats.md F1, F2): a school serves release 1; the hub publishes
// release 2; for every I/O operation k of the school's sync of it, crash at k with power loss
// (un-fsynced data lost, the last write torn), restart, check, and sync again. After every
// crash the school serves release 1 or 2, complete and verified; after the resync, release 2.
struct CrashPointResult {
  uint64_t operations = 0;  // I/O operations of the uninterrupted sync
  uint64_t trials = 0;
  std::vector<std::string> problems;
};

CrashPointResult RunSyncCrashPoints(const std::string& scratch, bool sync_disabled) {
  CrashPointResult result;
  auto trial = [&](uint64_t k) -> bool {  // false: k is past the last operation
    SimNetwork net(k);
    int64_t now = 1'800'000'000;
    std::string dir = scratch + "/k" + std::to_string(k);
    SimHub hub(&net, "hub", dir + "/hub", 3, now);
    SimCatalog catalog;
    Random r(5);
    auto bytes = [&](size_t n) {
      std::string s(n, '\0');
      for (auto& c : s) c = static_cast<char>(r.Next());
      return s;
    };
    for (int f = 0; f < 4; ++f)
      catalog.Put("res-" + std::to_string(f), "g0", bytes(20000 + 30000 * f));
    EXPECT_TRUE(hub.Publish(catalog, now).ok());
    SimNodeSpec spec;
    spec.host = "school";
    spec.sources = {"hub"};
    spec.subscription = "tag in (g0)\n";
    SimNode school(&net, spec, hub.root_json(), dir + "/school", 9);
    school.faults()->SetSyncDisabled(sync_disabled);
    school.clock()->SetNowMicros(static_cast<uint64_t>(now) * 1'000'000);
    EXPECT_TRUE(school.Boot().ok());
    CycleOutcome first = school.SyncCycle();
    EXPECT_TRUE(first.status.ok()) << first.status.ToString();
    const uint64_t v1 = first.version;
    std::string edited = catalog.media["res-1/lesson.bin"];
    edited.insert(100, std::string(700, 'x'));
    catalog.Put("res-1", "g0", edited);
    catalog.resources[3].retired = true;
    catalog.Put("res-4", "g0", bytes(40000));
    EXPECT_TRUE(hub.Publish(catalog, now + 60).ok());
    const uint64_t v2 = hub.latest_version();

    FaultEnv* f = school.faults();
    f->ResetCounters();
    f->CrashAtOperation(k);
    CycleOutcome crashed = school.SyncCycle();
    const bool crashed_at_k = f->crashed();
    const uint64_t operations = f->operation_count();
    Random tear(k * 31 + 7);
    school.Crash(/*power_loss=*/true, &tear);
    f->SetSyncDisabled(false);
    Status boot = school.Boot();
    auto where = [&](const std::string& p) {
      result.problems.push_back("crash at operation " + std::to_string(k) + ": " + p);
    };
    if (!boot.ok()) {
      where("restart fails: " + boot.ToString());
      return crashed_at_k;
    }
    auto served = school.ServedVersion();
    if (!served.ok() || (*served != v1 && *served != v2)) {
      where("serves " + (served.ok() ? "v" + std::to_string(*served) : served.status().ToString()) +
            " after the restart, not v" + std::to_string(v1) + " or v" + std::to_string(v2));
    }
    if (!crashed_at_k && crashed.status.ok() && served.ok() && *served != v2) {
      where("the sync reported success but v" + std::to_string(v2) + " did not survive");
    }
    for (const auto& p : ProbeAsConsumer(&net, hub, school, now + 120)) where(p);
    CycleOutcome again = school.SyncCycle();
    if (!again.status.ok() || again.version != v2) {
      where("the resync does not reach v" + std::to_string(v2) + ": " + again.status.ToString());
    }
    for (const auto& p : ProbeAsConsumer(&net, hub, school, now + 180)) where(p);
    ++result.trials;
    if (!crashed_at_k) result.operations = operations;
    return crashed_at_k;
  };
  for (uint64_t k = 1; k < 100'000; ++k) {
    bool more = trial(k);
    std::error_code ec;
    std::filesystem::remove_all(scratch + "/k" + std::to_string(k), ec);
    if (!more) break;
  }
  return result;
}

TEST(SimTest, CrashAtEveryOperationOfASyncLosesNothing) {
  testing::TempDir tmp;
  CrashPointResult r = RunSyncCrashPoints(tmp.path(), /*sync_disabled=*/false);
  EXPECT_GT(r.operations, 50u);
  EXPECT_EQ(r.trials, r.operations + 1);
  for (const auto& p : r.problems) ADD_FAILURE() << p;
  std::printf("sync crash points: %llu operations, %llu trials, %zu problems\n",
              static_cast<unsigned long long>(r.operations),
              static_cast<unsigned long long>(r.trials), r.problems.size());
}

TEST(SimTest, CrashPointNegativeControlWithoutFsyncFindsDamage) {
  testing::TempDir tmp;
  CrashPointResult r = RunSyncCrashPoints(tmp.path(), /*sync_disabled=*/true);
  EXPECT_FALSE(r.problems.empty())
      << "a disk that ignores fsync went unnoticed in " << r.trials << " crash points";
}

}  // namespace
}  // namespace tiersync::sim

namespace tiersync::sim {
namespace {

// National scale (national.h) at the CI size: the real region tables and 20,000 schools. One
// release reaches every school; the hub sends a small fraction of all bytes (upper tiers
// mirror their children's subscriptions); with a whole province dark its schools fall back to
// the hub, which stays under its capacity and still serves every one of them.
TEST(NationalSimTest, AReleaseReachesEverySchoolAndTheHubStaysBounded) {
  NationalOptions o;
  NationalReport normal = RunNational(o);
  EXPECT_EQ(normal.provinces, 31);
  EXPECT_GT(normal.cities, 300);
  EXPECT_GT(normal.counties, 2800);
  EXPECT_GE(normal.converge_seconds, 0) << normal.Summary();
  EXPECT_LT(normal.hub_bytes * 100, normal.all_bytes) << normal.Summary();  // under 1%
  EXPECT_EQ(normal.hub_refused, 0) << normal.Summary();

  o.dark_province = 18;  // 广东省 (440000) in code order
  NationalReport dark = RunNational(o);
  EXPECT_GT(dark.dark_schools, 0);
  EXPECT_GE(dark.converge_seconds, 0) << dark.Summary();
  EXPECT_GT(dark.hub_bytes, normal.hub_bytes) << "the dark province's schools did not fall back";
  EXPECT_LE(dark.hub_peak_syncs_per_minute, o.hub_syncs_per_second * 60) << dark.Summary();
  // Report intake: the tiers forward changes, so the hub takes in a fraction of what every
  // node's report would be; a dark province's schools report to it themselves.
  EXPECT_GT(normal.hub_mean_states_per_minute, 0) << normal.Summary();
  EXPECT_LT(normal.hub_mean_states_per_minute * 2, normal.raw_reports_per_minute)
      << normal.Summary();
  EXPECT_LT(normal.hub_peak_reports_per_minute, 31 * 2) << normal.Summary();
  EXPECT_GT(dark.hub_peak_reports_per_minute, normal.hub_peak_reports_per_minute) << dark.Summary();
  std::printf("national: %s\nnational, one province dark: %s\n", normal.Summary().c_str(),
              dark.Summary().c_str());

  o.dark_province = -1;
  o.mirror_children = false;  // the control: without mirroring the hub carries half of it
  NationalReport flat = RunNational(o);
  EXPECT_GT(flat.hub_bytes * 4, flat.all_bytes) << flat.Summary();
}

// The emergency package (停课不停学) at the CI size: classes are suspended at 09:00 and a 50 MB
// package is published as priority content with a release whose ordinary content every node
// fetches only inside its 22:00-06:00 window, 13 h away. Every school serves the package within
// the hour, none the ordinary content before the window opens, and every one the whole release
// after it. The control, the same package as ordinary content, reaches no school before the
// window.
TEST(NationalSimTest, AnEmergencyPackageReachesEverySchoolBeforeTheSyncWindow) {
  NationalOptions o;
  o.emergency_bytes = 50'000'000;
  o.window_opens_seconds = 13 * 3600;
  o.horizon_seconds = o.window_opens_seconds + 6 * 3600;
  NationalReport priority = RunNational(o);
  ASSERT_GE(priority.emergency_converge_seconds, 0) << priority.Summary();
  EXPECT_LT(priority.emergency_converge_seconds, 3600) << priority.Summary();
  EXPECT_EQ(priority.emergency_schools_at_window, priority.schools) << priority.Summary();
  EXPECT_EQ(priority.complete_schools_at_window, 0) << priority.Summary();
  EXPECT_GE(priority.converge_seconds, o.window_opens_seconds) << priority.Summary();
  EXPECT_EQ(priority.hub_refused, 0) << priority.Summary();

  o.emergency_priority = false;
  NationalReport ordinary = RunNational(o);
  EXPECT_EQ(ordinary.emergency_schools_at_window, 0) << ordinary.Summary();
  EXPECT_GE(ordinary.emergency_converge_seconds, o.window_opens_seconds) << ordinary.Summary();
  EXPECT_GE(ordinary.converge_seconds, o.window_opens_seconds) << ordinary.Summary();
  std::printf("national, emergency package: %s\nnational, the package not priority: %s\n",
              priority.Summary().c_str(), ordinary.Summary().c_str());
}

}  // namespace
}  // namespace tiersync::sim
