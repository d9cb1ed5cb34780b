#include "tests/sim/national.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <queue>
#include <sstream>

#include "base/random.h"
#include "catalogs/region_table.h"
#include "node/upward_report.h"
#include "replication/cycle_machine.h"
#include "replication/source_policy.h"

namespace tiersync::sim {
namespace {

enum class Tier { kHub, kProvince, kCity, kCounty, kSchool };

struct Node {
  Tier tier;
  int parent = -1;
  std::vector<int> sources;  // parent first, the hub last
  std::vector<int> children;
  double share = 0;  // of release_bytes it fetches
  uint64_t link = 0;
  int version = 1;
  bool deferred = false;   // serves `version` partially: its ordinary files wait for a window
  bool emergency = false;  // a school: serves the emergency package
  bool up = true;
  bool busy = false;  // fetching
  int64_t next_poll = -1;
  int64_t switched_at = -1;
  // Reports (node/upward_report.h's rule, counted where they land): the tier it last reported
  // to, whether its own state changed since, the subtree states it has to forward (changed ones
  // its children reported), its subtree's size and the hourly refresh of it not sent yet.
  int last_dest = -1;
  bool changed = false;
  int64_t pending = 0;
  int64_t subtree = 0;
  double refresh_due = 0;
  std::unique_ptr<replication::SourcePolicy> policy;
};

struct NationalEvent {
  int64_t at_ms;
  uint64_t seq;
  int node;
  int switch_to;         // > 0: the fetch of that version completes; 0: a poll; -1: a push
  bool partial = false;  // the completed fetch left the ordinary files for a window
  bool operator>(const NationalEvent& o) const {
    return std::tie(at_ms, seq) > std::tie(o.at_ms, o.seq);
  }
};

class National {
 public:
  explicit National(const NationalOptions& o) : o_(o), random_(o.seed) {}
  NationalReport Run();

 private:
  int Add(Tier tier, int parent, uint64_t link) {
    Node n;
    n.tier = tier;
    n.parent = parent;
    n.link = link;
    for (int a = parent; a > 0; a = nodes_[a].parent) n.sources.push_back(a);
    if (tier != Tier::kHub) n.sources.push_back(0);
    std::vector<replication::Source> list;
    for (int s : n.sources) list.push_back({std::to_string(s), std::to_string(s)});
    n.policy = std::make_unique<replication::SourcePolicy>(std::move(list));
    nodes_.push_back(std::move(n));
    int i = static_cast<int>(nodes_.size()) - 1;
    if (parent >= 0) nodes_[parent].children.push_back(i);
    return i;
  }
  void Build();
  void Schedule(int64_t at_ms, int node, int switch_to, bool partial = false) {
    events_.push(NationalEvent{at_ms, seq_++, node, switch_to, partial});
  }
  // A node waiting for the window (`to_window`) polls its parent, which has nothing new for it
  // before the window opens: those polls are drawn as any poll is, without their events, up to
  // the first one inside the window (a push still wakes the node).
  void SchedulePoll(int i, int64_t now_ms, bool to_window = false) {
    int64_t p = o_.poll_seconds * 1000;
    int64_t at = now_ms;
    do {
      at += p + static_cast<int64_t>(random_.Uniform(static_cast<uint64_t>(p / 5 + 1)));
    } while (to_window && at < window_ms_);
    nodes_[i].next_poll = at;
    Schedule(at, i, 0);
  }
  // The release directory a node serves, or a plan's (the names replication::CycleMachine
  // compares).
  static std::string Dir(int version, bool deferred) {
    return replication::PartialDirName("r" + std::to_string(version), deferred ? 1 : 0);
  }
  void Cycle(int i, int64_t now_ms);
  void Switch(int i, int version, bool partial, int64_t now_ms);
  bool CountHubSync(int64_t now_ms);
  void Report(int i, int64_t now_ms);
  // Node n asks its source k at *t: false if it is down (*t moves past the connect timeout) or
  // is the hub refusing (503), either recorded as a failure in the node's policy.
  bool Reach(Node& n, size_t k, int64_t* t);

