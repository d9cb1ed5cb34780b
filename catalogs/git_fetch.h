// The catalog fetch: a node takes one release of its catalog repository from a source that
// serves it over git's smart HTTP protocol (catalogs/git_upload_pack.h; stock git servers
// too), through the one network seam below node/, a tiersync::Fetcher (base/fetcher.h:
// bounded bytes, stall and minimum-throughput rules, TLS, no redirects).
//
// The exchange (protocol v0, stateless RPC, no side-band; catalogs/git_pkt_line.h):
//   node -> source: GET  <url>/info/refs?service=git-upload-pack
//   source -> node: the advertisement (at most FetchLimits::max_advertisement_bytes)
//   node -> source: POST <url>/git-upload-pack
//                   "want <tag of the release> ofs-delta agent=tiersync/...", flush,
//                   "have <commit>" for the newest release tags this node holds (every
//                   refs/tags/r<N> here was verified before it was made), "done"
//   source -> node: NAK / ACK lines, then the pack (at most FetchLimits::max_pack_bytes in
//                   all, held in memory by the Fetcher)
//
// Verify before trust: nothing a source sends reaches the repository's refs or object
// database before the release it names has been checked against the signed metadata.
//   1. FetchRelease: the pack is checked against caps (catalogs/git_pack_scan.h: object count
//      from the pack header before anything is indexed, each object's and each delta result's
//      size, all inflated bytes), then indexed by libgit2 (checksums, connectivity) into a
//      quarantine object directory, <repo>/tiersync-quarantine/<release>/ (no ref is written;
//      the main object database is untouched). The wanted tag must be in it (or already here).
//   2. VerifyQuarantinedRelease: the release is read from the quarantine (the repository's
//      objects plus the quarantine's) by the tag's id and checked against the signed manifest,
//      within ReleaseLimits (catalogs/release.h ReadVerifiedRelease).
//   3. PromoteRelease: the quarantine's pack moves into <repo>/objects/pack (pack, then index,
//      then the directory synced), then refs/tags/<release> is created; refs/heads/main moves
//      to the highest release's commit. An existing refs/tags/<release> is never replaced if
//      it verifies against the same signed release (a verified tag is what this node serves);
//      one that does not (a damaged or unverified leftover) is replaced.
//   DiscardQuarantine removes a quarantine that was not promoted; FetchRelease also removes
//   any left by a crash. Objects a promoted pack carries beyond the release stay unreachable
//   until a `git gc`; nothing serves them (the server side packs only from advertised tags).
// FetchVerifiedRelease does 1-3 (and the discard on failure) in one call.
//
// Errors: the Fetcher's, marked remote (kUnavailable, kDeadlineExceeded, kResourceExhausted
// for a response over its cap, kNotFound for a missing repository); a source whose
// advertisement lacks the release: kNotFound (remote); a malformed advertisement or result:
// kUnavailable (remote); a pack or release that breaks a cap, fails indexing, lacks objects or
// does not match the signed metadata: kVerificationFailed (remote: the source lied); failures
// of this machine's repository or disk: marked local.
//
// REQUIRES: one fetch at a time per repository (a node's sync is one thread).
#ifndef TIERSYNC_CATALOGS_GIT_FETCH_H_
#define TIERSYNC_CATALOGS_GIT_FETCH_H_

#include <cstdint>
#include <string>

#include "base/fetcher.h"
#include "base/status.h"
#include "catalogs/git_catalog.h"
#include "catalogs/git_pack_scan.h"
#include "catalogs/release.h"

namespace tiersync::catalogs {

struct FetchLimits {
  size_t max_pack_bytes = 256 << 20;  // the upload-pack result, ACK/NAK lines and pack
  size_t max_advertisement_bytes = 4 << 20;
  size_t max_haves = 32;  // the newest release commits offered as haves
  PackLimits pack;        // checked before indexing
  ReleaseLimits release;  // checked when the quarantined release is read
};

struct FetchStats {
  uint64_t received_objects = 0;  // objects in the pack received (0 if nothing was fetched)
  uint64_t received_bytes = 0;    // response bytes received in all
};

// A release fetched into quarantine, not yet verified.
struct QuarantinedRelease {
  std::string release;      // r<N>
  std::string tag;          // hex id of the tag object the source named for it
  std::string objects_dir;  // the quarantine objects directory; empty: no pack was needed
  FetchStats stats;
};

// Fetches release `release` (r<N>) from `url` (e.g. http://parent:8080/v1/catalog.git) into
// quarantine in the bare repository at repo_dir (created with GitCatalog::Init if missing).
Result<QuarantinedRelease> FetchRelease(const std::string& repo_dir, const std::string& url,
                                        const std::string& release, Fetcher* fetcher,
                                        const FetchLimits& limits = {});

// Checks the quarantined release against `signed_release` (same release name): its content
// (read with keep_files false: the manifest and tree, for ForEachReleaseRecord once promoted),
// or kVerificationFailed (remote) naming what is wrong.
Result<ReleaseContent> VerifyQuarantinedRelease(const std::string& repo_dir,
                                                const QuarantinedRelease& q,
                                                const SignedRelease& signed_release,
                                                const ReleaseLimits& limits = {});

// Makes a verified quarantined release part of the repository (see above).
// REQUIRES: VerifyQuarantinedRelease(repo_dir, q, signed_release) returned OK.
Status PromoteRelease(const std::string& repo_dir, const QuarantinedRelease& q,
                      const SignedRelease& signed_release);

// Removes q's quarantine (its objects); the repository is as before FetchRelease.
Status DiscardQuarantine(const QuarantinedRelease& q);

// A release fetched, verified and promoted: what was received and the verified content (so
// that the caller does not read the release a second time).
struct FetchedRelease : FetchStats {
  ReleaseContent content;
};

// FetchRelease, VerifyQuarantinedRelease, PromoteRelease; on failure the quarantine is
// discarded and the error has `url` as context.
Result<FetchedRelease> FetchVerifiedRelease(const std::string& repo_dir, const std::string& url,
                                            const SignedRelease& signed_release, Fetcher* fetcher,
                                            const FetchLimits& limits = {});

}  // namespace tiersync::catalogs

#endif  // TIERSYNC_CATALOGS_GIT_FETCH_H_
