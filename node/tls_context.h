// TLS for the node's HTTP server and client (issue 5, docs/operators/node.md "TLS"): the
// contexts built from PEM files, with errors that name the file and what is wrong with it,
// and the handshake failures a client reports. OpenSSL's TLS API is reached through
// Boost.Asio's ssl::context here and nowhere else (the catalog's git fetch goes through the
// same HttpFetcher as every other request).
//
// Policy (threats.md):
//   server  TLS 1.2 or 1.3 (children and, later, users' browsers on one port); the
//           certificate chain (leaf first) and an unencrypted private key from PEM files; no
//           renegotiation; no client certificates yet.
//   client  a node fetching from its upstreams: TLS 1.3 only ("1.3 between nodes"); the peer's
//           chain verified against the trusted CAs (one PEM file, e.g. a provincial CA, or the
//           system's store), and the host of the URL checked against the certificate (a DNS
//           name, also sent as SNI, or an IP address).
//
// TLS keeps the link confidential and makes on-path tampering fail early, which protects
// availability. It is never the reason content is trusted: every byte is verified against the
// national TUF root whatever the transport (a compromised node has valid TLS credentials).
//
// Thread safety: a client context is immutable once loaded and may be shared by any number of
// connections on any threads. A server context may be reloaded (SIGHUP: a renewed
// certificate) while connections are served: Current() and Reload() are thread-safe, and a
// connection keeps the context it started with until it ends.
#ifndef TIERSYNC_NODE_TLS_CONTEXT_H_
#define TIERSYNC_NODE_TLS_CONTEXT_H_

#include <boost/system/error_code.hpp>
#include <memory>
#include <string>

#include "base/env.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "node/node_config.h"

namespace boost::asio::ssl {
class context;
}
struct ssl_st;  // OpenSSL's SSL

namespace tiersync::node {

// Certificate, key and CA files are read whole, at most this large (a system CA bundle is
// about 200 KiB).
inline constexpr size_t kMaxPemFileBytes = 4 << 20;

class TlsServerContext {
 public:
  // Loads the certificate chain (PEM, leaf first) and its private key (PEM, unencrypted).
  // Errors name the file: kNotFound / kIOError when it cannot be read; kInvalidArgument when
  // it holds no PEM certificate or key, the key is encrypted, or the key does not belong to
  // the certificate.
  static Result<std::shared_ptr<TlsServerContext>> Load(Env* env, const std::string& cert_file,
                                                        const std::string& key_file);
  ~TlsServerContext();

  // The context a new connection handshakes with. The caller keeps the pointer for the
  // connection's life (a reload meanwhile does not touch it).
  std::shared_ptr<boost::asio::ssl::context> Current() const;

  // Reads the same two files again (a renewed certificate, `systemctl reload`): true if they
  // changed and new connections now get them; false if they are byte for byte what is
  // served. Any error Load would return leaves the running certificate in place (connections
  // keep getting it): a broken renewal never takes HTTPS down.
  Result<bool> Reload(Env* env);

  const std::string& cert_file() const { return cert_file_; }
  const std::string& key_file() const { return key_file_; }

 private:
  TlsServerContext(std::string cert_file, std::string key_file);
  const std::string cert_file_, key_file_;
  mutable Mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> ctx_ GUARDED_BY(mu_);
  std::string digest_ GUARDED_BY(mu_);  // SHA-256 of the cert and key files served
};

class TlsClientContext {
 public:
  // Trusts the CA certificates in `ca_file` (PEM, one or more) and nothing else.
  static Result<std::shared_ptr<const TlsClientContext>> Load(Env* env, const std::string& ca_file);
  // Trusts the system's CA store (OpenSSL's default paths). Built once per process.
  static Result<std::shared_ptr<const TlsClientContext>> System();
  // Trusts exactly the certificate(s) in `cert_file`, whatever name they carry: how
  // `tiersync node status` reaches its own node over loopback.
  static Result<std::shared_ptr<const TlsClientContext>> PinnedTo(Env* env,
                                                                  const std::string& cert_file);
  ~TlsClientContext();

  // Makes `ssl` (a new client connection to `host`) send SNI and check the certificate
  // against `host` (a DNS name or an IP address), unless the context is pinned.
  Status Prepare(ssl_st* ssl, const std::string& host) const;

  // Asio's streams take a non-const context; it is not modified once loaded.
  boost::asio::ssl::context& context() const { return *ctx_; }

 private:
  TlsClientContext(std::unique_ptr<boost::asio::ssl::context> ctx, bool check_host);
  std::unique_ptr<boost::asio::ssl::context> ctx_;
  bool check_host_;
};

// "TLS handshake with HOST:PORT failed: certificate verify failed (unable to get local issuer
// certificate)" — the reason from OpenSSL, the certificate check's verdict when that is what
// failed, and a hint when the peer answered in plain HTTP. `ssl` may be null.
std::string DescribeHandshakeFailure(const boost::system::error_code& ec, ssl_st* ssl,
                                     const std::string& host, const std::string& port);

// Makes the server's closing close_notify not wait for the client's reply (HTTP messages
// carry their own length; a client that never answers must not hold the connection).
void DoNotAwaitCloseNotify(ssl_st* ssl);

// From node.toml's [tls] (`where` names the file in errors, e.g. ".../node.toml"):
// the server context when cert and key are set (null otherwise: plain HTTP), and the trust
// for https:// upstreams (`ca`, or the system's store).
Result<std::shared_ptr<TlsServerContext>> LoadServerTls(Env* env, const NodeConfig& config,
                                                        const std::string& where);
Result<std::shared_ptr<const TlsClientContext>> LoadUpstreamTls(Env* env, const NodeConfig& config,
                                                                const std::string& where);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_TLS_CONTEXT_H_
