#include "cli/node_commands.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/bytes.h"
#include "cli/identity_commands.h"
#include "cli/key_files.h"
#include "cli/node_maintenance.h"
#include "cli/package_layout.h"
#include "cli/progress.h"
#include "cli/service_notify.h"
#include "cli/units.h"
#include "node/child_reports.h"
#include "node/garbage_collector.h"
#include "node/http_fetcher.h"
#include "node/node_dir.h"
#include "node/node_server.h"
#include "node/node_sources.h"
#include "node/own_identity.h"
#include "node/rate_limiter.h"
#include "node/sync_cycle.h"
#include "node/sync_runner.h"
#include "node/tls_context.h"
#include "node/upward_report.h"
#include "node/usage_counter.h"

namespace tiersync::cli {
namespace {

using nlohmann::json;

// A one-shot sync that finds the release signed but its catalog not yet served asks again
// this many times, 2 s apart.
constexpr int kPendingRetries = 5;

struct NodeArgs {
  std::string dir;
  std::string name, tier = "school", region, listen = "127.0.0.1:8080", national, root;
  std::vector<std::string> upstreams;
  std::string subscription_file, subscription;
  std::string quota;
  std::string miss = "proxy", cache_quota = "2G";  // node init: [serving]
  int poll_seconds = 300;
  std::string tls_cert, tls_key, tls_ca;  // node init: [tls]
  std::string listen_override;
  // node init --instance: the package layout (cli/package_layout.h).
  std::string instance;
  std::string config_base = kDefaultConfigBase, state_base = kDefaultStateBase;
};

Result<std::string> ReadText(const std::string& path, size_t max) {
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(Env::Default(), path, max));
  return std::string(bytes.begin(), bytes.end());
}

// node.toml as `node init` writes it, from the command line (the [tls] files checked now
// rather than at the first serve).
Result<node::NodeConfig> InitConfig(const NodeArgs& a) {
  std::string text = "[node]\nname = " + json(a.name).dump() + "\ntier = " + json(a.tier).dump() +
                     "\nregion = " + json(a.region).dump() + "\nlisten = " + json(a.listen).dump() +
                     "\n[upstream]\nsources = " + json(a.upstreams).dump() +
                     "\nnational = " + json(a.national).dump() +
                     "\n[storage]\nquota = " + json(a.quota).dump() +
                     "\n[sync]\npoll_seconds = " + std::to_string(a.poll_seconds) +
                     "\n[serving]\nmiss = " + json(a.miss).dump() +
                     "\ncache_quota = " + json(a.cache_quota).dump() + "\n";
  TS_ASSIGN_OR_RETURN(node::NodeConfig config, node::ParseNodeConfig(text, "command line"));
  if (a.tls_cert.empty() != a.tls_key.empty()) {
    return InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  // node.toml wants absolute paths.
  auto absolute = [](const std::string& p) {
    return p.empty() ? p : std::filesystem::absolute(p).lexically_normal().string();
  };
  config.tls_cert = absolute(a.tls_cert);
  config.tls_key = absolute(a.tls_key);
  config.tls_ca = absolute(a.tls_ca);
  TS_RETURN_IF_ERROR(node::LoadServerTls(Env::Default(), config, "command line").status());
  TS_RETURN_IF_ERROR(node::LoadUpstreamTls(Env::Default(), config, "command line").status());
  if (!a.subscription_file.empty()) {
    TS_ASSIGN_OR_RETURN(config.subscription, ReadText(a.subscription_file, 64 << 10));
  } else {
    config.subscription = a.subscription;
  }
  return config;
}

Status RunInit(const NodeArgs& a) {
  TS_ASSIGN_OR_RETURN(node::NodeConfig config, InitConfig(a));
  TS_ASSIGN_OR_RETURN(auto root, ReadFileToBytes(Env::Default(), a.root, 1 << 20));
  TS_RETURN_IF_ERROR(node::InitNode(Env::Default(), a.dir, config, root));
  std::cout << "node " << config.name << " (" << node::TierName(config.tier) << ", "
            << config.region << ") created in " << a.dir << "; start it with: tiersync node serve "
            << a.dir << std::endl;
  return Status::Ok();
}

// Copies the input file `*path` into the instance's configuration directory as `name` (unless
// it is there already) and points *path at the copy: the unit's sandbox reads /etc, not the
// operator's home.
Status PlaceInput(const std::string& config_dir, const std::string& name,
                  const std::optional<ServiceAccount>& account, std::string* path) {
  if (path->empty()) return Status::Ok();
  const std::string placed = PlaceInConfig(config_dir, *path, name);
  if (placed != *path) {
    TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(Env::Default(), *path, node::kMaxPemFileBytes));
    TS_RETURN_IF_ERROR(InstallConfigFile(placed, bytes, account, /*replace=*/true));
    *path = placed;
  }
  return Status::Ok();
}

// `node init --instance NAME`: the package layout (cli/package_layout.h). Everything is
// checked before anything is written; the node directory is made last but for its link to
// node.toml, so a failure leaves no half node for the unit to start.
Status RunInitInstance(const NodeArgs& a) {
  TS_RETURN_IF_ERROR(CheckInstanceName(a.instance));
  const InstanceLayout l = LayoutOf(a.config_base, a.state_base, a.instance);
  Env* env = Env::Default();
  TS_ASSIGN_OR_RETURN(node::NodeConfig config, InitConfig(a));
  TS_ASSIGN_OR_RETURN(auto root, ReadFileToBytes(env, a.root, 1 << 20));
  if (env->FileExists(node::NodePaths(l.state_dir).marker)) {
    return AlreadyExistsError(l.state_dir + " holds a node already");
  }
  if (env->FileExists(l.config)) {
    return AlreadyExistsError(l.config + " exists (a node made before? move it away first)");
  }
  std::string warning;
  const auto account = ServiceAccountIfRoot(&warning);
  if (!warning.empty()) std::cerr << warning << std::endl;
  TS_RETURN_IF_ERROR(MakeConfigDir(l.config_dir, account));
  TS_RETURN_IF_ERROR(PlaceInput(l.config_dir, "tls.crt", account, &config.tls_cert));
  TS_RETURN_IF_ERROR(PlaceInput(l.config_dir, "tls.key", account, &config.tls_key));
  TS_RETURN_IF_ERROR(PlaceInput(l.config_dir, "ca.pem", account, &config.tls_ca));
  std::string root_path = a.root;
  TS_RETURN_IF_ERROR(PlaceInput(l.config_dir, "root.json", account, &root_path));
  const std::string text = node::FormatNodeConfig(config);
  TS_RETURN_IF_ERROR(InstallConfigFile(l.config, AsBytes(text), account, /*replace=*/false));
  TS_RETURN_IF_ERROR(node::InitNode(env, l.state_dir, config, root));
  TS_RETURN_IF_ERROR(ReplaceWithSymlink(node::NodePaths(l.state_dir).config, l.config));
  TS_RETURN_IF_ERROR(GiveToService(l.state_dir, account));
  std::cout << "node " << config.name << " (" << node::TierName(config.tier) << ", "
            << config.region << ") created as instance " << a.instance << ":\n"
            << "  configuration " << l.config << " (edit it, then: systemctl reload tiersync-node@"
            << a.instance << ")\n"
            << "  node directory " << l.state_dir << "\n"
            << "start it with: systemctl enable --now tiersync-node@" << a.instance << std::endl;
  return Status::Ok();
}

Status RunServe(const NodeArgs& a) {
  TS_ASSIGN_OR_RETURN(auto server, node::NodeServer::Open(a.dir));
  TS_ASSIGN_OR_RETURN(uint16_t port, server->Listen(a.listen_override));
  std::cout << "serving node " << a.dir << " on port " << port << "; Ctrl-C stops" << std::endl;
  NotifyReady("serving node " + a.dir + " on port " + std::to_string(port));  // systemd
  return server->Run();
}

Status RunSync(const NodeArgs& a, CommandContext* ctx) {
  node::NodePaths paths(a.dir);
  Env* env = Env::Default();
  TS_ASSIGN_OR_RETURN(node::OpenedNode opened, node::OpenNodeForWriting(env, paths));
  const node::NodeConfig& config = opened.config;
  replication::ChunkStoreOptions so;
  so.writable = true;
  so.auto_commit_bytes = 32ull << 20;
  TS_ASSIGN_OR_RETURN(auto store, replication::ChunkStore::Open(paths.store, so));
  TS_ASSIGN_OR_RETURN(node::HttpFetcherOptions fo, node::SyncFetcherOptions(env, config, paths));
  node::HttpFetcher fetcher(fo);
  replication::SourcePolicy policy(node::NamedSources(config));
  // The children's last reports: a one-shot sync plans for the same subtree as `node serve`.
  node::ChildReports children(env, paths);
  children.Load();
  node::SyncRunner runner({env, paths, config, store.get(), &fetcher, &policy, nullptr,
                           [limiter = fo.limiter] { return limiter->WindowOpen(); }},
                          &children);
  PhaseProgress bar;
  auto progress = [&](const std::string& p, uint64_t done, uint64_t total) {
    bar.Update(p, done, total);
  };
  // The same orchestrator as `node serve`'s loop: the cycle, then the report upward (what
  // this node now serves and needs).
  node::SyncCycle cycle(&runner, &fetcher, config, nullptr);
  // The report is the running node's (format 2: its state, what changed below it, its usage):
  // a node synced by a timer shows in the federation view like one that serves.
  TS_ASSIGN_OR_RETURN(auto fleet, fleet::FleetStore::Open(paths.fleet));
  node::UsageCounter usage(env, JoinPath(paths.dir, "usage"));
  TS_RETURN_IF_ERROR(usage.Open());
  node::UpwardReporter reporter(
      env, config, fleet.get(), &fetcher,
      [&] {
        return node::NodeStateFromStatus(
            node::NodeStatusJson(env, config, runner, policy, children.size(), json()), a.dir);
      },
      [&] { return usage.RecentDays(node::kUsageDaysInMemory); });
  cycle.SetReportSender([&](const node::ChildReport& r) { return reporter.Send(r); });
  node::TurnResult t = cycle.Turn(0, progress);
  // "Not yet": a source announced metadata a moment before its catalog. Ask again a few
  // times before saying so.
  for (int retry = 0; retry < kPendingRetries && t.outcome.ok() && !t.outcome->pending.empty();
       ++retry) {
    env->SleepForMicroseconds(2'000'000);
    t = cycle.Turn(0, progress);
  }
  bar.Finish();
  if (!t.report_status.ok()) {
    std::cerr << "tiersync: report upward: " << t.report_status.ToString() << std::endl;
  }
  auto& r = t.outcome;
  if (!r.ok()) return r.status();
  if (!r->pending.empty()) return UnavailableError(r->pending);
  // What the releases kept no longer need, as `node serve` does after a switch. Its failure
  // does not undo the sync: it is said, and the next collection tries again.
  if (r->switched && config.gc) {
    node::GarbageCollector gc(env, paths, store.get());
    if (auto run = gc.Collect("switch", config, /*dry_run=*/false); !run.ok()) {
      std::cerr << "tiersync: garbage collection: " << run.status().ToString() << std::endl;
    }
  }
  if (ctx->json) {
    std::cout << json{{"release", r->current.release},
                      {"version", r->current.version},
                      {"switched", r->switched},
                      {"files", r->current.files},
                      {"planned_bytes", r->planned_bytes},
                      {"fetched_bytes", r->fetched_bytes},
                      {"metadata_source", r->metadata_source},
                      {"catalog_source", r->catalog_source},
                      {"quota_exceeded", r->quota_exceeded},
                      {"rejected", r->rejected}}
                     .dump(2)
              << std::endl;
  } else {
    std::cout << (r->switched ? "now serving " : "up to date: ") << r->current.release
              << " (version " << r->current.version << ", " << r->current.files << " files, "
              << FormatBytes(r->current.bytes) << "); fetched " << FormatBytes(r->fetched_bytes)
              << " from the sources; metadata from " << r->metadata_source << std::endl;
  }
  // Served with its priority content only: said, and the exit code says the disk is short.
  if (!r->quota_exceeded.empty()) {
    return ResourceExhaustedError(r->quota_exceeded +
                                  "; only the release's priority content was fetched (" +
                                  std::to_string(r->current.deferred) + " files deferred)");
  }
  return Status::Ok();
}

std::string Ago(int64_t now, int64_t then) {
  int64_t s = now - then;
  if (s < 120) return std::to_string(s) + " s ago";
  if (s < 7200) return std::to_string(s / 60) + " min ago";
  return std::to_string(s / 3600) + " h ago";
}

// The node's state in words, from its /v1/status JSON (or state.json, which may lack keys: `j`
// is a copy, so a missing key reads as null).
void Describe(json j, bool live) {
  const int64_t now = j.value("now", int64_t{0});
  std::cout << j.value("name", "?") << " — " << j.value("tier", "?") << " node for "
            << j.value("region_name", j.value("region", "?")) << " (" << j.value("region", "")
            << ")" << (live ? "" : " — NOT RUNNING (last saved state)") << "\n";
  if (j["current"].is_object()) {
    const json& c = j["current"];
    std::cout << "  serving release " << c.value("release", "?") << " (metadata version "
              << c.value("version", 0) << "), " << c.value("files", 0) << " files, "
              << FormatBytes(c.value("bytes", uint64_t{0})) << ", since "
              << Ago(now, c.value("switched_at", now)) << "\n";
  } else {
    std::cout << "  serving nothing yet: no release has been completely synced\n";
  }
  const json& s = j["last_sync"];
  if (s.is_object() && s.contains("ok")) {
    if (s.value("ok", false)) {
      std::cout << "  last sync " << Ago(now, s.value("finished_at", now)) << ": ok, metadata from "
                << s.value("metadata_source", "?") << ", fetched "
                << FormatBytes(s.value("fetched_bytes", uint64_t{0})) << "\n";
    } else {
      std::cout << "  last sync " << Ago(now, s.value("finished_at", now))
                << " FAILED: " << s.value("error", "?") << "\n";
    }
  }
  const json& check = j.contains("last_check") ? j["last_check"] : json();
  const int64_t synced_at = s.is_object() ? s.value("finished_at", int64_t{0}) : 0;
  if (check.is_object() && check.value("ok", false) && check.value("at", int64_t{0}) > synced_at) {
    std::cout << "  last checked " << Ago(now, check.value("at", now)) << ": up to date (asked "
              << check.value("source", "?") << ")\n";
  }
  std::cout << "  sources, in order of preference:\n";
  for (const json& src : j["sources"]) {
    std::cout << "    " << (src.value("healthy", false) ? "ok   " : "DOWN ")
              << src.value("name", "?");
    if (src.value("bytes", uint64_t{0}) > 0)
      std::cout << ", " << FormatBytes(src.value("bytes", uint64_t{0})) << " received";
    if (src.value("rejections", 0) > 0)
      std::cout << ", " << src.value("rejections", 0) << " answers REJECTED";
    if (src.value("lacked", 0) > 0)
      std::cout << ", lacked " << src.value("lacked", 0) << " objects asked for";
    if (!src.value("healthy", true)) {
      std::cout << ", skipped for " << src.value("demoted_for_seconds", 0) << " s more";
    }
    if (!src.value("last_error", "").empty())
      std::cout << "\n         last error: " << src.value("last_error", "");
    std::cout << "\n";
  }
  if (!j["recent_rejections"].empty()) {
    std::cout << "  ATTACKS OR FAULTS DETECTED (rejected answers):\n";
    for (const json& r : j["recent_rejections"])
      std::cout << "    " << r.get<std::string>() << "\n";
  }
  if (j["last_check"].is_object() && j["last_check"].contains("quota_exceeded")) {
    std::cout << "  QUOTA EXCEEDED: " << j["last_check"].value("quota_exceeded", "")
              << " (only priority content fetched)\n";
  }
  if (j["storage"].is_object()) {
    const json& st = j["storage"];
    std::cout << "  storage: " << st.value("chunks", 0) << " chunks, "
              << FormatBytes(st.value("stored_bytes", uint64_t{0})) << " on disk";
    if (st.value("quota_bytes", uint64_t{0}) > 0)
      std::cout << " of a " << FormatBytes(st.value("quota_bytes", uint64_t{0})) << " quota";
    std::cout << "\n";
  }
  if (j["scrub"].is_object() && j["scrub"]["last"].is_object()) {
    const json& sc = j["scrub"]["last"];
    std::cout << "  store check (scrub) " << Ago(now, sc.value("finished_at", now)) << " ("
              << sc.value("trigger", "?") << "): " << sc.value("chunks_checked", uint64_t{0})
              << " chunks, " << sc.value("problems", uint64_t{0}) << " problem(s), "
              << sc.value("repaired", uint64_t{0}) << " chunk(s) replaced";
    if (sc.value("remaining", uint64_t{0}) > 0) {
      std::cout << "; " << sc.value("remaining", uint64_t{0})
                << " STILL DAMAGED (`tiersync node scrub` lists them)";
    }
    std::cout << "\n";
  }
  if (j["gc"].is_object() && j["gc"]["last"].is_object()) {
    const json& gc = j["gc"]["last"];
    std::cout << "  garbage collection " << Ago(now, gc.value("finished_at", now)) << ": ";
    if (gc.contains("error")) {
      std::cout << "FAILED: " << gc.value("error", "") << "\n";
    } else {
      std::cout << "kept " << gc.value("kept_files", uint64_t{0}) << " file(s) of "
                << gc["kept_releases"].size() << " release(s), forgot "
                << FormatBytes(gc.value("deleted_bytes", uint64_t{0})) << "; packs "
                << FormatBytes(gc.value("pack_bytes_after", uint64_t{0})) << "\n";
    }
  }
  if (j["gc"].is_object() && j["gc"]["index"].is_object() &&
      j["gc"]["index"].value("alarm", false)) {
    std::cout << "  STORE INDEX NEARLY FULL: "
              << FormatBytes(j["gc"]["index"].value("used_bytes", uint64_t{0})) << " of its "
              << FormatBytes(j["gc"]["index"].value("map_bytes", uint64_t{0}))
              << " map in use (docs/operators/node.md, \"Retention and garbage collection\")\n";
  }
  if (j["serving"].is_object() && j["serving"]["freshness"].is_object()) {
    const json& f = j["serving"]["freshness"];
    const std::string state = f.value("state", "fresh");
    if (state == "stale") {
      std::cout << "  STALE: the national metadata expired at " << f.value("expires", "?")
                << "; users are served within the root's offline grace until "
                << f.value("grace_until", "?") << "\n";
    } else if (state == "expired") {
      std::cout << "  EXPIRED: the national metadata expired at " << f.value("expires", "?")
                << " and the offline grace ended at " << f.value("grace_until", "?")
                << ": users get no files until the node syncs or imports a bundle\n";
    }
  }
  if (j["serving"].is_object()) {
    const json& sv = j["serving"];
    std::cout << "  users: files not mirrored here are "
              << (sv.value("miss_policy", "") == "redirect" ? "redirected upward" : "proxied")
              << "; " << sv.value("local_files", uint64_t{0}) << " files stored here";
    if (sv["cache"].is_object()) {
      std::cout << ", " << sv["cache"].value("files", uint64_t{0}) << " proxied files cached ("
                << FormatBytes(sv["cache"].value("bytes", uint64_t{0})) << ")";
    }
    std::cout << "\n";
  }
  if (j["usage"].is_object()) {
    const json& u = j["usage"];
    std::cout << "  usage today: " << u["today"].value("views", uint64_t{0}) << " views, "
              << u["today"].value("downloads", uint64_t{0})
              << " downloads; last 7 days: " << u["last_7_days"].value("views", uint64_t{0})
              << " views, " << u["last_7_days"].value("downloads", uint64_t{0}) << " downloads\n";
  }
  if (j["identity"].is_object()) {
    const json& id = j["identity"];
    if (id.value("enrolled", false)) {
      std::cout << "  identity: " << id.value("tier", "?") << " '" << id.value("name", "?") << "' ("
                << id.value("region", "?") << "), certified by " << id.value("issuer", "?")
                << " until " << id.value("expires_at", "?");
      if (id.contains("error")) std::cout << " — NOT VALID: " << id.value("error", "");
      std::cout << "\n";
    } else {
      std::cout << "  identity: not enrolled (tiersync node enroll, or node identity request)\n";
    }
  }
  std::cout << "  children reporting: " << j.value("children_reports", 0) << std::endl;
}

// The exit status of `node status` for a running node: OK if its last sync succeeded (or
// none finished yet), otherwise that sync's error with its code (docs/cli.md).
Status LastSyncStatus(const json& j) {
  const json* last = j.contains("last_sync") ? &j["last_sync"] : nullptr;
  if (!last || !last->is_object() || last->value("ok", true)) return Status::Ok();
  StatusCode code = StatusCode::kUnavailable;
  const std::string name = last->value("code", std::string());
  for (int c = 1; c <= static_cast<int>(StatusCode::kNewerFormat); ++c) {
    if (StatusCodeName(static_cast<StatusCode>(c)) == name) code = static_cast<StatusCode>(c);
  }
  return Status(code, "the last sync failed (shown above); the node serves its last good release");
}

Status RunStatus(const NodeArgs& a, CommandContext* ctx) {
  node::NodePaths paths(a.dir);
  TS_ASSIGN_OR_RETURN(node::NodeConfig config, node::LoadNodeConfig(Env::Default(), paths));
  std::string host = config.listen_host == "0.0.0.0" ? "127.0.0.1" : config.listen_host;
  node::HttpFetcherOptions fo;
  fo.stall_timeout = std::chrono::seconds(2);
  fo.handshake_timeout = std::chrono::seconds(2);
  const bool https = !config.tls_cert.empty();
  if (https) {  // the node's own certificate, whatever name it carries (we ask by address)
    TS_ASSIGN_OR_RETURN(fo.tls, node::TlsClientContext::PinnedTo(Env::Default(), config.tls_cert));
  }
  node::HttpFetcher fetcher(fo);
  auto live = fetcher.Fetch((https ? "https://" : "http://") + host + ":" +
                                std::to_string(config.listen_port) + "/v1/status",
                            1 << 20);
  json j;
  if (live.ok()) {
    j = json::parse(live->begin(), live->end(), nullptr, false);
  } else {
    auto saved = ReadFileToBytes(Env::Default(), paths.state, 1 << 20);
    if (saved.ok()) j = json::parse(saved->begin(), saved->end(), nullptr, false);
    if (!j.is_object()) j = json{{"name", config.name}, {"region", config.region}};
    // What it serves is what CURRENT says, whatever state.json (or its absence) claims.
    TS_ASSIGN_OR_RETURN(auto current, node::ReadCurrent(Env::Default(), paths));
    j["current"] = current ? json::parse(node::EncodeServedRelease(*current)) : json(nullptr);
    if (!current && !saved.ok()) {
      return UnavailableError("node " + config.name + " is not running and has never synced");
    }
  }
  if (!j.is_object()) return CorruptionError("node status is not JSON");
  if (!live.ok()) {  // what the files say now (a running node says it itself)
    j["identity"] = node::IdentityStatusJson(Env::Default(), paths, config, NowSeconds());
  }
  if (ctx->json) {
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << std::endl;
  } else {
    Describe(j, live.ok());
  }
  if (!live.ok()) {
    return UnavailableError("node is not running (what it holds and its last sync shown above)");
  }
  return LastSyncStatus(j);
}

}  // namespace

