#include "base/crypto.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <climits>
#include <cstdlib>
#include <optional>
#include <unordered_map>
#include <utility>

#include "base/mutex.h"
#include "base/sha256.h"
#include "base/thread_annotations.h"

namespace tiersync {
namespace crypto_internal {

void EvpPkeyDeleter::operator()(evp_pkey_st* key) const { EVP_PKEY_free(key); }

// How keyval.public is written.
enum class KeyEncoding {
  kRawHex,  // the raw public key bytes in hex (EVP_PKEY_get_raw_public_key)
  kPem,     // SubjectPublicKeyInfo PEM, "-----BEGIN PUBLIC KEY-----"
};

// One TUF signature scheme. Everything scheme-specific lives in these rows; the code below is
// generic over EVP_PKEY. Hooks return true on success.
struct SchemeInfo {
  std::string_view scheme;
  std::string_view keytype;         // written by PrivateKey::Public()
  std::string_view legacy_keytype;  // also accepted by PublicKey::FromTuf; empty if none
  KeyEncoding encoding;
  const char* key_type;          // OpenSSL key type name (EVP_PKEY_is_a, keygen)
  const char* group = nullptr;   // required curve (OpenSSL short name), or nullptr
  const char* digest = nullptr;  // digest for EVP_DigestSign/Verify; nullptr: pure scheme
  int min_bits = 0;              // smallest accepted key (EVP_PKEY_get_bits); 0: no limit
  unsigned generate_bits = 0;    // "bits" keygen parameter; 0: not set
  bool (*configure_sign)(EVP_PKEY_CTX* ctx) = nullptr;    // padding etc. for signing
  bool (*configure_verify)(EVP_PKEY_CTX* ctx) = nullptr;  // padding etc. for verifying
};

namespace {

// RSASSA-PSS with MGF1-SHA-256 and the given salt length.
bool ConfigurePssSha256(EVP_PKEY_CTX* ctx, int salt_length) {
  return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, "SHA256", nullptr) > 0 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, salt_length) > 0;
}
// Signing: salt as long as the digest (what securesystemslib writes).
bool ConfigurePssSign(EVP_PKEY_CTX* ctx) { return ConfigurePssSha256(ctx, RSA_PSS_SALTLEN_DIGEST); }
// Verifying: any salt length, read from the signature.
bool ConfigurePssVerify(EVP_PKEY_CTX* ctx) { return ConfigurePssSha256(ctx, RSA_PSS_SALTLEN_AUTO); }

// GM/T 0003.2: the signer's distinguishing identifier enters Z = SM3(ENTL || ID || a || b ||
// xG || yG || xA || yA), and e = SM3(Z || M) is what is signed. Set explicitly on every
// context: OpenSSL 3.0's own default is the empty ID (a signature made by `openssl pkeyutl
// -sign -digest sm3` without -pkeyopt distid does not verify under the standard ID), and
// later versions changed it. Z is computed at the first update, after this hook has run.
bool ConfigureSm2DistinguishingId(EVP_PKEY_CTX* ctx) {
  return EVP_PKEY_CTX_set1_id(ctx, kSm2DistinguishingId.data(),
                              static_cast<int>(kSm2DistinguishingId.size())) > 0;
}

}  // namespace

