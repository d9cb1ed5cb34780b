#include "node/node_server.h"

#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>

#include "base/bytes.h"
#include "base/mutex.h"
#include "base/random.h"
#include "catalogs/release.h"
#include "node/child_reports.h"
#include "node/children_throttle.h"
#include "node/config_reload.h"
#include "node/enrollment_service.h"
#include "node/federation_api.h"
#include "node/garbage_collector.h"
#include "node/git_http_service.h"
#include "node/http_fetcher.h"
#include "node/node_dir.h"
#include "node/node_log.h"
#include "node/node_sources.h"
#include "node/own_identity.h"
#include "node/push_listener.h"
#include "node/rate_limiter.h"
#include "node/release_notifier.h"
#include "node/report_intake.h"
#include "node/repository_service.h"
#include "node/scrubber.h"
#include "node/sync_cycle.h"
#include "node/sync_metrics.h"
#include "node/sync_runner.h"
#include "node/tls_context.h"
#include "node/upward_report.h"
#include "node/user_api.h"

namespace tiersync::node {
namespace {

using nlohmann::json;

// The /metrics endpoint label of a users' request.

}  // namespace

struct NodeServer::Impl : public HttpHandler {
  Env* env = Env::Default();
  NodePaths paths{""};
  NodeConfig config;
  std::unique_ptr<FileLock> lock;
  std::unique_ptr<replication::ChunkStore> store;
  std::unique_ptr<HttpFetcher> fetcher;
  std::shared_ptr<RateLimiter> limiter;         // the sync fetcher's cap (reloaded with node.toml)
  std::unique_ptr<HttpFetcher> push_fetcher;    // long-polls: waits past the hold
  std::unique_ptr<HttpFetcher> report_fetcher;  // reports upward: short timeouts
  std::unique_ptr<replication::SourcePolicy> policy;
  std::unique_ptr<RepositoryService> repo;
  std::unique_ptr<GitHttpService> git;
  std::unique_ptr<ChildrenThrottle> pace;     // what children pull ([children]; reloaded)
  std::unique_ptr<HttpFetcher> user_fetcher;  // the miss policy and /v1/resolve: short timeouts
  std::unique_ptr<ChildReports> children;
  std::unique_ptr<fleet::FleetStore> fleet;  // the subtree's states and usage (reports)
  std::unique_ptr<ReportIntake> intake;
  std::unique_ptr<EnrollmentService> enrollment;  // POST /v1/enroll (the tier below joins)
  std::unique_ptr<UpwardReporter> reporter;
  std::unique_ptr<FederationApi> federation;
  int64_t expired_at = 0;  // the fleet store's last retention pass (sync loop)
  std::unique_ptr<SyncRunner> sync;
  std::unique_ptr<SyncCycle> cycle;  // the orchestrator the sync loop turns
  std::unique_ptr<UserApi> users;    // after sync: its miss threads report rejections to it
  std::unique_ptr<PushListener> push;
  ReleaseNotifier notifier;
  std::unique_ptr<HttpServer> server;
  std::shared_ptr<TlsServerContext> server_tls;  // null: plain HTTP; SIGHUP reloads its files
  std::atomic<uint64_t> served_release{0};
  std::unique_ptr<Scrubber> scrubber;    // checks on its own thread; repairs on the sync loop's
  std::unique_ptr<GarbageCollector> gc;  // after each switch, on the sync loop's thread
  std::atomic<bool> unclean_check_due{false};  // the check after an unclean shutdown is not done

  Mutex mu;  // guards the loop's wake-up state and the last reload
  CondVar cv;
  bool wake GUARDED_BY(mu) = false;
  bool stopping GUARDED_BY(mu) = false;
  bool reload GUARDED_BY(mu) = false;  // SIGHUP: reread node.toml before the next turn
  bool repair GUARDED_BY(mu) = false;  // a scrub found damage: repair before the next turn
  json last_reload GUARDED_BY(mu) = nullptr;

