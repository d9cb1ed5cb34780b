#include "node/user_api.h"

#include <iostream>

#include "base/hex.h"
#include "base/mutex.h"
#include "base/sha256.h"
#include "base/thread_annotations.h"
#include "catalogs/git_catalog.h"
#include "catalogs/region_table.h"
#include "catalogs/release.h"
#include "catalogs/taxonomy.h"
#include "node/chunk_sources.h"
#include "node/file_cache.h"
#include "node/node_log.h"
#include "node/usage_counter.h"
#include "node/user_catalog_api.h"
#include "node/user_files_api.h"
#include "node/user_replies.h"
#include "protocol/tuf_time.h"
#include "replication/file_restore.h"
#include "serving/catalog_index.h"
#include "serving/conditional.h"
#include "serving/request_path.h"
#include "webui/assets.h"

namespace tiersync::node {
namespace {

using catalogs::Resource;
using catalogs::ResourceFile;
using nlohmann::json;

// The web UI's files (webui/), compiled in.
HttpReply WebUi(const HttpRequest& request) {
  if (std::optional<HttpReply> r = WebAssetReply(request)) return std::move(*r);
  return UserError(request, 404, "not found");
}

}  // namespace

struct UserApi::Impl {
  Env* env;
  const NodePaths& paths;
  const NodeConfig& config;
  const replication::ChunkStore* store;
  Upstream up;
  UsageCounter usage;
  std::unique_ptr<UserFilesApi> files;  // made by Open()
  UserCatalogApi catalog_api;
  Mutex mu;
  std::shared_ptr<const UserSnapshot> snapshot GUARDED_BY(mu);

  Impl(Env* e, const NodePaths& p, const NodeConfig& c, const replication::ChunkStore* s,
       Upstream u)
      : env(e),
        paths(p),
        config(c),
        store(s),
        up(std::move(u)),
        usage(e, JoinPath(p.dir, "usage")),
        catalog_api([this](const UserSnapshot& snap, const ResourceFile& f) {
          return files ? files->Local(snap, f) : snap.local.count(ToHex(f.sha256)) > 0;
        }) {}

  int64_t NowSeconds() const { return static_cast<int64_t>(env->NowMicros() / 1'000'000); }

  std::shared_ptr<const UserSnapshot> Current() {
    MutexLock l(&mu);
    return snapshot;
  }