// The table of supported schemes. Add a row to support another scheme.
constexpr SchemeInfo kSchemes[] = {
    {.scheme = "ed25519",
     .keytype = "ed25519",
     .legacy_keytype = "",
     .encoding = KeyEncoding::kRawHex,
     .key_type = "ED25519"},
    {.scheme = "rsassa-pss-sha256",
     .keytype = "rsa",
     .legacy_keytype = "",
     .encoding = KeyEncoding::kPem,
     .key_type = "RSA",
     .digest = "SHA256",
     .min_bits = 2048,
     .generate_bits = 3072,
     .configure_sign = ConfigurePssSign,
     .configure_verify = ConfigurePssVerify},
    {.scheme = "ecdsa-sha2-nistp256",
     .keytype = "ecdsa",
     .legacy_keytype = "ecdsa-sha2-nistp256",
     .encoding = KeyEncoding::kPem,
     .key_type = "EC",
     .group = "prime256v1",
     .digest = "SHA256"},
    {.scheme = "ecdsa-sha2-nistp384",
     .keytype = "ecdsa",
     .legacy_keytype = "ecdsa-sha2-nistp384",
     .encoding = KeyEncoding::kPem,
     .key_type = "EC",
     .group = "secp384r1",
     .digest = "SHA384"},
    // GM/T 0003 (GB/T 32918) SM2 over the recommended curve, digest SM3 (GM/T 0004), with the
    // standard distinguishing identifier (GM/T 0009).
    {.scheme = "sm2-sm3",
     .keytype = "sm2",
     .legacy_keytype = "",
     .encoding = KeyEncoding::kPem,
     .key_type = "SM2",
     .group = "SM2",
     .digest = "SM3",
     .configure_sign = ConfigureSm2DistinguishingId,
     .configure_verify = ConfigureSm2DistinguishingId},
};

}  // namespace crypto_internal

namespace {

using crypto_internal::KeyEncoding;
using crypto_internal::kSchemes;
using crypto_internal::SchemeInfo;

template <auto kFree>
struct OpensslDeleter {
  template <class T>
  void operator()(T* p) const {
    kFree(p);
  }
};
using BioPtr = std::unique_ptr<BIO, OpensslDeleter<BIO_free_all>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpensslDeleter<EVP_MD_CTX_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpensslDeleter<EVP_PKEY_CTX_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, crypto_internal::EvpPkeyDeleter>;

constexpr std::string_view kPublicPemLabel = "-----BEGIN PUBLIC KEY-----";
constexpr std::string_view kPrivatePemLabel = "-----BEGIN PRIVATE KEY-----";

// Empties this thread's OpenSSL error queue and returns ": <reason of the first error>", or ""
// if it was empty. Reasons are fixed strings; they never contain key material.
std::string TakeOpensslError() {
  unsigned long err = ERR_get_error();
  ERR_clear_error();
  const char* reason = err == 0 ? nullptr : ERR_reason_error_string(err);
  return reason == nullptr ? std::string() : std::string(": ") + reason;
}

// OpenSSL treats a null pointer with length 0 inconsistently; always pass a real pointer.
const unsigned char* NonNullData(std::span<const uint8_t> bytes) {
  static const unsigned char kEmpty = 0;
  return bytes.empty() ? &kEmpty : bytes.data();
}

const SchemeInfo* FindScheme(std::string_view scheme) {
  for (const SchemeInfo& info : kSchemes) {
    if (info.scheme == scheme) return &info;
  }
  return nullptr;
}

Result<const SchemeInfo*> FindSupportedScheme(std::string_view scheme) {
  const SchemeInfo* info = FindScheme(scheme);
  if (info == nullptr) {
    return NotSupportedError("unsupported signature scheme \"" + std::string(scheme) + "\"");
  }
  return info;
}

bool KeytypeMatches(const SchemeInfo& info, std::string_view keytype) {
  return keytype == info.keytype ||
         (!info.legacy_keytype.empty() && keytype == info.legacy_keytype);
}

// Skips leading whitespace and checks that `pem` starts with the PEM `label`.
bool StartsWithPemLabel(std::string_view pem, std::string_view label) {
  size_t start = pem.find_first_not_of(" \t\r\n");
  return start != std::string_view::npos && pem.substr(start).starts_with(label);
}

// A read-only memory BIO over `bytes` (not copied; `bytes` must outlive the BIO).
BioPtr ReadOnlyBio(std::string_view bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

// The contents of a memory BIO.
std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

// Checks that `key` is of the scheme's key type, curve and minimum size.
Status CheckKeyFitsScheme(const SchemeInfo& info, EVP_PKEY* key) {
  const std::string scheme(info.scheme);
  if (!EVP_PKEY_is_a(key, info.key_type)) {
    return InvalidArgumentError(scheme + " needs a key of type " + info.key_type);
  }
  if (info.group != nullptr) {
    char name[80] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, name, sizeof(name), &len) != 1 ||
        OBJ_sn2nid(name) == NID_undef || OBJ_sn2nid(name) != OBJ_sn2nid(info.group)) {
      ERR_clear_error();
      return InvalidArgumentError(scheme + " needs a key on curve " + info.group);
    }
  }
  if (info.min_bits > 0 && EVP_PKEY_get_bits(key) < info.min_bits) {
    return InvalidArgumentError(scheme + " needs a key of at least " +
                                std::to_string(info.min_bits) + " bits");
  }
  return Status::Ok();
}