  // Serves `dir_name` from now on: catalog first, then the metadata, then the announcement,
  // so that whoever sees the new metadata can also fetch its catalog.
  void SetCurrent(const ServedRelease& r, const std::string& dir_name) {
    served_release = catalogs::ReleaseNumber(r.release).value_or(0);
    repo->SetTufDir(JoinPath(paths.releases, dir_name));
    if (tiersync::Status s = users->SetRelease(dir_name); !s.ok()) {
      NodeLog("users keep the previous catalog: " + s.ToString());
    }
    pace->SetPriority(PriorityContentOf(*store, users->PriorityFiles()));
    notifier.Publish(r.version);
  }

  HttpReply Handle(const HttpRequest& request) override {
    std::string_view target = request.target;
    if (target.starts_with("/v1/catalog.git/")) {
      return pace->Pace(
          request, git->Handle(request, target.substr(std::string_view("/v1/catalog.git").size())));
    }
    if (auto reply = users->Handle(request)) {
      return repo->Count(UserEndpoint(target), std::move(*reply));
    }
    std::string_view path = target.substr(0, target.find('?'));
    if (path == "/v1/events") return notifier.Wait(ParseEventsQuery(target));
    if (path == "/v1/reports") return intake->Accept(request);
    if (path == "/v1/enroll") return enrollment->Enroll(request);
    if (auto reply = federation->Handle(request)) return std::move(*reply);
    if (path == "/v1/status") {
      HttpReply r =
          HttpReply::Json(StatusJson().dump(2, ' ', false, json::error_handler_t::replace));
      r.headers.emplace_back("Cache-Control", "no-cache");
      return r;
    }
    if (path == "/metrics") {
      MetricsText m = repo->Metrics();
      m.Append(SyncMetrics(policy->Snapshot(), sync->ChunkBytesBySource(),
                           sync->PlannedBytesTotal(), sync->current()));
      m.Append(scrubber->Metrics());
      m.Append(gc->Metrics());
      m.Append(federation->Metrics());
      return MetricsReply(m);
    }
    HttpReply reply = repo->Handle(request);
    if (ChildrenThrottle::Paced(request)) reply = pace->Pace(request, std::move(reply));
    return reply;
  }

  // What /v1/status adds to the sync's state: the users' side and push.
  json ExtraStatus() {
    json user_side = users->StatusJson();
    json extra = {{"usage", user_side["usage"]}, {"serving", user_side["serving"]}};
    if (push) extra["push"] = push->StatusJson();
    extra["bandwidth"] = limiter->StatusJson();
    extra["children_bandwidth"] = pace->StatusJson();
    extra["scrub"] = scrubber->StatusJson();
    extra["gc"] = gc->StatusJson();
    extra["identity"] = IdentityStatusJson(env, paths, config, env->NowMicros() / 1'000'000);
    MutexLock l(&mu);
    if (!last_reload.is_null()) extra["reload"] = last_reload;
    return extra;
  }

  json StatusJson() {
    return NodeStatusJson(env, config, *sync, *policy, children->size(), ExtraStatus());
  }

  void SyncLoop() {
    Random rng(env->RandomSeed());
    for (;;) {
      if (scrubber->RepairPending()) Repair();
      TurnResult t = cycle->Turn(rng.Next());
      if (!t.report_status.ok()) NodeLog("report upward: " + t.report_status.ToString());
      ExpireFleet();
      const bool ok = t.outcome.ok();
      if (ok && t.outcome->switched && config.gc) Collect();
      // After a failure the backoff holds even when push announces a release: a source
      // that lies or lacks data is not asked again at the rate it announces. A reload is
      // applied at once (the operator is waiting to see it).
      bool reload_now = false;
      {
        MutexLock l(&mu);
        const uint64_t deadline =
            env->MonotonicMicros() + static_cast<uint64_t>(t.next_delay_ms) * 1000;
        while (!((ok && wake) || stopping || reload || repair)) {
          const uint64_t now = env->MonotonicMicros();
          if (now >= deadline) break;
          cv.WaitForMicros(&mu, deadline - now);
        }
        if (stopping) return;
        wake = false;
        repair = false;
        reload_now = reload;
        reload = false;
      }
      if (reload_now) Reload();
    }
  }

