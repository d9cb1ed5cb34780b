#include "node/user_api.h"

#include <condition_variable>
#include <iostream>
#include <mutex>
#include <unordered_set>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/sha256.h"
#include "catalogs/git_catalog.h"
#include "catalogs/region_table.h"
#include "catalogs/release.h"
#include "catalogs/taxonomy.h"
#include "node/chunk_sources.h"
#include "node/file_cache.h"
#include "node/file_reply.h"
#include "replication/file_restore.h"
#include "serving/catalog_index.h"
#include "serving/conditional.h"
#include "serving/media_type.h"
#include "serving/request_path.h"
#include "serving/usage.h"
#include "webui/assets.h"

namespace tiersync::node {
namespace {

using catalogs::Resource;
using catalogs::ResourceFile;
using nlohmann::json;

constexpr char kImmutable[] = "public, max-age=31536000, immutable";
constexpr int kUsageDaysInMemory = 8;
constexpr int kMaxUsageDays = 366;
constexpr auto kUsageFlushEvery = std::chrono::seconds(10);

int64_t NowSeconds(Env* env) { return static_cast<int64_t>(env->NowMicros() / 1000000); }

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void Log(const std::string& line) { std::cerr << "tiersync node: " << line << std::endl; }

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// An error: a small page for browsers, JSON for everyone else.
HttpReply Error(const HttpRequest& request, int status, const std::string& message,
                const std::string& chinese = "") {
  HttpReply r;
  r.status = status;
  const std::string* accept = request.Header("accept");
  if (accept != nullptr && accept->find("text/html") != std::string::npos) {
    r.content_type = "text/html; charset=utf-8";
    r.body =
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width\"><title>" +
        std::to_string(status) +
        "</title><body style=\"font-family:sans-serif;margin:2em\">"
        "<h1>" +
        HtmlEscape(chinese.empty() ? "无法提供该资源" : chinese) + "</h1><p>" +
        HtmlEscape(message) + "</p><p><a href=\"/\">返回首页 / Home</a></p></body></html>\n";
  } else {
    r.content_type = "application/json";
    r.body = Dump(json{{"error", message}}) + "\n";
  }
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpReply JsonReply(const json& j) {
  HttpReply r = HttpReply::Json(Dump(j));
  r.content_type = "application/json; charset=utf-8";
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

HttpReply Redirect(std::string location) {
  HttpReply r = HttpReply::Text(302, "see " + location + "\n");
  r.headers.emplace_back("Location", std::move(location));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// "<dir>/<sha256>.<name>" for target `path`.
std::string ContentAddress(const std::string& path, const ResourceFile& f) {
  const size_t slash = path.rfind('/');
  return path.substr(0, slash + 1) + ToHex(f.sha256) + "." + path.substr(slash + 1);
}

std::string ContentTypeOf(const ResourceFile& f) {
  std::string t =
      f.media_type.empty() ? std::string(serving::MediaTypeForName(f.name)) : f.media_type;
  if (t.starts_with("text/") && t.find("charset") == std::string::npos) t += "; charset=utf-8";
  return t;
}

uint64_t Number(const std::map<std::string, std::string>& q, const std::string& name,
                uint64_t fallback, uint64_t max) {
  auto it = q.find(name);
  if (it == q.end() || it->second.empty() || it->second.size() > 9 ||
      it->second.find_first_not_of("0123456789") != std::string::npos) {
    return fallback;
  }
  return std::min<uint64_t>(std::stoull(it->second), max);
}

}  // namespace

// What one served release offers: its catalog and which of its files are stored here.
struct Snapshot {
  std::string release_dir;
  std::shared_ptr<const serving::CatalogIndex> catalog;
  std::unordered_set<std::string> local;  // SHA-256 (hex) of files fully in the store
  size_t local_files = 0;                 // files of the release whose bytes are stored here
  std::string tree_json;                  // GET /v1/catalog/tree: the same for the release
};

struct UserApi::Impl {
  Env* env;
  const NodePaths& paths;
  const NodeConfig& config;
  const replication::ChunkStore* store;
  replication::Fetcher* fetcher;
  std::shared_ptr<FileCache> cache;
  serving::UsageLedger usage;
  std::set<std::string> usage_days_loaded;
  std::mutex mu;  // guards snapshot, usage_days_loaded
  std::shared_ptr<const Snapshot> snapshot;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;

  Impl(Env* e, const NodePaths& p, const NodeConfig& c, const replication::ChunkStore* s,
       replication::Fetcher* f)
      : env(e), paths(p), config(c), store(s), fetcher(f) {}

  std::string UsageDir() const { return JoinPath(paths.dir, "usage"); }
  std::string Today() const { return serving::UtcDate(NowSeconds(env)); }

  std::shared_ptr<const Snapshot> Current() {
    std::lock_guard<std::mutex> l(mu);
    return snapshot;
  }

  bool Local(const Snapshot& s, const ResourceFile& f) {
    return s.local.count(ToHex(f.sha256)) > 0 || (cache && cache->Contains(f.sha256));
  }
  bool AllLocal(const Snapshot& s, const Resource& r) {
    if (r.files.empty()) return false;
    for (const auto& f : r.files) {
      if (!Local(s, f)) return false;
    }
    return true;
  }

  // ---- catalog JSON ----
  json Item(const Snapshot& s, const Resource& r) {
    json facets = json::object();
    const auto& f = r.facets;
    if (!f.stage.empty()) facets["stage"] = f.stage;
    if (f.grade) facets["grade"] = f.grade;
    if (!f.subject.empty()) facets["subject"] = f.subject;
    if (!f.edition.empty()) facets["edition"] = f.edition;
    if (!f.volume.empty()) facets["volume"] = f.volume;
    if (!f.lesson.empty()) facets["lesson"] = f.lesson;
    if (!f.tags.empty()) facets["tags"] = f.tags;
    json placements = json::array();
    for (const auto& p : r.placements) {
      placements.push_back(
          {{"platform", p.platform}, {"board", p.board}, {"category", p.category}});
    }
    uint64_t bytes = 0;
    for (const auto& file : r.files) bytes += file.size;
    return {{"id", r.id},
            {"title", r.title},
            {"provider", r.provider},
            {"kind", r.link ? std::string("link")
                     : r.files.empty()
                         ? std::string("other")
                         : std::string(serving::KindOfMediaType(r.files.front().media_type))},
            {"placements", placements},
            {"facets", facets},
            {"files", r.files.size()},
            {"bytes", bytes},
            {"local", AllLocal(s, r)},
            {"link", r.link.has_value()}};
  }

  json Detail(const Snapshot& s, const Resource& r) {
    json j = Item(s, r);
    j["language"] = r.language;
    j["origin"] = r.origin;
    j["priority"] = r.priority;
    json files = json::array();
    for (const auto& f : r.files) {
      const std::string path = catalogs::TargetPath(r, f, catalogs::RegionTable::Builtin());
      files.push_back({{"name", f.name},
                       {"media_type", ContentTypeOf(f)},
                       {"size", f.size},
                       {"sha256", ToHex(f.sha256)},
                       {"url", "/v1/files/" + r.id + "/" + f.name},
                       {"content_url", "/v1/targets/" + ContentAddress(path, f)},
                       {"local", Local(s, f)}});
    }
    j["files"] = files;
    if (r.link) j["link"] = {{"url", r.link->url}, {"site", r.link->site}};
    return j;
  }

  static std::string TreeJson(const serving::CatalogIndex& catalog) {
    json platforms = json::array();
    for (const auto& p : catalog.Tree()) {
      json boards = json::array();
      for (const auto& b : p.boards) {
        json cats = json::array();
        for (const auto& c : b.categories) cats.push_back({{"name", c.name}, {"count", c.count}});
        boards.push_back({{"name", b.name}, {"count", b.count}, {"categories", cats}});
      }
      platforms.push_back({{"id", p.id}, {"name", p.name}, {"count", p.count}, {"boards", boards}});
    }
    return Dump(
        {{"release", catalog.release()}, {"resources", catalog.size()}, {"platforms", platforms}});
  }

  HttpReply Search(const Snapshot& s, const HttpRequest& request) {
    auto q = serving::QueryParameters(request.target);
    serving::SearchQuery query;
    query.text = q["q"];
    query.platform = q["platform"];
    query.board = q["board"];
    query.category = q["category"];
    query.stage = q["stage"];
    query.subject = q["subject"];
    query.edition = q["edition"];
    query.grade = static_cast<int>(Number(q, "grade", 0, 12));
    query.local_only = q["local"] == "1" || q["local"] == "true";
    query.offset = Number(q, "offset", 0, 1'000'000);
    query.limit = Number(q, "limit", 20, serving::kMaxSearchLimit);
    auto result = s.catalog->Search(query, [&](const Resource& r) { return AllLocal(s, r); });
    json items = json::array();
    for (const Resource* r : result.items) items.push_back(Item(s, *r));
    return JsonReply({{"release", s.catalog->release()},
                      {"total", result.total},
                      {"offset", query.offset},
                      {"limit", query.limit},
                      {"items", items},
                      {"facets", result.facets}});
  }

  // ---- files ----
  // Whether `url` (a content address on another tier) is held there: a GET capped at one
  // byte answers 404 (not held), or starts a body (held; the cap cuts it off).
  Result<bool> Holds(const std::string& url) {
    auto r = fetcher->Fetch(url, 1);
    if (r.ok() || r.status().code() == StatusCode::kResourceExhausted) return true;
    if (r.status().code() == StatusCode::kNotFound) return false;
    return r.status();
  }

  HttpReply ServeFile(const HttpRequest& request, const Snapshot& s, const Resource& r,
                      const ResourceFile& f, bool content_address) {
    FileInfo info{ContentTypeOf(f), serving::StrongEtag(ToHex(f.sha256)),
                  content_address ? kImmutable : "no-cache"};
    // A revalidation (304) is not a download.
    const std::string* inm = request.Header("if-none-match");
    const bool revalidation = inm != nullptr && serving::NoneMatchHits(*inm, info.etag);
    if (!revalidation && CountsAsDownload(request)) {
      usage.Record(Today(), r.id, serving::UsageKind::kDownload);
    }
    if (s.local.count(ToHex(f.sha256)) && f.chunk_index) {
      auto index = replication::LoadChunkIndex(*store, *f.chunk_index);
      if (index.ok()) {
        // The store's checksum catches local damage; the chunk entered it checked by SHA-256.
        auto source =
            std::make_shared<StoreChunks>(store, *index, replication::ReadCheck::kChecksum);
        return FileReply(request, std::move(index).value(), std::move(source), info);
      }
      Log("serving " + r.id + "/" + f.name + ": " + index.status().ToString());
    }
    if (cache) {
      if (auto cached = cache->Find(f.sha256)) {
        return FileReply(request, std::move(cached->index), std::move(cached->source), info);
      }
    }
    if (content_address) return Error(request, 404, "not held here", "本节点没有该文件");
    if (revalidation) {  // the client has the bytes: no need to look for them
      HttpReply r304;
      r304.status = 304;
      r304.headers.emplace_back("ETag", info.etag);
      r304.headers.emplace_back("Cache-Control", info.cache_control);
      return r304;
    }
    return Miss(request, r, f, info);
  }

  HttpReply Miss(const HttpRequest& request, const Resource& r, const ResourceFile& f,
                 const FileInfo& info) {
    const std::vector<std::string> sources = config.AllSources();
    const std::string path =
        ContentAddress(catalogs::TargetPath(r, f, catalogs::RegionTable::Builtin()), f);
    if (config.miss == NodeConfig::MissPolicy::kRedirect) {
      std::string errors;
      for (const std::string& src : sources) {
        const std::string url = src + "/v1/targets/" + path;
        auto holds = Holds(url);
        if (holds.ok() && *holds) return Redirect(url);
        errors += "; " + src + ": " + (holds.ok() ? "does not hold it" : holds.status().ToString());
      }
      return Error(request, 502,
                   r.id + "/" + f.name + " is not mirrored here and no tier above has it" + errors,
                   "本节点未镜像该资源，上级节点也无法提供");
    }
    if (!f.chunk_index) return Error(request, 502, "the record names no chunk index");
    auto fetched = FetchIndex(fetcher, sources, *f.chunk_index, f.size, f.sha256);
    if (!fetched.ok()) {
      return Error(request, 502,
                   r.id + "/" + f.name +
                       " is not mirrored here and the tiers above cannot give it: " +
                       fetched.status().ToString(),
                   "本节点未镜像该资源，上级节点也无法提供");
    }
    std::unique_ptr<FileCache::Writer> writer;
    if (cache && request.method == "GET") {
      writer = cache->Create(fetched->index, fetched->bytes);
    }
    auto source = std::make_shared<UpstreamChunks>(fetcher, sources, fetched->source,
                                                   fetched->index, std::move(writer));
    HttpReply reply = FileReply(request, std::move(fetched->index), std::move(source), info);
    reply.headers.emplace_back("X-Tiersync-Source", sources[fetched->source]);
    return reply;
  }

  HttpReply Resolve(const Snapshot& s, const Resource& r) {
    json tiers = json::array();
    tiers.push_back({{"name", "this node"},
                     {"url", ""},
                     {"tier", std::string(TierName(config.tier))},
                     {"holds", AllLocal(s, r)}});
    for (const std::string& src : config.AllSources()) {
      const std::string name = src == config.national          ? "national (" + src + ")"
                               : src == config.sources.front() ? "parent (" + src + ")"
                                                               : "ancestor (" + src + ")";
      json t = {{"name", name}, {"url", src}};
      bool all = !r.files.empty();
      for (const auto& f : r.files) {
        const std::string path =
            ContentAddress(catalogs::TargetPath(r, f, catalogs::RegionTable::Builtin()), f);
        auto holds = Holds(src + "/v1/targets/" + path);
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
    return JsonReply({{"id", r.id}, {"tiers", tiers}});
  }

  // ---- usage ----
  void LoadUsage() {
    const int64_t now = NowSeconds(env);
    for (int d = 0; d < kUsageDaysInMemory; ++d) {
      const std::string date = serving::UtcDate(now - int64_t{d} * 86400);
      auto bytes = ReadFileToBytes(env, JoinPath(UsageDir(), date + ".json"), 256 << 20);
      if (bytes.ok()) {
        auto day = serving::DecodeUsageDay(std::string(bytes->begin(), bytes->end()));
        if (day.ok() && day->date == date) {
          usage.Load(std::move(day).value());
        } else {  // kept aside, never overwritten: the counts may still be read by hand
          const std::string file = JoinPath(UsageDir(), date + ".json");
          env->RenameFile(file, file + ".damaged").IgnoreError();
          Log("usage/" + date + ".json is damaged; kept as " + date +
              ".json.damaged, counting that day from zero");
        }
      }
      std::lock_guard<std::mutex> l(mu);
      usage_days_loaded.insert(date);
    }
  }

  serving::UsageDay UsageOf(const std::string& date) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (usage_days_loaded.count(date) || date == Today()) return usage.Day(date);
    }
    auto bytes = ReadFileToBytes(env, JoinPath(UsageDir(), date + ".json"), 256 << 20);
    if (!bytes.ok()) return serving::UsageDay{date, {}};
    auto day = serving::DecodeUsageDay(std::string(bytes->begin(), bytes->end()));
    return day.ok() ? *day : serving::UsageDay{date, {}};
  }

  HttpReply UsageReply(const HttpRequest& request) {
    auto q = serving::QueryParameters(request.target);
    const int days = static_cast<int>(Number(q, "days", 7, kMaxUsageDays));
    const int64_t now = NowSeconds(env);
    json out = json::array();
    for (int d = 0; d < std::max(days, 1); ++d) {
      serving::UsageDay day = UsageOf(serving::UtcDate(now - int64_t{d} * 86400));
      json resources = json::object();
      for (const auto& [id, c] : day.resources) {
        resources[id] = {{"views", c.views}, {"downloads", c.downloads}};
      }
      const serving::UsageCounts t = day.Total();
      out.push_back({{"date", day.date},
                     {"views", t.views},
                     {"downloads", t.downloads},
                     {"resources", resources}});
    }
    return JsonReply({{"days", out}});
  }

  Status Flush() {
    Status first;
    for (const serving::UsageDay& day : usage.TakeDirty()) {
      Status s = WriteFileAtomically(env, JoinPath(UsageDir(), day.date + ".json"),
                                     AsBytes(serving::EncodeUsageDay(day)));
      if (!s.ok()) {
        Log("cannot write usage for " + day.date + ": " + s.ToString());
        usage.MarkDirty(day.date);  // try again at the next flush
        if (first.ok()) first = s;
      }
    }
    return first;
  }

  // ---- routing ----
  std::optional<HttpReply> Handle(const HttpRequest& request) {
    std::string_view target = request.target;
    const bool ours = target == "/" || target.starts_with("/?") || target.starts_with("/ui/") ||
                      target.starts_with("/v1/catalog/") || target.starts_with("/v1/files/") ||
                      target.starts_with("/v1/open/") || target.starts_with("/v1/resolve/") ||
                      target.starts_with("/v1/usage") || target.starts_with("/v1/targets/");
    if (!ours) return std::nullopt;
    auto segments = serving::SplitPath(target);
    if (!segments.ok())
      return Error(request, 400, "bad request path: " + segments.status().message());
    const auto& seg = *segments;
    if (request.method != "GET" && request.method != "HEAD") {
      HttpReply r = Error(request, 405, "only GET and HEAD here");
      r.headers.emplace_back("Allow", "GET, HEAD");
      return r;
    }
    if (seg.empty() || seg[0] == "ui") return WebUi(request);
    std::shared_ptr<const Snapshot> s = Current();
    const bool content = seg.size() >= 3 && seg[1] == "targets";
    if (!s || !s->catalog) {
      if (content) return std::nullopt;  // the repository serves what it has
      return Error(request, 503, "this node serves no release yet (first sync in progress)",
                   "本节点正在进行首次同步，请稍后再试");
    }
    const serving::CatalogIndex& catalog = *s->catalog;
    if (content) return ContentAddressed(request, *s, seg);
    if (seg.size() == 3 && seg[1] == "catalog" && seg[2] == "tree") {
      HttpReply tree = JsonReply(json::object());
      tree.body = s->tree_json;
      return tree;
    }
    if (seg.size() == 3 && seg[1] == "catalog" && seg[2] == "search") return Search(*s, request);
    if (seg.size() == 2 && seg[1] == "usage") return UsageReply(request);
    const Resource* r = seg.size() >= 3 ? catalog.Find(seg[2]) : nullptr;
    if (seg.size() == 4 && seg[1] == "catalog" && seg[2] == "resources") {
      r = catalog.Find(seg[3]);
      if (!r) return Error(request, 404, "no resource " + seg[3] + " in " + catalog.release());
      if (request.method == "GET") usage.Record(Today(), r->id, serving::UsageKind::kView);
      return JsonReply({{"release", catalog.release()}, {"resource", Detail(*s, *r)}});
    }
    if (seg.size() == 3 && seg[1] == "open") {
      if (!r) return Error(request, 404, "no resource " + seg[2] + " in " + catalog.release());
      if (r->link) {
        if (request.method == "GET") usage.Record(Today(), r->id, serving::UsageKind::kView);
        return Redirect(r->link->url);
      }
      if (r->files.empty()) return Error(request, 404, r->id + " has no files");
      return Redirect("/v1/files/" + r->id + "/" + r->files.front().name);
    }
    if (seg.size() == 3 && seg[1] == "resolve") {
      if (!r) return Error(request, 404, "no resource " + seg[2] + " in " + catalog.release());
      return Resolve(*s, *r);
    }
    if (seg.size() == 4 && seg[1] == "files") {
      if (!r) return Error(request, 404, "no resource " + seg[2] + " in " + catalog.release());
      for (const auto& f : r->files) {
        if (f.name == seg[3]) return ServeFile(request, *s, *r, f, false);
      }
      return Error(request, 404, r->id + " has no file " + seg[3]);
    }
    return Error(request, 404, "not found");
  }

  // The web UI's files (webui/), compiled in.
  HttpReply WebUi(const HttpRequest& request) {
    const std::string_view path =
        std::string_view(request.target)
            .substr(0, std::min(request.target.find('?'), request.target.size()));
    const webui::Asset* asset = webui::FindAsset(path);
    if (asset == nullptr) return Error(request, 404, "not found");
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

  // /v1/targets/<dir>/<sha256>.<name>: a resource file by its content address, if held here;
  // other targets (the catalog manifest) are the repository's.
  std::optional<HttpReply> ContentAddressed(const HttpRequest& request, const Snapshot& s,
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
    if (path !=
        ContentAddress(catalogs::TargetPath(*r, *f, catalogs::RegionTable::Builtin()), *f)) {
      return std::nullopt;
    }
    return ServeFile(request, s, *r, *f, true);
  }
};

UserApi::UserApi(Env* env, const NodePaths& paths, const NodeConfig& config,
                 const replication::ChunkStore* store, replication::Fetcher* fetcher)
    : impl_(std::make_shared<Impl>(env, paths, config, store, fetcher)) {}

UserApi::~UserApi() {
  {
    std::lock_guard<std::mutex> l(impl_->stop_mu);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  if (flusher_.joinable()) flusher_.join();
  impl_->Flush().IgnoreError();
}

Status UserApi::Open() {
  TS_RETURN_IF_ERROR(CreateDirs(impl_->env, impl_->UsageDir()));
  if (impl_->config.cache_quota_bytes > 0) {
    TS_ASSIGN_OR_RETURN(impl_->cache,
                        FileCache::Open(impl_->env, JoinPath(impl_->paths.dir, "cache"),
                                        impl_->config.cache_quota_bytes));
  }
  impl_->LoadUsage();
  flusher_ = std::thread([impl = impl_] {
    std::unique_lock<std::mutex> l(impl->stop_mu);
    while (!impl->stopping) {
      impl->stop_cv.wait_for(l, kUsageFlushEvery, [&] { return impl->stopping; });
      l.unlock();
      impl->Flush().IgnoreError();
      l.lock();
    }
  });
  return Status::Ok();
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
  auto snapshot = std::make_shared<Snapshot>();
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
  snapshot->tree_json = Impl::TreeJson(*snapshot->catalog);
  Log("users see " + served.release + ": " + std::to_string(snapshot->catalog->size()) +
      " resources, " + std::to_string(snapshot->local_files) + " files stored here");
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->snapshot = std::move(snapshot);
  return Status::Ok();
}

std::optional<HttpReply> UserApi::Handle(const HttpRequest& request) {
  return impl_->Handle(request);
}

Status UserApi::FlushUsage() { return impl_->Flush(); }

json UserApi::StatusJson() {
  Impl& m = *impl_;
  const int64_t now = NowSeconds(m.env);
  serving::UsageDay today = m.usage.Day(m.Today());
  serving::UsageCounts week;
  std::map<std::string, serving::UsageCounts> per;
  for (int d = 0; d < 7; ++d) {
    serving::UsageDay day = m.usage.Day(serving::UtcDate(now - int64_t{d} * 86400));
    for (const auto& [id, c] : day.resources) {
      per[id].views += c.views;
      per[id].downloads += c.downloads;
      week.views += c.views;
      week.downloads += c.downloads;
    }
  }
  std::vector<std::pair<std::string, serving::UsageCounts>> top(per.begin(), per.end());
  std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
    return std::tie(b.second.downloads, b.second.views, a.first) <
           std::tie(a.second.downloads, a.second.views, b.first);
  });
  if (top.size() > 10) top.resize(10);
  std::shared_ptr<const Snapshot> s = m.Current();
  json top_json = json::array();
  for (const auto& [id, c] : top) {
    const Resource* r = s && s->catalog ? s->catalog->Find(id) : nullptr;
    top_json.push_back(
        {{"id", id}, {"title", r ? r->title : ""}, {"views", c.views}, {"downloads", c.downloads}});
  }
  const serving::UsageCounts t = today.Total();
  json serving = {
      {"miss_policy", m.config.miss == NodeConfig::MissPolicy::kProxy ? "proxy" : "redirect"}};
  if (s && s->catalog) {
    serving["catalog_release"] = s->catalog->release();
    serving["resources"] = s->catalog->size();
    serving["local_files"] = s->local_files;
  }
  if (m.cache) {
    FileCache::Stats c = m.cache->stats();
    serving["cache"] = {{"files", c.files},
                        {"bytes", c.bytes},
                        {"quota_bytes", c.quota},
                        {"evicted", c.evicted},
                        {"dropped_damaged", c.dropped_damaged}};
  }
  return {{"usage",
           {{"today", {{"date", today.date}, {"views", t.views}, {"downloads", t.downloads}}},
            {"last_7_days", {{"views", week.views}, {"downloads", week.downloads}}},
            {"top", top_json},
            {"dropped", m.usage.dropped()}}},
          {"serving", serving}};
}

}  // namespace tiersync::node