Result<KeyPtr> ParseRawHexPublic(const SchemeInfo& info, std::string_view value) {
  std::optional<std::vector<uint8_t>> raw = HexDecode(value);
  if (!raw || raw->empty()) {
    return InvalidArgumentError(std::string(info.scheme) + " public key is not hexadecimal");
  }
  KeyPtr key(
      EVP_PKEY_new_raw_public_key_ex(nullptr, info.key_type, nullptr, raw->data(), raw->size()));
  if (key == nullptr) {
    return InvalidArgumentError("malformed " + std::string(info.scheme) + " public key" +
                                TakeOpensslError());
  }
  return key;
}

Result<KeyPtr> ParsePemPublic(std::string_view value) {
  if (!StartsWithPemLabel(value, kPublicPemLabel)) {
    return InvalidArgumentError("public key is not a \"BEGIN PUBLIC KEY\" PEM");
  }
  BioPtr bio = ReadOnlyBio(value);
  KeyPtr key(bio ? PEM_read_bio_PUBKEY_ex(bio.get(), nullptr, nullptr, nullptr, nullptr, nullptr)
                 : nullptr);
  if (key == nullptr) return InvalidArgumentError("malformed PEM public key" + TakeOpensslError());
  return key;
}

Result<KeyPtr> ParsePublic(const SchemeInfo& info, std::string_view value) {
  TS_ASSIGN_OR_RETURN(KeyPtr key, info.encoding == KeyEncoding::kRawHex
                                      ? ParseRawHexPublic(info, value)
                                      : ParsePemPublic(value));
  TS_RETURN_IF_ERROR(CheckKeyFitsScheme(info, key.get()));
  return key;
}

// keyval.public of a (public or private) key: lower-case hex of the raw public key.
Result<std::string> EncodeRawHexPublic(EVP_PKEY* key) {
  size_t len = 0;
  std::vector<uint8_t> raw;
  if (EVP_PKEY_get_raw_public_key(key, nullptr, &len) == 1) {
    raw.resize(len);
    if (EVP_PKEY_get_raw_public_key(key, raw.data(), &len) == 1) {
      raw.resize(len);
      return ToHex(raw);
    }
  }
  return NotSupportedError("cannot export raw public key" + TakeOpensslError());
}

// keyval.public of a (public or private) key: SubjectPublicKeyInfo PEM.
Result<std::string> EncodePemPublic(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    return NotSupportedError("cannot export PEM public key" + TakeOpensslError());
  }
  return BioContents(bio.get());
}

// The DER SubjectPublicKeyInfo of a key: one encoding per key, whatever text it was read from.
Result<std::string> EncodeDerPublic(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0 || der == nullptr) {
    return NotSupportedError("cannot encode public key as DER" + TakeOpensslError());
  }
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

Result<std::string> EncodePublic(const SchemeInfo& info, EVP_PKEY* key) {
  return info.encoding == KeyEncoding::kRawHex ? EncodeRawHexPublic(key) : EncodePemPublic(key);
}

Result<KeyPtr> GenerateKey(const SchemeInfo& info) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, info.key_type, nullptr));
  unsigned bits = info.generate_bits;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_BITS, &bits),
                         OSSL_PARAM_construct_end()};
  EVP_PKEY* raw = nullptr;
  bool ok = ctx != nullptr && EVP_PKEY_keygen_init(ctx.get()) == 1 &&
            (info.group == nullptr || EVP_PKEY_CTX_set_group_name(ctx.get(), info.group) == 1) &&
            (bits == 0 || EVP_PKEY_CTX_set_params(ctx.get(), params) == 1) &&
            EVP_PKEY_generate(ctx.get(), &raw) == 1;
  KeyPtr key(raw);
  if (!ok || key == nullptr) {
    return NotSupportedError("cannot generate " + std::string(info.scheme) + " key" +
                             TakeOpensslError());
  }
  return key;
}