  std::optional<HttpReply> Handle(const HttpRequest& request) {
    std::string_view target = request.target;
    const bool ours = target == "/" || target.starts_with("/?") || target.starts_with("/ui/") ||
                      target.starts_with("/v1/catalog/") || target.starts_with("/v1/files/") ||
                      target.starts_with("/v1/open/") || target.starts_with("/v1/resolve/") ||
                      target.starts_with("/v1/usage") || target.starts_with("/v1/targets/");
    if (!ours) return std::nullopt;
    auto segments = serving::SplitPath(target);
    if (!segments.ok())
      return UserError(request, 400, "bad request path: " + segments.status().message());
    const auto& seg = *segments;
    if (request.method != "GET" && request.method != "HEAD") {
      HttpReply r = UserError(request, 405, "only GET and HEAD here");
      r.headers.emplace_back("Allow", "GET, HEAD");
      return r;
    }
    if (seg.empty() || seg[0] == "ui") return WebUi(request);
    std::shared_ptr<const UserSnapshot> s = Current();
    const bool content = seg.size() >= 3 && seg[1] == "targets";
    if (!s || !s->catalog || !files) {
      if (content) return std::nullopt;  // the repository serves what it has
      return UserError(request, 503, "this node serves no release yet (first sync in progress)",
                       "本节点正在进行首次同步，请稍后再试");
    }
    const serving::CatalogIndex& catalog = *s->catalog;
    // Past the offline grace the root signs, users get no files (node/offline_policy.h). The
    // content-addressed /v1/targets/ stay: children fetch them and check them themselves.
    const Freshness fresh = JudgeFreshness(NowSeconds(), s->validity);
    const bool users_content =
        seg.size() >= 3 && (seg[1] == "open" || seg[1] == "resolve" || seg[1] == "files");
    if (fresh.state == Freshness::State::kExpired && users_content) {
      const std::string since = protocol::FormatTufTime(fresh.expires);
      return UserError(request, 503,
                       "the national metadata of " + catalog.release() + " expired at " + since +
                           " and the offline grace the national root allows ended at " +
                           protocol::FormatTufTime(fresh.grace_until) +
                           ": this node serves no content until it syncs or imports a bundle",
                       "本节点的国家平台签名数据已于 " + since +
                           " 过期，离线宽限期已结束：请联网同步或导入离线包后再试");
    }
    if (content) return files->ContentAddressed(request, *s, seg);
    if (seg.size() == 3 && seg[1] == "catalog" && seg[2] == "tree") {
      return UserJson(s->tree_json);
    }
    if (seg.size() == 3 && seg[1] == "catalog" && seg[2] == "search")
      return catalog_api.Search(*s, request);
    if (seg.size() == 2 && seg[1] == "usage") return usage.Reply(request);
    const Resource* r = seg.size() >= 3 ? catalog.Find(seg[2]) : nullptr;
    if (seg.size() == 4 && seg[1] == "catalog" && seg[2] == "resources") {
      r = catalog.Find(seg[3]);
      if (!r) return UserError(request, 404, "no resource " + seg[3] + " in " + catalog.release());
      if (request.method == "GET") usage.Record(r->id, serving::UsageKind::kView);
      return UserJson(
          JsonText({{"release", catalog.release()}, {"resource", catalog_api.Detail(*s, *r)}}));
    }
    // Withdrawn by a signed retraction (node/takedown.h): 410 with the reason, before any
    // lookup of bytes here or above.
    if (r != nullptr && seg.size() >= 3 && (seg[1] == "open" || seg[1] == "resolve")) {
      if (auto w = s->takedowns.resources.find(r->id); w != s->takedowns.resources.end()) {
        return UserWithdrawn(request, "resource " + r->id, w->second);
      }
    }
    if (seg.size() == 3 && seg[1] == "open") {
      if (!r) return UserError(request, 404, "no resource " + seg[2] + " in " + catalog.release());
      if (r->link) {
        if (request.method == "GET") usage.Record(r->id, serving::UsageKind::kView);
        return UserRedirect(r->link->url);
      }
      if (r->files.empty()) return UserError(request, 404, r->id + " has no files");
      return UserRedirect("/v1/files/" + r->id + "/" + r->files.front().name);
    }
    if (seg.size() == 3 && seg[1] == "resolve") {
      if (!r) return UserError(request, 404, "no resource " + seg[2] + " in " + catalog.release());
      return files->Resolve(*r, catalog_api.AllLocal(*s, *r));
    }
    if (seg.size() == 4 && seg[1] == "files") {
      if (!r) return UserError(request, 404, "no resource " + seg[2] + " in " + catalog.release());
      for (const auto& f : r->files) {
        if (f.name != seg[3]) continue;
        const std::string path = catalogs::TargetPath(*r, f, catalogs::RegionTable::Builtin());
        if (auto w = s->takedowns.files.find(path); w != s->takedowns.files.end()) {
          return UserWithdrawn(request, path, w->second);
        }
        return files->ServeFile(request, *s, *r, f, false);
      }
      return UserError(request, 404, r->id + " has no file " + seg[3]);
    }
    return UserError(request, 404, "not found");
  }
};

std::optional<HttpReply> WebAssetReply(const HttpRequest& request) {
  const std::string_view path =
      std::string_view(request.target)
          .substr(0, std::min(request.target.find('?'), request.target.size()));
  const webui::Asset* asset = webui::FindAsset(path);
  if (asset == nullptr) return std::nullopt;
  HttpReply r;
  r.headers.emplace_back("ETag", std::string(asset->etag));
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.content_type = std::string(asset->content_type);
  const std::string* inm = request.Header("if-none-match");
  if (inm != nullptr && serving::NoneMatchHits(*inm, asset->etag)) {
    r.status = 304;
    return r;
  }
  r.body = std::string(asset->body);
  return r;
}

std::string UserEndpoint(std::string_view target) {
  for (std::string_view e : {"targets", "files", "catalog", "open", "resolve", "usage"}) {
    if (target.starts_with("/v1/" + std::string(e))) return std::string(e);
  }
  return "ui";
}

UserApi::UserApi(Env* env, const NodePaths& paths, const NodeConfig& config,
                 const replication::ChunkStore* store, replication::Fetcher* fetcher,
                 replication::SourcePolicy* sources, replication::RejectionSink rejected)
    : impl_(std::make_unique<Impl>(env, paths, config, store,
                                   Upstream{fetcher, sources, env, std::move(rejected)})) {}

UserApi::~UserApi() = default;  // the miss path's threads stop, then the usage is written

Status UserApi::Open() {
  std::shared_ptr<FileCache> cache;
  if (impl_->config.cache_quota_bytes > 0) {
    TS_ASSIGN_OR_RETURN(cache, FileCache::Open(impl_->env, JoinPath(impl_->paths.dir, "cache"),
                                               impl_->config.cache_quota_bytes));
  }
  impl_->files = std::make_unique<UserFilesApi>(impl_->config, impl_->store, impl_->up,
                                                std::move(cache), &impl_->usage);
  return impl_->usage.Open();
}

std::vector<serving::UsageDay> UserApi::RecentUsage() {
  return impl_->usage.RecentDays(kUsageDaysInMemory);
}

std::optional<std::pair<std::string, std::string>> UserApi::TitleAndProvider(
    const std::string& id) {
  std::shared_ptr<const UserSnapshot> s = impl_->Current();
  if (!s || !s->catalog) return std::nullopt;
  const Resource* r = s->catalog->Find(id);
  if (r == nullptr) return std::nullopt;
  return std::pair{r->title, r->provider};
}

Status UserApi::SetRelease(const std::string& release_dir) {
  Env* env = impl_->env;
  const std::string dir = JoinPath(impl_->paths.releases, release_dir);
  TS_ASSIGN_OR_RETURN(auto served_bytes,
                      ReadFileToBytes(env, JoinPath(dir, "release.json"), 1 << 20));
  TS_ASSIGN_OR_RETURN(ServedRelease served,
                      DecodeServedRelease(std::string(served_bytes.begin(), served_bytes.end())));
  const std::string manifests = JoinPath(dir, "targets/catalog");
  TS_ASSIGN_OR_RETURN(auto names, env->GetChildren(manifests));
  catalogs::SignedRelease signed_release;
  signed_release.release = served.release;
  bool found = false;
  for (const std::string& name : names) {
    if (!name.ends_with(".manifest.txt")) continue;
    TS_ASSIGN_OR_RETURN(
        auto bytes, ReadFileToBytes(env, JoinPath(manifests, name), catalogs::kMaxManifestBytes));
    signed_release.digest = Sha256(bytes);
    if (name.substr(0, 64) != ToHex(signed_release.digest)) {
      return CorruptionError(JoinPath(manifests, name) + " does not match its name");
    }
    signed_release.manifest.assign(bytes.begin(), bytes.end());
    found = true;
  }
  if (!found) return NotFoundError(dir + " holds no catalog manifest");
  TS_ASSIGN_OR_RETURN(auto git, catalogs::GitCatalog::Open(impl_->paths.catalog));
  // The manifest is checked first; then the records are read one at a time (each file's bytes
  // checked against it), so the release's bytes are never held whole next to the old catalog.
  TS_ASSIGN_OR_RETURN(auto content, catalogs::ReadVerifiedRelease(git.get(), signed_release,
                                                                  /*keep_files=*/false));
  std::vector<Resource> resources;
  resources.reserve(content.entries.size());
  TS_RETURN_IF_ERROR(
      catalogs::ForEachReleaseRecord(git.get(), content, catalogs::Taxonomy::Builtin(),
                                     catalogs::RegionTable::Builtin(), [&](Resource&& r) {
                                       resources.push_back(std::move(r));
                                       return Status::Ok();
                                     }));
  content = catalogs::ReleaseContent();
  git.reset();
  auto snapshot = std::make_shared<UserSnapshot>();
  snapshot->release_dir = release_dir;
  snapshot->catalog = std::make_shared<serving::CatalogIndex>(served.release, std::move(resources),
                                                              catalogs::Taxonomy::Builtin());
  for (const Resource& r : snapshot->catalog->resources()) {
    for (const ResourceFile& f : r.files) {
      if (!f.chunk_index) continue;
      const std::string sha = ToHex(f.sha256);
      bool stored = snapshot->local.count(sha) > 0;  // the same bytes in another resource
      if (!stored) {
        auto index = replication::LoadChunkIndex(*impl_->store, *f.chunk_index);
        stored = index.ok() && AllChunksPresent(*impl_->store, *index);
      }
      if (stored) {
        snapshot->local.insert(sha);
        ++snapshot->local_files;
      }
    }
  }
  snapshot->tree_json = UserCatalogApi::TreeJson(*snapshot->catalog);
  TS_ASSIGN_OR_RETURN(snapshot->validity, ReadReleaseValidity(env, dir));
  TS_ASSIGN_OR_RETURN(snapshot->takedowns, ReadTakedowns(env, dir));
  NodeLog("users see " + served.release + ": " + std::to_string(snapshot->catalog->size()) +
          " resources, " + std::to_string(snapshot->local_files) + " files stored here");
  if (!snapshot->takedowns.empty()) {
    NodeLog("takedown: " + std::to_string(snapshot->takedowns.resources.size()) +
            " resources and " + std::to_string(snapshot->takedowns.files.size()) +
            " files withdrawn by signed retractions");
  }
  for (const std::string& refused : snapshot->takedowns.refused) NodeLog("takedown: " + refused);
  std::vector<std::string> dropped(snapshot->takedowns.digests.begin(),
                                   snapshot->takedowns.digests.end());
  {
    MutexLock l(&impl_->mu);
    impl_->snapshot = std::move(snapshot);
  }
  // Withdrawn bytes leave the proxy cache once no new request can ask for them (the store
  // forgets them at the garbage collection after the switch).
  if (impl_->files && impl_->files->cache()) {
    for (const std::string& hex : dropped) {
      if (auto sha = Sha256FromHex(hex)) impl_->files->cache()->Drop(*sha);
    }
  }
  return Status::Ok();
}

std::optional<HttpReply> UserApi::Handle(const HttpRequest& request) {
  std::optional<HttpReply> reply = impl_->Handle(request);
  // Stale or past the grace: every users' reply says since when (the web UI shows it).
  if (reply) {
    if (std::shared_ptr<const UserSnapshot> s = impl_->Current()) {
      const Freshness f = JudgeFreshness(impl_->NowSeconds(), s->validity);
      if (f.state != Freshness::State::kFresh) {
        reply->headers.emplace_back("X-Tiersync-Stale-Since", protocol::FormatTufTime(f.expires));
      }
    }
  }
  return reply;
}

Status UserApi::FlushUsage() { return impl_->usage.Flush(); }

std::vector<ResourceFile> UserApi::PriorityFiles() {
  std::vector<ResourceFile> out;
  std::shared_ptr<const UserSnapshot> s = impl_->Current();
  if (!s || !s->catalog) return out;
  for (const Resource& r : s->catalog->resources()) {
    if (!r.priority || !catalogs::IsServed(r) || s->takedowns.resources.count(r.id)) continue;
    out.insert(out.end(), r.files.begin(), r.files.end());
  }
  return out;
}

json UserApi::StatusJson() {
  Impl& m = *impl_;
  std::shared_ptr<const UserSnapshot> s = m.Current();
  json serving = {
      {"miss_policy", m.config.miss == NodeConfig::MissPolicy::kProxy ? "proxy" : "redirect"}};
  if (s && s->catalog) {
    serving["freshness"] = FreshnessJson(JudgeFreshness(m.NowSeconds(), s->validity));
    serving["offline_grace_seconds"] = s->validity.grace_seconds;
    serving["catalog_release"] = s->catalog->release();
    serving["resources"] = s->catalog->size();
    serving["local_files"] = s->local_files;
    serving["takedowns"] = TakedownsStatusJson(s->takedowns);
  }
  if (m.files && m.files->cache()) {
    FileCache::Stats c = m.files->cache()->stats();
    serving["cache"] = {{"files", c.files},
                        {"bytes", c.bytes},
                        {"quota_bytes", c.quota},
                        {"evicted", c.evicted},
                        {"dropped_damaged", c.dropped_damaged},
                        {"partial_files", c.partial_files},
                        {"partial_bytes", c.partial_bytes}};
  }
  if (m.files) {
    MissProxy::Stats p = m.files->proxy_stats();
    serving["proxy"] = {{"index_fetches", p.index_fetches},
                        {"batches", p.batches},
                        {"chunk_bytes", p.chunk_bytes},
                        {"merged_reads", p.merged},
                        {"files_in_flight", p.in_flight_files}};
  }
  return {{"usage", m.usage.StatusJson(s ? s->catalog.get() : nullptr)}, {"serving", serving}};
}

}  // namespace tiersync::node
