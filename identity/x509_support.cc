#include "identity/x509_support.h"

#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <climits>
#include <ctime>

#include "base/hex.h"

namespace tiersync::identity::internal {
namespace {

constexpr std::string_view kOrganization = "tiersync";

// The attributes of a node's DN, in the order they are written.
struct NameAttribute {
  int nid;
  std::string NodeIdentity::*field;  // nullptr: O, fixed to kOrganization
  const char* label;
};
constexpr NameAttribute kNameAttributes[] = {
    {NID_organizationName, nullptr, "O"},
    {NID_organizationalUnitName, &NodeIdentity::tier, "OU"},
    {NID_localityName, &NodeIdentity::region, "L"},
    {NID_commonName, &NodeIdentity::name, "CN"},
};

BioPtr ReadOnlyBio(std::string_view bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

// The digest a key of this type signs certificates with; nullptr for Ed25519 (pure).
const char* DigestFor(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "SM2")) return "SM3";
  if (EVP_PKEY_is_a(key, "EC")) return "SHA256";
  return nullptr;
}

// A digest-sign context for `key`, with the SM2 distinguishing ID where it applies.
Result<EvpMdCtxPtr> SigningContext(EVP_PKEY* key) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (ctx == nullptr || EVP_DigestSignInit_ex(ctx.get(), &pctx, DigestFor(key), nullptr, nullptr,
                                              key, nullptr) != 1) {
    return NotSupportedError("cannot sign with this key" + TakeOpensslError());
  }
  // Z (GM/T 0003.2) is computed at the first update, after the ID is set here.
  if (EVP_PKEY_is_a(key, "SM2") &&
      EVP_PKEY_CTX_set1_id(pctx, kSm2DistinguishingId.data(),
                           static_cast<int>(kSm2DistinguishingId.size())) <= 0) {
    return NotSupportedError("cannot set the SM2 distinguishing ID" + TakeOpensslError());
  }
  return ctx;
}

Result<Asn1OctetStringPtr> Sm2Id() {
  Asn1OctetStringPtr id(ASN1_OCTET_STRING_new());
  if (id == nullptr ||
      ASN1_OCTET_STRING_set(id.get(),
                            reinterpret_cast<const unsigned char*>(kSm2DistinguishingId.data()),
                            static_cast<int>(kSm2DistinguishingId.size())) != 1) {
    return NotSupportedError("out of memory" + TakeOpensslError());
  }
  return id;
}

bool IsSm2Signature(const X509_ALGOR* alg) {
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, alg);
  return oid != nullptr && OBJ_obj2nid(oid) == NID_SM2_with_SM3;
}

std::string Utf8(const X509_NAME_ENTRY* entry) {
  unsigned char* out = nullptr;
  int len = ASN1_STRING_to_UTF8(&out, X509_NAME_ENTRY_get_data(entry));
  if (len < 0) return "";
  std::string s(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return s;
}

}  // namespace

bool IsNodeKeyScheme(std::string_view scheme) {
  return scheme == "ed25519" || scheme == "ecdsa-sha2-nistp256" || scheme == "sm2-sm3";
}

Result<EvpPkeyPtr> PrivateEvp(const PrivateKey& key) {
  if (!IsNodeKeyScheme(key.Public().scheme())) {
    return NotSupportedError("not a node key scheme: " + key.Public().scheme());
  }
  std::string pem = key.ToPem();
  BioPtr bio = ReadOnlyBio(pem);
  EvpPkeyPtr evp(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (evp == nullptr) return NotSupportedError("cannot load the private key" + TakeOpensslError());
  return evp;
}

Result<EvpPkeyPtr> PublicEvp(const PublicKey& key) {
  if (!IsNodeKeyScheme(key.scheme())) {
    return NotSupportedError("not a node key scheme: " + key.scheme());
  }
  const std::string& der = key.canonical_der();
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  EvpPkeyPtr evp(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (evp == nullptr) return NotSupportedError("cannot load the public key" + TakeOpensslError());
  return evp;
}

Result<PublicKey> ToPublicKey(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519")) {
    unsigned char raw[32];
    size_t len = sizeof(raw);
    if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != sizeof(raw)) {
      return InvalidArgumentError("malformed ed25519 key" + TakeOpensslError());
    }
    return PublicKey::FromTuf("ed25519", "ed25519", ToHex(std::span(raw, len)));
  }
  const bool sm2 = EVP_PKEY_is_a(key, "SM2");
  if (!sm2 && !EVP_PKEY_is_a(key, "EC")) {
    return NotSupportedError("key type is not ed25519, ecdsa P-256 or sm2");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    return InvalidArgumentError("cannot encode the public key" + TakeOpensslError());
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<size_t>(len > 0 ? len : 0));
  Result<PublicKey> pub = sm2 ? PublicKey::FromTuf("sm2", "sm2-sm3", pem)
                              : PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp256", pem);
  if (!pub.ok()) return NotSupportedError("key is not a node key: " + pub.status().message());
  return pub;
}

