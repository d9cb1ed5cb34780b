#include "hub/retract.h"

#include <tuple>

#include "base/hex.h"
#include "catalogs/git_catalog.h"
#include "catalogs/region_table.h"
#include "catalogs/release.h"
#include "catalogs/taxonomy.h"
#include "hub/hub_dir.h"
#include "hub/signed_release.h"

namespace tiersync::hub {

Result<RetractReport> RetractInRepository(replication::TufRepository& repo, const std::string& role,
                                          RetractOptions options) {
  protocol::tuf::Retraction& r = options.retraction;
  if (options.lift) {
    TS_RETURN_IF_ERROR(repo.LiftRetraction(role, r.kind, r.value));
  } else {
    if (r.reason.empty()) {
      return InvalidArgumentError("give the reason users will be shown (--reason)");
    }
    r.since = options.now;
    TS_RETURN_IF_ERROR(repo.Retract(role, r));
  }
  TS_RETURN_IF_ERROR(repo.Publish(options.keys, options.now));
  RetractReport report;
  TS_ASSIGN_OR_RETURN(const protocol::tuf::Targets* t, repo.targets(role));
  report.targets_version = t->version;
  report.retractions = t->retractions.size();
  return report;
}

namespace {

// The resources and files of the hub's signed release that `r` names.
Result<std::pair<uint64_t, uint64_t>> Matches(Env* env, const HubPaths& paths,
                                              const protocol::tuf::Retraction& r) {
  TS_ASSIGN_OR_RETURN(auto release, ReadSignedRelease(env, paths));
  if (!release) return std::pair<uint64_t, uint64_t>{0, 0};
  TS_ASSIGN_OR_RETURN(auto git, catalogs::GitCatalog::Open(paths.catalog));
  TS_ASSIGN_OR_RETURN(auto content, catalogs::ReadVerifiedRelease(git.get(), *release,
                                                                  /*keep_files=*/false));
  uint64_t resources = 0, files = 0;
  using Kind = protocol::tuf::Retraction::Kind;
  TS_RETURN_IF_ERROR(catalogs::ForEachReleaseRecord(
      git.get(), content, catalogs::Taxonomy::Builtin(), catalogs::RegionTable::Builtin(),
      [&](catalogs::Resource&& res) {
        if ((r.kind == Kind::kResource && res.id == r.value) ||
            (r.kind == Kind::kProvider && res.provider == r.value)) {
          ++resources;
          files += res.files.size();
        } else if (r.kind == Kind::kSha256) {
          for (const auto& f : res.files) files += ToHex(f.sha256) == r.value ? 1 : 0;
        }
        return Status::Ok();
      }));
  return std::pair{resources, files};
}

}  // namespace

Result<RetractReport> Retract(Env* env, const std::string& hub_dir, RetractOptions options) {
  const HubPaths paths(hub_dir);
  TS_ASSIGN_OR_RETURN(auto lock, LockHub(env, paths));
  uint64_t resources = 0, files = 0;
  if (!options.lift) {
    // A typo must not pass for a takedown: what names nothing in the signed release is refused.
    TS_ASSIGN_OR_RETURN(std::tie(resources, files), Matches(env, paths, options.retraction));
    if (resources == 0 && files == 0) {
      return NotFoundError("the signed release has no " +
                           std::string(protocol::tuf::RetractionKindName(options.retraction.kind)) +
                           " " + options.retraction.value + ": nothing to withdraw");
    }
  }
  TS_ASSIGN_OR_RETURN(auto repo, replication::TufRepository::Open(env, paths.tuf));
  TS_ASSIGN_OR_RETURN(
      RetractReport report,
      RetractInRepository(repo, std::string(protocol::tuf::kTargetsRole), std::move(options)));
  report.resources = resources;
  report.files = files;
  return report;
}

}  // namespace tiersync::hub
