// HubService: what `tiersync hub serve` answers — the same API a node serves to its children
// (docs/protocol.md), from the hub's own directory: the TUF repository and chunk store
// (node::RepositoryService), the catalog over git smart HTTP (every release tagged so far:
// nodes check each against the signed manifest), and push (GET /v1/events) announcing each
// new timestamp version as soon as `hub publish` writes it (checked every second); and the
// user API and web UI a node serves, for the national platform's own users (hub/hub_users.h),
// switched to each new release once it verifies; and the provinces' reports (POST /v1/reports,
// node/report_intake.h) into <hub>/fleet, which the federation view and dashboard read
// (GET /v1/federation/..., /federation/; node/federation_api.h).
#ifndef TIERSYNC_HUB_HUB_SERVICE_H_
#define TIERSYNC_HUB_HUB_SERVICE_H_

#include <atomic>
#include <memory>
#include <thread>

#include "fleet/fleet_store.h"
#include "hub/hub_dir.h"
#include "hub/hub_users.h"
#include "node/child_reports.h"
#include "node/federation_api.h"
#include "node/git_http_service.h"
#include "node/release_notifier.h"
#include "node/report_intake.h"
#include "node/repository_service.h"

namespace tiersync::hub {

class HubService : public node::HttpHandler {
 public:
  // `store` is not owned and must outlive the service.
  HubService(Env* env, const HubPaths& paths, const replication::ChunkStore* store);
  ~HubService() override;  // stops the watcher

  // Sets up the users' side (hub/hub_users.h) and starts the watcher, which first verifies
  // the newest release for users. Call once, before serving.
  Status Open();

  node::HttpReply Handle(const node::HttpRequest& request) override;

 private:
  void Watch();
  // The users' usage of the last days into the fleet store (the hub's own row of the view);
  // and the store's retention, hourly.
  void RecordOwnUsage();

  Env* env_;
  HubPaths paths_;
  node::RepositoryService repo_;
  node::GitHttpService git_;
  node::ReleaseNotifier notifier_;
  HubUsers users_;
  node::NodePaths report_paths_;  // <hub>/children: the children's roll-up parts
  node::ChildReports children_;
  std::unique_ptr<fleet::FleetStore> fleet_;  // made by Open()
  std::unique_ptr<node::ReportIntake> intake_;
  std::unique_ptr<node::FederationApi> federation_;
  std::atomic<int64_t> expired_at_{0};
  std::atomic<bool> stopping_{false};
  std::thread watcher_;
};

}  // namespace tiersync::hub

#endif  // TIERSYNC_HUB_HUB_SERVICE_H_