// Parses an unencrypted PKCS#8 PEM. Never prompts for a passphrase.
Result<KeyPtr> ParsePemPrivate(std::string_view pem) {
  if (!StartsWithPemLabel(pem, kPrivatePemLabel)) {
    return InvalidArgumentError("private key is not an unencrypted PKCS#8 PEM (BEGIN PRIVATE KEY)");
  }
  auto no_passphrase = [](char*, int, int, void*) { return 0; };
  BioPtr bio = ReadOnlyBio(pem);
  KeyPtr key(
      bio ? PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, no_passphrase, nullptr, nullptr, nullptr)
          : nullptr);
  if (key == nullptr) {
    ERR_clear_error();
    return InvalidArgumentError("malformed PEM private key");
  }
  return key;
}

// A digest-sign or digest-verify context for `key` under `info`.
MdCtxPtr NewSignatureContext(const SchemeInfo& info, EVP_PKEY* key, bool sign) {
  MdCtxPtr md(EVP_MD_CTX_new());
  if (md == nullptr) return nullptr;
  EVP_PKEY_CTX* pctx = nullptr;  // owned by md
  int init =
      sign ? EVP_DigestSignInit_ex(md.get(), &pctx, info.digest, nullptr, nullptr, key, nullptr)
           : EVP_DigestVerifyInit_ex(md.get(), &pctx, info.digest, nullptr, nullptr, key, nullptr);
  if (init != 1) return nullptr;
  auto configure = sign ? info.configure_sign : info.configure_verify;
  if (configure != nullptr && !configure(pctx)) return nullptr;
  return md;
}

}  // namespace

bool IsSupportedScheme(std::string_view scheme) { return FindScheme(scheme) != nullptr; }

// PublicKey ------------------------------------------------------------------------------

PublicKey::PublicKey(const SchemeInfo* info, std::string keytype, std::string public_value,
                     std::string canonical_der, std::shared_ptr<evp_pkey_st> key)
    : info_(info),
      keytype_(std::move(keytype)),
      scheme_(info->scheme),
      public_value_(std::move(public_value)),
      canonical_der_(std::move(canonical_der)),
      key_(std::move(key)) {}

namespace {

// Parsed keys by (keytype, scheme, keyval.public). Parsing goes through OpenSSL 3's provider
// lookups and encoders (the DER for canonical_der), which cost far more than the signature
// check itself; every metadata refresh names the same few keys again. A parse is a pure
// function of the three strings and a PublicKey is immutable (its EVP_PKEY is only read), so a
// hit is the same key. Bounded: emptied when full.
class ParsedKeyCache {
 public:
  std::optional<PublicKey> Find(const std::string& k) {
    MutexLock l(&mu_);
    auto it = keys_.find(k);
    if (it == keys_.end()) return std::nullopt;
    return it->second;
  }
  void Add(std::string k, const PublicKey& key) {
    MutexLock l(&mu_);
    if (keys_.size() >= kMaxKeys) keys_.clear();
    keys_.emplace(std::move(k), key);
  }

 private:
  static constexpr size_t kMaxKeys = 4096;
  Mutex mu_;
  std::unordered_map<std::string, PublicKey> keys_ GUARDED_BY(mu_);
};

ParsedKeyCache& KeyCache() {
  static auto* cache = new ParsedKeyCache();  // never destroyed: used until exit
  return *cache;
}

}  // namespace

Result<PublicKey> PublicKey::FromTuf(std::string_view keytype, std::string_view scheme,
                                     std::string_view public_value) {
  std::string cache_key;
  cache_key.reserve(keytype.size() + scheme.size() + public_value.size() + 2);
  cache_key.append(keytype).push_back('\0');
  cache_key.append(scheme).push_back('\0');
  cache_key.append(public_value);
  if (std::optional<PublicKey> hit = KeyCache().Find(cache_key)) return *std::move(hit);
  TS_ASSIGN_OR_RETURN(PublicKey parsed, Parse(keytype, scheme, public_value));
  KeyCache().Add(std::move(cache_key), parsed);
  return parsed;
}

