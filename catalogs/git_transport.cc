#include "catalogs/git_transport.h"

#include <arpa/inet.h>
#include <git2.h>
#include <git2/sys/stream.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <type_traits>
#include <vector>

#include "base/env.h"
#include "catalogs/git_catalog.h"
#include "catalogs/git_common.h"

namespace tiersync::catalogs {
namespace {

using git_internal::EnsureLibgit2;
using git_internal::Hex;
using git_internal::ObjectPtr;
using git_internal::OdbPtr;
using git_internal::PackBuilderPtr;
using git_internal::RemotePtr;
using git_internal::RepoPtr;
using git_internal::WalkPtr;

constexpr char kCapabilities[] =
    "multi_ack_detailed ofs-delta symref=HEAD:refs/heads/main agent=tiersync/0.1";
constexpr size_t kMaxPktLine = 65520;

Result<RepoPtr> OpenRepo(const std::string& dir) {
  EnsureLibgit2();
  git_repository* repo = nullptr;
  TS_GIT_CALL(git_repository_open_bare(&repo, dir.c_str()), "open " + dir);
  return RepoPtr(repo);
}

// ---- The advertisement.

struct AdvertisedRef {
  std::string name;
  git_oid id;
};

struct TagAndCommit {
  git_oid tag;
  git_oid commit;
};

// The annotated tag refs/tags/<name> and the commit it peels to; nullopt for a lightweight tag
// or a tag of something else (GitCatalog::Releases skips those too).
Result<std::optional<TagAndCommit>> ReleaseTag(git_repository* repo, const std::string& name) {
  using Found = std::optional<TagAndCommit>;
  git_oid tag_id;
  TS_GIT_CALL(git_reference_name_to_id(&tag_id, repo, ("refs/tags/" + name).c_str()),
              "release " + name);
  git_object* tag = nullptr;
  TS_GIT_CALL(git_object_lookup(&tag, repo, &tag_id, GIT_OBJECT_ANY), "release " + name);
  ObjectPtr tag_owner(tag);
  if (git_object_type(tag) != GIT_OBJECT_TAG) return Found();
  git_object* target = nullptr;
  TS_GIT_CALL(git_tag_peel(&target, reinterpret_cast<git_tag*>(tag)), "release " + name);
  ObjectPtr target_owner(target);
  if (git_object_type(target) != GIT_OBJECT_COMMIT) return Found();
  return Found(TagAndCommit{tag_id, *git_object_id(target)});
}

// What the advertisement lists, in order: HEAD, refs/heads/main (both at the commit of the
// highest release), then each release tag up to max_release with its peeled line. Empty when
// there is no such release.
Result<std::vector<AdvertisedRef>> ExposedRefs(git_repository* repo, uint64_t max_release) {
  git_strarray names = {nullptr, 0};
  TS_GIT_CALL(git_tag_list_match(&names, "r*", repo), "list tags");
  std::vector<std::pair<uint64_t, std::string>> found;
  for (size_t i = 0; i < names.count; ++i) {
    std::optional<uint64_t> n = ReleaseNumber(names.strings[i]);
    if (n && *n <= max_release) found.emplace_back(*n, names.strings[i]);
  }
  git_strarray_dispose(&names);
  std::sort(found.begin(), found.end());
  std::vector<AdvertisedRef> tags;
  for (const auto& [number, name] : found) {
    TS_ASSIGN_OR_RETURN(auto tag, ReleaseTag(repo, name));
    if (!tag) continue;
    tags.push_back({"refs/tags/" + name, tag->tag});
    tags.push_back({"refs/tags/" + name + "^{}", tag->commit});
  }
  if (tags.empty()) return tags;
  const git_oid head = tags.back().id;
  std::vector<AdvertisedRef> refs = {{"HEAD", head}, {"refs/heads/main", head}};
  refs.insert(refs.end(), tags.begin(), tags.end());
  return refs;
}

void AppendPkt(std::string* out, std::string_view payload) {
  char length[5];
  std::snprintf(length, sizeof length, "%04zx", payload.size() + 4);
  out->append(length, 4);
  out->append(payload);
}

// ---- The request.

// At most 60 bytes of `s` in quotes, bytes outside printable ASCII as \xNN.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s.substr(0, 60)) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char esc[5];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
    }
  }
  return out + (s.size() > 60 ? "\"..." : "\"");
}

