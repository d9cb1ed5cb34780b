// tiersync-sim: runs the federation simulation for one seed (to replay a failing test) or for
// many, and prints what happened. Exit 0 if every invariant held, 1 otherwise.
//
//   tiersync-sim --seed 17 --verbose        # the events of seed 17, as the test ran it
//   tiersync-sim --seed 1 --seeds 200       # seeds 1..200
//   tiersync-sim --national --national-schools 500000 [--dark-province 18]
//   tiersync-sim --national --national-schools 500000 --emergency-mb 50 --window-after-hours 13
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/sim/national.h"
#include "tests/sim/sim_world.h"

int main(int argc, char** argv) {
  CLI::App app{"Deterministic simulation of a tiersync federation (tests/sim/README.md)"};
  tiersync::sim::WorldOptions o;
  uint64_t seeds = 1;
  bool verbose = false, quiet_faults = false;
  app.add_option("--seed", o.seed, "first seed")->capture_default_str();
  app.add_option("--seeds", seeds, "how many seeds, from --seed on")->capture_default_str();
  app.add_option("--provinces", o.provinces)->capture_default_str();
  app.add_option("--cities", o.cities, "per province")->capture_default_str();
  app.add_option("--counties", o.counties, "per city")->capture_default_str();
  app.add_option("--schools", o.schools, "per county")->capture_default_str();
  app.add_option("--lie", o.lie, "force lie number N (-1: drawn from the seed)")
      ->capture_default_str();
  app.add_flag("--no-faults", quiet_faults, "no network, disk, crash, clock or liar faults");
  app.add_flag("--sync-disabled", o.sync_disabled, "negative control: disks ignore fsync");
  app.add_flag("-v,--verbose", verbose, "print every event");
  bool national = false;
  tiersync::sim::NationalOptions n;
  bool no_mirror = false, no_push = false;
  app.add_flag("--national", national, "the national-scale run (national.h) instead");
  app.add_option("--national-schools", n.schools)->capture_default_str();
  app.add_option("--dark-province", n.dark_province, "province index (code order) that is down")
      ->capture_default_str();
  app.add_option("--hub-syncs-per-second", n.hub_syncs_per_second)->capture_default_str();
  app.add_flag("--no-mirror", no_mirror, "upper tiers hold only their own subscription");
  app.add_flag("--no-push", no_push, "children only poll");
  double emergency_mb = 0, window_after_hours = 0, horizon_hours = 0;
  bool emergency_ordinary = false;
  app.add_option("--emergency-mb", emergency_mb,
                 "an emergency package of this many MB (priority content, every school wants it)")
      ->capture_default_str();
  app.add_flag("--emergency-not-priority", emergency_ordinary,
               "control: the emergency package is ordinary content");
  app.add_option("--window-after-hours", window_after_hours,
                 "sync windows: ordinary content only from this long after the publish (0: none)")
      ->capture_default_str();
  app.add_option("--horizon-hours", horizon_hours,
                 "simulated time (0: 6 h, counted from the window's opening)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (national) {
    n.seed = o.seed;
    n.mirror_children = !no_mirror;
    n.push = !no_push;
    n.emergency_bytes = static_cast<uint64_t>(emergency_mb * 1e6);
    n.emergency_priority = !emergency_ordinary;
    n.window_opens_seconds = static_cast<int64_t>(window_after_hours * 3600);
    n.horizon_seconds = horizon_hours > 0 ? static_cast<int64_t>(horizon_hours * 3600)
                                          : n.window_opens_seconds + 6 * 3600;
    tiersync::sim::NationalReport r = tiersync::sim::RunNational(n);
    std::printf("%s\n", r.Summary().c_str());
    const bool emergency_ok = n.emergency_bytes == 0 || r.emergency_converge_seconds >= 0;
    return r.converge_seconds >= 0 && emergency_ok ? 0 : 1;
  }
  if (quiet_faults) {
    o.network_faults = o.partitions = o.crashes = o.disk_faults = o.clock_jumps = o.liar = false;
  }
  std::string base = std::filesystem::temp_directory_path() / "tiersync-sim-XXXXXX";
  if (mkdtemp(base.data()) == nullptr) {
    std::perror("mkdtemp");
    return 2;
  }
  int failed = 0;
  const uint64_t first = o.seed;
  for (uint64_t s = first; s < first + seeds; ++s) {
    o.seed = s;
    o.scratch_dir = base + "/" + std::to_string(s);
    tiersync::sim::WorldReport r = tiersync::sim::RunWorld(o);
    if (verbose) {
      for (const auto& line : r.log) std::printf("  %s\n", line.c_str());
    }
    std::printf("seed %llu: %s: %s\n", static_cast<unsigned long long>(s),
                r.ok() ? "ok" : "INVARIANT BROKEN", r.Summary().c_str());
    for (const auto& v : r.violations) std::printf("  %s\n", v.c_str());
    if (!r.ok()) ++failed;
  }
  std::filesystem::remove_all(base);
  std::printf("%llu seeds, %d with a broken invariant\n", static_cast<unsigned long long>(seeds),
              failed);
  return failed == 0 ? 0 : 1;
}
