#include "tests/sim/sim_world.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <queue>
#include <sstream>

#include "base/mem_env.h"
#include "base/random.h"
#include "base/sha256.h"
#include "catalogs/subscription_rollup.h"
#include "node/upward_report.h"
#include "replication/tuf_updater.h"
#include "tests/sim/sim_liar.h"
#include "tests/sim/sim_network.h"
#include "tests/sim/sim_node.h"

namespace tiersync::sim {
namespace {

constexpr int64_t kStart = 1'800'000'000;  // 2027-01-15, seconds
constexpr int64_t kMicros = 1'000'000;
constexpr int kGroups = 3;  // resource groups (tags) schools subscribe to, two each

std::string GroupTag(int group) { return "g" + std::to_string(group); }

enum class EventKind {
  kCycle,
  kBoot,
  kPublish,
  kTimestamp,
  kCrash,
  kHealPartition,
  kClockBack,
  kFaults
};

struct Event {
  int64_t at;  // seconds
  uint64_t seq;
  EventKind kind;
  int node;  // index into nodes (or -1)
  bool operator>(const Event& o) const { return std::tie(at, seq) > std::tie(o.at, o.seq); }
};

// What the checker remembers of a node across its life.
struct Memory {
  std::map<std::string, uint64_t> trusted;  // highest trusted version seen, by role
  uint64_t served = 0;                      // highest served version seen
  uint64_t acknowledged = 0;                // served version a switch reported durable
  int status_ahead = 0;                     // SimNode::status_ahead_of_serving() seen
  bool in_cycle = false;
  int64_t clock_offset = 0;  // seconds
  int64_t cycle_due = -1;    // the one pending cycle event (older ones lapse)
};

class World {
 public:
  explicit World(const WorldOptions& o) : o_(o), random_(o.seed), net_(o.seed ^ 0x9e3779b9) {}

  WorldReport Run();

 private:
  void Log(const std::string& line) {
    report_.log.push_back("t+" + std::to_string(now_ - kStart) + "s " + line);
  }
  void Violation(const std::string& invariant, int node, const std::string& what) {
    std::string who = node < 0 ? "hub" : nodes_[node]->host();
    report_.violations.push_back(invariant + " " + who + ": " + what);
    Log("VIOLATION " + report_.violations.back());
  }
  void Schedule(int64_t at, EventKind kind, int node) {
    if (kind == EventKind::kCycle) memory_[node].cycle_due = at;
    events_.push(Event{at, next_seq_++, kind, node});
  }
  bool InFaultPhase() const { return now_ < heal_at_; }
  int64_t FaultEvery() const {
    return std::max<int64_t>(1, o_.poll_seconds / static_cast<int64_t>(nodes_.size()));
  }

  void Build();
  const SimCatalog& NextRelease();
  void CheckRollUp();
  void RunCycle(int i, bool nested);
  void Restart(int i, const std::string& why, bool power_loss);
  void CheckState(int i, const std::string& when);
  void CheckConsumers();
  void MaybeFaults();

