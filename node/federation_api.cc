#include "node/federation_api.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "catalogs/region_table.h"
#include "fleet/fleet_query.h"
#include "node/user_api.h"
#include "node/user_replies.h"
#include "serving/request_path.h"

namespace tiersync::node {
namespace {

using nlohmann::json;

// The largest subtree a view reads whole (the country: every node of the federation).
constexpr size_t kMaxViewNodes = 1'000'000;
constexpr size_t kMaxListedNodes = 5'000;

HttpReply JsonReply(const json& j) {
  HttpReply r = HttpReply::Json(JsonText(j));
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

HttpReply Problem(int status, const std::string& why) {
  return HttpReply::Text(status, why + "\n");
}

// "33" -> "330000", "3301" -> "330100", "" -> "".
std::string CodeOfPrefix(const std::string& prefix) {
  if (prefix.empty()) return "";
  return prefix + std::string(6 - std::min<size_t>(prefix.size(), 6), '0');
}

std::string RegionName(const std::string& prefix) {
  if (prefix.empty()) return "全国";
  if (prefix == "000000") return "国家平台";  // the hub's own users
  const catalogs::Region* r = catalogs::RegionTable::Builtin().Find(CodeOfPrefix(prefix));
  return r != nullptr ? r->name : prefix;
}

bool IsPrefix(const std::string& s) {
  if (s.size() > 6 || s.size() % 2 != 0) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

const char* LevelOf(const std::string& prefix) {
  switch (prefix.size()) {
    case 0:
      return "province";
    case 2:
      return "city";
    case 4:
      return "county";
    default:
      return "node";
  }
}

std::string Param(const std::map<std::string, std::string>& q, const char* key) {
  auto it = q.find(key);
  return it == q.end() ? std::string() : it->second;
}

// A group of a summary: `region` is the prefix to drill into ("3301"), or, for a group that
// is one node (under a county), that node's 6-digit code.
json GroupJson(const fleet::RegionGroup& g) {
  return {{"region", g.name.empty() ? fleet::RegionPrefix(g.region) : g.region},
          {"name", g.name.empty() ? RegionName(fleet::RegionPrefix(g.region)) : g.name},
          {"node", g.name},
          {"nodes", g.nodes},
          {"latest", g.latest},
          {"share", g.nodes == 0 ? 0.0 : static_cast<double>(g.latest) / g.nodes},
          {"ok", g.ok},
          {"lagging", g.lagging},
          {"failing", g.failing},
          {"rejecting", g.rejecting},
          {"down", g.down},
          {"store_bytes", g.store_bytes},
          {"quota_bytes", g.quota_bytes},
          {"fs_size_bytes", g.fs_size_bytes},
          {"fs_avail_bytes", g.fs_avail_bytes}};
}

}  // namespace

FederationApi::FederationApi(Env* env, const fleet::FleetStore* store, Self self, LatestFn latest,
                             ResourceFn resources)
    : env_(env),
      store_(store),
      self_(std::move(self)),
      own_prefix_(self_.region.empty() ? std::string() : fleet::RegionPrefix(self_.region)),
      latest_(std::move(latest)),
      resources_(std::move(resources)) {}

int64_t FederationApi::Now() const { return static_cast<int64_t>(env_->NowMicros() / 1'000'000); }

std::optional<HttpReply> FederationApi::Handle(const HttpRequest& request) {
  std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/federation" || path.starts_with("/federation/")) {
    if (path == "/federation") {
      HttpReply r = HttpReply::Text(301, "");
      r.headers.emplace_back("Location", "/federation/");
      return r;
    }
    if (std::optional<HttpReply> r = WebAssetReply(request)) return r;
    return Problem(404, "no such page");
  }
  if (!path.starts_with("/v1/federation/")) return std::nullopt;
  if (request.method != "GET" && request.method != "HEAD") {
    HttpReply r = Problem(405, "only GET and HEAD here");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  std::map<std::string, std::string> q = serving::QueryParameters(target);
  if (!q.count("region")) q["region"] = own_prefix_;
  const std::string& region = q["region"];
  if (!IsPrefix(region)) return Problem(400, "region is a GB/T 2260 code prefix: 2, 4 or 6 digits");
  if (!region.starts_with(own_prefix_)) {
    return Problem(
        403, "region " + region + " is outside " + self_.name + "'s subtree (" + own_prefix_ + ")");
  }
  const std::string_view what = path.substr(std::string_view("/v1/federation/").size());
  if (what == "summary") return Summary(q);
  if (what == "nodes") return Nodes(q);
  if (what == "propagation") return Propagation(q);
  if (what == "usage") return Usage(q);
  if (what == "history") return History(q);
  return Problem(404, "no such view: summary, nodes, propagation, usage, history");
}

Result<std::vector<fleet::FleetStore::StoredNode>> FederationApi::All(
    const std::string& prefix) const {
  std::vector<fleet::FleetStore::StoredNode> all;
  fleet::FleetStore::NodeQuery q;
  q.region_prefix = prefix;
  q.limit = 10'000;
  while (all.size() < kMaxViewNodes) {
    TS_ASSIGN_OR_RETURN(auto page, store_->Nodes(q));
    const bool last = page.size() < q.limit;
    if (!page.empty()) q.after = page.back().state.name;
    for (auto& n : page) all.push_back(std::move(n));
    if (last) break;
  }
  return all;
}

HttpReply FederationApi::Summary(const std::map<std::string, std::string>& q) {
  const std::string region = Param(q, "region");
  auto all = All(region);
  if (!all.ok()) return Problem(500, all.status().ToString());
  const Latest latest = latest_();
  const int64_t now = Now();
  std::vector<fleet::RegionGroup> groups = fleet::Summarize(*all, region, now, latest.version);
  fleet::RegionGroup totals;
  json list = json::array();
  for (const auto& g : groups) {
    list.push_back(GroupJson(g));
    for (auto [sum, part] : {std::pair{&totals.nodes, g.nodes},
                             {&totals.latest, g.latest},
                             {&totals.ok, g.ok},
                             {&totals.lagging, g.lagging},
                             {&totals.failing, g.failing},
                             {&totals.rejecting, g.rejecting},
                             {&totals.down, g.down},
                             {&totals.store_bytes, g.store_bytes},
                             {&totals.quota_bytes, g.quota_bytes},
                             {&totals.fs_size_bytes, g.fs_size_bytes},
                             {&totals.fs_avail_bytes, g.fs_avail_bytes}}) {
      *sum += part;
    }
  }
  json t = GroupJson(totals);
  for (const char* key : {"region", "name", "node"}) t.erase(key);
  json path = json::array();
  for (size_t len = own_prefix_.size(); len <= region.size(); len += 2) {
    const std::string p = region.substr(0, len);
    path.push_back({{"region", p}, {"name", RegionName(p)}});
    if (len == 6) break;
  }
  return JsonReply(
      {{"self", {{"name", self_.name}, {"tier", self_.tier}, {"region", self_.region}}},
       {"now", now},
       {"latest", {{"release", latest.release}, {"version", latest.version}}},
       {"region", region},
       {"region_name", RegionName(region)},
       {"path", std::move(path)},
       {"level", LevelOf(region)},
       {"totals", std::move(t)},
       {"groups", std::move(list)}});
}

HttpReply FederationApi::Nodes(const std::map<std::string, std::string>& q) {
  fleet::FleetStore::NodeQuery nq;
  nq.region_prefix = Param(q, "region");
  nq.tier = Param(q, "tier");
  nq.release = Param(q, "release");
  nq.after = Param(q, "after");
  size_t limit = 500;
  if (const std::string l = Param(q, "limit"); !l.empty()) {
    limit = std::clamp<size_t>(std::strtoull(l.c_str(), nullptr, 10), 1, kMaxListedNodes);
  }
  std::set<std::string> healths;
  for (size_t start = 0, end; start <= Param(q, "health").size(); start = end + 1) {
    const std::string h = Param(q, "health");
    end = h.find(',', start);
    if (end == std::string::npos) end = h.size();
    if (end > start) healths.insert(h.substr(start, end - start));
  }
  const std::string name = Param(q, "name");
  const Latest latest = latest_();
  const int64_t now = Now();
  json nodes = json::array();
  std::optional<std::string> next_after;
  nq.limit = std::max<size_t>(limit, 1000);
  // Filtered by health here, so read pages until `limit` nodes pass.
  for (;;) {
    auto page = store_->Nodes(nq);
    if (!page.ok()) return Problem(500, page.status().ToString());
    for (const auto& n : *page) {
      if (!name.empty() && n.state.name != name) continue;
      const fleet::HealthVerdict v =
          fleet::JudgeHealth(n.state, now, latest.version, latest.release);
      const std::string health(fleet::HealthName(v.health));
      if (!healths.empty() && !healths.count(health)) continue;
      json j = fleet::NodeStateJson(n.state);
      j["health"] = health;
      j["why"] = v.why;
      j["why_zh"] = v.why_zh;
      j["stored_at"] = n.stored_at;
      if (const catalogs::Region* r = catalogs::RegionTable::Builtin().Find(n.state.region)) {
        j["region_name"] = r->name;
      }
      nodes.push_back(std::move(j));
      if (nodes.size() == limit) {
        next_after = n.state.name;
        break;
      }
    }
    if (next_after || page->size() < nq.limit) break;
    nq.after = page->back().state.name;
  }
  return JsonReply({{"nodes", std::move(nodes)},
                    {"next_after", next_after ? json(*next_after) : json(nullptr)},
                    {"latest", {{"release", latest.release}, {"version", latest.version}}},
                    {"now", now}});
}

HttpReply FederationApi::Propagation(const std::map<std::string, std::string>& q) {
  std::string release = Param(q, "release");
  if (release.empty()) release = latest_().release;
  int64_t bucket = 60;
  if (const std::string b = Param(q, "bucket"); !b.empty()) {
    bucket = std::clamp<int64_t>(std::strtoll(b.c_str(), nullptr, 10), 1, 86'400);
  }
  auto points = store_->Propagation(release, Param(q, "region"), bucket);
  if (!points.ok()) return Problem(500, points.status().ToString());
  auto all = All(Param(q, "region"));
  if (!all.ok()) return Problem(500, all.status().ToString());
  json list = json::array();
  for (const auto& p : *points) list.push_back({{"at", p.at}, {"nodes", p.nodes}});
  return JsonReply({{"release", release}, {"total", all->size()}, {"points", std::move(list)}});
}

HttpReply FederationApi::History(const std::map<std::string, std::string>& q) {
  const int64_t now = Now();
  auto number = [&](const char* key, int64_t otherwise) {
    const std::string v = Param(q, key);
    return v.empty() ? otherwise : std::strtoll(v.c_str(), nullptr, 10);
  };
  const int64_t to = number("to", now);
  const int64_t from = number("from", to - 86'400);
  const auto limit = static_cast<size_t>(std::clamp<int64_t>(number("limit", 1000), 1, 10'000));
  auto events = store_->History(from, to, Param(q, "region"), limit);
  if (!events.ok()) return Problem(500, events.status().ToString());
  json list = json::array();
  for (const auto& e : *events) list.push_back(fleet::EventJson(e));
  return JsonReply({{"from", from}, {"to", to}, {"events", std::move(list)}});
}

HttpReply FederationApi::Usage(const std::map<std::string, std::string>& q) {
  fleet::FleetStore::UsageQuery uq;
  uq.from = Param(q, "from");
  uq.to = Param(q, "to");
  uq.region_prefix = Param(q, "region");
  uq.resource = Param(q, "resource");
  std::string by = Param(q, "by");
  if (by.empty()) by = "resource";
  if (by != "resource" && by != "provider" && by != "region" && by != "day") {
    return Problem(400, "by is resource, provider, region or day");
  }
  auto rows = store_->Usage(uq);
  if (!rows.ok()) return Problem(500, rows.status().ToString());
  struct Sum {
    std::string title, provider;
    serving::UsageCounts counts;
  };
  std::map<std::string, Sum> sums;
  serving::UsageCounts totals;
  std::map<std::string, std::optional<ResourceInfo>> info;
  auto resource = [&](const std::string& id) -> const std::optional<ResourceInfo>& {
    auto it = info.find(id);
    if (it == info.end()) it = info.emplace(id, resources_ ? resources_(id) : std::nullopt).first;
    return it->second;
  };
  for (const auto& row : *rows) {
    std::string key;
    Sum* sum = nullptr;
    if (by == "resource") {
      key = row.resource;
      sum = &sums[key];
      if (const auto& r = resource(row.resource))
        sum->title = r->title, sum->provider = r->provider;
    } else if (by == "provider") {
      const auto& r = resource(row.resource);
      key = r ? r->provider : std::string();
      sum = &sums[key];
      sum->title = key.empty() ? "(不在本节点目录中 not in this node's catalog)" : key;
    } else if (by == "region") {
      key = row.reporter_region;
      sum = &sums[key];
      sum->title = RegionName(fleet::RegionPrefix(key));
    } else {
      key = row.date;
      sum = &sums[key];
      sum->title = key;
    }
    sum->counts.views += row.counts.views;
    sum->counts.downloads += row.counts.downloads;
    totals.views += row.counts.views;
    totals.downloads += row.counts.downloads;
  }
  std::vector<std::pair<std::string, Sum>> ordered(sums.begin(), sums.end());
  if (by != "day") {
    std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
      return a.second.counts.views + a.second.counts.downloads >
             b.second.counts.views + b.second.counts.downloads;
    });
  }
  json list = json::array();
  for (const auto& [key, s] : ordered) {
    list.push_back({{"key", key},
                    {"title", s.title},
                    {"provider", s.provider},
                    {"views", s.counts.views},
                    {"downloads", s.counts.downloads}});
    if (list.size() >= 1000) break;
  }
  return JsonReply({{"by", by},
                    {"from", uq.from},
                    {"to", uq.to},
                    {"region", uq.region_prefix},
                    {"rows", std::move(list)},
                    {"totals", {{"views", totals.views}, {"downloads", totals.downloads}}}});
}

MetricsText FederationApi::Metrics() {
  MetricsText m;
  auto all = All(own_prefix_);
  if (!all.ok()) return m;
  const Latest latest = latest_();
  const int64_t now = Now();
  std::map<std::pair<std::string, std::string>, uint64_t> by_health;
  std::map<std::string, uint64_t> on_latest, store_bytes;
  for (const auto& n : *all) {
    const fleet::HealthVerdict v = fleet::JudgeHealth(n.state, now, latest.version, latest.release);
    ++by_health[{n.state.tier, std::string(fleet::HealthName(v.health))}];
    if (n.state.version >= latest.version) ++on_latest[n.state.tier];
    store_bytes[n.state.tier] += n.state.store_bytes;
  }
  std::vector<MetricsText::Sample> health, latest_samples, store;
  for (const char* tier : {"national", "province", "city", "county", "school"}) {
    for (const char* h : {"ok", "lagging", "failing", "rejecting", "down"}) {
      auto it = by_health.find({tier, h});
      health.push_back({{{"tier", tier}, {"health", h}},
                        static_cast<double>(it == by_health.end() ? 0 : it->second)});
    }
    latest_samples.push_back({{{"tier", tier}}, static_cast<double>(on_latest[tier])});
    store.push_back({{{"tier", tier}}, static_cast<double>(store_bytes[tier])});
  }
  m.Gauge("tiersync_federation_nodes",
          "Nodes of this node's subtree (itself included) by tier and health, as its reports "
          "tell.",
          std::move(health));
  m.Gauge("tiersync_federation_nodes_on_latest",
          "Nodes of the subtree serving the newest release this node knows, by tier.",
          std::move(latest_samples));
  m.Gauge("tiersync_federation_store_bytes", "Bytes in the stores of the subtree's nodes, by tier.",
          std::move(store));
  return m;
}

}  // namespace tiersync::node