Status BadRequest(const std::string& what) {
  return InvalidArgumentError("upload-pack request: " + what);
}

// The payload of the next pkt-line of `*in` without its trailing LF, or nullopt for a
// flush-pkt; consumes it.
Result<std::optional<std::string_view>> NextPkt(std::string_view* in) {
  if (in->empty()) return BadRequest("ends without a flush-pkt or \"done\"");
  if (in->size() < 4) return BadRequest("truncated pkt-line length " + Quote(*in));
  size_t length = 0;
  auto [end, ec] = std::from_chars(in->data(), in->data() + 4, length, 16);
  if (ec != std::errc() || end != in->data() + 4) {
    return BadRequest("pkt-line length " + Quote(in->substr(0, 4)) + " is not 4 hex digits");
  }
  if (length == 0) {
    in->remove_prefix(4);
    return std::optional<std::string_view>();
  }
  if (length < 4) return BadRequest("pkt-line length " + std::to_string(length) + " is reserved");
  if (length > kMaxPktLine) {
    return BadRequest("pkt-line length " + std::to_string(length) + " is over 65520");
  }
  if (length > in->size()) {
    return BadRequest("pkt-line of " + std::to_string(length) + " bytes runs past the end");
  }
  std::string_view payload = in->substr(4, length - 4);
  in->remove_prefix(length);
  if (payload.ends_with('\n')) payload.remove_suffix(1);
  return std::optional<std::string_view>(payload);
}

// "<keyword> <id>", then nothing or, when `rest` is given, optionally " <rest>".
Result<git_oid> ParseIdLine(std::string_view line, std::string_view keyword,
                            std::string_view* rest) {
  const size_t id_at = keyword.size() + 1;
  std::optional<git_oid> id;
  if (line.starts_with(keyword) && line.size() >= id_at + GIT_OID_HEXSZ && line[id_at - 1] == ' ') {
    id = git_internal::ParseHexOid(line.substr(id_at, GIT_OID_HEXSZ));
  }
  if (!id) {
    return BadRequest("expected \"" + std::string(keyword) + " <object id>\", got " + Quote(line));
  }
  std::string_view tail = line.substr(id_at + GIT_OID_HEXSZ);
  if (rest != nullptr && tail.starts_with(' ')) {
    *rest = tail.substr(1);
  } else if (!tail.empty()) {
    return BadRequest("unexpected text after the object id in " + Quote(line));
  }
  return *id;
}

struct UploadRequest {
  std::vector<git_oid> wants;
  std::set<std::string, std::less<>> capabilities;
  std::vector<git_oid> haves;
  bool done = false;
};

// want-list flush-pkt have-list (flush-pkt | "done"), and nothing after it.
Result<UploadRequest> ParseUploadRequest(std::string_view in) {
  UploadRequest r;
  for (;;) {
    TS_ASSIGN_OR_RETURN(std::optional<std::string_view> line, NextPkt(&in));
    if (!line) break;
    if (r.wants.size() == kMaxUploadPackWants) return BadRequest("more than 1000 wants");
    std::string_view caps;
    TS_ASSIGN_OR_RETURN(git_oid id, ParseIdLine(*line, "want", r.wants.empty() ? &caps : nullptr));
    r.wants.push_back(id);
    while (!caps.empty()) {
      const size_t space = std::min(caps.find(' '), caps.size());
      if (space > 0) r.capabilities.emplace(caps.substr(0, space));
      caps.remove_prefix(std::min(space + 1, caps.size()));
    }
  }
  if (r.wants.empty()) return BadRequest("no \"want\" lines");
  for (;;) {
    TS_ASSIGN_OR_RETURN(std::optional<std::string_view> line, NextPkt(&in));
    if (!line) break;
    if (*line == "done") {
      r.done = true;
      break;
    }
    if (r.haves.size() == kMaxUploadPackHaves) return BadRequest("more than 10000 haves");
    TS_ASSIGN_OR_RETURN(git_oid id, ParseIdLine(*line, "have", nullptr));
    r.haves.push_back(id);
  }
  if (!in.empty()) {
    return BadRequest(std::string("data after the ") + (r.done ? "\"done\"" : "haves' flush-pkt"));
  }
  return r;
}

