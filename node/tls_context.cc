#include "node/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>

#include "base/bytes.h"
#include "base/mutex.h"
#include "base/sha256.h"
#include "base/thread_annotations.h"

namespace tiersync::node {
namespace {

namespace ssl = boost::asio::ssl;

// The file's text, or an error naming it as `what` ("cert", "key", "ca").
Result<std::string> ReadPem(Env* env, const std::string& what, const std::string& path) {
  auto bytes = ReadFileToBytes(env, path, kMaxPemFileBytes);
  if (!bytes.ok()) return bytes.status().WithContext(what);
  return std::string(bytes->begin(), bytes->end());
}

// OpenSSL's reason for `ec` without Asio's " (SSL routines)" suffix.
std::string Reason(const boost::system::error_code& ec) {
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    if (const char* r = ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) return r;
  }
  return ec.message();
}

boost::asio::const_buffer Buffer(const std::string& s) { return {s.data(), s.size()}; }

// Adds every certificate in `pem` to the context's trust store.
Status Trust(ssl::context& ctx, const std::string& what, const std::string& path,
             const std::string& pem) {
  boost::system::error_code ec;
  ctx.add_certificate_authority(Buffer(pem), ec);
  if (ec) {
    return InvalidArgumentError(what + " " + path + ": no PEM certificate in it (" + Reason(ec) +
                                ")");
  }
  return Status::Ok();
}

std::unique_ptr<ssl::context> NewClientContext() {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_3_VERSION);
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

// A server context from the PEM texts `cert` and `key` (read from the files named, for errors).
Result<std::shared_ptr<ssl::context>> NewServerContext(const std::string& cert,
                                                       const std::string& key,
                                                       const std::string& cert_file,
                                                       const std::string& key_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* h = ctx->native_handle();
  SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION);
  SSL_CTX_set_options(
      h, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  boost::system::error_code ec;
  ctx->use_certificate_chain(Buffer(cert), ec);
  if (ec) {
    return InvalidArgumentError("cert " + cert_file + ": no PEM certificate in it (" + Reason(ec) +
                                ")");
  }
  if (key.find("ENCRYPTED") != std::string::npos) {
    return InvalidArgumentError("key " + key_file +
                                ": encrypted with a passphrase; tiersync needs the key "
                                "unencrypted, readable only by the user the node runs as");
  }
  // Never prompt on a terminal for a passphrase.
  ctx->set_password_callback([](size_t, ssl::context::password_purpose) { return std::string(); });
  ctx->use_private_key(Buffer(key), ssl::context::pem, ec);
  if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    return InvalidArgumentError("key " + key_file + " does not belong to cert " + cert_file);
  }
  if (ec) {
    return InvalidArgumentError("key " + key_file + ": no PEM private key in it (" + Reason(ec) +
                                ")");
  }
  if (SSL_CTX_check_private_key(h) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("key " + key_file + " does not belong to cert " + cert_file);
  }
  return ctx;
}

// Tells a renewed pair from the one served without keeping the key's text around.
std::string PairDigest(const std::string& cert, const std::string& key) {
  Sha256Hasher h;
  h.Update(AsBytes(cert));
  h.Update(AsBytes("\n--\n"));
  h.Update(AsBytes(key));
  const Sha256Digest d = h.Finish();
  return std::string(d.begin(), d.end());
}

}  // namespace

