#include "node/user_files_api.h"

#include <iostream>

#include "base/hex.h"
#include "catalogs/region_table.h"
#include "node/user_replies.h"
#include "replication/file_restore.h"
#include "serving/conditional.h"

namespace tiersync::node {
namespace {

using catalogs::Resource;
using catalogs::ResourceFile;
using nlohmann::json;

constexpr char kImmutable[] = "public, max-age=31536000, immutable";
constexpr char kNotMirrored[] = "本节点未镜像该资源，上级节点也无法提供";

std::string TargetAddress(const Resource& r, const ResourceFile& f) {
  return ContentAddress(catalogs::TargetPath(r, f, catalogs::RegionTable::Builtin()), f);
}

}  // namespace

UserFilesApi::UserFilesApi(const NodeConfig& config, const replication::ChunkStore* store,
                           Upstream up, std::shared_ptr<FileCache> cache, UsageCounter* usage)
    : config_(config),
      store_(store),
      up_(up),
      cache_(cache),
      usage_(usage),
      proxy_(std::move(up), std::move(cache)) {}

bool UserFilesApi::Local(const UserSnapshot& s, const ResourceFile& f) {
  return s.local.count(ToHex(f.sha256)) > 0 || (cache_ && cache_->Contains(f.sha256));
}

// A GET capped at one byte answers 404 (not held), or starts a body (held; the cap cuts it).
Result<bool> UserFilesApi::Holds(const std::string& url) {
  auto r = up_.fetcher->Fetch(url, 1);
  if (r.ok() || r.status().code() == StatusCode::kResourceExhausted) return true;
  if (r.status().code() == StatusCode::kNotFound) return false;
  return r.status();
}

HttpReply UserFilesApi::ServeFile(const HttpRequest& request, const UserSnapshot& s,
                                  const Resource& r, const ResourceFile& f, bool content_address) {
  FileInfo info{ContentTypeOf(f), serving::StrongEtag(ToHex(f.sha256)),
                content_address ? kImmutable : "no-cache"};
  // A revalidation (304) is not a download.
  const std::string* inm = request.Header("if-none-match");
  const bool revalidation = inm != nullptr && serving::NoneMatchHits(*inm, info.etag);
  if (!revalidation && CountsAsDownload(request)) {
    usage_->Record(r.id, serving::UsageKind::kDownload);
  }
  if (s.local.count(ToHex(f.sha256)) && f.chunk_index) {
    auto index = replication::LoadChunkIndex(*store_, *f.chunk_index);
    if (index.ok()) {
      // The store's checksum catches local damage; the chunk entered it checked by SHA-256.
      auto source =
          std::make_shared<StoreChunks>(store_, *index, replication::ReadCheck::kChecksum);
      return FileReply(request, std::move(index).value(), std::move(source), info);
    }
    std::cerr << "tiersync node: serving " << r.id << "/" << f.name << ": "
              << index.status().ToString() << std::endl;
  }
  if (cache_) {
    if (auto cached = cache_->Find(f.sha256)) {
      return FileReply(request, std::move(cached->index), std::move(cached->source), info);
    }
  }
  if (content_address) return UserError(request, 404, "not held here", "本节点没有该文件");
  if (revalidation) {  // the client has the bytes: no need to look for them
    HttpReply r304;
    r304.status = 304;
    r304.headers.emplace_back("ETag", info.etag);
    r304.headers.emplace_back("Cache-Control", info.cache_control);
    return r304;
  }
  return Miss(request, r, f, info);
}

HttpReply UserFilesApi::Miss(const HttpRequest& request, const Resource& r, const ResourceFile& f,
                             const FileInfo& info) {
  if (config_.miss == NodeConfig::MissPolicy::kRedirect) return RedirectMiss(request, r, f);
  if (!f.chunk_index) return UserError(request, 502, "the record names no chunk index");
  return proxy_.Serve(request, {*f.chunk_index, f.size, f.sha256, r.id + "/" + f.name}, info);
}

// 302 to the first source, in policy order, that holds the file's content address.
HttpReply UserFilesApi::RedirectMiss(const HttpRequest& request, const Resource& r,
                                     const ResourceFile& f) {
  const std::string path = "/v1/targets/" + TargetAddress(r, f);
  auto ask = [&](size_t, const replication::Source& src) -> replication::SourceAnswer {
    auto holds = Holds(src.url + path);
    if (!holds.ok()) return {holds.status().AsRemote()};
    return {*holds ? Status::Ok() : NotFoundError("does not hold it")};
  };
  auto found = replication::AskSources(up_.sources, up_.env, ask, up_.rejected);
  if (found.ok()) return UserRedirect(up_.sources->source(*found).url + path);
  return UserError(request, 502,
                   r.id + "/" + f.name + " is not mirrored here and no tier above has it: " +
                       found.status().ToString(),
                   kNotMirrored);
}

HttpReply UserFilesApi::Resolve(const Resource& r, bool here) {
  json tiers = json::array();
  tiers.push_back({{"name", "this node"},
                   {"url", ""},
                   {"tier", std::string(TierName(config_.tier))},
                   {"holds", here}});
  for (size_t i = 0; i < up_.sources->size(); ++i) {
    const replication::Source& src = up_.sources->source(i);
    json t = {{"name", src.name}, {"url", src.url}};
    bool all = !r.files.empty();
    for (const auto& f : r.files) {
      auto holds = Holds(src.url + "/v1/targets/" + TargetAddress(r, f));
      if (!holds.ok()) {
        t["error"] = holds.status().ToString();
        all = false;
        break;
      }
      all = all && *holds;
    }
    t["holds"] = t.contains("error") ? json(nullptr) : json(all);
    tiers.push_back(t);
  }
  return UserJson(
      json{{"id", r.id}, {"tiers", tiers}}.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::optional<HttpReply> UserFilesApi::ContentAddressed(const HttpRequest& request,
                                                        const UserSnapshot& s,
                                                        const std::vector<std::string>& seg) {
  const std::string& last = seg.back();
  if (seg.size() < 5 || last.size() < 66 || last[64] != '.') return std::nullopt;
  // .../<id>/<sha256>.<name>: the id comes from the path (the same bytes may belong to
  // several resources, and each counts its own downloads).
  const Resource* r = s.catalog->Find(seg[seg.size() - 2]);
  if (r == nullptr) return std::nullopt;
  const ResourceFile* f = nullptr;
  for (const auto& file : r->files) {
    if (file.name == last.substr(65) && ToHex(file.sha256) == last.substr(0, 64)) f = &file;
  }
  if (f == nullptr) return std::nullopt;
  std::string path;
  for (size_t i = 2; i < seg.size(); ++i) path += (i > 2 ? "/" : "") + seg[i];
  if (path != TargetAddress(*r, *f)) return std::nullopt;
  const std::string target = catalogs::TargetPath(*r, *f, catalogs::RegionTable::Builtin());
  if (auto w = s.takedowns.files.find(target); w != s.takedowns.files.end()) {
    return UserWithdrawn(request, target, w->second);
  }
  return ServeFile(request, s, *r, *f, true);
}

}  // namespace tiersync::node