// ---- The answer.

Status CheckWants(git_repository* repo, const std::vector<git_oid>& wants, uint64_t max_release) {
  TS_ASSIGN_OR_RETURN(std::vector<AdvertisedRef> refs, ExposedRefs(repo, max_release));
  std::set<std::string> advertised;
  for (const AdvertisedRef& ref : refs) advertised.insert(Hex(&ref.id));
  for (const git_oid& want : wants) {
    if (!advertised.contains(Hex(&want))) {
      return BadRequest("want " + Hex(&want) + " is not an advertised ref (releases up to " +
                        ReleaseName(max_release) + " are served)");
    }
  }
  return Status::Ok();
}

// The haves that name local objects, each once, in the order given.
Result<std::vector<git_oid>> CommonHaves(git_repository* repo, const std::vector<git_oid>& haves) {
  git_odb* odb_raw = nullptr;
  TS_GIT_CALL(git_repository_odb(&odb_raw, repo), "object database");
  OdbPtr odb(odb_raw);
  std::vector<git_oid> common;
  std::set<std::string> seen;
  for (const git_oid& have : haves) {
    if (git_odb_exists(odb.get(), &have) && seen.insert(Hex(&have)).second) common.push_back(have);
  }
  return common;
}

// The pack of everything reachable from `wants` (wanted tags included) and not from the
// commits among `common`.
Result<std::string> BuildPack(git_repository* repo, const std::vector<git_oid>& wants,
                              const std::vector<git_oid>& common) {
  git_revwalk* walk = nullptr;
  TS_GIT_CALL(git_revwalk_new(&walk, repo), "revision walk");
  WalkPtr walk_owner(walk);
  git_packbuilder* packer = nullptr;
  TS_GIT_CALL(git_packbuilder_new(&packer, repo), "pack builder");
  PackBuilderPtr packer_owner(packer);
  for (const git_oid& want : wants) {
    git_object* obj = nullptr;
    TS_GIT_CALL(git_object_lookup(&obj, repo, &want, GIT_OBJECT_ANY), "read " + Hex(&want));
    ObjectPtr owner(obj);
    if (git_object_type(obj) == GIT_OBJECT_TAG) {
      TS_GIT_CALL(git_packbuilder_insert(packer, &want, nullptr), "pack " + Hex(&want));
    }
    TS_GIT_CALL(git_revwalk_push(walk, &want), "walk from " + Hex(&want));
  }
  for (const git_oid& have : common) {
    git_object* obj = nullptr;
    TS_GIT_CALL(git_object_lookup(&obj, repo, &have, GIT_OBJECT_ANY), "read " + Hex(&have));
    ObjectPtr owner(obj);
    git_object* commit = nullptr;
    if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) continue;  // not a commit-ish
    ObjectPtr commit_owner(commit);
    TS_GIT_CALL(git_revwalk_hide(walk, git_object_id(commit)), "hide " + Hex(&have));
  }
  TS_GIT_CALL(git_packbuilder_insert_walk(packer, walk), "collect objects");
  git_buf buf = GIT_BUF_INIT;
  const int rc = git_packbuilder_write_buf(&buf, packer);
  std::string pack = rc < 0 ? "" : std::string(buf.ptr, buf.size);
  git_buf_dispose(&buf);
  TS_GIT_CALL(rc, "write pack");
  return pack;
}

// ---- The client's network stream.

using Clock = std::chrono::steady_clock;

// The limits of the FetchCatalog call running on this thread, and its TLS context.
struct FetchBounds {
  Clock::time_point deadline;
  uint64_t max_bytes = 0;
  uint64_t received = 0;
  bool timed_out = false;
  bool too_big = false;
  SSL_CTX* tls = nullptr;  // for https:// URLs
};
thread_local FetchBounds* current_bounds = nullptr;

