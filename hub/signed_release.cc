#include "hub/signed_release.h"

#include "base/bytes.h"
#include "replication/env_fetcher.h"
#include "replication/tuf_updater.h"

namespace tiersync::hub {

Result<std::optional<SignedRelease>> ReadSignedRelease(Env* env, const HubPaths& paths) {
  replication::EnvFetcher fetcher(env);
  fetcher.Mount("hub:/metadata/", JoinPath(paths.tuf, "metadata"));
  fetcher.Mount("hub:/targets/", JoinPath(paths.tuf, "targets"));
  replication::Updater updater(
      env, &fetcher,
      {paths.trusted, "hub:/metadata", "hub:/targets", JoinPath(paths.trusted, "targets")});
  TS_ASSIGN_OR_RETURN(auto info, updater.GetTargetInfo(std::string(kCatalogTarget)));
  if (!info) return std::optional<SignedRelease>();
  TS_ASSIGN_OR_RETURN(SignedRelease out, catalogs::ParseCatalogTarget(
                                             info->file.custom ? &*info->file.custom : nullptr));
  TS_ASSIGN_OR_RETURN(std::string local, updater.DownloadTarget(*info));
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, local, catalogs::kMaxManifestBytes));
  out.manifest.assign(bytes.begin(), bytes.end());
  out.digest = Sha256(bytes);  // DownloadTarget checked it against the signed hash
  return std::optional<SignedRelease>(std::move(out));
}

}  // namespace tiersync::hub