  // The damaged chunks the last scrub found, fetched again and replaced (on the sync loop's
  // thread: the store's one writer).
  void Repair() {
    replication::ChunkSyncOptions options;
    options.parallel = config.parallel;
    Status s = scrubber->Repair({env, fetcher.get(), policy.get(), store.get(), nullptr}, options);
    const ScrubRun run = scrubber->last();
    NodeLog("scrub repair: " + std::to_string(run.repaired) + " of " +
            std::to_string(run.damaged.size()) + " damaged chunk(s), " +
            std::to_string(run.indexes_repaired) + " of " +
            std::to_string(run.damaged_indexes.size()) + " chunk index(es) and " +
            std::to_string(run.metadata_repaired) + " metadata file(s) replaced" +
            (s.ok() ? "" : "; " + s.ToString()));
  }

  // The fleet store's retention, at most hourly (fleet/fleet_store.h).
  void ExpireFleet() {
    const int64_t now = static_cast<int64_t>(env->NowMicros() / 1'000'000);
    if (now - expired_at < 3600) return;
    expired_at = now;
    auto e = fleet->Expire(now);
    if (!e.ok()) {
      NodeLog("fleet store retention: " + e.status().ToString());
    } else if (e->events + e->usage_days + e->nodes > 0) {
      NodeLog("fleet store retention: dropped " + std::to_string(e->events) + " event(s), " +
              std::to_string(e->usage_days) + " usage day(s), " + std::to_string(e->nodes) +
              " node(s) not heard of for long");
    }
  }

  // This node's own state for the federation view.
  fleet::NodeState OwnState() { return NodeStateFromStatus(StatusJson(), paths.dir); }

  // What the releases kept no longer need, forgotten (node/garbage_collector.h).
  void Collect() {
    auto run = gc->Collect("switch", config, /*dry_run=*/false);
    if (!run.ok()) {
      NodeLog("garbage collection: " + run.status().ToString());
      return;
    }
    const replication::GcReport& g = run->report;
    NodeLog("garbage collection: kept " + std::to_string(run->kept_files) + " file(s) of " +
            std::to_string(run->kept_releases.size()) + " release(s); forgot " +
            std::to_string(g.deleted_chunks) + " chunk(s) (" + std::to_string(g.deleted_bytes) +
            " bytes), compacted " + std::to_string(g.packs_compacted) + " pack(s); packs " +
            std::to_string(g.pack_bytes_before) + " -> " + std::to_string(g.pack_bytes_after) +
            " bytes");
  }

  // The store's checks: at once after an unclean shutdown, then every [scrub] interval_hours
  // (node/scrubber.h). Damage found wakes the sync loop, which repairs it.
  void ScrubLoop(bool unclean_start) {
    const int64_t started = static_cast<int64_t>(env->NowMicros() / 1'000'000);
    std::string trigger = unclean_start ? "unclean shutdown" : "";
    for (;;) {
      while (trigger.empty()) {
        MutexLock l(&mu);
        if (stopping) return;
        const int64_t due = scrubber->NextDueAt(started);
        const int64_t now = static_cast<int64_t>(env->NowMicros() / 1'000'000);
        if (due > 0 && now >= due) {
          trigger = "schedule";
        } else {
          // Woken by a stop or a reload (a new interval); at least once a minute (the clock).
          cv.WaitForMicros(&mu, 60'000'000);
        }
      }
      NodeLog("scrub (" + trigger + "): checking every chunk of the store");
      const ScrubRun run = scrubber->Check(trigger, [this] { return Stopping(); });
      NodeLog("scrub (" + trigger + ")" + (run.stopped ? " stopped" : "") + ": " +
              std::to_string(run.chunks_checked) + " chunk(s), " +
              std::to_string(run.bytes_checked) + " bytes checked; " +
              std::to_string(run.problems.size()) + " problem(s), " +
              std::to_string(run.damaged.size()) + " damaged chunk(s), " +
              std::to_string(run.metadata_unrepaired.size()) + " damaged metadata file(s)");
      if (!run.stopped) unclean_check_due = false;
      trigger.clear();
      if (scrubber->RepairPending()) {
        MutexLock l(&mu);
        repair = true;
        cv.SignalAll();
      }
    }
  }