TlsServerContext::TlsServerContext(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {}
TlsServerContext::~TlsServerContext() = default;

Result<std::shared_ptr<TlsServerContext>> TlsServerContext::Load(Env* env,
                                                                 const std::string& cert_file,
                                                                 const std::string& key_file) {
  std::shared_ptr<TlsServerContext> tls(new TlsServerContext(cert_file, key_file));
  TS_RETURN_IF_ERROR(tls->Reload(env).status());
  return tls;
}

std::shared_ptr<ssl::context> TlsServerContext::Current() const {
  MutexLock l(&mu_);
  return ctx_;
}

Result<bool> TlsServerContext::Reload(Env* env) {
  // Read and built outside the lock: handshakes go on with the running context meanwhile.
  TS_ASSIGN_OR_RETURN(std::string cert, ReadPem(env, "cert", cert_file_));
  TS_ASSIGN_OR_RETURN(std::string key, ReadPem(env, "key", key_file_));
  std::string digest = PairDigest(cert, key);
  {
    MutexLock l(&mu_);
    if (ctx_ && digest == digest_) return false;
  }
  TS_ASSIGN_OR_RETURN(auto ctx, NewServerContext(cert, key, cert_file_, key_file_));
  MutexLock l(&mu_);
  ctx_ = std::move(ctx);
  digest_ = std::move(digest);
  return true;
}

TlsClientContext::TlsClientContext(std::unique_ptr<ssl::context> ctx, bool check_host)
    : ctx_(std::move(ctx)), check_host_(check_host) {}
TlsClientContext::~TlsClientContext() = default;

Result<std::shared_ptr<const TlsClientContext>> TlsClientContext::Load(Env* env,
                                                                       const std::string& ca_file) {
  TS_ASSIGN_OR_RETURN(std::string pem, ReadPem(env, "ca", ca_file));
  auto ctx = NewClientContext();
  TS_RETURN_IF_ERROR(Trust(*ctx, "ca", ca_file, pem));
  return std::shared_ptr<const TlsClientContext>(new TlsClientContext(std::move(ctx), true));
}

Result<std::shared_ptr<const TlsClientContext>> TlsClientContext::System() {
  static Mutex mu;
  static std::shared_ptr<const TlsClientContext> system GUARDED_BY(mu);
  MutexLock lock(&mu);
  if (system) return system;
  auto ctx = NewClientContext();
  boost::system::error_code ec;
  ctx->set_default_verify_paths(ec);
  if (ec) return UnavailableError("the system's CA store: " + Reason(ec));
  system.reset(new TlsClientContext(std::move(ctx), true));
  return system;
}

Result<std::shared_ptr<const TlsClientContext>> TlsClientContext::PinnedTo(
    Env* env, const std::string& cert_file) {
  TS_ASSIGN_OR_RETURN(std::string pem, ReadPem(env, "cert", cert_file));
  auto ctx = NewClientContext();
  TS_RETURN_IF_ERROR(Trust(*ctx, "cert", cert_file, pem));
  // The leaf itself is a trust anchor.
  X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx->native_handle()), X509_V_FLAG_PARTIAL_CHAIN);
  return std::shared_ptr<const TlsClientContext>(new TlsClientContext(std::move(ctx), false));
}

Status TlsClientContext::Prepare(ssl_st* ssl, const std::string& host) const {
  if (!check_host_) return Status::Ok();
  boost::system::error_code not_ip;
  boost::asio::ip::make_address(host, not_ip);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  bool ok;
  if (!not_ip) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;  // no SNI for addresses
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && SSL_set1_host(ssl, host.c_str()) == 1;
  }
  if (!ok) {
    ERR_clear_error();
    return InvalidArgumentError("TLS: cannot check a certificate against host \"" + host + "\"");
  }
  return Status::Ok();
}

std::string DescribeHandshakeFailure(const boost::system::error_code& ec, ssl_st* ssl,
                                     const std::string& host, const std::string& port) {
  std::string out = "TLS handshake with " + host + ":" + port + " failed: " + Reason(ec);
  if (ec.category() != boost::asio::error::get_ssl_category()) return out;
  const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && ssl != nullptr) {
    out += std::string(" (") + X509_verify_cert_error_string(SSL_get_verify_result(ssl)) + ")";
  } else if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG) {
    out += " (it does not speak TLS: is it an http:// server?)";
  }
  return out;
}

void DoNotAwaitCloseNotify(ssl_st* ssl) { SSL_set_shutdown(ssl, SSL_RECEIVED_SHUTDOWN); }

namespace {

// "<where>: [tls]: cert /etc/...: no PEM certificate in it", as node.toml's other errors read.
Status InTlsTable(const Status& s, const std::string& where) {
  return Status(s.code(), where + ": [tls]: " + s.message());
}

}  // namespace

Result<std::shared_ptr<TlsServerContext>> LoadServerTls(Env* env, const NodeConfig& config,
                                                        const std::string& where) {
  if (config.tls_cert.empty()) return std::shared_ptr<TlsServerContext>();
  auto tls = TlsServerContext::Load(env, config.tls_cert, config.tls_key);
  if (!tls.ok()) return InTlsTable(tls.status(), where);
  return tls;
}

Result<std::shared_ptr<const TlsClientContext>> LoadUpstreamTls(Env* env, const NodeConfig& config,
                                                                const std::string& where) {
  if (config.tls_ca.empty()) return TlsClientContext::System();
  auto tls = TlsClientContext::Load(env, config.tls_ca);
  if (!tls.ok()) return InTlsTable(tls.status(), where);
  return tls;
}

}  // namespace tiersync::node