Status SignCertificate(X509* cert, EVP_PKEY* key) {
  TS_ASSIGN_OR_RETURN(EvpMdCtxPtr ctx, SigningContext(key));
  if (X509_sign_ctx(cert, ctx.get()) <= 0) {
    return NotSupportedError("signing the certificate failed" + TakeOpensslError());
  }
  return Status::Ok();
}

Status SignRequest(X509_REQ* req, EVP_PKEY* key) {
  TS_ASSIGN_OR_RETURN(EvpMdCtxPtr ctx, SigningContext(key));
  if (X509_REQ_sign_ctx(req, ctx.get()) <= 0) {
    return NotSupportedError("signing the request failed" + TakeOpensslError());
  }
  return Status::Ok();
}

Status AttachSm2Id(X509* cert) {
  const X509_ALGOR* alg = nullptr;
  X509_get0_signature(nullptr, &alg, cert);
  if (alg == nullptr || !IsSm2Signature(alg)) return Status::Ok();
  TS_ASSIGN_OR_RETURN(Asn1OctetStringPtr id, Sm2Id());
  X509_set0_distinguishing_id(cert, id.release());
  return Status::Ok();
}

Status AttachSm2Id(X509_REQ* req) {
  const X509_ALGOR* alg = nullptr;
  X509_REQ_get0_signature(req, nullptr, &alg);
  if (alg == nullptr || !IsSm2Signature(alg)) return Status::Ok();
  TS_ASSIGN_OR_RETURN(Asn1OctetStringPtr id, Sm2Id());
  X509_REQ_set0_distinguishing_id(req, id.release());
  return Status::Ok();
}

Result<X509NamePtr> IdentityName(const NodeIdentity& id) {
  TS_RETURN_IF_ERROR(CheckIdentity(id));
  X509NamePtr name(X509_NAME_new());
  if (name == nullptr) return NotSupportedError("out of memory");
  for (const NameAttribute& a : kNameAttributes) {
    const std::string& value = a.field == nullptr ? std::string(kOrganization) : id.*a.field;
    if (X509_NAME_add_entry_by_NID(name.get(), a.nid, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      return InvalidArgumentError(std::string(a.label) + " \"" + value +
                                  "\" does not fit a certificate name" + TakeOpensslError());
    }
  }
  return name;
}

Result<NodeIdentity> NameIdentity(const X509_NAME* name) {
  if (X509_NAME_entry_count(name) != static_cast<int>(std::size(kNameAttributes))) {
    return InvalidArgumentError("the name is not exactly O, OU, L and CN");
  }
  NodeIdentity id;
  for (const NameAttribute& a : kNameAttributes) {
    int at = X509_NAME_get_index_by_NID(name, a.nid, -1);
    if (at < 0 || X509_NAME_get_index_by_NID(name, a.nid, at) >= 0) {
      return InvalidArgumentError(std::string("the name needs exactly one ") + a.label);
    }
    std::string value = Utf8(X509_NAME_get_entry(name, at));
    if (a.field == nullptr) {
      if (value != kOrganization) return InvalidArgumentError("O is not \"tiersync\"");
    } else {
      id.*a.field = std::move(value);
    }
  }
  TS_RETURN_IF_ERROR(CheckIdentity(id));
  return id;
}

std::vector<uint8_t> SecureRandomBytes(size_t n) {
  std::vector<uint8_t> out(n);
  // RAND_bytes fails only if the CSPRNG cannot be seeded; nothing may go on without it.
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) std::abort();
  return out;
}

std::string TakeOpensslError() {
  unsigned long err = ERR_get_error();
  ERR_clear_error();
  const char* reason = err == 0 ? nullptr : ERR_reason_error_string(err);
  return reason == nullptr ? std::string() : std::string(": ") + reason;
}

std::string CertificateDer(X509* cert) {
  unsigned char* out = nullptr;
  int len = i2d_X509(cert, &out);
  if (len <= 0) return "";
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return der;
}

std::string TimeText(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int64_t UnixSeconds(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace tiersync::identity::internal