// libgit2's plain TCP and TLS streams are replaced (git_stream_register) by this one: libgit2
// 1.5 has no network timeouts, so every wait here is bounded by the deadline of the
// FetchCatalog call on the thread, and every read counts against its byte budget. Outside
// FetchCatalog it refuses to connect. Over TLS (https://) OpenSSL runs on the same
// non-blocking socket, its waits bounded the same way.
struct BoundedStream {
  git_stream parent;  // first: libgit2 hands back &parent
  FetchBounds* bounds;
  std::string host;
  std::string port;
  int fd;
  SSL* ssl;  // null: plain TCP
};
static_assert(std::is_standard_layout_v<BoundedStream>);

BoundedStream* Self(git_stream* stream) { return reinterpret_cast<BoundedStream*>(stream); }

int NetError(const std::string& message) {
  git_error_set_str(GIT_ERROR_NET, message.c_str());
  return -1;
}

int ErrnoError(BoundedStream* s, const char* what, int err) {
  return NetError(std::string(what) + " " + s->host + ":" + s->port + ": " + std::strerror(err));
}

// 0 once s->fd is ready for `events`; -1 (with the error set) when the deadline passes first.
int WaitFor(BoundedStream* s, short events) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(s->bounds->deadline - Clock::now());
    if (left.count() <= 0) {
      s->bounds->timed_out = true;
      return NetError("timed out talking to " + s->host + ":" + s->port);
    }
    pollfd p = {s->fd, events, 0};
    int rc = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)));
    if (rc > 0) return 0;
    if (rc < 0 && errno != EINTR) return ErrnoError(s, "poll", errno);
  }
}

// ---- TLS: OpenSSL over the stream's socket.

// A BIO over the socket that never raises SIGPIPE (OpenSSL's socket BIO uses write(2)).
BIO_METHOD* NoSigpipeSocketBio() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tiersync socket");
    BIO_meth_set_write(m, [](BIO* b, const char* data, int len) -> int {
      BIO_clear_retry_flags(b);
      ssize_t n = ::send(Self(static_cast<git_stream*>(BIO_get_data(b)))->fd, data,
                         static_cast<size_t>(len), MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        BIO_set_retry_write(b);
      }
      return static_cast<int>(n);
    });
    BIO_meth_set_read(m, [](BIO* b, char* data, int len) -> int {
      BIO_clear_retry_flags(b);
      ssize_t n = ::recv(Self(static_cast<git_stream*>(BIO_get_data(b)))->fd, data,
                         static_cast<size_t>(len), 0);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        BIO_set_retry_read(b);
      }
      return static_cast<int>(n);
    });
    BIO_meth_set_ctrl(
        m, [](BIO*, int cmd, long, void*) -> long { return cmd == BIO_CTRL_FLUSH ? 1 : 0; });
    return m;
  }();
  return method;
}

// Waits as OpenSSL asks after a call on s->ssl returned `rc`: 0 to try again, -1 on failure
// (with the error set; `what` prefixes OpenSSL's reason), 1 when the peer closed cleanly.
int TlsWait(BoundedStream* s, int rc, const std::string& what) {
  const int err = SSL_get_error(s->ssl, rc);
  if (err == SSL_ERROR_WANT_READ) return WaitFor(s, POLLIN);
  if (err == SSL_ERROR_WANT_WRITE) return WaitFor(s, POLLOUT);
  if (err == SSL_ERROR_ZERO_RETURN) return 1;
  if (err == SSL_ERROR_SYSCALL && errno != 0) return NetError(what + ": " + std::strerror(errno));
  const unsigned long e = ERR_peek_last_error();
  std::string reason = e != 0 && ERR_reason_error_string(e) != nullptr ? ERR_reason_error_string(e)
                                                                       : "connection closed";
  if (ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    reason +=
        std::string(" (") + X509_verify_cert_error_string(SSL_get_verify_result(s->ssl)) + ")";
  } else if (ERR_GET_REASON(e) == SSL_R_WRONG_VERSION_NUMBER ||
             ERR_GET_REASON(e) == SSL_R_PACKET_LENGTH_TOO_LONG) {
    reason += " (it does not speak TLS: is it an http:// server?)";
  }
  ERR_clear_error();
  return NetError(what + ": " + reason);
}

