// Takedown (docs/operators/node.md, "Takedown"): the signed retractions of a refresh
// (protocol/tuf_metadata.h, kRetractionsField) applied to a catalog release, as a pure
// calculation, and the list a release directory keeps of what they withdrew.
//
// A retraction names a resource id, a provider (every resource that unit supplied) or a file's
// SHA-256. It withdraws a target path only if the role that signed it may: every delegation on
// the way to the role covers the path (replication::RoleRetraction::Covers) — the national
// targets role withdraws anything, a province's role only inside its namespace. A resource is
// withdrawn whole only if every one of its target paths is covered; otherwise the retraction
// is refused for it and the refusal is reported (status, log): the resource stays served.
//
// What is withdrawn is not planned (nothing more is fetched), not served to users (HTTP 410
// with the reason; the catalog says "withdrawn"), not served to children or TUF clients, and
// its chunks are not kept by garbage collection (node/garbage_collector.h), so the bytes go
// at the collection after the switch.
#ifndef TIERSYNC_NODE_TAKEDOWN_H_
#define TIERSYNC_NODE_TAKEDOWN_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/env.h"
#include "catalogs/region_table.h"
#include "catalogs/resource.h"
#include "replication/tuf_updater.h"

namespace tiersync::node {

// Why something is withdrawn: the retraction that did it.
struct Withdrawal {
  std::string kind;  // "resource", "provider" or "sha256" (the retraction's)
  std::string role;  // the targets role that signed it
  std::string reason;
  int64_t since = 0;  // seconds since the epoch
  bool operator==(const Withdrawal&) const = default;
};

struct Takedowns {
  std::map<std::string, Withdrawal> resources;  // withdrawn whole, by resource id
  std::map<std::string, Withdrawal> files;      // by target path (a withdrawn resource's too)
  // SHA-256 (hex) of withdrawn files that no file still served shares: bytes to forget.
  std::set<std::string> digests;
  // Retractions a role may not make ("<role>: <what> is outside its namespace ..."): refused.
  std::vector<std::string> refused;
  bool empty() const { return resources.empty() && files.empty() && refused.empty(); }
  bool operator==(const Takedowns&) const = default;
};

// Applies `retractions` to the resources of a release, one at a time (the release is never
// held whole).
class TakedownResolver {
 public:
  TakedownResolver(std::vector<replication::RoleRetraction> retractions,
                   const catalogs::RegionTable& regions);

  bool empty() const { return retractions_.empty(); }
  // REQUIRES: catalogs::ValidateResource(r) passed (its target paths can be formed).
  void Add(const catalogs::Resource& r);
  // What the resources added withdraw. Call once.
  Takedowns Finish();

 private:
  std::vector<replication::RoleRetraction> retractions_;
  const catalogs::RegionTable& regions_;
  Takedowns out_;
  std::set<std::string> served_digests_;            // of files not withdrawn
  std::map<std::string, uint64_t> refused_counts_;  // refusal text -> resources refused
};

// releases/<name>/takedowns.json: {"format": "tiersync-takedowns 1", "resources": {id:
// withdrawal}, "files": {path: withdrawal}, "digests": [...], "refused": [...]}; written only
// when there is something in it.
inline constexpr char kTakedownsName[] = "takedowns.json";
std::string EncodeTakedowns(const Takedowns& t);
// kCorruption if the text is not such a list; kNewerFormat for a later one.
Result<Takedowns> DecodeTakedowns(std::string_view text);
// The list of the release directory at `release_dir_path`; empty if it has none.
Result<Takedowns> ReadTakedowns(Env* env, const std::string& release_dir_path);

// {"withdrawn_resources", "withdrawn_files", "refused": [...]} for /v1/status.
nlohmann::json TakedownsStatusJson(const Takedowns& t);
// The users' reply body fields for a withdrawn thing: {"withdrawn": {"reason", "since",
// "by"}}.
nlohmann::json WithdrawalJson(const Withdrawal& w);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_TAKEDOWN_H_
