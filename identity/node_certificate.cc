#include "identity/node_certificate.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/sha256.h"
#include "identity/openssl_handles.h"
#include "identity/x509_support.h"

namespace tiersync::identity {

using internal::TakeOpensslError;

namespace {

constexpr size_t kSerialBytes = 16;

std::shared_ptr<X509> Share(X509* x) { return std::shared_ptr<X509>(x, X509_free); }

std::string SerialHex(const X509* x) {
  internal::BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr));
  char* hex = bn ? BN_bn2hex(bn.get()) : nullptr;
  if (hex == nullptr) return "";
  std::string s(hex);
  OPENSSL_free(hex);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// 128 random bits, positive and with the top bit of the first byte clear and the next set, so
// the DER INTEGER is always exactly 16 bytes.
Status SetRandomSerial(X509* x) {
  std::vector<uint8_t> bytes = internal::SecureRandomBytes(kSerialBytes);
  bytes[0] = static_cast<uint8_t>((bytes[0] & 0x7f) | 0x40);
  internal::BignumPtr bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  internal::Asn1IntegerPtr serial(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  if (serial == nullptr || X509_set_serialNumber(x, serial.get()) != 1) {
    return NotSupportedError("cannot set the serial" + TakeOpensslError());
  }
  return Status::Ok();
}

Status AddConfExtension(X509* x, int nid, const std::string& value) {
  internal::X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, nullptr, nid, value.c_str()));
  if (ext == nullptr || X509_add_ext(x, ext.get(), -1) != 1) {
    return NotSupportedError("cannot add extension " + value + TakeOpensslError());
  }
  return Status::Ok();
}

