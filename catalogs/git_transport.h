// The catalog over git's smart HTTP protocol, read-only (protocol v0 in stateless-RPC form,
// https://git-scm.com/docs/http-protocol): the two server-side response bodies, built with
// libgit2 from a GitCatalog repository, and a libgit2 fetch client (over http:// or https://:
// libgit2's network streams are replaced by bounded ones, TLS through OpenSSL).
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
// filter). A request is "want" lines (at most 1,000; each must be an id the advertisement for
// the same max_release lists), a flush, "have" lines (at most 10,000), then a flush (a
// negotiation step) or "done". Every have that names a local object is answered
// "ACK <id> common" when the client asked for multi_ack_detailed (both git and libgit2 do);
// a step ends with "NAK". After "done" the answer is "ACK <last common>" (or "NAK" when there
// is none) followed by the pack of everything reachable from the wants and not from the common
// haves, annotated tags included. A client that asks for neither multi_ack mode only ever gets
// "NAK" (an ACK in that mode breaks stateless git and libgit2 clients). Malformed, oversize or
// refused requests are kInvalidArgument naming what is wrong.
//
// Trust: none. git's SHA-1 only names objects; whoever fetches checks each release's content
// against the signed SHA-256 manifest (catalogs/release.h).
//
// The server functions open the repository per call and may run on any thread. The pack is
// built in memory.
#ifndef TIERSYNC_CATALOGS_GIT_TRANSPORT_H_
#define TIERSYNC_CATALOGS_GIT_TRANSPORT_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tiersync::catalogs {

inline constexpr size_t kMaxUploadPackWants = 1000;
inline constexpr size_t kMaxUploadPackHaves = 10000;

// The body of GET <repo>/info/refs?service=git-upload-pack (content type
// application/x-git-upload-pack-advertisement) for releases up to max_release.
Result<std::string> AdvertiseUploadPack(const std::string& repo_dir, uint64_t max_release);

// The body of the response to POST <repo>/git-upload-pack (content type
// application/x-git-upload-pack-result) for `request` (the request body, already inflated).
Result<std::string> UploadPack(const std::string& repo_dir, std::string_view request,
                               uint64_t max_release);

struct FetchStats {
  uint64_t received_objects = 0;  // objects in the pack received (0 if already up to date)
  uint64_t received_bytes = 0;    // bytes of that pack
};

// Whom an https:// catalog source must prove to be (TLS 1.3, the certificate checked against
// these CAs and against the URL's host: a DNS name, also sent as SNI, or an IP address).
struct FetchTls {
  std::string ca_file;  // PEM file of trusted CAs; empty: the system's CA store
};

// Fetches refs/tags/* and refs/heads/main from `url` (http:// or https://, e.g.
// https://127.0.0.1:8443/v1/catalog.git) into the bare repository at repo_dir (created with
// GitCatalog::Init if missing), force-updating them to the remote's values (tags the remote no
// longer lists are kept; FETCH_HEAD is not written; redirects are not followed). The received
// pack is indexed and fsynced before any ref moves.
// Bounds: every network read and write must finish by now + timeout (kDeadlineExceeded), and
// at most max_bytes may be received in all, HTTP headers included (kResourceExhausted). Host
// name resolution is not bounded; over https the budget counts the bytes after decryption. A
// server that cannot be reached, answers an HTTP error, fails the TLS handshake ("TLS
// handshake with HOST:PORT failed: certificate verify failed (...)") or sends something
// malformed -> kUnavailable (try the next source); a URL that is neither http:// nor https://,
// or a CA file without certificates -> kInvalidArgument; local failures -> kIOError.
Result<FetchStats> FetchCatalog(const std::string& repo_dir, const std::string& url,
                                std::chrono::milliseconds timeout, uint64_t max_bytes,
                                const FetchTls& tls = {});

}  // namespace tiersync::catalogs

#endif  // TIERSYNC_CATALOGS_GIT_TRANSPORT_H_
