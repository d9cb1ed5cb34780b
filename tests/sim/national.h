// The national-scale run (tests/sim/README.md, "National scale"): the federation as the GB/T
// 2260 tables make it — 31 provincial nodes, one per prefecture-level and county-level region
// (catalogs/data/regions), and a configurable number of schools spread over the counties — with
// one release propagating from the hub and, optionally, a whole province going dark.
//
// At this size every node cannot hold a real store and verify real signatures (the seeded
// fault runs of sim_world.h do that for a tree of 10). Here a node is its served version and
// the real replication::SourcePolicy (ordered sources, backoff with doubling, lacks that do not
// demote), polling with jitter and woken by its parent's push, fetching the bytes its
// subscription needs from the first source that has them, over links of each tier's speed.
// What it measures is load and time: when the last school is current, how many bytes left the
// hub against all bytes moved, and the hub's request rate when a province's schools fall back.
// With an emergency package and sync windows, it also measures when the last school serves the
// package (priority content, fetched at any time) against the rest of the release (ordinary
// content, fetched only inside a window); a node's cycle then decides as the real one does
// (replication::CycleMachine: partial releases, waiting for a window).
#ifndef TIERSYNC_TESTS_SIM_NATIONAL_H_
#define TIERSYNC_TESTS_SIM_NATIONAL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace tiersync::sim {

struct NationalOptions {
  uint64_t seed = 1;
  int64_t schools = 20'000;
  // What a release changes, for a node that mirrors the whole national catalog; a school wants
  // `school_share` of it, its county the union of its schools' wants, and so on up.
  uint64_t release_bytes = 200ull << 20;
  double school_share = 0.2;
  int64_t poll_seconds = 300;  // each node polls with 0-20% jitter
  bool push = true;            // a parent that switched wakes its children
  // Upper tiers mirror their children's subscriptions (what child reports make them do); off,
  // a school's files outside its county's own subscription come from the hub.
  bool mirror_children = true;
  // The hub answers at most this many syncs per second (beyond: 503, a failure to back off).
  int64_t hub_syncs_per_second = 200;
  // Link speeds (bytes/s) into each tier.
  uint64_t province_link = 125'000'000, city_link = 60'000'000, county_link = 25'000'000,
           school_link = 2'500'000;
  // A whole province (its provincial, city and county nodes) is down when the release is
  // published; -1: none. The index is into the provinces in code order (0 = 北京).
  int dark_province = -1;
  // An emergency package (停课不停学): `emergency_bytes` of the release are priority content,
  // national — every node at every tier wants all of it, not school_share. Priority content is
  // fetched first and whatever the sync window; a node outside its window switches to the
  // release with its ordinary files deferred and serves the package at once (inside a window,
  // or without windows, it switches once it holds the whole release, package included). False:
  // the control, the same bytes are ordinary content.
  uint64_t emergency_bytes = 0;
  bool emergency_priority = true;
  // Sync windows: ordinary content is fetched only inside them. Every node's window (one time
  // zone) opens this long after the publish — published 09:00, windows 22:00-06:00: 13 h — and
  // stays open to the horizon. 0: no windows (always open).
  int64_t window_opens_seconds = 0;
  int64_t horizon_seconds = 6 * 3600;
  // The hub's report intake is watched at least this long from the publish (the mean is over
  // it), so that its steady state (refreshes, polls) is in it beside the release's burst.
  int64_t intake_window_seconds = 3600;
};

// A node state in a report is about this large as JSON (node/fleet_report.h; two sources).
inline constexpr int64_t kReportStateBytes = 750;

struct NationalReport {
  int64_t provinces = 0, cities = 0, counties = 0, schools = 0;
  int64_t converge_seconds = -1;  // publish -> the last school serves it (all of it)
  int64_t p50_school_seconds = -1, p99_school_seconds = -1;
  uint64_t hub_bytes = 0, all_bytes = 0;
  // Syncs the hub answered (or refused) per minute: peak and the peak while no province is
  // dark would be the same run with dark_province = -1.
  int64_t hub_peak_syncs_per_minute = 0;
  int64_t hub_refused = 0;  // 503s: over capacity
  // The reports the hub takes in (node/upward_report.h: each tier forwards what changed in its
  // subtree plus an hourly refresh; a node whose tiers above are all down reports to the hub
  // itself), per minute over intake_window_seconds from the publish: reports, node states in
  // them (peak, and mean over the window), and, to compare, the reports per minute if every
  // node's reached the hub.
  int64_t hub_peak_reports_per_minute = 0, hub_peak_states_per_minute = 0;
  int64_t hub_mean_states_per_minute = 0, raw_reports_per_minute = 0;
  int64_t dark_schools = 0;
  std::string dark_province;
  // With an emergency package: publish -> the last school serves it (-1: not every school by
  // the horizon), and the median and 99th-percentile school.
  uint64_t emergency_bytes = 0;
  bool emergency_priority = true;
  int64_t emergency_converge_seconds = -1;
  int64_t p50_emergency_seconds = -1, p99_emergency_seconds = -1;
  // With windows: when the window opens, how many schools serve the emergency package, and how
  // many the whole release.
  int64_t window_opens_seconds = 0;
  int64_t emergency_schools_at_window = 0, complete_schools_at_window = 0;
  uint64_t hub_bytes_in_window = 0;  // of hub_bytes, sent once the window opened
  std::string Summary() const;
};

NationalReport RunNational(const NationalOptions& options);

}  // namespace tiersync::sim

#endif  // TIERSYNC_TESTS_SIM_NATIONAL_H_
