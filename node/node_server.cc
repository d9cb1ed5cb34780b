#include "node/node_server.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <condition_variable>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/sha256.h"
#include "catalogs/git_transport.h"
#include "catalogs/region_table.h"
#include "catalogs/release.h"
#include "catalogs/subscription.h"
#include "catalogs/taxonomy.h"
#include "node/git_http_service.h"
#include "node/http_fetcher.h"
#include "node/node_dir.h"
#include "node/node_sync.h"
#include "node/release_notifier.h"
#include "node/repository_service.h"
#include "node/tls_context.h"
#include "node/user_api.h"

namespace tiersync::node {
namespace {

using nlohmann::json;
constexpr size_t kMaxChildren = 1000;

int64_t NowSeconds(Env* env) { return static_cast<int64_t>(env->NowMicros() / 1000000); }

// The /metrics endpoint label of a users' request.
std::string UserEndpoint(std::string_view target) {
  for (std::string_view e : {"targets", "files", "catalog", "open", "resolve", "usage"}) {
    if (target.starts_with("/v1/" + std::string(e))) return std::string(e);
  }
  return "ui";
}

std::string Dump(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace); }

void Log(const std::string& line) { std::cerr << "tiersync node: " << line << std::endl; }

// Gives the pages of freed heap memory back to the system. A sync cycle and a catalog switch
// free tens of MiB (the release's records, the old catalog) in the middle of malloc's arenas,
// where it would otherwise stay resident and add to the next cycle's peak.
void ReturnFreedMemory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

}  // namespace

struct NodeServer::Impl : public HttpHandler {
  Env* env = Env::Default();
  NodePaths paths{""};
  NodeConfig config;
  std::unique_ptr<FileLock> lock;
  std::unique_ptr<replication::ChunkStore> store;
  std::unique_ptr<HttpFetcher> fetcher;
  std::unique_ptr<replication::SourcePolicy> policy;
  std::unique_ptr<RepositoryService> repo;
  std::unique_ptr<GitHttpService> git;
  std::unique_ptr<HttpFetcher> user_fetcher;  // the miss policy and /v1/resolve: short timeouts
  std::unique_ptr<UserApi> users;
  ReleaseNotifier notifier;
  std::unique_ptr<HttpServer> server;
  std::atomic<uint64_t> served_release{0};

  std::mutex reports_mu;  // one report written at a time
  std::mutex mu;          // guards the fields below
  std::condition_variable cv;
  bool wake = false;
  bool stopping = false;
  std::optional<ServedRelease> current;
  json last_sync = json::object();                    // the last cycle that switched or failed
  json last_check = json::object();                   // the last cycle, whatever it did
  std::vector<std::string> rejections;                // recent, newest last
  std::map<std::string, uint64_t> chunk_bytes_total;  // verified chunk bytes, by source URL
  uint64_t planned_bytes_total = 0;                   // missing chunk bytes, over all plans
  int consecutive_failures = 0;

  void SetCurrent(const ServedRelease& r, const std::string& dir_name) {
    repo->SetTufDir(JoinPath(paths.releases, dir_name));
    if (tiersync::Status s = users->SetRelease(dir_name); !s.ok()) {
      Log("users keep the previous catalog: " + s.ToString());
    }
    served_release = catalogs::ReleaseNumber(r.release).value_or(0);
    {
      std::lock_guard<std::mutex> l(mu);
      current = r;
    }
    notifier.Publish(r.version);
  }

