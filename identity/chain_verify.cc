#include "identity/chain_verify.h"

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "identity/openssl_handles.h"
#include "identity/x509_support.h"

namespace tiersync::identity {
namespace {

std::string Named(const NodeCertificate* cert) {
  return cert == nullptr ? "a certificate" : "certificate of " + Describe(cert->identity());
}

Status CheckTrusted(std::span<const NodeCertificate> trusted) {
  if (trusted.empty()) return InvalidArgumentError("no trusted national identity CA");
  for (const NodeCertificate& t : trusted) {
    if (t.identity().tier != "national" || t.issuer() != t.identity()) {
      return InvalidArgumentError("trusted " + Named(&t) + " is not a national identity CA");
    }
  }
  return Status::Ok();
}

// The input certificate that is `x` (same object, or same DER); nullptr if none.
const NodeCertificate* Find(X509* x, const std::vector<const NodeCertificate*>& all) {
  for (const NodeCertificate* c : all) {
    if (c->x509() == x) return c;
  }
  std::string der = internal::CertificateDer(x);
  for (const NodeCertificate* c : all) {
    if (c->der() == der) return c;
  }
  return nullptr;
}

// What X509_verify_cert's verdict `err` on `cert` means, in words.
Status DescribeFailure(int err, const NodeCertificate* cert) {
  std::string named = Named(cert);
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return VerificationError(named + " expired on " +
                               internal::TimeText(cert ? cert->not_after() : 0));
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return VerificationError(named + " is not valid before " +
                               internal::TimeText(cert ? cert->not_before() : 0));
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return VerificationError(named + ": signature does not verify");
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
      return VerificationError(named + " is not issued under the national identity CA (" +
                               X509_verify_cert_error_string(err) + ")");
    default:
      return VerificationError(named + ": " + X509_verify_cert_error_string(err));
  }
}

// Step 1: OpenSSL's path building and checks. Returns the path, leaf first.
Result<std::vector<const NodeCertificate*>> VerifyPath(
    const NodeCertificate& leaf, std::span<const NodeCertificate> intermediates,
    std::span<const NodeCertificate> trusted, int64_t now) {
  std::vector<const NodeCertificate*> all = {&leaf};
  internal::X509StorePtr store(X509_STORE_new());
  internal::X509StackPtr untrusted(sk_X509_new_null());
  internal::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (store == nullptr || untrusted == nullptr || ctx == nullptr) {
    return ResourceExhaustedError("out of memory");
  }
  for (const NodeCertificate& t : trusted) {
    if (X509_STORE_add_cert(store.get(), t.x509()) != 1) internal::TakeOpensslError();
    all.push_back(&t);
  }
  for (const NodeCertificate& c : intermediates) {
    if (sk_X509_push(untrusted.get(), c.x509()) <= 0)
      return ResourceExhaustedError("out of memory");
    all.push_back(&c);
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.x509(), untrusted.get()) != 1) {
    return ResourceExhaustedError("cannot verify" + internal::TakeOpensslError());
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(now));
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT | X509_V_FLAG_CHECK_SS_SIGNATURE);
  if (X509_verify_cert(ctx.get()) != 1) {
    internal::TakeOpensslError();
    X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
    return DescribeFailure(X509_STORE_CTX_get_error(ctx.get()),
                           bad == nullptr ? nullptr : Find(bad, all));
  }
  std::vector<const NodeCertificate*> path;
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    const NodeCertificate* c = Find(sk_X509_value(chain, i), all);
    if (c == nullptr) return VerificationError("the verified path holds an unknown certificate");
    path.push_back(c);
  }
  return path;
}

// Steps 2 and 3 on a path that OpenSSL verified.
Status CheckScopeAndRevocation(const std::vector<const NodeCertificate*>& path,
                               const RevocationSet& revocations) {
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    const NodeCertificate& subject = *path[i];
    if (Status s = CheckScope(path[i + 1]->identity(), subject.identity()); !s.ok()) {
      return VerificationError("certificate of " + s.message());
    }
    for (size_t j = i + 1; j < path.size(); ++j) {
      std::optional<RevokedCertificate> r =
          revocations.Find(path[j]->fingerprint(), subject.serial(), subject.identity());
      if (r) {
        return VerificationError(Named(&subject) + " revoked by " + Describe(path[j]->identity()) +
                                 " at " + internal::TimeText(r->at) + ": " + r->reason);
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<VerifiedChain> VerifyNodeChain(const NodeCertificate& leaf,
                                      std::span<const NodeCertificate> intermediates,
                                      std::span<const NodeCertificate> trusted, int64_t now,
                                      const RevocationSet& revocations) {
  TS_RETURN_IF_ERROR(CheckTrusted(trusted));
  TS_ASSIGN_OR_RETURN(std::vector<const NodeCertificate*> path,
                      VerifyPath(leaf, intermediates, trusted, now));
  if (path.back()->identity().tier != "national") {
    return VerificationError(Named(&leaf) + " is not issued under the national identity CA");
  }
  TS_RETURN_IF_ERROR(CheckScopeAndRevocation(path, revocations));
  VerifiedChain verified{leaf.identity(), {}};
  for (const NodeCertificate* c : path) verified.chain.push_back(*c);
  return verified;
}

}  // namespace tiersync::identity