Result<PublicKey> PublicKey::Parse(std::string_view keytype, std::string_view scheme,
                                   std::string_view public_value) {
  const SchemeInfo* info = FindScheme(scheme);
  if (info == nullptr || !KeytypeMatches(*info, keytype)) {
    return NotSupportedError("unsupported key: keytype \"" + std::string(keytype) +
                             "\" with scheme \"" + std::string(scheme) + "\"");
  }
  TS_ASSIGN_OR_RETURN(KeyPtr key, ParsePublic(*info, public_value));
  std::string value(public_value);
  if (info->encoding == KeyEncoding::kRawHex) {
    TS_ASSIGN_OR_RETURN(value, EncodeRawHexPublic(key.get()));
  }
  TS_ASSIGN_OR_RETURN(std::string der, EncodeDerPublic(key.get()));
  return PublicKey(info, std::string(keytype), std::move(value), std::move(der),
                   std::shared_ptr<evp_pkey_st>(std::move(key)));
}

Status PublicKey::Verify(std::span<const uint8_t> message,
                         std::span<const uint8_t> signature) const {
  MdCtxPtr md = NewSignatureContext(*info_, key_.get(), /*sign=*/false);
  bool ok = md != nullptr && EVP_DigestVerify(md.get(), NonNullData(signature), signature.size(),
                                              NonNullData(message), message.size()) == 1;
  ERR_clear_error();
  return ok ? Status::Ok() : VerificationError("signature does not verify");
}

// PrivateKey -----------------------------------------------------------------------------

PrivateKey::PrivateKey(const SchemeInfo* info, KeyPtr key, PublicKey public_key)
    : info_(info), key_(std::move(key)), public_(std::move(public_key)) {}

PrivateKey::~PrivateKey() = default;

Result<PrivateKey> PrivateKey::FromKey(const SchemeInfo* info, KeyPtr key) {
  TS_RETURN_IF_ERROR(CheckKeyFitsScheme(*info, key.get()));
  TS_ASSIGN_OR_RETURN(std::string value, EncodePublic(*info, key.get()));
  TS_ASSIGN_OR_RETURN(PublicKey public_key, PublicKey::FromTuf(info->keytype, info->scheme, value));
  return PrivateKey(info, std::move(key), std::move(public_key));
}

Result<PrivateKey> PrivateKey::Generate(std::string_view scheme) {
  TS_ASSIGN_OR_RETURN(const SchemeInfo* info, FindSupportedScheme(scheme));
  TS_ASSIGN_OR_RETURN(KeyPtr key, GenerateKey(*info));
  return FromKey(info, std::move(key));
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view scheme, std::string_view pem) {
  TS_ASSIGN_OR_RETURN(const SchemeInfo* info, FindSupportedScheme(scheme));
  TS_ASSIGN_OR_RETURN(KeyPtr key, ParsePemPrivate(pem));
  return FromKey(info, std::move(key));
}

std::string PrivateKey::ToPem() const {
  // Secure-heap BIO: its buffer is cleared when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    // Only reachable on memory exhaustion; an empty or partial key must never be returned.
    std::abort();
  }
  return BioContents(bio.get());
}

Result<std::vector<uint8_t>> PrivateKey::Sign(std::span<const uint8_t> message) const {
  MdCtxPtr md = NewSignatureContext(*info_, key_.get(), /*sign=*/true);
  size_t len = 0;
  if (md == nullptr ||
      EVP_DigestSign(md.get(), nullptr, &len, NonNullData(message), message.size()) != 1) {
    return NotSupportedError("cannot sign with " + std::string(info_->scheme) + TakeOpensslError());
  }
  std::vector<uint8_t> signature(len);
  if (EVP_DigestSign(md.get(), signature.data(), &len, NonNullData(message), message.size()) != 1) {
    return NotSupportedError("cannot sign with " + std::string(info_->scheme) + TakeOpensslError());
  }
  signature.resize(len);
  return signature;
}

}  // namespace tiersync