// The TLS handshake on the connected socket: TLS 1.3, the certificate checked against the
// call's CAs and against the host (a DNS name, also sent as SNI, or an IP address).
int TlsHandshake(BoundedStream* s) {
  if (s->bounds->tls == nullptr) return NetError("tiersync: no TLS context for " + s->host);
  s->ssl = SSL_new(s->bounds->tls);
  BIO* bio = s->ssl != nullptr ? BIO_new(NoSigpipeSocketBio()) : nullptr;
  if (bio == nullptr) return NetError("TLS: out of memory");
  BIO_set_data(bio, &s->parent);
  BIO_set_init(bio, 1);
  SSL_set_bio(s->ssl, bio, bio);
  unsigned char addr[sizeof(in6_addr)];
  const bool ip = ::inet_pton(AF_INET, s->host.c_str(), addr) == 1 ||
                  ::inet_pton(AF_INET6, s->host.c_str(), addr) == 1;
  X509_VERIFY_PARAM* param = SSL_get0_param(s->ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const bool named = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, s->host.c_str()) == 1
                        : SSL_set_tlsext_host_name(s->ssl, s->host.c_str()) == 1 &&
                              SSL_set1_host(s->ssl, s->host.c_str()) == 1;
  if (!named) return NetError("TLS: cannot check a certificate against host " + s->host);
  const std::string what = "TLS handshake with " + s->host + ":" + s->port + " failed";
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int rc = SSL_connect(s->ssl);
    if (rc == 1) return 0;
    const int waited = TlsWait(s, rc, what);
    if (waited < 0) return -1;
    if (waited > 0) return NetError(what + ": connection closed");
  }
}

// A TLS client context for one FetchCatalog call.
using SslCtxPtr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;
Result<SslCtxPtr> NewTlsContext(const FetchTls& tls) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return IOError("TLS: cannot create a context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);  // HTTP delimits the body
  if (tls.ca_file.empty()) {
    SSL_CTX_set_default_verify_paths(ctx.get());
    return ctx;
  }
  auto pem = ReadFileToBytes(Env::Default(), tls.ca_file, 4 << 20);
  if (!pem.ok()) return pem.status().WithContext("ca");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())), BIO_free);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    added += X509_STORE_add_cert(store, cert) == 1;
    X509_free(cert);
  }
  ERR_clear_error();
  if (added == 0) return InvalidArgumentError("ca " + tls.ca_file + ": no PEM certificate in it");
  return ctx;
}

// ---- The stream's operations.

int Connect(git_stream* stream) {
  BoundedStream* s = Self(stream);
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(s->host.c_str(), s->port.c_str(), &hints, &found); rc != 0) {
    return NetError("resolve " + s->host + ": " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(found, ::freeaddrinfo);
  int err = EADDRNOTAVAIL;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    s->fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (s->fd < 0) {
      err = errno;
      continue;
    }
    err = ::connect(s->fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      if (WaitFor(s, POLLOUT) < 0) return -1;
      socklen_t len = sizeof err;
      if (::getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    }
    if (err == 0) return s->parent.encrypted ? TlsHandshake(s) : 0;
    ::close(s->fd);
    s->fd = -1;
  }
  return ErrnoError(s, "connect to", err);
}

ssize_t Read(git_stream* stream, void* data, size_t len) {
  BoundedStream* s = Self(stream);
  FetchBounds* b = s->bounds;
  // One byte over the budget is enough to tell that it is exceeded.
  len = static_cast<size_t>(std::min<uint64_t>(len, b->max_bytes - b->received + 1));
  for (;;) {
    ssize_t n;
    if (s->ssl != nullptr) {
      ERR_clear_error();
      errno = 0;
      const int rc = SSL_read(s->ssl, data, static_cast<int>(std::min<size_t>(len, 1 << 30)));
      if (rc <= 0) {
        const int waited = TlsWait(s, rc, "read from " + s->host + ":" + s->port);
        if (waited < 0) return -1;
        if (waited == 0) continue;
      }
      n = std::max(rc, 0);
    } else {
      n = ::recv(s->fd, data, len, 0);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return ErrnoError(s, "read from", errno);
      }
      if (n < 0) {
        if (WaitFor(s, POLLIN) < 0) return -1;
        continue;
      }
    }
    b->received += static_cast<uint64_t>(n);
    if (b->received <= b->max_bytes) return n;
    b->too_big = true;
    return NetError("more than " + std::to_string(b->max_bytes) + " bytes from " + s->host);
  }
}