  // SIGHUP (systemctl reload): node.toml read again; the sync loop's settings apply before
  // the next turn, the rest waits for a restart (node/config_reload.h). Runs on the sync
  // loop's thread, the only one that reads those settings (the subscription also lives in
  // the runner, under its lock, for the status readers).
  void Reload() {
    json r = {{"at", static_cast<int64_t>(env->NowMicros() / 1'000'000)}};
    auto loaded = LoadNodeConfig(env, paths);
    if (!loaded.ok()) {
      r["error"] = loaded.status().ToString();
      NodeLog("reload: node.toml not applied: " + loaded.status().ToString());
    } else {
      ReloadPlan plan = PlanReload(config, *loaded);
      ApplyLive(plan, &config);
      limiter->SetPolicy(RatePolicyOf(config));
      pace->SetPolicy(ChildrenRatePolicyOf(config));
      scrubber->SetPolicy(ScrubPolicyOf(config));
      sync->SetSubscription(config.subscription);
      r["applied"] = plan.applied;
      r["need_restart"] = plan.need_restart;
      std::string line = "reload: applied " + std::to_string(plan.applied.size()) + " setting(s)";
      for (const auto& a : plan.applied) line += " " + a;
      if (!plan.need_restart.empty()) {
        line += "; these need a restart (running values kept):";
        for (const auto& n : plan.need_restart) line += " " + n;
      }
      NodeLog(line);
    }
    ReloadTls(&r);  // even when node.toml is broken: a renewal must not wait on an edit
    MutexLock l(&mu);
    last_reload = std::move(r);
  }

  // The certificate and key read again from the running [tls] paths (node/tls_context.h):
  // "tls_files" among the applied settings if they changed, "tls_error" if they are broken
  // (the running certificate is kept).
  void ReloadTls(json* r) {
    if (!server_tls) return;
    auto changed = server_tls->Reload(env);
    if (!changed.ok()) {
      (*r)["tls_error"] = changed.status().ToString();
      NodeLog("reload: TLS files not applied, the running certificate is kept: " +
              changed.status().ToString());
    } else if (*changed) {
      (*r)["applied"].push_back("tls_files");
      NodeLog("reload: TLS certificate and key reloaded from " + server_tls->cert_file() + " and " +
              server_tls->key_file() + " (new connections use them)");
    }
  }

  void RequestReload() {
    MutexLock l(&mu);
    reload = true;
    cv.SignalAll();
  }

  void Wake() {
    MutexLock l(&mu);
    wake = true;
    cv.SignalAll();
  }

