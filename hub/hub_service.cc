#include "hub/hub_service.h"

#include <chrono>
#include <iostream>

#include "catalogs/git_catalog.h"
#include "protocol/tuf_metadata.h"

namespace tiersync::hub {
namespace {

// The version of the hub's own timestamp.json (its own file: no verification needed to
// announce it; clients verify what they then fetch). 0 if unreadable.
uint64_t TimestampVersion(Env* env, const HubPaths& paths) {
  auto bytes = ReadFileToBytes(env, JoinPath(paths.tuf, "metadata/timestamp.json"),
                               protocol::tuf::kMaxTimestampBytes);
  if (!bytes.ok()) return 0;
  auto envelope = protocol::tuf::ParseEnvelope(*bytes, protocol::tuf::kMaxTimestampBytes);
  if (!envelope.ok()) return 0;
  auto ts = protocol::tuf::ParseTimestamp(envelope->signed_json);
  return ts.ok() ? ts->version : 0;
}

uint64_t NewestRelease(const HubPaths& paths) {
  auto git = catalogs::GitCatalog::Open(paths.catalog);
  if (!git.ok()) return 0;
  auto releases = (*git)->Releases();
  return releases.ok() && !releases->empty() ? releases->back().number : 0;
}

// The region code of the national platform's own rows in the fleet store.
constexpr char kNationalRegion[] = "000000";

}  // namespace

HubService::HubService(Env* env, const HubPaths& paths, const replication::ChunkStore* store)
    : env_(env),
      paths_(paths),
      repo_(env, paths.tuf, store),
      // Read at each request, not from the watcher's last look: `hub publish` tags a release
      // before it signs the metadata naming it, so whoever has seen the metadata finds the
      // release in the advertisement (a cached number lagged up to a second behind).
      git_(paths.catalog, [this] { return NewestRelease(paths_); }),
      users_(env, paths, store),
      report_paths_(paths.dir),
      children_(env, report_paths_) {
  notifier_.Publish(TimestampVersion(env_, paths_));
}

Status HubService::Open() {
  TS_RETURN_IF_ERROR(users_.Open());
  children_.Load();
  TS_ASSIGN_OR_RETURN(fleet_, fleet::FleetStore::Open(report_paths_.fleet));
  intake_ = std::make_unique<node::ReportIntake>(env_, &children_, fleet_.get(), users_.name(), "");
  federation_ = std::make_unique<node::FederationApi>(
      env_, fleet_.get(), node::FederationApi::Self{users_.name(), "national", ""},
      [this] {
        auto [release, version] = users_.ServedRelease();
        return node::FederationApi::Latest{release, version};
      },
      [this](const std::string& id) -> std::optional<node::FederationApi::ResourceInfo> {
        auto tp = users_.TitleAndProvider(id);
        if (!tp) return std::nullopt;
        return node::FederationApi::ResourceInfo{tp->first, tp->second};
      });
  watcher_ = std::thread([this] { Watch(); });
  return Status::Ok();
}

HubService::~HubService() {
  stopping_ = true;
  if (watcher_.joinable()) watcher_.join();
}

void HubService::Watch() {
  // A release that does not verify is not served to users (logged, in status); the rest of
  // the hub serves on, and the check is tried again.
  uint64_t checked = TimestampVersion(env_, paths_);
  bool failed = !users_.Resume().ok();
  for (int tick = 1; !stopping_; ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    if (tick % 4 != 0) continue;  // every second, but quick to stop
    const uint64_t version = TimestampVersion(env_, paths_);
    notifier_.Publish(version);
    // Each new version once; after a failure (logged and kept for status), again every 10 s.
    if (version != checked || (failed && tick % 40 == 0)) {
      checked = version;
      failed = !users_.Update().ok();
    }
    if (tick % 40 == 0) RecordOwnUsage();
  }
}

void HubService::RecordOwnUsage() {
  const int64_t now = static_cast<int64_t>(env_->NowMicros() / 1'000'000);
  if (Status s = fleet_->PutUsage(users_.name(), kNationalRegion, users_.RecentUsage(), now);
      !s.ok()) {
    std::cerr << "tiersync hub: the users' usage is not in the federation view: " << s.ToString()
              << std::endl;
  }
  if (now - expired_at_ >= 3600) {
    expired_at_ = now;
    fleet_->Expire(now).IgnoreError();
  }
}

node::HttpReply HubService::Handle(const node::HttpRequest& request) {
  std::string_view target = request.target;
  if (target.starts_with("/v1/catalog.git/")) {
    return git_.Handle(request, target.substr(std::string_view("/v1/catalog.git").size()));
  }
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/v1/events") return notifier_.Wait(node::ParseEventsQuery(target));
  if (path == "/v1/reports") return intake_->Accept(request);
  if (path.starts_with("/v1/federation/") || path.starts_with("/federation")) {
    if (path.starts_with("/v1/federation/usage")) RecordOwnUsage();  // counts up to now
    if (auto reply = federation_->Handle(request)) return std::move(*reply);
  }
  if (auto reply = users_.Handle(request)) {
    return repo_.Count(node::UserEndpoint(target), std::move(*reply));
  }
  if (path == "/metrics") {
    node::MetricsText m = repo_.Metrics();
    m.Append(federation_->Metrics());
    return node::MetricsReply(m);
  }
  node::HttpReply reply = repo_.Handle(request);
  if (path == "/v1/status" && reply.status == 200) {
    // The repository's status, with the users' side as a node's status has it.
    nlohmann::json j = nlohmann::json::parse(reply.body, nullptr, false);
    if (j.is_object()) {
      j.update(users_.StatusJson());
      reply.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  return reply;
}

}  // namespace tiersync::hub
