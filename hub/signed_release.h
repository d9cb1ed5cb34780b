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

using catalogs::SignedRelease;

// The release named by the hub's current signed metadata; nullopt before the first publish.
// Verification failures (bad signature, expired metadata, hash mismatch) are errors.
Result<std::optional<SignedRelease>> ReadSignedRelease(Env* env, const HubPaths& paths);

using catalogs::ReadVerifiedRelease;

}  // namespace tiersync::hub

#endif  // TIERSYNC_HUB_SIGNED_RELEASE_H_
