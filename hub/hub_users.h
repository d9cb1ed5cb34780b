// HubUsers: the national platform's own users (issue 20). Provinces without the means for a
// node use the national platform directly (不具备条件的省份可以直接使用国家平台), and a user
// whose node is down falls back to it: `hub serve` answers the same user API and web UI as a
// node (node/user_api.h: browse, search, detail, files with ranges, content URLs, usage) from
// the hub's own store and catalog.
//
// What it serves is what a node would serve, checked the same way: after every publish the
// hub's repository is verified as a node verifies its parent — the TUF client workflow from
// the repository's first root (its own trusted state, never the publisher's), every role,
// the catalog manifest target downloaded and checked, the catalog release read from the hub's
// repository against the signed manifest, the signed retractions applied (node/takedown.h:
// a withdrawn resource answers 410 here too) — and a release directory is written in a node's
// layout (node/release_dir.h) and switched to atomically; the UserApi then serves it.
//
//   <hub>/users/root.json     the starting root: the repository's 1.root.json, copied once
//   <hub>/users/trusted/      the TUF client state of this check
//   <hub>/users/downloads/    verified whole targets (the catalog manifest)
//   <hub>/users/releases/<V>-national/, CURRENT   as on a node
//   <hub>/users/usage/        views and downloads per day (node/usage_counter.h)
// Only `hub serve` writes there (publishing never does): the two processes share no file
// they both write. A publish that fails the check leaves the release served before, and the
// error is logged and kept for status.
//
// Thread-safe: Update from one thread at a time (the service's watcher), Handle and
// StatusJson from any.
#ifndef TIERSYNC_HUB_HUB_USERS_H_
#define TIERSYNC_HUB_HUB_USERS_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/env.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "hub/hub_dir.h"
#include "node/http_server.h"
#include "node/node_config.h"
#include "node/node_dir.h"
#include "node/user_api.h"
#include "replication/chunk_store.h"
#include "replication/env_fetcher.h"
#include "replication/source_policy.h"

namespace tiersync::hub {

class HubUsers {
 public:
  // Nothing is owned; `store` (read-only is enough) outlives this.
  HubUsers(Env* env, const HubPaths& paths, const replication::ChunkStore* store);
  ~HubUsers();

  // Creates <hub>/users/ on the first run and opens the usage counts. Call before Handle is
  // called from any other thread.
  Status Open();

  // Serves the release served before this start (if any), then Update(). Slow with a large
  // catalog (it is read and indexed): the service's watcher calls it, so that the hub serves
  // its children at once (users get 503 "no release yet" meanwhile).
  Status Resume();

  // Verifies the repository's newest release and switches to it; nothing when its timestamp
  // version is the one served. On error the release served before stays.
  Status Update();

  // The users' reply, or nullopt when `request` is not for the user API.
  std::optional<node::HttpReply> Handle(const node::HttpRequest& request);

  // "name", "tier", "current", "serving" and "usage" (as a node's /v1/status has them), and
  // "users_release": the release served and the last check's error.
  nlohmann::json StatusJson();

  // Who serves the users ("国家智慧教育平台"), the release they get, their recent usage, and a
  // resource's title and provider: what the federation view (node/federation_api.h) needs.
  const std::string& name() const { return config_.name; }
  std::pair<std::string, uint64_t> ServedRelease() const;
  std::vector<serving::UsageDay> RecentUsage() { return users_->RecentUsage(); }
  std::optional<std::pair<std::string, std::string>> TitleAndProvider(const std::string& id) {
    return users_->TitleAndProvider(id);
  }

 private:
  Env* const env_;
  const HubPaths hub_;
  node::NodePaths paths_;    // <hub>/users/ as a node's layout; catalog and store the hub's
  node::NodeConfig config_;  // tier national, miss "redirect": nothing is above
  replication::EnvFetcher fetcher_;
  replication::SourcePolicy sources_;     // no source above the hub: misses go nowhere
  replication::SourcePolicy repository_;  // the hub's own repository, as a node's one source
  std::unique_ptr<node::UserApi> users_;

  mutable Mutex mu_;
  uint64_t served_version_ GUARDED_BY(mu_) = 0;
  std::string served_release_ GUARDED_BY(mu_);
  std::string error_ GUARDED_BY(mu_);
};

}  // namespace tiersync::hub

#endif  // TIERSYNC_HUB_HUB_USERS_H_
