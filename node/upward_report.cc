#include "node/upward_report.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "base/version.h"
#include "base/zstd_codec.h"
#include "node/fleet_report.h"
#include "node/report_intake.h"

namespace tiersync::node {

ChildReport OwnReport(const NodeConfig& config, const std::optional<ServedRelease>& current,
                      const catalogs::RolledUp& rules) {
  ChildReport r;
  r.name = config.name;
  r.tier = std::string(TierName(config.tier));
  r.region = config.region;
  r.subscription = config.subscription;
  r.rolled_up = rules.text;
  if (current) {
    r.release = current->release;
    r.version = current->version;
  }
  return r;
}

namespace {

// At most `max` bytes of `s`, cut at a UTF-8 character boundary, "…" marking the cut.
std::string Clip(std::string s, size_t max = 1024) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
  return s + "…";
}

}  // namespace

fleet::NodeState NodeStateFromStatus(const nlohmann::json& status, const std::string& dir) {
  using nlohmann::json;
  auto str = [](const json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                  : std::string();
  };
  auto num = [](const json& j, const char* key) -> uint64_t {
    return j.is_object() && j.contains(key) && j[key].is_number_unsigned() ? j[key].get<uint64_t>()
                                                                           : 0;
  };
  fleet::NodeState n;
  n.name = str(status, "name");
  n.tier = str(status, "tier");
  n.region = str(status, "region");
  if (const json& c = status.value("current", json()); c.is_object()) {
    n.release = str(c, "release");
    n.version = num(c, "version");
    n.switched_at = static_cast<int64_t>(num(c, "switched_at"));
    n.deferred = num(c, "deferred");
  }
  // The latest cycle decides; its error is the last failed sync's.
  const json& check = status.value("last_check", json());
  const json& sync = status.value("last_sync", json());
  n.sync_ok =
      check.is_object() && check.contains("ok") ? check.value("ok", true) : sync.value("ok", true);
  if (!n.sync_ok) n.last_error = Clip(str(sync, "error"));
  // What the latest cycle rejected (none: the node is not "rejecting" any more).
  if (const json& list = check.value("rejected", json()); list.is_array()) {
    if (!list.empty() && list.back().is_string()) n.last_rejection = Clip(list.back());
  }
  if (const json& list = status.value("sources", json()); list.is_array()) {
    for (const json& s : list) {
      if (n.sources.size() >= 16) break;
      fleet::SourceState src;
      src.name = str(s, "name");
      src.url = Clip(str(s, "url"));
      src.ok = s.value("healthy", true);
      src.failures = num(s, "failures");
      src.last_error = Clip(str(s, "last_error"));
      n.rejections += num(s, "rejections");
      n.sources.push_back(std::move(src));
    }
  }
  if (const json& st = status.value("storage", json()); st.is_object()) {
    n.store_bytes = num(st, "stored_bytes");
    n.quota_bytes = num(st, "quota_bytes");
  }
  std::error_code ec;
  const std::filesystem::space_info space = std::filesystem::space(dir, ec);
  n.fs_size_bytes = ec ? 0 : space.capacity;
  n.fs_avail_bytes = ec ? 0 : space.available;
  n.software = std::string(kTiersyncVersion);
  return n;
}

Status SendReport(Fetcher* fetcher, const NodeConfig& config, const ChildReport& report) {
  const std::vector<std::string> sources = config.AllSources();
  if (sources.empty()) return Status::Ok();  // the top of the tree reports to nobody
  const std::string body = EncodeChildReport(report);
  return fetcher->Post(sources.front() + "/v1/reports", "application/json", AsBytes(body), 4096)
      .status();
}

UpwardReporter::UpwardReporter(Env* env, const NodeConfig& config, fleet::FleetStore* store,
                               Fetcher* fetcher, StateFn state, UsageFn usage)
    : env_(env),
      config_(config),
      store_(store),
      fetcher_(fetcher),
      state_(std::move(state)),
      usage_(std::move(usage)) {}

Status UpwardReporter::Send(const ChildReport& rollup) {
  const int64_t now = static_cast<int64_t>(env_->NowMicros() / 1'000'000);
  fleet::NodeState self = state_();
  self.reported_at = now;
  self.seen_at = now;
  self.stale_after = 3 * static_cast<int64_t>(config_.poll_seconds) + kReportSlackSeconds;
  // The report goes up even if the node's own view cannot take its state: the tiers above plan
  // for the roll-up it carries.
  Status stored = store_->PutStates({self}, now);
  if (stored.ok()) stored = store_->PutUsage(self.name, self.region, usage_(), now);
  const std::vector<std::string> destinations = config_.AllSources();
  Status last;
  for (const std::string& url : destinations) {
    last = SendTo(url, rollup, self, now, /*with_usage=*/url == destinations.front());
    if (last.ok()) break;
  }
  if (!last.ok()) return last;
  return stored.ok() ? stored : stored.WithContext("this node's own state is not in its view");
}