void RegisterNodeCommands(CLI::App* app, CommandContext* ctx) {
  CLI::App* node = app->add_subcommand("node", "Province, city, county and school nodes");
  node->require_subcommand(1);
  auto a = std::make_shared<NodeArgs>();

  CLI::App* init = node->add_subcommand(
      "init",
      "Create a node directory with its configuration (--instance: as the package lays it out)");
  CLI::Option* dir = init->add_option("dir", a->dir, "Node directory (or --instance)");
  CLI::Option* instance =
      init->add_option("--instance", a->instance,
                       "Package layout: node.toml and copies of root.json and the TLS files in "
                       "CONFIG_BASE/NAME/ (root:tiersync, 0640), the node in STATE_BASE/NAME/ "
                       "(tiersync) with node.toml linked to the one in CONFIG_BASE");
  dir->excludes(instance);
  instance->excludes(dir);
  AddLayoutBaseOptions(init, "--instance", &a->config_base, &a->state_base);
  init->add_option("--name", a->name, "Name shown in status, e.g. 西湖区教育局")->required();
  init->add_option("--tier", a->tier, "province, city, county or school")->required();
  init->add_option("--region", a->region, "GB/T 2260 region code, e.g. 330106")->required();
  init->add_option("--listen", a->listen, "HOST:PORT to serve on");
  init->add_option("--upstream", a->upstreams, "Parent URL, then further ancestors (repeat)");
  init->add_option("--national", a->national, "The national platform's URL")->required();
  init->add_option("--root", a->root, "The national root.json to pin")->required();
  init->add_option("--subscription-file", a->subscription_file, "Subscription rules file");
  init->add_option("--subscription", a->subscription, "Subscription rules (text)");
  init->add_option("--quota", a->quota, "Storage quota, e.g. 50G");
  init->add_option("--poll-seconds", a->poll_seconds, "Backstop poll interval");
  init->add_option("--miss", a->miss,
                   "A file users ask for that is not mirrored here: proxy or redirect");
  init->add_option("--cache-quota", a->cache_quota,
                   "Bytes of proxied files kept (least recently used evicted), e.g. 2G; 0: none");
  init->add_option("--tls-cert", a->tls_cert,
                   "PEM certificate chain, leaf first: serve HTTPS only (with --tls-key)");
  init->add_option("--tls-key", a->tls_key, "PEM private key of --tls-cert (unencrypted)");
  init->add_option("--tls-ca", a->tls_ca,
                   "PEM CA certificates trusted for https:// upstreams (default: the system's)");
  init->callback([a, ctx] {
    if (a->dir.empty() && a->instance.empty()) {
      return ctx->Fail("node init", InvalidArgumentError("give a node directory or --instance"));
    }
    Status s = a->instance.empty() ? RunInit(*a) : RunInitInstance(*a);
    if (!s.ok()) ctx->Fail("node init", s);
  });

  CLI::App* serve = node->add_subcommand("serve", "Serve children and users, and keep syncing");
  serve->add_option("dir", a->dir, "Node directory")->required();
  serve->add_option("--listen", a->listen_override, "HOST:PORT (overrides node.toml)");
  serve->callback([a, ctx] {
    if (Status s = RunServe(*a); !s.ok()) ctx->Fail("node serve", s);
  });

  CLI::App* sync = node->add_subcommand("sync", "Sync once from the upstreams, then exit");
  sync->add_option("dir", a->dir, "Node directory")->required();
  sync->callback([a, ctx] {
    if (Status s = RunSync(*a, ctx); !s.ok()) ctx->Fail("node sync", s);
  });

  CLI::App* scrub = node->add_subcommand(
      "scrub", "Check every stored chunk and index; fetch damaged chunks again and replace them");
  scrub->add_option("dir", a->dir, "Node directory")->required();
  auto scrub_rate = std::make_shared<uint64_t>(0);
  scrub->add_option("--bytes-per-second", *scrub_rate, "Read at most this fast (default: no cap)");
  scrub->callback([a, ctx, scrub_rate] {
    if (Status s = RunNodeScrub(a->dir, *scrub_rate, ctx); !s.ok()) ctx->Fail("node scrub", s);
  });

  CLI::App* gc = node->add_subcommand(
      "gc", "Forget what no kept release needs (current, previous, pinned); compact packs");
  gc->add_option("dir", a->dir, "Node directory")->required();
  auto gc_dry_run = std::make_shared<bool>(false);
  gc->add_flag("--dry-run", *gc_dry_run, "Say what would be forgotten; change nothing");
  gc->callback([a, ctx, gc_dry_run] {
    if (Status s = RunNodeGc(a->dir, *gc_dry_run, ctx); !s.ok()) ctx->Fail("node gc", s);
  });

  CLI::App* status = node->add_subcommand("status", "Explain the node's state");
  status->add_option("dir", a->dir, "Node directory")->required();
  status->callback([a, ctx] {
    if (Status s = RunStatus(*a, ctx); !s.ok()) ctx->Fail("node status", s);
  });

  RegisterNodeIdentityCommands(node, ctx);
}

}  // namespace tiersync::cli