ssize_t Write(git_stream* stream, const char* data, size_t len, int /*flags*/) {
  BoundedStream* s = Self(stream);
  for (;;) {
    if (s->ssl != nullptr) {
      ERR_clear_error();
      errno = 0;
      const int rc = SSL_write(s->ssl, data, static_cast<int>(std::min<size_t>(len, 1 << 30)));
      if (rc > 0) return rc;
      const int waited = TlsWait(s, rc, "write to " + s->host + ":" + s->port);
      if (waited < 0) return -1;
      if (waited > 0) return NetError("write to " + s->host + ": connection closed");
      continue;
    }
    ssize_t n = ::send(s->fd, data, len, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return ErrnoError(s, "write to", errno);
    }
    if (WaitFor(s, POLLOUT) < 0) return -1;
  }
}

int Close(git_stream* stream) {
  BoundedStream* s = Self(stream);
  if (s->ssl != nullptr) {
    SSL_shutdown(s->ssl);  // close_notify if it can go at once; no waiting for the reply
    SSL_free(s->ssl);
    ERR_clear_error();
    s->ssl = nullptr;
  }
  if (s->fd >= 0) ::close(s->fd);
  s->fd = -1;
  return 0;
}

void Free(git_stream* stream) {
  Close(stream);
  delete Self(stream);
}

int NewStream(git_stream** out, const char* host, const char* port, bool tls) {
  if (current_bounds == nullptr) return NetError("tiersync: network access outside FetchCatalog");
  auto* s = new BoundedStream{{}, current_bounds, host, port, -1, nullptr};
  s->parent.version = GIT_STREAM_VERSION;
  s->parent.encrypted = tls ? 1 : 0;
  s->parent.connect = Connect;
  s->parent.read = Read;
  s->parent.write = Write;
  s->parent.close = Close;
  s->parent.free = Free;
  *out = &s->parent;
  return 0;
}

Status UseBoundedStreams() {
  static const int rc = [] {
    static git_stream_registration plain = {
        GIT_STREAM_VERSION,
        [](git_stream** out, const char* host, const char* port) {
          return NewStream(out, host, port, false);
        },
        nullptr};
    static git_stream_registration tls = {GIT_STREAM_VERSION,
                                          [](git_stream** out, const char* host, const char* port) {
                                            return NewStream(out, host, port, true);
                                          },
                                          nullptr};
    int r = git_stream_register(GIT_STREAM_STANDARD, &plain);
    return r < 0 ? r : git_stream_register(GIT_STREAM_TLS, &tls);
  }();
  return rc < 0 ? git_internal::GitError("register the network streams", rc) : Status::Ok();
}

// ---- The client.

Result<RepoPtr> OpenOrInit(const std::string& dir) {
  Result<RepoPtr> repo = OpenRepo(dir);
  if (repo.ok() || repo.status().code() != StatusCode::kNotFound) return repo;
  TS_RETURN_IF_ERROR(GitCatalog::Init(dir));
  return OpenRepo(dir);
}

Status FetchError(const FetchBounds& bounds, const std::string& url) {
  const git_error* e = git_error_last();
  std::string message =
      "git: fetch " + url + ": " + (e != nullptr && e->message != nullptr ? e->message : "error");
  if (bounds.timed_out) return DeadlineExceededError(message);
  if (bounds.too_big) return ResourceExhaustedError(message);
  if (e != nullptr && (e->klass == GIT_ERROR_OS || e->klass == GIT_ERROR_FILESYSTEM)) {
    return IOError(message);
  }
  return UnavailableError(message);
}

}  // namespace

Result<std::string> AdvertiseUploadPack(const std::string& repo_dir, uint64_t max_release) {
  TS_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(repo_dir));
  TS_ASSIGN_OR_RETURN(std::vector<AdvertisedRef> refs, ExposedRefs(repo.get(), max_release));
  std::string out;
  AppendPkt(&out, "# service=git-upload-pack\n");
  out += "0000";
  const std::string caps = std::string(1, '\0') + kCapabilities;
  if (refs.empty()) {
    AppendPkt(&out, std::string(GIT_OID_HEXSZ, '0') + " capabilities^{}" + caps + "\n");
  }
  for (size_t i = 0; i < refs.size(); ++i) {
    AppendPkt(&out, Hex(&refs[i].id) + " " + refs[i].name + (i == 0 ? caps : "") + "\n");
  }
  out += "0000";
  return out;
}

