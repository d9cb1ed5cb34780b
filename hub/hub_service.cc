#include "hub/hub_service.h"

#include <chrono>

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

}  // namespace

HubService::HubService(Env* env, const HubPaths& paths, const replication::ChunkStore* store)
    : env_(env),
      paths_(paths),
      repo_(env, paths.tuf, store),
      // Read at each request, not from the watcher's last look: `hub publish` tags a release
      // before it signs the metadata naming it, so whoever has seen the metadata finds the
      // release in the advertisement (a cached number lagged up to a second behind).
      git_(paths.catalog, [this] { return NewestRelease(paths_); }) {
  notifier_.Publish(TimestampVersion(env_, paths_));
  watcher_ = std::thread([this] { Watch(); });
}

HubService::~HubService() {
  stopping_ = true;
  watcher_.join();
}

void HubService::Watch() {
  for (int tick = 1; !stopping_; ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    if (tick % 4 != 0) continue;  // every second, but quick to stop
    notifier_.Publish(TimestampVersion(env_, paths_));
  }
}

node::HttpReply HubService::Handle(const node::HttpRequest& request) {
  std::string_view target = request.target;
  if (target.starts_with("/v1/catalog.git/")) {
    return git_.Handle(request, target.substr(std::string_view("/v1/catalog.git").size()));
  }
  if (target.substr(0, target.find('?')) == "/v1/events") {
    return notifier_.Wait(node::ParseEventsQuery(target));
  }
  return repo_.Handle(request);
}

}  // namespace tiersync::hub