  HttpReply Handle(const HttpRequest& request) override {
    std::string_view target = request.target;
    if (target.starts_with("/v1/catalog.git/")) {
      return git->Handle(request, target.substr(std::string_view("/v1/catalog.git").size()));
    }
    if (auto reply = users->Handle(request)) {
      return repo->Count(UserEndpoint(target), std::move(*reply));
    }
    std::string_view path = target.substr(0, target.find('?'));
    if (path == "/v1/events") return notifier.Wait(ParseEventsQuery(target));
    if (path == "/v1/reports") return Report(request);
    if (path == "/v1/status") {
      HttpReply r = HttpReply::Json(Dump(StatusJson()));
      r.headers.emplace_back("Cache-Control", "no-cache");
      return r;
    }
    if (path == "/metrics") {
      HttpReply r = repo->Handle(request);
      std::lock_guard<std::mutex> l(mu);
      r.body +=
          "# HELP tiersync_sync_fetched_bytes_total Verified chunk bytes fetched, by source.\n";
      r.body += "# TYPE tiersync_sync_fetched_bytes_total counter\n";
      for (const auto& h : policy->Snapshot()) {
        r.body += "tiersync_sync_fetched_bytes_total{source=\"" + h.source.url + "\"} " +
                  std::to_string(h.bytes) + "\n";
      }
      r.body += "# HELP tiersync_sync_chunk_bytes_total Verified chunk bytes fetched, by source.\n";
      r.body += "# TYPE tiersync_sync_chunk_bytes_total counter\n";
      for (const auto& h : policy->Snapshot()) {
        auto it = chunk_bytes_total.find(h.source.url);
        r.body += "tiersync_sync_chunk_bytes_total{source=\"" + h.source.url + "\"} " +
                  std::to_string(it == chunk_bytes_total.end() ? 0 : it->second) + "\n";
      }
      r.body +=
          "# HELP tiersync_sync_planned_bytes_total Missing chunk bytes the sync plans named.\n";
      r.body += "# TYPE tiersync_sync_planned_bytes_total counter\n";
      r.body += "tiersync_sync_planned_bytes_total " + std::to_string(planned_bytes_total) + "\n";
      r.body +=
          "# HELP tiersync_sync_lacked_total Objects a source was asked for and did not have.\n";
      r.body += "# TYPE tiersync_sync_lacked_total counter\n";
      for (const auto& h : policy->Snapshot()) {
        r.body += "tiersync_sync_lacked_total{source=\"" + h.source.url + "\"} " +
                  std::to_string(h.lacked) + "\n";
      }
      r.body +=
          "# HELP tiersync_sync_rejections_total Answers from sources that failed verification.\n";
      r.body += "# TYPE tiersync_sync_rejections_total counter\n";
      for (const auto& h : policy->Snapshot()) {
        r.body += "tiersync_sync_rejections_total{source=\"" + h.source.url + "\"} " +
                  std::to_string(h.rejections) + "\n";
      }
      r.body += "# HELP tiersync_served_release_version Timestamp version of the served release.\n";
      r.body += "# TYPE tiersync_served_release_version gauge\n";
      r.body += "tiersync_served_release_version " +
                std::to_string(current ? current->version : 0) + "\n";
      return r;
    }
    return repo->Handle(request);
  }

  HttpReply Report(const HttpRequest& request) {
    if (request.method != "POST") return HttpReply::Text(405, "POST a report");
    json j = json::parse(request.body, nullptr, false);
    if (!j.is_object() || !j.contains("name") || !j["name"].is_string() ||
        !j.contains("subscription") || !j["subscription"].is_string()) {
      return HttpReply::Text(400, "a report is a JSON object with name and subscription");
    }
    auto sub = catalogs::Subscription::Parse(j["subscription"].get<std::string>(),
                                             catalogs::Taxonomy::Builtin(),
                                             catalogs::RegionTable::Builtin());
    if (!sub.ok()) return HttpReply::Text(400, sub.status().message());
    std::lock_guard<std::mutex> serial(reports_mu);  // handlers run concurrently
    const std::string file =
        JoinPath(paths.children,
                 ToHex(Sha256(AsBytes(j["name"].get<std::string>()))).substr(0, 16) + ".json");
    auto existing = env->GetChildren(paths.children);
    if (!env->FileExists(file) && existing.ok() && existing->size() >= kMaxChildren) {
      return HttpReply::Text(503, "too many children");
    }
    j["received_at"] = NowSeconds(env);
    tiersync::Status s = WriteFileAtomically(env, file, AsBytes(Dump(j)));
    if (!s.ok()) return HttpReply::Text(500, s.ToString());
    return HttpReply::Json("{\"ok\": true}");
  }

