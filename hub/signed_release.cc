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
  SignedRelease out;
  const protocol::Json* custom = info->file.custom ? &*info->file.custom : nullptr;
  const protocol::Json* release = custom ? custom->Find("release") : nullptr;
  const protocol::Json* commit = custom ? custom->Find("commit") : nullptr;
  const protocol::Json* resources = custom ? custom->Find("resources") : nullptr;
  if (release == nullptr || !release->is_string() || commit == nullptr || !commit->is_string() ||
      resources == nullptr || !resources->is_int() || resources->as_int() < 0) {
    return VerificationError("signed target " + std::string(kCatalogTarget) +
                             " lacks its custom fields release, commit, resources");
  }
  out.release = release->as_string();
  out.commit = commit->as_string();
  out.resources = static_cast<uint64_t>(resources->as_int());
  TS_ASSIGN_OR_RETURN(std::string local, updater.DownloadTarget(*info));
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, local, catalogs::kMaxManifestBytes));
  out.manifest.assign(bytes.begin(), bytes.end());
  out.digest = Sha256(bytes);  // DownloadTarget checked it against the signed hash
  return std::optional<SignedRelease>(std::move(out));
}

Result<catalogs::ReleaseContent> ReadVerifiedRelease(catalogs::GitCatalog* git,
                                                     const SignedRelease& signed_release) {
  Result<catalogs::ReleaseInfo> info = git->FindRelease(signed_release.release);
  if (!info.ok()) {
    return Status(info.status().code(),
                  "signed catalog release " + signed_release.release +
                      " is not in the catalog repository: " + info.status().message());
  }
  TS_ASSIGN_OR_RETURN(catalogs::ReleaseContent content,
                      catalogs::ReadReleaseContent(git, info->tree));
  TS_RETURN_IF_ERROR(catalogs::CheckReleaseContent(
      content, signed_release.digest, &signed_release.manifest, signed_release.release));
  return content;
}

}  // namespace tiersync::hub
