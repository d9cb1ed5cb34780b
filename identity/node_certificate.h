// NodeCertificate: the X.509 v3 certificate that names a node of the federation (threats.md
// A15/A16; docs/formats/node-identity.md is the normative profile).
//
// Profile (every certificate Issue and MakeNationalCa write, and what parsing insists on):
//   version      3
//   serial       128 random bits from OpenSSL's CSPRNG (positive, 16 bytes)
//   subject      O=tiersync, OU=<tier>, L=<region>, CN=<name>   (UTF8String; node_identity.h)
//   issuer       the issuing node's subject: that is how a certificate names its parent
//                (the national CA is self-issued)
//   validity     not_before .. not_after (unix seconds, UTCTime/GeneralizedTime)
//   extensions   basicConstraints   critical  CA:TRUE, pathlen 3 - tier rank (national 3 ..
//                                             county 0) for national/province/city/county;
//                                             CA:FALSE for school
//                keyUsage           critical  digitalSignature (+ keyCertSign, cRLSign: CAs)
//                extendedKeyUsage             serverAuth, clientAuth
//                subjectKeyIdentifier         SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2)
//                authorityKeyIdentifier       keyIdentifier = the issuer's subjectKeyIdentifier
//   key          ed25519 (default), ecdsa P-256, or sm2
//   signature    the issuer's key: Ed25519, ECDSA-with-SHA256, or SM2-with-SM3 under the
//                distinguishing ID kSm2DistinguishingId (base/crypto.h)
// Chains may mix key types (an SM2 national CA issuing an ed25519 province certificate).
//
// SM2: OpenSSL 3.0 cannot negotiate SM2 (or SM2-signed certificates) in TLS 1.3 — RFC 8998
// arrived in OpenSSL 3.2 for the key exchange and signatures are not offered at all in 3.0 —
// so an SM2 node certificate serves signed reports and audit trails, not the node's HTTPS; a
// node serving TLS needs an ed25519 or P-256 certificate (under an issuer of any key type).
//
// Thread safety: a NodeCertificate is immutable once made; copies share the parsed
// certificate, and const methods may be called from several threads at once.
#ifndef TIERSYNC_IDENTITY_NODE_CERTIFICATE_H_
#define TIERSYNC_IDENTITY_NODE_CERTIFICATE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/crypto.h"
#include "base/status.h"
#include "identity/node_identity.h"

struct x509_st;  // OpenSSL's X509

namespace tiersync::identity {

// Default lifetime of every node certificate, CA certificates of the tiers included.
inline constexpr int64_t kNodeCertificateLifetimeSeconds = 30 * 86400;
// Inputs larger than this are refused before parsing (a chain of five is under 5 KiB).
inline constexpr size_t kMaxCertificatePemBytes = 256 << 10;
// A PEM chain holds at most this many certificates (five tiers).
inline constexpr size_t kMaxChainCertificates = 8;

class NodeCertificate {
 public:
  // Parses one certificate (DER, or a PEM with exactly one "BEGIN CERTIFICATE" block).
  // Errors: kInvalidArgument naming what does not fit the profile above ("subject: O is not
  // \"tiersync\"", "basicConstraints: a school certificate is not a CA", "key: ...").
  static Result<NodeCertificate> FromDer(std::span<const uint8_t> der);
  static Result<NodeCertificate> FromPem(std::string_view pem);
  // Parses one or more PEM certificates in order (a chain, leaf first); kInvalidArgument if
  // there is none, more than kMaxChainCertificates, or one does not parse.
  static Result<std::vector<NodeCertificate>> ChainFromPem(std::string_view pem);

  const std::string& der() const { return der_; }
  std::string ToPem() const;

  const NodeIdentity& identity() const { return identity_; }
  // The identity named by the issuer DN (the node that issued this; itself for the
  // national CA).
  const NodeIdentity& issuer() const { return issuer_; }
  const std::string& serial() const { return serial_; }  // lower-case hex, 32 digits
  int64_t not_before() const { return not_before_; }     // unix seconds
  int64_t not_after() const { return not_after_; }
  bool is_ca() const { return is_ca_; }
  const PublicKey& public_key() const { return public_key_; }
  // SHA-256 of der(), lower-case hex.
  const std::string& fingerprint() const { return fingerprint_; }

  // The parsed certificate, for identity/'s OpenSSL code; valid while this object (or a
  // copy) lives. Callers must not modify it.
  x509_st* x509() const { return x509_.get(); }

 private:
  NodeCertificate(std::shared_ptr<x509_st> x509, std::string der, PublicKey key)
      : x509_(std::move(x509)), der_(std::move(der)), public_key_(std::move(key)) {}
  static Result<NodeCertificate> FromX509(std::shared_ptr<x509_st> x509);

  std::shared_ptr<x509_st> x509_;
  std::string der_;
  PublicKey public_key_;
  NodeIdentity identity_, issuer_;
  std::string serial_, fingerprint_;
  int64_t not_before_ = 0, not_after_ = 0;
  bool is_ca_ = false;
};

// How long before the issuer's clock a certificate is made valid (its not_before is
// now - kNotBeforeBackdateSeconds wherever node certificates are issued): a node whose clock is
// behind its issuer's by up to this much accepts the certificate it was just given. Without
// it, a child one second behind its parent refuses its chain after the parent has used the
// one-time invitation up.
inline constexpr int64_t kNotBeforeBackdateSeconds = 3600;

// Issues a certificate for `subject` holding `subject_key`, signed by `issuer_key`, the key
// of the CA certificate `issuer`. not_after is cut to the issuer's not_after (a certificate
// cannot outlive the one that vouches for it).
// Errors (kInvalidArgument): `issuer` is not a CA; `issuer_key` is not the key of `issuer`;
// CheckScope(issuer.identity(), subject) fails; not_before >= not_after; a key is not of a
// node key scheme (kNotSupported).
Result<NodeCertificate> Issue(const NodeCertificate& issuer, const PrivateKey& issuer_key,
                              const NodeIdentity& subject, const PublicKey& subject_key,
                              int64_t not_before, int64_t not_after);

// Issue without the scope check, the key check and the cut of not_after: it signs whatever
// it is given. For tests that forge chains (verification must refuse them); never for
// enrollment.
Result<NodeCertificate> IssueUnchecked(const NodeCertificate& issuer, const PrivateKey& signing_key,
                                       const NodeIdentity& subject, const PublicKey& subject_key,
                                       int64_t not_before, int64_t not_after);

// The self-signed national identity CA: tier national, region 000000, CN `name`, held by
// `key`. Errors: kInvalidArgument for a bad name or not_before >= not_after.
Result<NodeCertificate> MakeNationalCa(const PrivateKey& key, std::string_view name,
                                       int64_t not_before, int64_t not_after);

}  // namespace tiersync::identity

#endif  // TIERSYNC_IDENTITY_NODE_CERTIFICATE_H_