  const NationalOptions o_;
  const int64_t window_ms_ = o_.window_opens_seconds * 1000;
  Random random_;
  std::vector<Node> nodes_;
  std::priority_queue<NationalEvent, std::vector<NationalEvent>, std::greater<>> events_;
  uint64_t seq_ = 0;
  std::map<int64_t, int64_t> hub_per_second_, hub_per_minute_;
  std::map<int64_t, int64_t> hub_reports_per_minute_, hub_states_per_minute_;
  NationalReport report_;
  std::vector<int64_t> school_times_, emergency_times_;
  int64_t schools_current_ = 0;
};

void National::Build() {
  const auto& regions = catalogs::RegionTable::Builtin();
  Add(Tier::kHub, -1, 0);
  std::vector<int> counties;
  std::map<int, int> province_of;  // county node -> province index
  int province_index = 0;
  for (const auto* p : regions.AtLevel(catalogs::RegionLevel::kProvince)) {
    int pi = Add(Tier::kProvince, 0, o_.province_link);
    if (province_index == o_.dark_province) report_.dark_province = p->name + " (" + p->code + ")";
    ++report_.provinces;
    for (const auto* c : regions.Children(p->code)) {
      int ci = Add(Tier::kCity, pi, o_.city_link);
      ++report_.cities;
      auto areas = regions.Children(c->code);
      if (areas.empty() || c->also_county) {  // a city without counties serves both tiers
        counties.push_back(Add(Tier::kCounty, ci, o_.county_link));
        province_of[counties.back()] = province_index;
        ++report_.counties;
      }
      for (size_t a = 0; a < areas.size(); ++a) {
        if (areas[a]->code == c->code) continue;
        counties.push_back(Add(Tier::kCounty, ci, o_.county_link));
        province_of[counties.back()] = province_index;
        ++report_.counties;
      }
    }
    ++province_index;
  }
  for (int64_t s = 0; s < o_.schools; ++s) {
    int county = counties[static_cast<size_t>(s) % counties.size()];
    Add(Tier::kSchool, county, o_.school_link);
    ++report_.schools;
    if (o_.dark_province >= 0 && province_of[county] == o_.dark_province) ++report_.dark_schools;
  }
  // Shares: a school wants school_share of a release; an upper tier the union of its subtree
  // (independent subsets: 1 - (1 - s)^schools below), the provinces everything.
  std::vector<int64_t> below(nodes_.size(), 0);
  for (int i = static_cast<int>(nodes_.size()) - 1; i > 0; --i) {
    if (nodes_[i].tier == Tier::kSchool) below[i] = 1;
    if (nodes_[i].parent > 0) below[nodes_[i].parent] += below[i];
  }
  for (size_t i = 1; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    n.share = n.tier == Tier::kProvince
                  ? 1.0
                  : 1.0 - std::pow(1.0 - o_.school_share, static_cast<double>(below[i]));
    if (n.tier == Tier::kSchool) n.share = o_.school_share;
  }
  // Before the release every node has been reporting to its parent for a while.
  for (int i = static_cast<int>(nodes_.size()) - 1; i > 0; --i) {
    nodes_[i].last_dest = nodes_[i].parent;
    if (nodes_[i].parent > 0) nodes_[nodes_[i].parent].subtree += 1 + nodes_[i].subtree;
  }
  if (o_.dark_province >= 0) {
    // The provincial, city and county nodes of that province are down.
    int seen = -1;
    for (size_t i = 1; i < nodes_.size(); ++i) {
      if (nodes_[i].tier == Tier::kProvince) ++seen;
      if (nodes_[i].tier == Tier::kProvince && seen == o_.dark_province) {
        std::vector<int> stack = {static_cast<int>(i)};
        while (!stack.empty()) {
          int k = stack.back();
          stack.pop_back();
          if (nodes_[k].tier == Tier::kSchool) continue;
          nodes_[k].up = false;
          for (int c : nodes_[k].children) stack.push_back(c);
        }
      }
    }
  }
}

bool National::Reach(Node& n, size_t k, int64_t* t) {
  const int s = n.sources[k];
  if (!nodes_[s].up) {
    *t += 2'000;  // connect timeout
    n.policy->Failed(k, UnavailableError("down"), *t);
    return false;
  }
  if (s == 0 && !CountHubSync(*t)) {
    n.policy->Failed(k, UnavailableError("503"), *t);
    return false;
  }
  n.policy->Succeeded(k, 0, *t);
  return true;
}

void National::Report(int i, int64_t now_ms) {
  Node& n = nodes_[i];
  int dest = -1;
  for (int s : n.sources) {
    if (nodes_[s].up) {
      dest = s;  // past a parent that is down, as the real reporter goes
      break;
    }
  }
  if (dest < 0) return;
  int64_t states = 1;  // its own
  if (dest != n.last_dest) {
    states += n.subtree;  // a destination it never reported to gets the whole subtree
  } else {
    states += n.pending;
    const int64_t refresh = std::max<int64_t>(node::kMinRefreshSeconds, 10 * o_.poll_seconds);
    n.refresh_due += static_cast<double>(n.subtree) * static_cast<double>(o_.poll_seconds) /
                     static_cast<double>(refresh);
    const auto r = static_cast<int64_t>(n.refresh_due);
    n.refresh_due -= static_cast<double>(r);
    states += r;
  }
  // The receiver forwards what changed; refreshes it does on its own clock.
  nodes_[dest].pending += (n.changed ? 1 : 0) + n.pending;
  n.pending = 0;
  n.changed = false;
  n.last_dest = dest;
  if (dest == 0) {
    ++hub_reports_per_minute_[now_ms / 60'000];
    hub_states_per_minute_[now_ms / 60'000] += states;
  }
}

bool National::CountHubSync(int64_t now_ms) {
  ++hub_per_minute_[now_ms / 60'000];
  int64_t& second = hub_per_second_[now_ms / 1000];
  if (second >= o_.hub_syncs_per_second) {
    ++report_.hub_refused;
    return false;
  }
  ++second;
  return true;
}

void National::Cycle(int i, int64_t now_ms) {
  Node& n = nodes_[i];
  if (!n.up || n.busy) return;  // a busy node polls again when its fetch ends
  int64_t t = now_ms;
  bool waiting = false;  // served partially, the window closed: nothing to fetch from the parent
  const std::vector<size_t> order = n.policy->Order(t);
  for (size_t o = 0; o < order.size(); ++o) {
    const size_t k = order[o];
    const int s = n.sources[k];
    const Node& src = nodes_[s];
    if (!Reach(n, k, &t)) continue;
    if (src.version < n.version) break;  // a source behind: the node keeps what it serves
    // The source's metadata names release src.version; the plan is that release over the
    // node's subscription, whole (the source's own deferral does not change what it names).
    const bool window_open = t >= window_ms_;
    replication::CycleMachine machine;
    machine.OnMetadata(Status::Ok(), /*catalog_local=*/true);
    machine.OnPlanned(Status::Ok(), Dir(src.version, false), Dir(n.version, n.deferred),
                      window_open);
    if (machine.Next() != replication::CycleStep::kFetch) {
      waiting = machine.outcome() == replication::CycleOutcome::kWaitingWindow && s != 0;
      break;  // up to date, or waiting for a window
    }
    // What the plan misses: the emergency package (national: all of it at every tier) unless
    // the node serves this release already, and, inside a window, the ordinary part (its share;
    // the package too when it is not priority content). Priority chunks go first.
    const uint64_t priority =
        o_.emergency_priority && n.version < src.version ? o_.emergency_bytes : 0;
    const uint64_t wanted_ordinary =
        static_cast<uint64_t>(static_cast<double>(o_.release_bytes) * n.share) +
        (o_.emergency_priority ? 0 : o_.emergency_bytes);
    const uint64_t ordinary = window_open ? wanted_ordinary : 0;
    // Outside the window the ordinary files are deferred (a window opening during the transfer
    // does not add them: the next cycle fetches them). Inside it the node switches only once it
    // holds everything, as the real one does: it then serves the package and the rest together.
    const bool partial = !window_open && wanted_ordinary > 0;
    // The ordinary chunks come from the first source that holds them: a partial one answers
    // "absent" (a lack, no demotion; node/repository_service.h) and the request walks on.
    size_t w = o;
    while (ordinary > 0 && w < order.size()) {
      const size_t kw = order[w];
      const Node& holder = nodes_[n.sources[kw]];
      if (w > o && !Reach(n, kw, &t)) {  // not asked yet in this cycle
        ++w;
        continue;
      }
      if (holder.version >= src.version && !holder.deferred) break;
      n.policy->Lacked(kw, 1);
      ++w;
    }
    if (w == order.size()) break;  // no source supplied the ordinary part: the cycle failed
    const int ordinary_source = n.sources[order[w]];
    // The bytes: from this source when it mirrors its subtree's subscriptions; otherwise the
    // part outside its own subscription (half, in this model) from the hub. The emergency
    // package is in every node's own subscription.
    uint64_t from_hub = s == 0 ? priority : 0;
    if (ordinary_source == 0) {
      from_hub += ordinary;
    } else if (!o_.mirror_children && ordinary / 2 > 0) {
      if (!CountHubSync(t)) {
        // The part only the hub has is refused: the release cannot switch; try again later.
        n.policy->Failed(n.sources.size() - 1, UnavailableError("503"), t);
        break;
      }
      from_hub += ordinary / 2;
    }
    const uint64_t bytes = priority + ordinary;
    report_.hub_bytes += from_hub;
    if (o_.window_opens_seconds > 0 && window_open) report_.hub_bytes_in_window += from_hub;
    report_.all_bytes += bytes;
    n.busy = true;
    int64_t transfer_ms = static_cast<int64_t>(bytes * 1000 / std::max<uint64_t>(n.link, 1));
    Schedule(t + transfer_ms + 500, i, src.version, partial);
    return;
  }
  Report(i, t);
  SchedulePoll(i, t, waiting);
}

void National::Switch(int i, int version, bool partial, int64_t now_ms) {
  Node& n = nodes_[i];
  n.busy = false;
  if (version > n.version || (version == n.version && n.deferred && !partial)) {
    n.version = version;
    n.deferred = partial;
    n.switched_at = now_ms;
    n.changed = true;
    if (n.tier == Tier::kSchool) {
      if (!n.emergency && (o_.emergency_priority || !partial)) {
        n.emergency = true;
        emergency_times_.push_back(now_ms);
      }
      if (!partial) {
        school_times_.push_back(now_ms);
        ++schools_current_;
      }
    }
    if (o_.push) {
      for (int c : n.children) {
        Schedule(now_ms + 200 + static_cast<int64_t>(random_.Uniform(5'000)), c, -1);
      }
    }
  }
  Report(i, now_ms);
  SchedulePoll(i, now_ms);
}

// The last, median and 99th-percentile of `times_ms` (not empty), in seconds.
void Percentiles(std::vector<int64_t>* times_ms, int64_t* last, int64_t* p50, int64_t* p99) {
  std::sort(times_ms->begin(), times_ms->end());
  *last = times_ms->back() / 1000;
  *p50 = (*times_ms)[times_ms->size() / 2] / 1000;
  *p99 = (*times_ms)[times_ms->size() * 99 / 100] / 1000;
}

NationalReport National::Run() {
  Build();
  // Every node serves release 1; the hub publishes release 2 at t = 0 and pushes.
  nodes_[0].version = 2;
  for (size_t i = 1; i < nodes_.size(); ++i) {
    int64_t first =
        static_cast<int64_t>(random_.Uniform(static_cast<uint64_t>(o_.poll_seconds) * 1000));
    nodes_[i].next_poll = first;
    Schedule(first, static_cast<int>(i), 0);
  }
  if (o_.push) {
    for (int c : nodes_[0].children) {
      Schedule(200 + static_cast<int64_t>(random_.Uniform(5'000)), c, -1);
    }
  }
  const int64_t horizon_ms = o_.horizon_seconds * 1000;
  // On until every school is current, and the report intake has been watched for its window.
  const int64_t intake_ms = o_.intake_window_seconds * 1000;
  while (!events_.empty()) {
    NationalEvent e = events_.top();
    events_.pop();
    if (e.at_ms > horizon_ms) break;
    if (schools_current_ == report_.schools && e.at_ms >= intake_ms) break;
    if (e.switch_to > 0) {
      Switch(e.node, e.switch_to, e.partial, e.at_ms);
    } else if (e.switch_to < 0 || e.at_ms == nodes_[e.node].next_poll) {
      Cycle(e.node, e.at_ms);  // a push, or the node's current poll (older polls lapse)
    }
  }
  if (schools_current_ == report_.schools && !school_times_.empty()) {
    Percentiles(&school_times_, &report_.converge_seconds, &report_.p50_school_seconds,
                &report_.p99_school_seconds);
  }
  report_.emergency_bytes = o_.emergency_bytes;
  report_.emergency_priority = o_.emergency_priority;
  report_.window_opens_seconds = o_.window_opens_seconds;
  if (static_cast<int64_t>(emergency_times_.size()) == report_.schools && o_.emergency_bytes > 0) {
    Percentiles(&emergency_times_, &report_.emergency_converge_seconds,
                &report_.p50_emergency_seconds, &report_.p99_emergency_seconds);
  }
  for (int64_t at : emergency_times_) report_.emergency_schools_at_window += at < window_ms_;
  for (int64_t at : school_times_) report_.complete_schools_at_window += at < window_ms_;
  for (const auto& [minute, n] : hub_per_minute_) {
    report_.hub_peak_syncs_per_minute = std::max(report_.hub_peak_syncs_per_minute, n);
  }
  int64_t states = 0;
  const int64_t minutes = std::max<int64_t>(1, o_.intake_window_seconds / 60);
  for (const auto& [minute, n] : hub_states_per_minute_) {
    report_.hub_peak_states_per_minute = std::max(report_.hub_peak_states_per_minute, n);
    if (minute < minutes) states += n;
  }
  for (const auto& [minute, n] : hub_reports_per_minute_) {
    report_.hub_peak_reports_per_minute = std::max(report_.hub_peak_reports_per_minute, n);
  }
  report_.hub_mean_states_per_minute = minutes > 0 ? states / minutes : 0;
  const auto nodes = static_cast<int64_t>(nodes_.size()) - 1;
  report_.raw_reports_per_minute = nodes * 60 / std::max<int64_t>(o_.poll_seconds, 1);
  return report_;
}

}  // namespace

std::string NationalReport::Summary() const {
  std::ostringstream s;
  s << provinces << " provinces, " << cities << " prefectures, " << counties << " counties, "
    << schools << " schools";
  if (dark_schools > 0)
    s << " (" << dark_schools << " in the dark province " << dark_province << ")";
  s << ": every school current after " << converge_seconds << " s (median school "
    << p50_school_seconds << " s, 99th percentile " << p99_school_seconds << " s); hub sent "
    << hub_bytes / (1 << 20) << " MiB of " << all_bytes / (1 << 20) << " MiB moved ("
    << (all_bytes ? 100.0 * static_cast<double>(hub_bytes) / static_cast<double>(all_bytes) : 0)
    << "%); hub peak " << hub_peak_syncs_per_minute << " syncs/min, " << hub_refused
    << " refused over capacity; report intake at the hub: peak " << hub_peak_reports_per_minute
    << " reports and " << hub_peak_states_per_minute << " node states/min (~"
    << hub_peak_states_per_minute * kReportStateBytes / 1024 << " KiB), mean "
    << hub_mean_states_per_minute << " states/min over the first hour, against "
    << raw_reports_per_minute << " reports/min if every node's report reached it";
  if (emergency_bytes > 0) {
    s << "; emergency package of " << emergency_bytes / 1'000'000 << " MB"
      << (emergency_priority ? " (priority)" : " (not priority: ordinary content)")
      << " at every school after " << emergency_converge_seconds << " s (median school "
      << p50_emergency_seconds << " s, 99th percentile " << p99_emergency_seconds << " s)";
  }
  if (window_opens_seconds > 0) {
    s << "; window opens after " << window_opens_seconds << " s: by then "
      << emergency_schools_at_window << " schools serve the emergency package, "
      << complete_schools_at_window << " the whole release; hub sent "
      << hub_bytes_in_window / (1 << 20) << " MiB once it opened";
  }
  return s.str();
}

NationalReport RunNational(const NationalOptions& options) { return National(options).Run(); }

}  // namespace tiersync::sim