// basicConstraints, keyUsage and extendedKeyUsage of a certificate for a node of `tier`.
Status AddProfileExtensions(X509* x, const std::string& tier) {
  if (IsIssuingTier(tier)) {
    TS_RETURN_IF_ERROR(
        AddConfExtension(x, NID_basic_constraints,
                         "critical,CA:TRUE,pathlen:" + std::to_string(3 - *TierRank(tier))));
    TS_RETURN_IF_ERROR(
        AddConfExtension(x, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign"));
  } else {
    TS_RETURN_IF_ERROR(AddConfExtension(x, NID_basic_constraints, "critical,CA:FALSE"));
    TS_RETURN_IF_ERROR(AddConfExtension(x, NID_key_usage, "critical,digitalSignature"));
  }
  return AddConfExtension(x, NID_ext_key_usage, "serverAuth,clientAuth");
}

// subjectKeyIdentifier: SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2, method 1).
Result<internal::Asn1OctetStringPtr> KeyIdentifier(X509* x) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  internal::Asn1OctetStringPtr id(ASN1_OCTET_STRING_new());
  if (id == nullptr || X509_pubkey_digest(x, EVP_sha1(), md, &len) != 1 ||
      ASN1_OCTET_STRING_set(id.get(), md, static_cast<int>(len)) != 1) {
    return NotSupportedError("cannot compute the key identifier" + TakeOpensslError());
  }
  return id;
}

// Adds subjectKeyIdentifier and authorityKeyIdentifier (the issuer's key id; `issuer` null:
// self-signed, the certificate's own).
Status AddKeyIdentifiers(X509* x, X509* issuer) {
  TS_ASSIGN_OR_RETURN(internal::Asn1OctetStringPtr ski, KeyIdentifier(x));
  internal::AuthorityKeyIdPtr akid(AUTHORITY_KEYID_new());
  const ASN1_OCTET_STRING* issuer_ski =
      issuer == nullptr ? ski.get() : X509_get0_subject_key_id(issuer);
  if (issuer_ski == nullptr) return InvalidArgumentError("issuer has no subjectKeyIdentifier");
  if (akid == nullptr || (akid->keyid = ASN1_OCTET_STRING_dup(issuer_ski)) == nullptr ||
      X509_add1_ext_i2d(x, NID_subject_key_identifier, ski.get(), 0, X509V3_ADD_DEFAULT) != 1 ||
      X509_add1_ext_i2d(x, NID_authority_key_identifier, akid.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return NotSupportedError("cannot add key identifiers" + TakeOpensslError());
  }
  return Status::Ok();
}

Status SetValidity(X509* x, int64_t not_before, int64_t not_after) {
  if (not_before >= not_after) return InvalidArgumentError("not_before is not before not_after");
  if (ASN1_TIME_set(X509_getm_notBefore(x), static_cast<time_t>(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x), static_cast<time_t>(not_after)) == nullptr) {
    return InvalidArgumentError("validity out of range" + TakeOpensslError());
  }
  return Status::Ok();
}

// Everything a certificate holds; `issuer` null for the self-signed national CA.
struct CertificateSpec {
  X509* issuer = nullptr;
  const NodeIdentity* subject = nullptr;
  EVP_PKEY* subject_key = nullptr;
  EVP_PKEY* signing_key = nullptr;
  int64_t not_before = 0, not_after = 0;
};

Result<NodeCertificate> BuildCertificate(const CertificateSpec& spec) {
  TS_ASSIGN_OR_RETURN(internal::X509NamePtr name, internal::IdentityName(*spec.subject));
  internal::X509Ptr x(X509_new());
  if (x == nullptr || X509_set_version(x.get(), X509_VERSION_3) != 1 ||
      X509_set_subject_name(x.get(), name.get()) != 1 ||
      X509_set_issuer_name(
          x.get(), spec.issuer == nullptr ? name.get() : X509_get_subject_name(spec.issuer)) != 1 ||
      X509_set_pubkey(x.get(), spec.subject_key) != 1) {
    return NotSupportedError("cannot build the certificate" + TakeOpensslError());
  }
  TS_RETURN_IF_ERROR(SetRandomSerial(x.get()));
  TS_RETURN_IF_ERROR(SetValidity(x.get(), spec.not_before, spec.not_after));
  TS_RETURN_IF_ERROR(AddProfileExtensions(x.get(), spec.subject->tier));
  TS_RETURN_IF_ERROR(AddKeyIdentifiers(x.get(), spec.issuer));
  TS_RETURN_IF_ERROR(internal::SignCertificate(x.get(), spec.signing_key));
  // Parse what was written: the object returned is exactly its DER, checked like any other.
  std::string der = internal::CertificateDer(x.get());
  return NodeCertificate::FromDer(AsBytes(der));
}

std::string Sha256Hex(std::string_view bytes) { return ToHex(Sha256(AsBytes(bytes))); }

}  // namespace

Result<NodeCertificate> NodeCertificate::FromX509(std::shared_ptr<X509> x509) {
  X509* x = x509.get();
  if (X509_get_version(x) != X509_VERSION_3) {
    return InvalidArgumentError("certificate: not X.509 version 3");
  }
  TS_RETURN_IF_ERROR(internal::AttachSm2Id(x));
  Result<NodeIdentity> subject = internal::NameIdentity(X509_get_subject_name(x));
  if (!subject.ok()) return subject.status().WithContext("certificate: subject");
  Result<NodeIdentity> issuer = internal::NameIdentity(X509_get_issuer_name(x));
  if (!issuer.ok()) return issuer.status().WithContext("certificate: issuer");
  EVP_PKEY* pkey = X509_get0_pubkey(x);
  if (pkey == nullptr) return InvalidArgumentError("certificate: key: unreadable");
  Result<PublicKey> key = internal::ToPublicKey(pkey);
  if (!key.ok()) return key.status().WithContext("certificate: key");
  const uint32_t flags = X509_get_extension_flags(x);
  if (flags & EXFLAG_INVALID) return InvalidArgumentError("certificate: malformed extensions");
  const bool is_ca = (flags & EXFLAG_CA) != 0;
  if (is_ca != IsIssuingTier(subject->tier)) {
    return InvalidArgumentError("certificate: basicConstraints: a " + subject->tier +
                                " certificate is " + (is_ca ? "" : "not ") + "a CA");
  }
  std::string der = internal::CertificateDer(x);
  if (der.empty()) return InvalidArgumentError("certificate: cannot encode" + TakeOpensslError());
  NodeCertificate cert(std::move(x509), std::move(der), std::move(key).value());
  cert.identity_ = std::move(subject).value();
  cert.issuer_ = std::move(issuer).value();
  cert.serial_ = SerialHex(x);
  cert.not_before_ = internal::UnixSeconds(X509_get0_notBefore(x));
  cert.not_after_ = internal::UnixSeconds(X509_get0_notAfter(x));
  cert.is_ca_ = is_ca;
  cert.fingerprint_ = Sha256Hex(cert.der_);
  return cert;
}

Result<NodeCertificate> NodeCertificate::FromDer(std::span<const uint8_t> der) {
  if (der.size() > kMaxCertificatePemBytes) return InvalidArgumentError("certificate too large");
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x == nullptr) return InvalidArgumentError("certificate: not DER" + TakeOpensslError());
  std::shared_ptr<X509> shared = Share(x);
  if (p != der.data() + der.size()) {
    return InvalidArgumentError("certificate: bytes after the DER certificate");
  }
  return FromX509(std::move(shared));
}