  json StatusJson() {
    json j;
    j["name"] = config.name;
    j["tier"] = std::string(TierName(config.tier));
    j["region"] = config.region;
    if (const catalogs::Region* r = catalogs::RegionTable::Builtin().Find(config.region)) {
      j["region_name"] = r->name;
    }
    j["now"] = NowSeconds(env);
    {
      std::lock_guard<std::mutex> l(mu);
      if (current) {
        j["current"] = json::parse(EncodeServedRelease(*current));
      } else {
        j["current"] = nullptr;
      }
      j["last_sync"] = last_sync;
      j["last_check"] = last_check;
      j["recent_rejections"] = rejections;
    }
    json sources = json::array();
    const int64_t now_ms = static_cast<int64_t>(env->NowMicros() / 1000);
    for (const auto& h : policy->Snapshot()) {
      sources.push_back(
          {{"name", h.source.name},
           {"url", h.source.url},
           {"healthy", h.demoted_until_ms <= now_ms},
           {"requests", h.requests},
           {"failures", h.failures},
           {"rejections", h.rejections},
           {"lacked", h.lacked},
           {"bytes", h.bytes},
           {"last_ok", h.last_ok_ms / 1000},
           {"demoted_for_seconds", std::max<int64_t>(0, (h.demoted_until_ms - now_ms) / 1000)},
           {"last_error", h.last_error}});
    }
    j["sources"] = sources;
    if (auto stats = store->Stats(); stats.ok()) {
      j["storage"] = {{"chunks", stats->chunks},
                      {"raw_bytes", stats->raw_bytes},
                      {"stored_bytes", stats->stored_bytes},
                      {"quota_bytes", config.quota_bytes}};
    }
    json children = json::array();
    for (const auto& [name, sub] : ReadChildSubscriptions(env, paths)) children.push_back(name);
    j["children_reports"] = children.size();
    json user_side = users->StatusJson();
    j["usage"] = user_side["usage"];
    j["serving"] = user_side["serving"];
    return j;
  }

  // One sync cycle with its bookkeeping; true if it succeeded.
  bool SyncOnce() {
    SyncOutcome partial;
    const int64_t started = NowSeconds(env);
    const std::vector<replication::SourceHealth> before = policy->Snapshot();
    auto r = NodeSync(env, paths, config, store.get(), fetcher.get(), policy.get())
                 .Run(nullptr, &partial);
    json s = {{"started_at", started},
              {"finished_at", NowSeconds(env)},
              {"ok", r.ok()},
              {"metadata_source", partial.metadata_source},
              {"catalog_source", partial.catalog_source},
              {"wanted_files", partial.wanted_files},
              {"planned_bytes", partial.planned_bytes},
              {"fetched_bytes", partial.fetched_bytes},
              {"fetched_chunks", partial.fetched_chunks}};
    if (!r.ok()) {
      s["error"] = r.status().ToString();
      s["code"] = std::string(StatusCodeName(r.status().code()));
    }
    for (const auto& rej : partial.rejected) Log("REJECTED " + rej);
    const std::vector<replication::SourceHealth> after = policy->Snapshot();
    for (size_t i = 0; i < after.size() && i < before.size(); ++i) {
      if (after[i].lacked > before[i].lacked) {
        Log(after[i].source.name + " lacked " + std::to_string(after[i].lacked - before[i].lacked) +
            " objects it was asked for; fetched them elsewhere or will retry");
      }
    }
    {  // before SetCurrent: whoever sees the new release also sees what it took
      std::lock_guard<std::mutex> l(mu);
      // A cycle that found the node up to date does not hide the last one that did something
      // (switched or failed); it is shown as last_check.
      if (!r.ok() || r->switched || !last_sync.value("ok", false)) last_sync = s;
      last_check = {{"at", s["finished_at"]}, {"ok", r.ok()}, {"source", partial.metadata_source}};
      planned_bytes_total += partial.planned_bytes;
      for (const auto& [url, bytes] : partial.chunk_bytes_by_source)
        chunk_bytes_total[url] += bytes;
      for (const auto& rej : partial.rejected) rejections.push_back(rej);
      if (rejections.size() > 20) rejections.erase(rejections.begin(), rejections.end() - 20);
      consecutive_failures = r.ok() ? 0 : consecutive_failures + 1;
    }
    ReturnFreedMemory();  // what the cycle read and planned
    if (!r.ok()) {
      Log("sync failed: " + r.status().ToString());
    } else if (r->switched) {
      Log("now serving " + r->current.release + " (version " + std::to_string(r->current.version) +
          ", " + std::to_string(r->current.files) + " files; fetched " +
          std::to_string(r->fetched_bytes) + " bytes; metadata from " + r->metadata_source + ")");
      auto dir = CurrentReleaseDir(env, paths);  // just written by the sync
      SetCurrent(r->current, dir.ok() ? *dir : "");
      ReturnFreedMemory();  // the previous release's catalog
    }
    json state = StatusJson();
    WriteFileAtomically(env, paths.state, AsBytes(Dump(state))).IgnoreError();
    if (r.ok()) ReportToParent();
    return r.ok();
  }