  bool Stopping() {
    MutexLock l(&mu);
    return stopping;
  }
};

NodeServer::NodeServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
NodeServer::~NodeServer() = default;

Result<std::unique_ptr<NodeServer>> NodeServer::Open(const std::string& dir) {
  auto impl = std::make_unique<Impl>();
  impl->paths = NodePaths(dir);
  TS_ASSIGN_OR_RETURN(OpenedNode opened, OpenNodeForWriting(impl->env, impl->paths));
  impl->config = std::move(opened.config);
  impl->lock = std::move(opened.lock);
  replication::ChunkStoreOptions store_options;
  store_options.writable = true;
  store_options.auto_commit_bytes = 32ull << 20;  // a crash loses at most this much fetched data
  TS_ASSIGN_OR_RETURN(impl->store, replication::ChunkStore::Open(impl->paths.store, store_options));
  TS_ASSIGN_OR_RETURN(HttpFetcherOptions fo,
                      SyncFetcherOptions(impl->env, impl->config, impl->paths));
  impl->fetcher = std::make_unique<HttpFetcher>(fo);
  impl->limiter = fo.limiter;  // the sync's cap; the other fetchers are not capped
  fo.limiter = nullptr;
  HttpFetcherOptions push_options = fo;  // a long-poll is quiet for the whole hold
  push_options.stall_timeout = std::chrono::seconds(kPushHoldSeconds + 15);
  push_options.min_bytes_per_second = 0;
  impl->push_fetcher = std::make_unique<HttpFetcher>(push_options);
  HttpFetcherOptions report_options = fo;
  report_options.stall_timeout = std::chrono::seconds(5);
  report_options.min_bytes_per_second = 0;
  impl->report_fetcher = std::make_unique<HttpFetcher>(report_options);
  impl->policy = std::make_unique<replication::SourcePolicy>(NamedSources(impl->config));
  impl->scrubber = std::make_unique<Scrubber>(impl->env, impl->store.get(),
                                              ScrubPolicyOf(impl->config), impl->paths.scrub);
  impl->scrubber->CheckReleasesOf(impl->paths);
  impl->gc = std::make_unique<GarbageCollector>(impl->env, impl->paths, impl->store.get());
  impl->repo =
      std::make_unique<RepositoryService>(impl->env, impl->paths.releases, impl->store.get());
  impl->pace = std::make_unique<ChildrenThrottle>(impl->env, ChildrenRatePolicyOf(impl->config));
  HttpFetcherOptions user_options = fo;
  user_options.stall_timeout = std::chrono::seconds(std::min(impl->config.stall_seconds, 5));
  user_options.min_bytes_per_second = 0;
  impl->user_fetcher = std::make_unique<HttpFetcher>(user_options);
  impl->children = std::make_unique<ChildReports>(impl->env, impl->paths);
  impl->children->Load();
  TS_ASSIGN_OR_RETURN(impl->fleet, fleet::FleetStore::Open(impl->paths.fleet));
  impl->intake = std::make_unique<ReportIntake>(impl->env, impl->children.get(), impl->fleet.get(),
                                                impl->config.name, impl->config.region);
  impl->enrollment = std::make_unique<EnrollmentService>(impl->env, impl->paths, impl->config);
  impl->sync = std::make_unique<SyncRunner>(
      SyncParts{impl->env, impl->paths, impl->config, impl->store.get(), impl->fetcher.get(),
                impl->policy.get(), nullptr,
                [limiter = impl->limiter] { return limiter->WindowOpen(); }},
      impl->children.get());
  // Users' misses ask the same sources through the same policy; what they reject is reported
  // beside the sync's rejections.
  impl->users = std::make_unique<UserApi>(impl->env, impl->paths, impl->config, impl->store.get(),
                                          impl->user_fetcher.get(), impl->policy.get(),
                                          [sync = impl->sync.get()](const std::string& what) {
                                            sync->Rejected("users' miss: " + what);
                                          });
  TS_RETURN_IF_ERROR(impl->users->Open());
  Impl* raw = impl.get();
  impl->sync->SetExtraStatus([raw] { return raw->ExtraStatus(); });
  impl->cycle = std::make_unique<SyncCycle>(
      impl->sync.get(), impl->report_fetcher.get(), impl->config, [raw](const SyncOutcome& o) {
        auto dir = CurrentReleaseDir(raw->env, raw->paths);  // just written by the sync
        raw->SetCurrent(o.current, dir.ok() ? *dir : "");
        ReturnFreedHeap();  // the previous release's catalog
      });
  impl->reporter = std::make_unique<UpwardReporter>(
      impl->env, impl->config, impl->fleet.get(), impl->report_fetcher.get(),
      [raw] { return raw->OwnState(); }, [raw] { return raw->users->RecentUsage(); });
  impl->cycle->SetReportSender([raw](const ChildReport& r) { return raw->reporter->Send(r); });
  impl->federation = std::make_unique<FederationApi>(
      impl->env, impl->fleet.get(),
      FederationApi::Self{impl->config.name, std::string(TierName(impl->config.tier)),
                          impl->config.region},
      [raw] {
        auto c = raw->sync->current();
        return c ? FederationApi::Latest{c->release, c->version} : FederationApi::Latest{};
      },
      [raw](const std::string& id) -> std::optional<FederationApi::ResourceInfo> {
        auto tp = raw->users->TitleAndProvider(id);
        if (!tp) return std::nullopt;
        return FederationApi::ResourceInfo{tp->first, tp->second};
      });
  impl->git = std::make_unique<GitHttpService>(impl->paths.catalog,
                                               [raw] { return raw->served_release.load(); });
  TS_ASSIGN_OR_RETURN(auto current, ReadCurrent(impl->env, impl->paths));
  if (current) {
    TS_ASSIGN_OR_RETURN(std::string dir, CurrentReleaseDir(impl->env, impl->paths));
    impl->SetCurrent(*current, dir);
    ReturnFreedHeap();  // what reading the catalog took beyond its index
  }
  if (impl->config.push) {
    impl->push = std::make_unique<PushListener>(
        PushListenerOptions{impl->env, impl->push_fetcher.get(), impl->policy.get(),
                            [raw] { return raw->notifier.version(); }, [raw] { raw->Wake(); },
                            [raw] { return raw->Stopping(); }});
  }
  TS_ASSIGN_OR_RETURN(auto server_tls, LoadServerTls(impl->env, impl->config, impl->paths.config));
  impl->server = std::make_unique<HttpServer>(impl.get());
  impl->server_tls = server_tls;
  if (server_tls) impl->server->UseTls(std::move(server_tls));  // HTTPS only
  // Before anyone can be told the node is ready: SIGTERM stops it, SIGHUP reloads node.toml.
  impl->server->StopOnSignals();
  impl->server->OnReloadSignal([raw] { raw->RequestReload(); });
  return std::unique_ptr<NodeServer>(new NodeServer(std::move(impl)));
}

Result<uint16_t> NodeServer::Listen(const std::string& listen_override) {
  std::string host = impl_->config.listen_host;
  uint16_t port = impl_->config.listen_port;
  if (!listen_override.empty()) {
    TS_ASSIGN_OR_RETURN(std::tie(host, port), ParseListenAddress(listen_override));
  }
  TS_ASSIGN_OR_RETURN(uint16_t bound, impl_->server->Listen(host, port));
  NodeLog(std::string(impl_->config.tls_cert.empty() ? "HTTP" : "HTTPS (only)") + " on " + host +
          ":" + std::to_string(bound));
  return bound;
}

Status NodeServer::Run() {
  // RUNNING left behind by the last run: it did not stop cleanly; the store is checked first.
  TS_ASSIGN_OR_RETURN(const bool unclean, MarkRunning(impl_->env, impl_->paths.running));
  if (unclean) NodeLog("the last run did not stop cleanly: checking the store (scrub)");
  impl_->unclean_check_due = unclean;
  std::thread scrub([this, unclean] { impl_->ScrubLoop(unclean); });
  std::thread sync([this] { impl_->SyncLoop(); });
  std::thread push;
  if (impl_->push) push = std::thread([impl = impl_] { impl->push->Run(); });
  impl_->server->Run();  // until SIGINT/SIGTERM
  {
    MutexLock l(&impl_->mu);
    impl_->stopping = true;
    impl_->cv.SignalAll();
  }
  sync.join();
  scrub.join();
  impl_->users->FlushUsage().IgnoreError();
  // A clean stop: the next start needs no check first — unless the check after an unclean
  // shutdown was cut short (RUNNING stays: the next start checks again).
  if (impl_->unclean_check_due) {
    NodeLog("the store's check after the unclean shutdown did not finish; the next start checks");
  } else if (Status s = MarkStopped(impl_->env, impl_->paths.running); !s.ok()) {
    NodeLog("could not remove " + impl_->paths.running + ": " + s.ToString());
  }
  if (push.joinable()) push.detach();  // may sit in a long-poll; it holds its own impl_
  return Status::Ok();
}

}  // namespace tiersync::node