Result<std::string> UploadPack(const std::string& repo_dir, std::string_view request,
                               uint64_t max_release) {
  TS_ASSIGN_OR_RETURN(UploadRequest req, ParseUploadRequest(request));
  if (!req.capabilities.contains("ofs-delta")) {
    return BadRequest("the client must accept ofs-delta (no other pack form is served)");
  }
  TS_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(repo_dir));
  TS_RETURN_IF_ERROR(CheckWants(repo.get(), req.wants, max_release));
  TS_ASSIGN_OR_RETURN(std::vector<git_oid> common, CommonHaves(repo.get(), req.haves));
  const bool acks = req.capabilities.contains("multi_ack_detailed");
  std::string out;
  for (size_t i = 0; acks && i < common.size(); ++i) {
    AppendPkt(&out, "ACK " + Hex(&common[i]) + " common\n");
  }
  if (!req.done) {
    AppendPkt(&out, "NAK\n");
    return out;
  }
  AppendPkt(&out, acks && !common.empty() ? "ACK " + Hex(&common.back()) + "\n" : "NAK\n");
  TS_ASSIGN_OR_RETURN(std::string pack, BuildPack(repo.get(), req.wants, common));
  return out + pack;
}

Result<FetchStats> FetchCatalog(const std::string& repo_dir, const std::string& url,
                                std::chrono::milliseconds timeout, uint64_t max_bytes,
                                const FetchTls& tls) {
  const bool https = url.starts_with("https://");
  if (!https && !url.starts_with("http://")) {
    return InvalidArgumentError("git: fetch: " + Quote(url) + " is not an http:// or https:// URL");
  }
  SslCtxPtr tls_context(nullptr, SSL_CTX_free);
  if (https) {
    auto made = NewTlsContext(tls);
    if (!made.ok()) return made.status().WithContext("git: fetch " + url);
    tls_context = std::move(made).value();
  }
  EnsureLibgit2();
  TS_RETURN_IF_ERROR(UseBoundedStreams());
  TS_ASSIGN_OR_RETURN(RepoPtr repo, OpenOrInit(repo_dir));
  git_remote_create_options create;
  TS_GIT_CALL(git_remote_create_options_init(&create, GIT_REMOTE_CREATE_OPTIONS_VERSION),
              "remote options");
  create.repository = repo.get();  // no name: an anonymous remote, nothing written to config
  // The URL is used as given: no url.*.insteadOf rewriting from the machine's git config (which
  // in libgit2 1.5 also leaks a regex match buffer per config entry).
  create.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
  git_remote* remote = nullptr;
  TS_GIT_CALL(git_remote_create_with_opts(&remote, url.c_str(), &create), "remote " + url);
  RemotePtr remote_owner(remote);
  git_fetch_options opts;  // (the _INIT macro leaves fields out: clang's -Wextra refuses it)
  TS_GIT_CALL(git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION), "fetch options");
  opts.update_fetchhead = 0;
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;  // the refspec below names them all
  opts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
  opts.prune = GIT_FETCH_NO_PRUNE;
  // libgit2 counts the received bytes only while a progress callback is set.
  opts.callbacks.transfer_progress = [](const git_indexer_progress*, void*) { return 0; };
  const char* specs[] = {"+refs/tags/*:refs/tags/*", "+refs/heads/main:refs/heads/main"};
  git_strarray refspecs = {const_cast<char**>(specs), 2};
  FetchBounds bounds{Clock::now() + timeout, max_bytes};
  bounds.tls = tls_context.get();
  current_bounds = &bounds;
  const int rc = git_remote_fetch(remote, &refspecs, &opts, "tiersync: fetch catalog");
  current_bounds = nullptr;
  if (rc < 0) return FetchError(bounds, url);
  const git_indexer_progress* stats = git_remote_stats(remote);
  return FetchStats{stats->received_objects, stats->received_bytes};
}

}  // namespace tiersync::catalogs
