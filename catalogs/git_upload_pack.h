// The server side of the catalog over git's smart HTTP protocol, read-only (protocol v0 in
// stateless-RPC form, https://git-scm.com/docs/http-protocol): the two response bodies, built
// with libgit2 from a GitCatalog repository. node/git_http_service.h is the HTTP side.
//
// What a node exposes: the releases up to the one it serves (`max_release`). The advertisement
// lists refs/tags/r1 .. r<max_release> (only annotated release tags, as GitCatalog::Releases
// sees them; each followed by its peeled "^{}" line) and HEAD and refs/heads/main, both at the
// commit of the highest of those releases (capability symref=HEAD:refs/heads/main). With no
// such release it is the empty-repository form (a zero id named "capabilities^{}"). Newer
// commits and tags stay invisible and cannot be fetched.
//
// Negotiation (stateless RPC: every POST repeats the wants and the haves the client still
// needs): capabilities multi_ack_detailed and ofs-delta (no side-band, thin-pack, shallow or
// filter). A request (catalogs/git_pkt_line.h ParseUploadRequest) is "want" lines (each must be
// an id the advertisement for the same max_release lists), a flush, "have" lines, then a flush
// (a negotiation step) or "done". Every have that names a local object is answered
// "ACK <id> common" when the client asked for multi_ack_detailed (both git and libgit2 do);
// a step ends with "NAK". After "done" the answer is "ACK <last common>" (or "NAK" when there
// is none) followed by the pack of everything reachable from the wants and not from the common
// haves, the wanted annotated tags included. A client that asks for neither multi_ack mode only
// ever gets "NAK" (an ACK in that mode breaks stateless git and libgit2 clients). Malformed,
// oversize or refused requests are kInvalidArgument naming what is wrong.
//
// Memory: the pack is never held whole. UploadPack writes it to a file piece by piece as
// libgit2's packer produces it (git_packbuilder_foreach), for the caller to stream out; what
// the packer itself holds while it computes deltas is bounded by the caller limiting how many
// packs are built at once (node/git_http_service.h).
//
// Trust: none. git's SHA-1 only names objects; whoever fetches checks each release's content
// against the signed SHA-256 manifest (catalogs/release.h).
//
// Both functions open the repository per call and may run on any thread.
#ifndef TIERSYNC_CATALOGS_GIT_UPLOAD_PACK_H_
#define TIERSYNC_CATALOGS_GIT_UPLOAD_PACK_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/env.h"
#include "base/status.h"

namespace tiersync::catalogs {

// The body of GET <repo>/info/refs?service=git-upload-pack (content type
// application/x-git-upload-pack-advertisement) for releases up to max_release.
Result<std::string> AdvertiseUploadPack(const std::string& repo_dir, uint64_t max_release);

// The answer to POST <repo>/git-upload-pack (content type application/x-git-upload-pack-result):
// `head`, then, if `pack_bytes` > 0, the pack's bytes from the file UploadPack wrote.
struct UploadPackAnswer {
  std::string head;         // the ACK / NAK pkt-lines
  uint64_t pack_bytes = 0;  // 0: a negotiation step, no pack (nothing was written)
};

// Answers `request` (the request body, already inflated). When it ends in "done", the pack is
// written through `env` to `pack_path` (created or truncated; not synced: a scratch file the
// caller removes). kInvalidArgument for a bad request; a failure to write is kIOError (local).
Result<UploadPackAnswer> UploadPack(Env* env, const std::string& repo_dir, std::string_view request,
                                    uint64_t max_release, const std::string& pack_path);

}  // namespace tiersync::catalogs

#endif  // TIERSYNC_CATALOGS_GIT_UPLOAD_PACK_H_
