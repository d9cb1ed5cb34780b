#include "hub/hub_users.h"

#include <iostream>

#include "base/hex.h"
#include "catalogs/git_catalog.h"
#include "catalogs/region_table.h"
#include "catalogs/release.h"
#include "catalogs/taxonomy.h"
#include "node/node_sync.h"
#include "node/release_dir.h"
#include "node/takedown.h"
#include "replication/release_sync.h"
#include "replication/tuf_updater.h"

namespace tiersync::hub {
namespace {

// The hub's repository as a node's one source: its files, through the same client.
constexpr char kRepositoryUrl[] = "hub-repository:";

void Log(const std::string& line) { std::cerr << "tiersync hub: users: " << line << std::endl; }

node::NodePaths UsersPaths(const HubPaths& hub) {
  node::NodePaths p(JoinPath(hub.dir, "users"));
  p.catalog = hub.catalog;
  p.store = hub.store;
  return p;
}

node::NodeConfig UsersConfig() {
  node::NodeConfig c;
  c.name = "国家智慧教育平台";
  c.tier = node::Tier::kNational;
  c.miss = node::NodeConfig::MissPolicy::kRedirect;  // nothing above: nowhere to send a miss
  c.cache_quota_bytes = 0;                           // everything is in the hub's store
  return c;
}

// The release's files with chunk indexes (what a node subscribed to everything plans).
std::vector<replication::PlannedFile> AllFiles(const replication::VerifiedMetadata& m) {
  std::vector<replication::PlannedFile> files;
  for (const auto& [path, target] : m.targets) {
    const bool chunked = target->custom && target->custom->Find("chunk_index") != nullptr;
    if (!chunked) continue;  // the catalog manifest: kept whole in the release directory
    if (auto f = replication::PlannedFileFor(path, *target, false); f.ok()) {
      files.push_back(std::move(f).value());
    }
  }
  return files;
}

}  // namespace

HubUsers::HubUsers(Env* env, const HubPaths& paths, const replication::ChunkStore* store)
    : env_(env),
      hub_(paths),
      paths_(UsersPaths(paths)),
      config_(UsersConfig()),
      fetcher_(env),
      sources_(std::vector<replication::Source>{}),
      repository_(std::vector<replication::Source>{{"the hub's repository", kRepositoryUrl}}),
      users_(std::make_unique<node::UserApi>(env, paths_, config_, store, &fetcher_, &sources_)) {
  fetcher_.Mount(std::string(kRepositoryUrl) + "/v1/metadata/", JoinPath(paths.tuf, "metadata"));
  fetcher_.Mount(std::string(kRepositoryUrl) + "/v1/targets/", JoinPath(paths.tuf, "targets"));
}

HubUsers::~HubUsers() = default;

Status HubUsers::Open() {
  TS_RETURN_IF_ERROR(CreateDirs(env_, paths_.dir));
  if (!env_->FileExists(paths_.root)) {
    TS_ASSIGN_OR_RETURN(auto root, ReadFileToBytes(env_, JoinPath(hub_.tuf, "metadata/1.root.json"),
                                                   protocol::tuf::kMaxRootBytes));
    TS_RETURN_IF_ERROR(replication::Updater::Init(env_, paths_.trusted, root));
    TS_RETURN_IF_ERROR(WriteFileAtomically(env_, paths_.root, root));
  }
  return users_->Open();
}

Status HubUsers::Resume() {
  // What was served before this start, served at once (the check below may take a while).
  TS_ASSIGN_OR_RETURN(std::string current, node::CurrentReleaseDir(env_, paths_));
  if (!current.empty()) {
    TS_ASSIGN_OR_RETURN(auto served, node::ReadCurrent(env_, paths_));
    if (Status s = users_->SetRelease(current); s.ok() && served) {
      MutexLock l(&mu_);
      served_version_ = served->version;
      served_release_ = served->release;
    }
  }
  return Update();
}

Status HubUsers::Update() {
  std::vector<std::string> rejected;
  Status s = [&]() -> Status {
    TS_ASSIGN_OR_RETURN(
        replication::VerifiedMetadata meta,
        replication::RefreshMetadata(env_, &fetcher_, &repository_,
                                     {paths_.trusted, paths_.downloads}, nullptr, &rejected));
    {
      MutexLock l(&mu_);
      if (meta.version == served_version_) return Status::Ok();
    }
    TS_ASSIGN_OR_RETURN(catalogs::SignedRelease release, node::SignedCatalogRelease(env_, meta));
    const auto& regions = catalogs::RegionTable::Builtin();
    node::Takedowns takedowns;
    if (!meta.retractions.empty()) {
      // The records, one at a time, checked against the signed manifest as a node reads them.
      TS_ASSIGN_OR_RETURN(auto git, catalogs::GitCatalog::Open(paths_.catalog));
      TS_ASSIGN_OR_RETURN(auto content, catalogs::ReadVerifiedRelease(git.get(), release, false));
      node::TakedownResolver resolver(meta.retractions, regions);
      TS_RETURN_IF_ERROR(catalogs::ForEachReleaseRecord(
          git.get(), content, catalogs::Taxonomy::Builtin(), regions, [&](catalogs::Resource&& r) {
            resolver.Add(r);
            return Status::Ok();
          }));
      takedowns = resolver.Finish();
    }
    std::vector<replication::PlannedFile> files = AllFiles(meta);
    node::ServedRelease served;
    served.version = meta.version;
    served.release = release.release;
    for (const auto& f : files) {
      if (takedowns.files.count(f.path)) continue;
      ++served.files;
      served.bytes += f.length;
    }
    served.switched_at = static_cast<int64_t>(env_->NowMicros() / 1'000'000);
    const std::string name = node::ReleaseDirName(meta.version, "national");
    TS_ASSIGN_OR_RETURN(std::string previous, node::CurrentReleaseDir(env_, paths_));
    std::map<std::string, std::string> side;
    if (!takedowns.empty()) side[node::kTakedownsName] = node::EncodeTakedowns(takedowns);
    TS_RETURN_IF_ERROR(node::WriteReleaseDir(
        env_, paths_, *meta.updater->trusted(), name, served,
        {{"catalog/" + ToHex(release.digest) + ".manifest.txt", release.manifest}}, files, side));
    TS_RETURN_IF_ERROR(node::SwitchCurrent(env_, paths_, name, previous));
    TS_RETURN_IF_ERROR(users_->SetRelease(name));
    Log("serving " + release.release + " (timestamp version " + std::to_string(meta.version) +
        ") to users");
    MutexLock l(&mu_);
    served_version_ = meta.version;
    served_release_ = release.release;
    return Status::Ok();
  }();
  MutexLock l(&mu_);
  const std::string error = s.ok() ? "" : s.ToString();
  if (!error.empty() && error != error_) {
    Log("the repository's newest release is not served to users: " + error);
  }
  error_ = error;
  return s;
}

std::optional<node::HttpReply> HubUsers::Handle(const node::HttpRequest& request) {
  return users_->Handle(request);
}

std::pair<std::string, uint64_t> HubUsers::ServedRelease() const {
  MutexLock l(&mu_);
  return {served_release_, served_version_};
}

nlohmann::json HubUsers::StatusJson() {
  nlohmann::json j = users_->StatusJson();
  // Who answers, as a node's status says it (the web UI's node page and footer).
  j["name"] = config_.name;
  j["tier"] = std::string(node::TierName(config_.tier));
  if (auto current = node::ReadCurrent(env_, paths_); current.ok() && *current) {
    const node::ServedRelease& c = **current;
    j["current"] = {{"release", c.release},
                    {"version", c.version},
                    {"files", c.files},
                    {"bytes", c.bytes},
                    {"switched_at", c.switched_at}};
  }
  MutexLock l(&mu_);
  j["users_release"] = {{"release", served_release_}, {"version", served_version_}};
  if (!error_.empty()) j["users_release"]["error"] = error_;
  return j;
}

}  // namespace tiersync::hub
