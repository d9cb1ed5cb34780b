// Updater: the TUF client workflow (specification section 5) with its I/O: metadata fetched
// through a Fetcher, trusted metadata persisted through the Env (durably, before it is used,
// so trusted versions never go back across crashes), targets downloaded and verified. All
// trust decisions are TrustedSet's (protocol/tuf_trusted_set.h).
//
// On disk (metadata_dir) every role is kept under its non-versioned name: root.json,
// timestamp.json, snapshot.json, targets.json, <url-quoted role>.json. Remote names follow
// the consistent-snapshot layout: N.root.json, timestamp.json, V.snapshot.json,
// V.<role>.json, and targets as <dir>/<sha256>.<name>.
//
// Not thread-safe; one Updater per refresh.
#ifndef TIERSYNC_REPLICATION_TUF_UPDATER_H_
#define TIERSYNC_REPLICATION_TUF_UPDATER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/env.h"
#include "protocol/tuf_trusted_set.h"
#include "replication/fetcher.h"

namespace tiersync::replication {

struct UpdaterOptions {
  std::string metadata_dir;     // local trusted metadata
  std::string metadata_url;     // base URL of the repository's metadata
  std::string target_base_url;  // base URL of its targets
  std::string target_dir;       // where downloaded targets go
  // Also keep the root chain in metadata_dir as "<N>.root.json", so that a node can relay it
  // to its children byte for byte: the trusted root a refresh starts from (the pinned one, of
  // any version >= 1, on the first refresh) and every root version it accepts. The chain
  // starts at the version the client was initialised with; versions before it were never
  // seen here (FirstKeptRoot).
  bool keep_root_history = false;
  // Delegated targets roles ListAllTargets fetches at once (1: one after another). Above 1,
  // the children of each delegating role are fetched in parallel before they are verified
  // (one by one, in the usual order: fetching in parallel changes no trust decision), and
  // what ListAllTargets verified is written out together at its end: every file first,
  // then each flushed, renamed into place, and the directory flushed once (durable before
  // ListAllTargets returns, as one by one; a crash half-way leaves older roles, which the
  // next refresh replaces). REQUIRES: the Fetcher may be called from several threads.
  int parallel_fetches = 1;
};

// A target found by a delegation search: its path and the trusted entry for it.
struct TargetInfo {
  std::string path;
  protocol::tuf::TargetFile file;
};

// A retraction as a client found it: signed by targets role `role`, reached through `chain`
// (the delegations from the top-level targets to it; empty for the top-level role).
struct RoleRetraction {
  std::string role;
  std::vector<protocol::tuf::DelegatedRole> chain;
  protocol::tuf::Retraction retraction;
  // Whether the role may withdraw target `path`: every delegation on the way covers it
  // (protocol::tuf::RoleCoversTarget), as for the targets the role lists.
  bool Covers(std::string_view path) const;
};

class Updater {
 public:
  // Env and Fetcher are not owned and must outlive the Updater.
  Updater(Env* env, Fetcher* fetcher, UpdaterOptions options);

  // Stores `root_bytes` as the trusted root in `metadata_dir` (created if missing). No checks
  // beyond size, no network (the tuf-conformance "init" contract). Any root version may be
  // the starting point: trust is walked forward from it (spec 5.3).
  static Status Init(Env* env, const std::string& metadata_dir, ByteSpan root_bytes);

  // The first version of the root chain kept in `metadata_dir` (keep_root_history) that ends
  // at `current`: the lowest F such that "<F>.root.json" ... "<current>.root.json" are all
  // there. kNotFound if "<current>.root.json" itself is missing. REQUIRES: current >= 1.
  static Result<uint64_t> FirstKeptRoot(Env* env, const std::string& metadata_dir,
                                        uint64_t current);

  // Updates root, timestamp, snapshot and top-level targets (spec 5.1-5.6). The update start
  // time is read once, here. OK only if the whole refresh succeeded.
  Status Refresh();

