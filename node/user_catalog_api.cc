#include "node/user_catalog_api.h"

#include <algorithm>

#include "base/hex.h"
#include "catalogs/region_table.h"
#include "node/user_replies.h"
#include "serving/media_type.h"
#include "serving/request_path.h"

namespace tiersync::node {
namespace {

using catalogs::Resource;
using catalogs::ResourceFile;
using nlohmann::json;

}  // namespace

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

uint64_t QueryNumber(const std::map<std::string, std::string>& q, const std::string& name,
                     uint64_t fallback, uint64_t max) {
  auto it = q.find(name);
  if (it == q.end() || it->second.empty() || it->second.size() > 9 ||
      it->second.find_first_not_of("0123456789") != std::string::npos) {
    return fallback;
  }
  return std::min<uint64_t>(std::stoull(it->second), max);
}

bool UserCatalogApi::AllLocal(const UserSnapshot& s, const Resource& r) const {
  if (r.files.empty()) return false;
  for (const auto& f : r.files) {
    if (!local_(s, f)) return false;
  }
  return true;
}

json UserCatalogApi::Item(const UserSnapshot& s, const Resource& r) const {
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
    placements.push_back({{"platform", p.platform}, {"board", p.board}, {"category", p.category}});
  }
  uint64_t bytes = 0;
  for (const auto& file : r.files) bytes += file.size;
  json item = {{"id", r.id},
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
  auto withdrawn = s.takedowns.resources.find(r.id);
  if (withdrawn != s.takedowns.resources.end()) {
    item.update(WithdrawalJson(withdrawn->second));
    item["local"] = false;
  }
  return item;
}

json UserCatalogApi::Detail(const UserSnapshot& s, const Resource& r) const {
  json j = Item(s, r);
  j["language"] = r.language;
  j["origin"] = r.origin;
  j["priority"] = r.priority;
  json files = json::array();
  for (const auto& f : r.files) {
    const std::string path = catalogs::TargetPath(r, f, catalogs::RegionTable::Builtin());
    json file = {{"name", f.name},
                 {"media_type", ContentTypeOf(f)},
                 {"size", f.size},
                 {"sha256", ToHex(f.sha256)},
                 {"url", "/v1/files/" + r.id + "/" + f.name},
                 {"content_url", "/v1/targets/" + ContentAddress(path, f)}};
    auto withdrawn = s.takedowns.files.find(path);
    if (withdrawn != s.takedowns.files.end()) {
      file.update(WithdrawalJson(withdrawn->second));
      file["local"] = false;
    } else {
      file["local"] = local_(s, f);
    }
    files.push_back(std::move(file));
  }
  j["files"] = files;
  if (r.link) j["link"] = {{"url", r.link->url}, {"site", r.link->site}};
  return j;
}

std::string UserCatalogApi::TreeJson(const serving::CatalogIndex& catalog) {
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
  return JsonText(
      {{"release", catalog.release()}, {"resources", catalog.size()}, {"platforms", platforms}});
}

HttpReply UserCatalogApi::Search(const UserSnapshot& s, const HttpRequest& request) const {
  auto q = serving::QueryParameters(request.target);
  serving::SearchQuery query;
  query.text = q["q"];
  query.platform = q["platform"];
  query.board = q["board"];
  query.category = q["category"];
  query.stage = q["stage"];
  query.subject = q["subject"];
  query.edition = q["edition"];
  query.grade = static_cast<int>(QueryNumber(q, "grade", 0, 12));
  query.local_only = q["local"] == "1" || q["local"] == "true";
  query.offset = QueryNumber(q, "offset", 0, 1'000'000);
  query.limit = QueryNumber(q, "limit", 20, serving::kMaxSearchLimit);
  auto result = s.catalog->Search(query, [&](const Resource& r) { return AllLocal(s, r); });
  json items = json::array();
  for (const Resource* r : result.items) items.push_back(Item(s, *r));
  return UserJson(JsonText({{"release", s.catalog->release()},
                            {"total", result.total},
                            {"offset", query.offset},
                            {"limit", query.limit},
                            {"items", items},
                            {"facets", result.facets}}));
}

}  // namespace tiersync::node