Result<std::vector<NodeCertificate>> NodeCertificate::ChainFromPem(std::string_view pem) {
  if (pem.size() > kMaxCertificatePemBytes) return InvalidArgumentError("PEM too large");
  internal::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<NodeCertificate> chain;
  while (bio != nullptr) {
    X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (x == nullptr) break;
    if (chain.size() == kMaxChainCertificates) {
      X509_free(x);
      return InvalidArgumentError("more than " + std::to_string(kMaxChainCertificates) +
                                  " certificates");
    }
    Result<NodeCertificate> cert = FromX509(Share(x));
    if (!cert.ok()) {
      return cert.status().WithContext("PEM certificate " + std::to_string(chain.size() + 1));
    }
    chain.push_back(std::move(cert).value());
  }
  TakeOpensslError();  // the end of the input shows as "no start line"
  if (chain.empty()) return InvalidArgumentError("no PEM certificate");
  return chain;
}

Result<NodeCertificate> NodeCertificate::FromPem(std::string_view pem) {
  TS_ASSIGN_OR_RETURN(std::vector<NodeCertificate> chain, ChainFromPem(pem));
  if (chain.size() != 1) return InvalidArgumentError("more than one PEM certificate");
  return std::move(chain.front());
}

std::string NodeCertificate::ToPem() const {
  internal::BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), x509_.get()) != 1) return "";
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len > 0 ? len : 0));
}

Result<NodeCertificate> IssueUnchecked(const NodeCertificate& issuer, const PrivateKey& signing_key,
                                       const NodeIdentity& subject, const PublicKey& subject_key,
                                       int64_t not_before, int64_t not_after) {
  TS_ASSIGN_OR_RETURN(internal::EvpPkeyPtr signer, internal::PrivateEvp(signing_key));
  TS_ASSIGN_OR_RETURN(internal::EvpPkeyPtr key, internal::PublicEvp(subject_key));
  return BuildCertificate({.issuer = issuer.x509(),
                           .subject = &subject,
                           .subject_key = key.get(),
                           .signing_key = signer.get(),
                           .not_before = not_before,
                           .not_after = not_after});
}

Result<NodeCertificate> Issue(const NodeCertificate& issuer, const PrivateKey& issuer_key,
                              const NodeIdentity& subject, const PublicKey& subject_key,
                              int64_t not_before, int64_t not_after) {
  if (!issuer.is_ca()) {
    return InvalidArgumentError(Describe(issuer.identity()) + " cannot issue certificates");
  }
  if (issuer_key.Public().canonical_der() != issuer.public_key().canonical_der()) {
    return InvalidArgumentError("the signing key is not the key of " + Describe(issuer.identity()));
  }
  TS_RETURN_IF_ERROR(CheckScope(issuer.identity(), subject));
  return IssueUnchecked(issuer, issuer_key, subject, subject_key, not_before,
                        std::min(not_after, issuer.not_after()));
}

Result<NodeCertificate> MakeNationalCa(const PrivateKey& key, std::string_view name,
                                       int64_t not_before, int64_t not_after) {
  const NodeIdentity id{"national", std::string(kNationalRegion), std::string(name)};
  TS_ASSIGN_OR_RETURN(internal::EvpPkeyPtr evp, internal::PrivateEvp(key));
  return BuildCertificate({.issuer = nullptr,
                           .subject = &id,
                           .subject_key = evp.get(),
                           .signing_key = evp.get(),
                           .not_before = not_before,
                           .not_after = not_after});
}

}  // namespace tiersync::identity