  void ReportToParent() {
    if (config.sources.empty()) return;
    json report = {{"name", config.name},
                   {"tier", std::string(TierName(config.tier))},
                   {"region", config.region},
                   {"subscription", config.subscription}};
    {
      std::lock_guard<std::mutex> l(mu);
      if (current) report["release"] = current->release, report["version"] = current->version;
    }
    std::string body = report.dump();
    HttpFetcherOptions options;
    options.stall_timeout = std::chrono::seconds(5);
    options.tls = fetcher->options().tls;  // [tls] ca
    HttpFetcher short_fetcher(options);
    short_fetcher
        .Post(config.sources.front() + "/v1/reports", "application/json", AsBytes(body), 4096)
        .status()
        .IgnoreError();  // a parent that is down hears from us after the next sync
  }

  void SyncLoop() {
    std::mt19937_64 rng(env->RandomSeed());
    for (;;) {
      const bool ok = SyncOnce();
      int64_t wait_ms = static_cast<int64_t>(config.poll_seconds) * 1000;
      if (!ok) wait_ms = std::min<int64_t>(wait_ms, 1000ll << std::min(consecutive_failures, 8));
      wait_ms += static_cast<int64_t>(rng() % (static_cast<uint64_t>(wait_ms) / 5 + 1));
      // After a failure the backoff holds even when push announces a release: a source
      // that lies or lacks data is not asked again at the rate it announces.
      std::unique_lock<std::mutex> l(mu);
      cv.wait_for(l, std::chrono::milliseconds(wait_ms), [&] { return (ok && wake) || stopping; });
      if (stopping) return;
      wake = false;
    }
  }

  void Wake() {
    std::lock_guard<std::mutex> l(mu);
    wake = true;
    cv.notify_all();
  }

  // Push: long-polls the best source for a release newer than the one served.
  void PushLoop() {
    std::mt19937_64 rng(env->RandomSeed() ^ 0x9e37);
    HttpFetcherOptions options;
    options.stall_timeout = std::chrono::seconds(40);
    options.tls = fetcher->options().tls;  // [tls] ca
    HttpFetcher poller(options);
    uint64_t last_announced = 0;
    uint64_t served_when_announced = 0;
    for (;;) {
      {
        std::lock_guard<std::mutex> l(mu);
        if (stopping) return;
      }
      // Ask only about releases newer than both the served one and the last announced one,
      // so a release that cannot be synced yet does not turn the long-poll into a busy loop.
      // (Announcements are unauthenticated hints: one too high only silences push until the
      // served release changes; the poll backstop still syncs.)
      const uint64_t served = notifier.version();
      if (served != served_when_announced) last_announced = 0;
      uint64_t have = std::max(served, last_announced);
      std::vector<size_t> order = policy->Order(static_cast<int64_t>(env->NowMicros() / 1000));
      auto r = poller.Fetch(
          policy->source(order.front()).url + "/v1/events?after=" + std::to_string(have), 4096);
      if (!r.ok()) {  // a source that is down is demoted, so the next poll asks the next one
        policy->Failed(order.front(), r.status(), static_cast<int64_t>(env->NowMicros() / 1000));
      }
      uint64_t announced = 0;
      if (r.ok()) {
        json j = json::parse(r->begin(), r->end(), nullptr, false);
        if (j.is_object() && j.contains("version") && j["version"].is_number_unsigned()) {
          announced = j["version"].get<uint64_t>();
        }
      }
      if (announced > have) {
        last_announced = announced;
        served_when_announced = served;
        Wake();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      } else if (!r.ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2000 + rng() % 2000));
      }
    }
  }
};

NodeServer::NodeServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
NodeServer::~NodeServer() = default;

