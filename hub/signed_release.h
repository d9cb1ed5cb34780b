// The signed catalog release: what the TUF metadata says the current catalog is, read through
// the full TUF client workflow (replication::Updater) from the hub's own repository, pinned
// to root version 1 — the hub trusts its files on disk no more than a node trusts a parent.
#ifndef TIERSYNC_HUB_SIGNED_RELEASE_H_
#define TIERSYNC_HUB_SIGNED_RELEASE_H_

#include <optional>
#include <string>

#include "base/env.h"
#include "base/sha256.h"
#include "catalogs/git_catalog.h"
#include "catalogs/release.h"
#include "hub/hub_dir.h"

namespace tiersync::hub {

struct SignedRelease {
  std::string release;  // r<N>
  std::string commit;   // the git commit it was made from (informational; not trusted)
  uint64_t resources = 0;
  Sha256Digest digest{};  // SHA-256 of the manifest: the content digest
  std::string manifest;   // the manifest bytes (verified against `digest`)
};

// The release named by the hub's current signed metadata; nullopt before the first publish.
// Verification failures (bad signature, expired metadata, hash mismatch) are errors.
Result<std::optional<SignedRelease>> ReadSignedRelease(Env* env, const HubPaths& paths);

// Reads release `signed_release.release` from the catalog repository and checks its content
// against the signed digest. kVerificationFailed naming the files that differ if someone
// changed the repository; kNotFound if the release tag is missing.
Result<catalogs::ReleaseContent> ReadVerifiedRelease(catalogs::GitCatalog* git,
                                                     const SignedRelease& signed_release);

}  // namespace tiersync::hub

#endif  // TIERSYNC_HUB_SIGNED_RELEASE_H_
