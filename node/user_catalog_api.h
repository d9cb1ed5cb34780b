// The catalog half of the user API (docs/serving.md, "Catalog"): what one served release
// offers (UserSnapshot) and its JSON — the tree, search results, a resource's detail — with
// whether each file is held here. Pure over the snapshot and the `local` test it is given.
#ifndef TIERSYNC_NODE_USER_CATALOG_API_H_
#define TIERSYNC_NODE_USER_CATALOG_API_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_set>

#include "catalogs/resource.h"
#include "node/http_server.h"
#include "node/offline_policy.h"
#include "node/takedown.h"
#include "serving/catalog_index.h"

namespace tiersync::node {

// What one served release offers: its catalog and which of its files are stored here.
struct UserSnapshot {
  std::string release_dir;
  std::shared_ptr<const serving::CatalogIndex> catalog;
  std::unordered_set<std::string> local;  // SHA-256 (hex) of files fully in the store
  size_t local_files = 0;                 // files of the release whose bytes are stored here
  std::string tree_json;                  // GET /v1/catalog/tree: the same for the release
  ReleaseValidity validity;               // its metadata's expiry and the signed offline grace
  Takedowns takedowns;                    // what signed retractions withdrew (node/takedown.h)
};

// True if the file's bytes are held here (the store, or whole in the proxy cache).
using LocalTest = std::function<bool(const UserSnapshot&, const catalogs::ResourceFile&)>;

class UserCatalogApi {
 public:
  explicit UserCatalogApi(LocalTest local) : local_(std::move(local)) {}

  // True if every file of `r` is held here (false for a resource without files).
  bool AllLocal(const UserSnapshot& s, const catalogs::Resource& r) const;
  // ITEM and DETAIL of docs/serving.md.
  nlohmann::json Item(const UserSnapshot& s, const catalogs::Resource& r) const;
  nlohmann::json Detail(const UserSnapshot& s, const catalogs::Resource& r) const;
  // GET /v1/catalog/search?...
  HttpReply Search(const UserSnapshot& s, const HttpRequest& request) const;
  // The body of GET /v1/catalog/tree.
  static std::string TreeJson(const serving::CatalogIndex& catalog);

 private:
  LocalTest local_;
};

// "<dir>/<sha256>.<name>": the content address of file `f` whose target path is `path`.
std::string ContentAddress(const std::string& path, const catalogs::ResourceFile& f);
// The record's media type (by extension when it names none), with a charset for text.
std::string ContentTypeOf(const catalogs::ResourceFile& f);
// Query parameter `name` as a number at most `max`; `fallback` when absent or not a number.
uint64_t QueryNumber(const std::map<std::string, std::string>& q, const std::string& name,
                     uint64_t fallback, uint64_t max);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_USER_CATALOG_API_H_