Result<std::unique_ptr<NodeServer>> NodeServer::Open(const std::string& dir) {
  auto impl = std::make_unique<Impl>();
  impl->paths = NodePaths(dir);
  TS_ASSIGN_OR_RETURN(impl->config, LoadNodeConfig(impl->env, impl->paths));
  TS_ASSIGN_OR_RETURN(impl->lock, LockNode(impl->env, impl->paths));
  replication::ChunkStoreOptions store_options;
  store_options.writable = true;
  store_options.auto_commit_bytes = 32ull << 20;  // a crash loses at most this much fetched data
  TS_ASSIGN_OR_RETURN(impl->store, replication::ChunkStore::Open(impl->paths.store, store_options));
  HttpFetcherOptions fo;
  fo.stall_timeout = std::chrono::seconds(impl->config.stall_seconds);
  fo.min_bytes_per_second = impl->config.min_bytes_per_second;
  TS_ASSIGN_OR_RETURN(fo.tls, LoadUpstreamTls(impl->env, impl->config, impl->paths.config));
  impl->fetcher = std::make_unique<HttpFetcher>(fo);
  std::vector<replication::Source> sources;
  for (const std::string& url : impl->config.AllSources()) {
    std::string name = url == impl->config.national          ? "national (" + url + ")"
                       : url == impl->config.sources.front() ? "parent (" + url + ")"
                                                             : "ancestor (" + url + ")";
    sources.push_back({name, url});
  }
  impl->policy = std::make_unique<replication::SourcePolicy>(sources);
  impl->repo =
      std::make_unique<RepositoryService>(impl->env, impl->paths.releases, impl->store.get());
  HttpFetcherOptions user_options = fo;
  user_options.stall_timeout = std::chrono::seconds(std::min(impl->config.stall_seconds, 5));
  user_options.min_bytes_per_second = 0;
  impl->user_fetcher = std::make_unique<HttpFetcher>(user_options);
  impl->users = std::make_unique<UserApi>(impl->env, impl->paths, impl->config, impl->store.get(),
                                          impl->user_fetcher.get());
  TS_RETURN_IF_ERROR(impl->users->Open());
  Impl* raw = impl.get();
  impl->git = std::make_unique<GitHttpService>(impl->paths.catalog,
                                               [raw] { return raw->served_release.load(); });
  TS_ASSIGN_OR_RETURN(auto current, ReadCurrent(impl->env, impl->paths));
  if (current) {
    TS_ASSIGN_OR_RETURN(std::string dir, CurrentReleaseDir(impl->env, impl->paths));
    impl->SetCurrent(*current, dir);
    ReturnFreedMemory();  // what reading the catalog took beyond its index
  }
  TS_ASSIGN_OR_RETURN(auto server_tls, LoadServerTls(impl->env, impl->config, impl->paths.config));
  impl->server = std::make_unique<HttpServer>(impl.get());
  if (server_tls) impl->server->UseTls(std::move(server_tls));  // HTTPS only
  return std::unique_ptr<NodeServer>(new NodeServer(std::move(impl)));
}

Result<uint16_t> NodeServer::Listen(const std::string& listen_override) {
  std::string host = impl_->config.listen_host;
  uint16_t port = impl_->config.listen_port;
  if (!listen_override.empty()) {
    size_t colon = listen_override.rfind(':');
    if (colon == std::string::npos) return InvalidArgumentError("--listen wants HOST:PORT");
    host = listen_override.substr(0, colon);
    port = static_cast<uint16_t>(std::stoul(listen_override.substr(colon + 1)));
  }
  TS_ASSIGN_OR_RETURN(uint16_t bound, impl_->server->Listen(host, port));
  Log(std::string(impl_->config.tls_cert.empty() ? "HTTP" : "HTTPS (only)") + " on " + host + ":" +
      std::to_string(bound));
  return bound;
}

Status NodeServer::Run() {
  impl_->server->StopOnSignals();
  std::thread sync([this] { impl_->SyncLoop(); });
  std::thread push;
  if (impl_->config.push) push = std::thread([impl = impl_] { impl->PushLoop(); });
  impl_->server->Run();  // until SIGINT/SIGTERM
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->stopping = true;
    impl_->cv.notify_all();
  }
  sync.join();
  impl_->users->FlushUsage().IgnoreError();
  if (push.joinable()) push.detach();  // may sit in a long-poll; it holds its own impl_
  return Status::Ok();
}

}  // namespace tiersync::node