std::vector<fleet::NodeState> UpwardReporter::Changed(const std::string& url,
                                                      const std::string& self, int64_t now,
                                                      std::map<std::string, Sent>* sent) {
  const int64_t refresh = std::max<int64_t>(kMinRefreshSeconds, 10 * config_.poll_seconds);
  const std::map<std::string, Sent>& before = forwarded_[url];
  std::vector<fleet::NodeState> out;
  fleet::FleetStore::NodeQuery q;
  q.limit = 10'000;
  for (;;) {
    auto page = store_->Nodes(q);
    if (!page.ok()) break;  // what could not be read goes next time
    for (auto& n : *page) {
      if (n.state.name == self) continue;
      fleet::NodeState fwd = std::move(n.state);
      const bool down = fleet::JudgeHealth(fwd, now, 0).health == fleet::Health::kDown;
      // Alive: vouched for until two refreshes from now (the tier above re-judges it only if
      // this node stops forwarding). Down: as it is, its time is up everywhere.
      if (!down) fwd.stale_after = now - fwd.seen_at + 2 * refresh;
      fleet::NodeState key = fwd;
      key.reported_at = key.seen_at = key.stale_after = 0;
      const uint64_t print = std::hash<std::string>()(fleet::EncodeNodeState(key)) ^ down;
      auto it = before.find(fwd.name);
      if (it != before.end() && it->second.print == print && now - it->second.at < refresh) {
        (*sent)[fwd.name] = it->second;
        continue;
      }
      (*sent)[fwd.name] = {print, now};
      out.push_back(std::move(fwd));
    }
    if (page->size() < q.limit) break;
    q.after = page->back().state.name;
  }
  return out;
}

Status UpwardReporter::SendTo(const std::string& url, const ChildReport& rollup,
                              const fleet::NodeState& self, int64_t now, bool with_usage) {
  FleetReport r;
  r.rollup = rollup;
  r.sent_at = now;
  r.report_every = config_.poll_seconds;
  r.state = self;
  r.state.seen_at = r.state.stale_after = 0;
  r.subtree_full = !forwarded_.count(url);
  std::vector<serving::UsageDay> usage;
  if (with_usage) {
    TS_ASSIGN_OR_RETURN(usage, store_->UsageChangedSince(usage_since_));
    if (usage_since_ == 0) {  // after a start: the last weeks, not the whole retention
      const std::string oldest = serving::UtcDate(now - kUsageResendDays * 86'400);
      std::erase_if(usage, [&](const serving::UsageDay& d) { return d.date < oldest; });
    }
  }
  // Pages: at most kMaxReportSubtree states, kMaxReportUsageDays days and kMaxReportUsageRows
  // counts each (a day is never split: it replaces).
  std::vector<std::vector<serving::UsageDay>> usage_pages;
  size_t rows = 0;
  for (serving::UsageDay& day : usage) {
    if (usage_pages.empty() || usage_pages.back().size() == kMaxReportUsageDays ||
        rows + day.resources.size() > kMaxReportUsageRows) {
      usage_pages.emplace_back();
      rows = 0;
    }
    rows += day.resources.size();
    usage_pages.back().push_back(std::move(day));
  }
  std::map<std::string, Sent> sent;
  const std::vector<fleet::NodeState> changed = Changed(url, self.name, now, &sent);
  const size_t pages = std::max<size_t>(
      {1, (changed.size() + kMaxReportSubtree - 1) / kMaxReportSubtree, usage_pages.size()});
  bool full_asked = false;
  for (size_t page = 0; page < pages; ++page) {
    const size_t at = std::min(changed.size(), page * kMaxReportSubtree);
    const size_t end = std::min(changed.size(), at + kMaxReportSubtree);
    r.subtree.assign(changed.begin() + at, changed.begin() + end);
    r.usage =
        page < usage_pages.size() ? std::move(usage_pages[page]) : std::vector<serving::UsageDay>();
    r.seq = last_seq_ = std::max(last_seq_ + 1, env_->NowMicros());
    const std::string body = EncodeFleetReport(r);
    std::vector<uint8_t> frame;
    ZstdCodec codec(3);
    const bool zstd = body.size() > (64 << 10) && codec.CompressIfSmaller(AsBytes(body), &frame);
    TS_ASSIGN_OR_RETURN(
        std::vector<uint8_t> reply,
        zstd ? fetcher_->Post(url + "/v1/reports", "application/zstd", frame, 4096)
             : fetcher_->Post(url + "/v1/reports", "application/json", AsBytes(body), 4096));
    auto j = nlohmann::json::parse(reply.begin(), reply.end(), nullptr, false);
    full_asked = full_asked || (j.is_object() && j.value("full", false));
  }
  // All of it reached `url`: what changes from now on goes next time.
  if (full_asked) {
    forwarded_.erase(url);
  } else {
    forwarded_[url] = std::move(sent);
  }
  if (with_usage) usage_since_ = full_asked ? 0 : now;
  return Status::Ok();
}

}  // namespace tiersync::node