  // Searches the delegation tree for `path` (pre-order, depth first, visited set, at most
  // kMaxDelegationsVisited roles, terminating delegations stop the search). nullopt if no
  // trusted role lists it. Refreshes first if Refresh() was not called.
  Result<std::optional<TargetInfo>> GetTargetInfo(const std::string& path);

  // Every target the trusted metadata lists, loading every delegated role (pre-order, as a
  // search would: a path listed by several roles gets the entry the search for it would find,
  // and a role's entries count only for paths every delegation on the way to it covers).
  // Sorted by path. At most kMaxRolesListed roles are loaded. Refreshes first if Refresh()
  // was not called.
  Result<std::vector<TargetInfo>> ListAllTargets();
  // The same without copies: each path's entry in the trusted metadata, valid as long as this
  // Updater lives and is not refreshed again.
  Result<std::map<std::string, const protocol::tuf::TargetFile*>> ListAllTrustedTargets();
  // The retractions of every role the last ListAllTrustedTargets() loaded, each with the
  // delegations on the way to its role (what it may withdraw: RoleRetraction::Covers).
  const std::vector<RoleRetraction>& retractions() const { return retractions_; }

  // Downloads `target` into target_dir (as its url-quoted path), verifying its length and
  // every listed hash this client supports (sha256, sha512; protocol/tuf_verify.h); a verified
  // copy already there is reused. Returns the local file path.
  // REQUIRES: a successful Refresh() or GetTargetInfo() (kFailedPrecondition otherwise).
  Result<std::string> DownloadTarget(const TargetInfo& target);

  // The trusted metadata after a successful Refresh() (null before).
  const protocol::tuf::TrustedSet* trusted() const { return trusted_ ? &*trusted_ : nullptr; }

 private:
  Status LoadRoot();
  // keep_root_history: "<N>.root.json" of the trusted root a refresh starts from, if missing.
  Status KeepStartingRoot(ByteSpan root_bytes);
  Status LoadTimestamp();
  Status LoadSnapshot();
  Result<const protocol::tuf::Targets*> LoadTargets(const std::string& role,
                                                    const std::string& delegator);
  Result<std::map<std::string, const protocol::tuf::TargetFile*>> ListAll(bool prefetch);
  // GetTargetInfo's search; the entry in the trusted metadata, or null.
  Result<const protocol::tuf::TargetFile*> FindTarget(const std::string& path);
  Result<std::vector<uint8_t>> ReadLocal(const std::string& role, size_t max_bytes);
  Status Persist(const std::string& role, ByteSpan bytes);
  // Fetches, in parallel, the roles `delegations` names (as children of `delegator`) from the
  // one at `first` on that are neither trusted yet nor still trusted from their local copies,
  // at most `max_wants` of them; LoadTargets then takes their bytes from `prefetched_`.
  void Prefetch(const protocol::tuf::Delegations& delegations, const std::string& delegator,
                size_t first, size_t max_wants);
  // Writes out what Persist deferred, a group at a time, and the directory at the end (see
  // UpdaterOptions::parallel_fetches).
  Status WriteDeferred();
  Status FlushDeferred();
  static constexpr size_t kDeferredGroup = 64;
  std::string MetadataUrl(const std::string& role, std::optional<uint64_t> version) const;

  Env* env_;
  Fetcher* fetcher_;
  UpdaterOptions options_;
  std::optional<protocol::tuf::TrustedSet> trusted_;
  std::map<std::string, Result<std::vector<uint8_t>>> prefetched_;  // by role
  std::vector<RoleRetraction> retractions_;                         // of the last listing
  bool defer_persist_ = false;
  bool renamed_deferred_ = false;  // a deferred group was renamed into place: flush the dir
  std::vector<std::pair<std::string, std::vector<uint8_t>>> deferred_;  // (path, bytes)
};

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_TUF_UPDATER_H_