  const WorldOptions o_;
  Random random_;
  SimNetwork net_;
  std::unique_ptr<SimHub> hub_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::vector<int> parent_;  // index of the parent node, -1: the hub
  std::vector<Memory> memory_;
  std::map<std::string, int> index_of_;
  std::vector<std::pair<int, std::string>> school_rules_;  // (node, its subscription)
  std::unique_ptr<PrivateKey> liar_key_;
  std::unique_ptr<LiarHandler> liar_;
  int liar_node_ = -1;
  Lie lie_ = Lie::kNone;  // what the liar will tell once it turns
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t next_seq_ = 0;
  int64_t now_ = kStart;
  int64_t heal_at_ = 0, end_at_ = 0;
  SimCatalog catalog_;  // the catalog as last published
  int release_ = 0;
  int mid_read_trigger_ = 0;  // request number at which the running cycle's parent switches
  int mid_read_child_ = -1;
  WorldReport report_;
};

const SimCatalog& World::NextRelease() {
  ++release_;
  auto bytes = [&](size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(random_.Next());
    return s;
  };
  auto add = [&](const std::string& id) {
    std::string b = bytes(1024 + random_.Uniform(o_.max_file_bytes));
    catalog_.Put(id, GroupTag(static_cast<int>(random_.Uniform(kGroups))), b);
  };
  if (catalog_.resources.empty()) {
    for (int f = 0; f < o_.files; ++f) add("res-" + std::to_string(f));
    return catalog_;
  }
  // Edit two files (insert in the middle), retire one, add one: the incremental case.
  std::vector<size_t> live;
  for (size_t i = 0; i < catalog_.resources.size(); ++i) {
    if (!catalog_.resources[i].retired) live.push_back(i);
  }
  for (int k = 0; k < 2; ++k) {
    catalogs::Resource& r = catalog_.resources[live[random_.Uniform(live.size())]];
    std::string b = catalog_.media[r.id + "/lesson.bin"];
    b.insert(random_.Uniform(b.size()), bytes(512 + random_.Uniform(2048)));
    catalog_.Put(r.id, r.facets.tags[0], b);
  }
  catalog_.resources[live[random_.Uniform(live.size())]].retired = true;
  add("new-" + std::to_string(release_));
  return catalog_;
}

void World::Build() {
  std::filesystem::create_directories(o_.scratch_dir);
  hub_ = std::make_unique<SimHub>(&net_, "hub", o_.scratch_dir + "/hub", o_.seed, kStart);
  // Schools subscribe to two of three resource groups each; the tiers above subscribe to
  // nothing of their own and mirror what their subtree reports (the roll-up).
  struct Spec {
    std::string host, tier;
    int parent;
  };
  std::vector<Spec> specs;
  for (int p = 1; p <= o_.provinces; ++p) {
    specs.push_back({"p" + std::to_string(p), "province", -1});
    int pi = static_cast<int>(specs.size()) - 1;
    for (int c = 1; c <= o_.cities; ++c) {
      specs.push_back({specs[pi].host + "c" + std::to_string(c), "city", pi});
      int ci = static_cast<int>(specs.size()) - 1;
      for (int x = 1; x <= o_.counties; ++x) {
        specs.push_back({specs[ci].host + "x" + std::to_string(x), "county", ci});
        int xi = static_cast<int>(specs.size()) - 1;
        for (int s = 1; s <= o_.schools; ++s) {
          specs.push_back({specs[xi].host + "s" + std::to_string(s), "school", xi});
        }
      }
    }
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    SimNodeSpec spec;
    spec.host = specs[i].host;
    spec.tier = *node::ParseTier(specs[i].tier);
    for (int a = specs[i].parent; a >= 0; a = specs[a].parent)
      spec.sources.push_back(specs[a].host);
    spec.sources.push_back("hub");
    spec.poll_seconds = static_cast<int>(o_.poll_seconds);
    if (specs[i].tier == "school") {
      // Two of the three groups, a different pair for each school.
      const int skip = Sha256(AsBytes(specs[i].host))[0] % kGroups;
      std::string groups;
      for (int g = 0; g < kGroups; ++g) {
        if (g == skip) continue;
        groups += (groups.empty() ? "" : ", ") + GroupTag(g);
      }
      spec.subscription = "tag in (" + groups + ")\n";
      school_rules_.push_back({static_cast<int>(i), spec.subscription});
    }
    nodes_.push_back(std::make_unique<SimNode>(
        &net_, spec, hub_->root_json(), o_.scratch_dir + "/" + specs[i].host, o_.seed * 1000 + i));
    parent_.push_back(specs[i].parent);
    index_of_[specs[i].host] = static_cast<int>(i);
    if (o_.sync_disabled) nodes_.back()->faults()->SetSyncDisabled(true);
    if (o_.break_rollup) {
      // Negative control: the report upward carries the node's own subscription only (the
      // roll-up of its subtree dropped) — the defect of the field-conditions issue.
      node::NodeConfig c;
      c.name = spec.host;
      c.tier = spec.tier;
      c.subscription = spec.subscription;
      nodes_.back()->SetReportMaker([c](const node::SyncRunner& r) {
        return node::OwnReport(c, r.current(), catalogs::RollUp(c.subscription, {}));
      });
    }
  }
  memory_.resize(nodes_.size());
  report_.nodes = static_cast<int>(nodes_.size()) + 1;
  if (o_.liar) {
    std::vector<int> inner;
    for (size_t i = 0; i < specs.size(); ++i) {
      if (specs[i].tier != "school") inner.push_back(static_cast<int>(i));
    }
    liar_node_ = inner[random_.Uniform(inner.size())];
    liar_key_ = std::make_unique<PrivateKey>(SimKey(o_.seed ^ 0x11a2));
    liar_ = std::make_unique<LiarHandler>(nodes_[liar_node_].get(), liar_key_.get());
    net_.Attach(nodes_[liar_node_]->host(), liar_.get());
    net_.SetUp(nodes_[liar_node_]->host(), false);
    lie_ = kAllLies[random_.Uniform(std::size(kAllLies))];
    if (o_.lie >= 0) lie_ = kAllLies[o_.lie % std::size(kAllLies)];
    report_.lie = LieName(lie_);
    report_.liar = nodes_[liar_node_]->host();
    Log("liar " + report_.liar + " will " + report_.lie + " from the second release on");
  }
  net_.SetBeforeRequest([this](const std::string& from, uint64_t n) {
    if (mid_read_trigger_ == 0 || static_cast<int>(n) != mid_read_trigger_) return;
    auto it = index_of_.find(from);
    if (it == index_of_.end() || it->second != mid_read_child_) return;
    mid_read_trigger_ = 0;
    int p = parent_[it->second];
    if (p < 0 || memory_[p].in_cycle || !nodes_[p]->up()) return;
    ++report_.mid_read_switches;
    Log(nodes_[p]->host() + " syncs while " + from + " reads from it");
    RunCycle(p, /*nested=*/true);
  });
}

void World::CheckState(int i, const std::string& when) {
  SimNode& n = *nodes_[i];
  Memory& m = memory_[i];
  for (const auto& [role, v] : n.TrustedVersions()) {
    if (v < m.trusted[role]) {
      Violation("I2", i,
                role + " version went back from " + std::to_string(m.trusted[role]) + " to " +
                    std::to_string(v) + " " + when);
    }
    m.trusted[role] = std::max(m.trusted[role], v);
  }
  auto served = n.ServedVersion();
  if (!served.ok()) {
    Violation("I4", i, "CURRENT unreadable " + when + ": " + served.status().ToString());
    return;
  }
  if (*served < m.acknowledged) {
    Violation("I3", i,
              "served version " + std::to_string(*served) + " is older than the " +
                  std::to_string(m.acknowledged) + " it switched to " + when);
  }
  if (*served < m.served) {
    Violation("I2", i,
              "served version went back from " + std::to_string(m.served) + " to " +
                  std::to_string(*served) + " " + when);
  }
  m.served = std::max(m.served, *served);
  if (n.status_ahead_of_serving() > m.status_ahead) {
    Violation("I10", i, "its status named a release before it served it " + when);
  }
  m.status_ahead = n.status_ahead_of_serving();
}

void World::Restart(int i, const std::string& why, bool power_loss) {
  ++report_.crashes;
  Random tear(random_.Next());
  nodes_[i]->Crash(power_loss, &tear);
  Log(nodes_[i]->host() + " dies (" + why + (power_loss ? ", power lost" : "") + ")");
  Schedule(now_ + 60 + static_cast<int64_t>(random_.Uniform(600)), EventKind::kBoot, i);
}

void World::RunCycle(int i, bool nested) {
  SimNode& n = *nodes_[i];
  Memory& m = memory_[i];
  if (!n.up() || m.in_cycle) return;
  m.in_cycle = true;
  uint64_t start_micros = static_cast<uint64_t>(now_ + m.clock_offset) * kMicros;
  if (!nested || n.clock()->NowMicros() < start_micros) n.clock()->SetNowMicros(start_micros);
  bool disk_fault = false;
  FaultEnv* f = n.faults();
  if (InFaultPhase() && !nested) {
    uint64_t ops = f->operation_count();
    if (o_.crashes && random_.OneIn(12)) f->CrashAtOperation(ops + 1 + random_.Uniform(400));
    if (o_.disk_faults && random_.OneIn(15)) {
      disk_fault = true;
      ++report_.disk_faults;
      if (random_.OneIn(2)) {
        f->FailSyncAt(ops + 1 + random_.Uniform(300));
      } else {
        f->NoSpaceAt(ops + 1 + random_.Uniform(300));
      }
    }
    if (o_.mid_read_switch && random_.OneIn(5)) {
      mid_read_child_ = i;
      mid_read_trigger_ = 1 + static_cast<int>(random_.Uniform(20));
    }
  }
  CycleOutcome out = n.SyncCycle(random_.Next());
  ++report_.cycles;
  report_.rejections += out.rejected.size();
  if (!out.status.ok()) ++report_.failed_cycles;
  if (!nested) mid_read_trigger_ = 0;
  m.in_cycle = false;
  const std::string what =
      n.host() + " cycle: " + (out.status.ok() ? std::string("ok") : out.status.ToString()) +
      ", serving v" + std::to_string(out.version) + (out.switched ? " (switched)" : "") +
      ", fetched " + std::to_string(out.fetched_bytes) + " B";
  Log(what);
  if (out.status.ok() && out.switched && out.fetched_bytes != out.planned_bytes) {
    Violation("I5", i,
              "fetched " + std::to_string(out.fetched_bytes) + " chunk bytes for " +
                  std::to_string(out.planned_bytes) + " planned");
  }
  if (f->crashed()) {
    Restart(i, "crash injected mid-sync", true);
  } else if (disk_fault && !out.status.ok()) {
    // A disk error ends the process (a failed fsync is never retried and trusted): restart.
    Restart(i, "disk error: " + out.status.ToString(), true);
  } else {
    if (out.status.ok() && out.switched) m.acknowledged = std::max(m.acknowledged, out.version);
    CheckState(i, "after a cycle");
  }
  f->FailSyncAt(0);  // disarm whatever did not fire
  f->NoSpaceAt(0);
  f->CrashAtOperation(0);
  if (!nested) {
    int64_t elapsed =
        static_cast<int64_t>(n.clock()->NowMicros() / kMicros) - now_ - m.clock_offset;
    // The node's own loop decides when it turns again (poll, "not yet", backoff, jitter).
    if (n.up()) {
      Schedule(now_ + std::max<int64_t>(elapsed, 0) + (out.next_delay_ms + 999) / 1000,
               EventKind::kCycle, i);
    }
  }
}

void World::MaybeFaults() {
  if (!InFaultPhase()) return;
  if (o_.network_faults && random_.OneIn(6)) {
    LinkFaults f;
    f.drop_ppm = static_cast<uint32_t>(random_.Uniform(40'000));
    f.delay_ppm = static_cast<uint32_t>(random_.Uniform(100'000));
    f.stall_ppm = static_cast<uint32_t>(random_.Uniform(10'000));
    f.truncate_ppm = static_cast<uint32_t>(random_.Uniform(20'000));
    f.bitflip_ppm = static_cast<uint32_t>(random_.Uniform(20'000));
    f.stale_ppm = static_cast<uint32_t>(random_.Uniform(10'000));
    net_.SetDefaultFaults(f);
  }
  if (o_.partitions && random_.OneIn(10)) {
    int i = static_cast<int>(random_.Uniform(nodes_.size()));
    std::string up = parent_[i] < 0 ? "hub" : nodes_[parent_[i]]->host();
    ++report_.partitions;
    bool national_too = random_.OneIn(3);
    net_.SetPartitioned(nodes_[i]->host(), up, true);
    if (national_too) net_.SetPartitioned(nodes_[i]->host(), "hub", true);
    Log("partition " + nodes_[i]->host() + " | " + up + (national_too ? " and | hub" : ""));
    Schedule(now_ + 600 + static_cast<int64_t>(random_.Uniform(4 * 3600)),
             EventKind::kHealPartition, i);
  }
  if (o_.clock_jumps && random_.OneIn(15)) {
    int i = static_cast<int>(random_.Uniform(nodes_.size()));
    int64_t jump =
        (random_.OneIn(2) ? 1 : -1) * static_cast<int64_t>(3600 + random_.Uniform(3 * 86400));
    memory_[i].clock_offset = jump;
    ++report_.clock_jumps;
    Log(nodes_[i]->host() + "'s clock jumps by " + std::to_string(jump) + " s");
    Schedule(now_ + 3600 + static_cast<int64_t>(random_.Uniform(6 * 3600)), EventKind::kClockBack,
             i);
  }
  if (o_.crashes && random_.OneIn(20)) {
    int i = static_cast<int>(random_.Uniform(nodes_.size()));
    if (nodes_[i]->up()) Schedule(now_ + 1, EventKind::kCrash, i);
  }
}

void World::CheckConsumers() {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (static_cast<int>(i) == liar_node_) continue;  // its answers are lies by design
    for (const std::string& p : ProbeAsConsumer(&net_, *hub_, *nodes_[i], now_)) {
      Violation(p.substr(0, 2), static_cast<int>(i), p.substr(3));
    }
  }
}

// I9: each tier mirrors what its subtree subscribes to. After convergence, the rules every
// node served its release with select each group some school below it subscribes to (and the
// probe has checked it holds every file they select).
void World::CheckRollUp() {
  for (const auto& [school, rules] : school_rules_) {
    for (int a = parent_[school]; a >= 0; a = parent_[a]) {
      if (a == liar_node_) continue;
      const std::string served = nodes_[a]->ServedRules();
      for (int g = 0; g < kGroups; ++g) {
        if (RulesSelect(rules, GroupTag(g)) && !RulesSelect(served, GroupTag(g))) {
          Violation("I9", a,
                    "serves rules that leave out group " + GroupTag(g) + ", which " +
                        nodes_[school]->host() + " below it subscribes to (rules served: \"" +
                        served + "\")");
        }
      }
    }
  }
}

WorldReport World::Run() {
  Build();
  heal_at_ = kStart + o_.fault_seconds;
  end_at_ = heal_at_ + o_.heal_seconds;
  Status s = hub_->Publish(NextRelease(), now_);
  if (!s.ok()) {
    Violation("setup", -1, s.ToString());
    return report_;
  }
  Log("hub publishes v" + std::to_string(hub_->latest_version()));
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Schedule(kStart + static_cast<int64_t>(random_.Uniform(120)), EventKind::kBoot,
             static_cast<int>(i));
  }
  Schedule(kStart + o_.release_every_seconds, EventKind::kPublish, -1);
  Schedule(kStart + 4 * 3600, EventKind::kTimestamp, -1);
  Schedule(kStart + FaultEvery(), EventKind::kFaults, -1);
  bool healed = false;
  while (!events_.empty()) {
    Event e = events_.top();
    events_.pop();
    if (e.at > end_at_) break;
    now_ = e.at;
    if (!healed && now_ >= heal_at_) {
      healed = true;
      net_.ClearFaults();
      for (auto& m : memory_) m.clock_offset = 0;
      // The last release: every node must reach it.
      s = hub_->Publish(NextRelease(), now_);
      if (!s.ok()) Violation("setup", -1, s.ToString());
      Log("heal: faults off; hub publishes v" + std::to_string(hub_->latest_version()));
    }
    switch (e.kind) {
      case EventKind::kBoot: {
        Status b = nodes_[e.node]->Boot();
        if (!b.ok()) {
          Violation("F1", e.node, "does not start after a crash: " + b.ToString());
          break;
        }
        Log(nodes_[e.node]->host() + " starts");
        CheckState(e.node, "after a restart");
        Schedule(now_ + 1, EventKind::kCycle, e.node);
        break;
      }
      case EventKind::kCycle:
        if (e.at != memory_[e.node].cycle_due) break;  // superseded by a restart
        RunCycle(e.node, false);
        break;
      case EventKind::kPublish:
        if (now_ < heal_at_) {
          s = hub_->Publish(NextRelease(), now_);
          if (!s.ok()) Violation("setup", -1, s.ToString());
          Log("hub publishes v" + std::to_string(hub_->latest_version()));
          if (liar_ && liar_->lie() == Lie::kNone) {
            liar_->SetLie(lie_);
            Log(report_.liar + " starts to lie: " + report_.lie);
          }
          Schedule(now_ + o_.release_every_seconds, EventKind::kPublish, -1);
        }
        break;
      case EventKind::kTimestamp:
        if (now_ < heal_at_) {
          s = hub_->RefreshTimestamp(now_);
          if (!s.ok()) Violation("setup", -1, s.ToString());
          Schedule(now_ + 4 * 3600, EventKind::kTimestamp, -1);
        }
        break;
      case EventKind::kCrash:
        if (nodes_[e.node]->up() && !memory_[e.node].in_cycle) {
          Restart(e.node, "killed between syncs", random_.OneIn(2));
        }
        break;
      case EventKind::kHealPartition: {
        std::string host = nodes_[e.node]->host();
        std::string up = parent_[e.node] < 0 ? "hub" : nodes_[parent_[e.node]]->host();
        net_.SetPartitioned(host, up, false);
        net_.SetPartitioned(host, "hub", false);
        Log("partition of " + host + " heals");
        break;
      }
      case EventKind::kFaults:
        // Faults come at a steady rate (about one draw per node per poll interval), however
        // often the nodes' loops turn: backoff after failures must not breed more faults.
        MaybeFaults();
        if (InFaultPhase()) Schedule(now_ + FaultEvery(), EventKind::kFaults, -1);
        break;
      case EventKind::kClockBack:
        memory_[e.node].clock_offset = 0;
        break;
    }
    if (healed && report_.converge_seconds < 0) {
      bool all = true;
      for (auto& n : nodes_) {
        auto v = n->ServedVersion();
        if (!n->up() || !v.ok() || *v != hub_->latest_version()) all = false;
      }
      if (all) {
        report_.converge_seconds = now_ - heal_at_;
        Log("every node serves v" + std::to_string(hub_->latest_version()));
        break;
      }
    }
  }
  report_.final_version = hub_->latest_version();
  if (report_.converge_seconds < 0) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      auto v = nodes_[i]->ServedVersion();
      Violation("I5", static_cast<int>(i),
                "serves v" + std::to_string(v.ok() ? *v : 0) + ", not v" +
                    std::to_string(hub_->latest_version()) + ", " +
                    std::to_string(o_.heal_seconds) + " s after the faults stopped");
      if (report_.violations.size() > 40) break;
    }
  }
  net_.ClearFaults();
  CheckConsumers();
  if (report_.converge_seconds >= 0) CheckRollUp();
  if (liar_) {
    report_.lies_told = liar_->lies_told();
    if (report_.lies_told > 0) {
      // I8: the liar's children must have noticed (a failure, a rejection or a lack).
      uint64_t noticed = 0;
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (parent_[i] != liar_node_) continue;
        for (const auto& h : nodes_[i]->sources().Snapshot()) {
          if (h.source.url == "sim://" + report_.liar)
            noticed += h.failures + h.rejections + h.lacked;
        }
      }
      if (noticed == 0) {
        Violation("I8", liar_node_,
                  std::to_string(report_.lies_told) + " lies told and no child counted a failure");
      }
    }
  }
  const NetworkCounters& c = net_.counters();
  report_.network_faults = c.dropped + c.stalled + c.truncated + c.flipped + c.stale;
  report_.all_bytes = c.body_bytes;
  auto hub_out = c.bytes_out_of.find("hub");
  report_.hub_bytes_out = hub_out == c.bytes_out_of.end() ? 0 : hub_out->second;
  nodes_.clear();
  hub_.reset();
  std::error_code ec;
  std::filesystem::remove_all(o_.scratch_dir, ec);
  return report_;
}

}  // namespace

bool RulesSelect(const std::string& rules, const std::string& tag) {
  // The checker's own reading of the simulation's rules ("tag in (g0, g2)" lines, or "all"),
  // independent of catalogs/subscription.h and the roll-up.
  size_t from = 0;
  while (from < rules.size()) {
    size_t end = rules.find('\n', from);
    if (end == std::string::npos) end = rules.size();
    std::string line = rules.substr(from, end - from);
    from = end + 1;
    if (line == "all") return true;
    size_t open = line.find('('), close = line.find(')');
    if (!line.starts_with("tag in") || open == std::string::npos || close == std::string::npos) {
      continue;
    }
    std::string items = line.substr(open + 1, close - open - 1);
    size_t at = 0;
    while (at < items.size()) {
      size_t comma = items.find(',', at);
      if (comma == std::string::npos) comma = items.size();
      std::string item = items.substr(at, comma - at);
      item.erase(0, item.find_first_not_of(' '));
      item.erase(item.find_last_not_of(' ') + 1);
      if (item == tag) return true;
      at = comma + 1;
    }
  }
  return false;
}

std::vector<std::string> ProbeAsConsumer(SimNetwork* net, const SimHub& hub, SimNode& n,
                                         int64_t now_seconds) {
  std::vector<std::string> problems;
  MemEnv probe;
  probe.SetNowMicros(static_cast<uint64_t>(now_seconds) * kMicros);
  SimFetcher fetch(net, "probe", &probe);
  if (!replication::Updater::Init(&probe, "/m", hub.root_json()).ok()) return {"I4 no probe"};
  replication::Updater u(
      &probe, &fetch,
      {"/m", "sim://" + n.host() + "/v1/metadata", "sim://" + n.host() + "/v1/targets", "/t"});
  auto served = n.ServedVersion();
  if (!served.ok()) return {"I4 CURRENT unreadable: " + served.status().ToString()};
  if (*served == 0) return {};  // serves nothing yet: nothing to check
  Status s = u.Refresh();
  if (!s.ok()) return {"I4 a verifying client cannot refresh: " + s.ToString()};
  uint64_t version = u.trusted()->timestamp()->version;
  auto all = u.ListAllTargets();
  if (!all.ok()) return {"I4 cannot list targets: " + all.status().ToString()};
  const auto* records = hub.Records(version);
  const std::string rules = n.ServedRules();
  for (const auto& t : *all) {
    // Wanted: a file of a record whose group the served rules select.
    if (records == nullptr || !records->count(t.path)) continue;
    bool wanted = false;
    for (const auto& tag : records->at(t.path).facets.tags) {
      wanted = wanted || RulesSelect(rules, tag);
    }
    if (!wanted) continue;
    auto local = u.DownloadTarget(t);
    if (!local.ok()) {
      problems.push_back("I4 serves v" + std::to_string(version) + " without " + t.path + ": " +
                         local.status().ToString());
      continue;
    }
    auto bytes = ReadFileToBytes(&probe, *local, 64 << 20);
    const std::string* want = hub.Published(version, t.path);
    if (!bytes.ok() || want == nullptr || std::string(bytes->begin(), bytes->end()) != *want) {
      problems.push_back("I1 " + t.path + " differs from what the hub published");
    }
  }
  if (n.store() != nullptr) {
    auto check = n.store()->Verify(nullptr);
    if (!check.ok() || !check->clean()) {
      problems.push_back("I1 store verify: " + (check.ok() ? check->problems[0].error.ToString()
                                                           : check.status().ToString()));
    }
  }
  return problems;
}

std::string WorldReport::Summary() const {
  std::ostringstream s;
  s << nodes << " nodes, " << cycles << " sync cycles (" << failed_cycles << " failed), " << crashes
    << " crashes, " << disk_faults << " disk faults, " << partitions << " partitions, "
    << clock_jumps << " clock jumps, " << mid_read_switches << " parent switches mid-read, "
    << network_faults << " network faults";
  if (!lie.empty()) s << ", liar " << liar << " (" << lie << ", " << lies_told << " lies)";
  s << ", " << rejections << " rejections; converged in "
    << (converge_seconds < 0 ? std::string("never") : std::to_string(converge_seconds) + " s")
    << " to v" << final_version << "; hub sent " << hub_bytes_out << " of " << all_bytes
    << " bytes";
  return s.str();
}

WorldReport RunWorld(const WorldOptions& options) { return World(options).Run(); }

}  // namespace tiersync::sim
