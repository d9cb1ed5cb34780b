// Public-key signatures for TUF metadata: the only place in tiersync that touches private keys
// or OpenSSL signature APIs.
//
// Keys are named the way TUF 1.0 metadata names them, {"keytype", "scheme", "keyval":
// {"public"}}, and signatures are the raw bytes that metadata carries hex-encoded. Encodings
// match python-tuf/securesystemslib and tuf-js byte for byte:
//
//   keytype   scheme               keyval.public             signature bytes
//   ed25519   ed25519              64 hex chars (32 bytes)   64-byte pure Ed25519
//   rsa       rsassa-pss-sha256    SPKI PEM, >= 2048 bits    RSASSA-PSS, SHA-256, MGF1-SHA-256
//   ecdsa     ecdsa-sha2-nistp256  SPKI PEM on P-256         DER ECDSA-Sig-Value, SHA-256
//   ecdsa     ecdsa-sha2-nistp384  SPKI PEM on P-384         DER ECDSA-Sig-Value, SHA-384
//   sm2       sm2-sm3              SPKI PEM on curve SM2     DER SM2Signature (r, s), SM3,
//                                                            distinguishing ID below
//
// The legacy keytypes "ecdsa-sha2-nistp256"/"ecdsa-sha2-nistp384" (equal to the scheme) are
// accepted as well; keys this module creates use "ecdsa". RSA-PSS verification accepts any
// salt length; RSA-PSS signing uses a salt as long as the digest (32 bytes).
//
// sm2-sm3 is the GM/T suite: GM/T 0003 (GB/T 32918) SM2 signatures on the recommended curve
// (SPKI algorithm id-ecPublicKey, curve 1.2.156.10197.1.301), message digest e = SM3(Z || M)
// (GM/T 0004) where Z binds the signer's distinguishing identifier, always
// kSm2DistinguishingId; signatures are the DER SEQUENCE {r, s} of GM/T 0009 (what
// `openssl pkeyutl -sign -digest sm3 -pkeyopt distid:1234567812345678` writes).
// docs/formats.md and docs/security.md describe it for auditors.
//
// Extending: the set of schemes is a table (kSchemes in base/crypto.cc), one row per scheme,
// giving its keytype(s), the OpenSSL key type, the required curve, the digest, size limits
// and optional hooks that set padding or other parameters (the SM2 ID) on the
// signing/verifying context. The code around the table is generic over OpenSSL's EVP_PKEY, so
// a suite available in OpenSSL 3 is one new row and no change to the formats or this
// interface. A key of any row is an SPKI underneath (canonical_der), so a certificate can
// carry it as it is.
//
// Thread safety: PublicKey and PrivateKey are immutable after construction; their const
// methods may be called from several threads at once. A moved-from object may only be
// destroyed or assigned to.
#ifndef TIERSYNC_BASE_CRYPTO_H_
#define TIERSYNC_BASE_CRYPTO_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/hex.h"  // HexDecode for signatures and keys
#include "base/status.h"

// OpenSSL's EVP_PKEY. Declared here so that this header does not include OpenSSL.
struct evp_pkey_st;

namespace tiersync {

namespace crypto_internal {
struct SchemeInfo;  // one row of the scheme table; defined in base/crypto.cc
struct EvpPkeyDeleter {
  void operator()(evp_pkey_st* key) const;
};
}  // namespace crypto_internal

// The SM2 distinguishing identifier of every sm2-sm3 signature: the default user ID of GM/T
// 0009-2012 (section 10), the ASCII string "1234567812345678".
inline constexpr std::string_view kSm2DistinguishingId = "1234567812345678";

// True if `scheme` is a TUF signature scheme this build can verify and sign with.
bool IsSupportedScheme(std::string_view scheme);

// A public key that verifies signatures of one scheme. Cheap to copy (copies share the
// underlying OpenSSL key, which holds no private material).
class PublicKey {
 public:
  // Builds a key from the three strings of a TUF key object.
  // Errors: kNotSupported if the (keytype, scheme) pair is not in the table (the message names
  // both); kInvalidArgument if `public_value` is malformed: not hexadecimal or not 32 bytes
  // for ed25519; not a single "BEGIN PUBLIC KEY" PEM, a key of the wrong type, a curve other
  // than the scheme's, or an RSA modulus under 2048 bits for the PEM schemes.
  // Thread-safe; the same three strings give the same key without parsing again (a bounded
  // cache of parsed keys).
  static Result<PublicKey> FromTuf(std::string_view keytype, std::string_view scheme,
                                   std::string_view public_value);

  // The TUF strings of this key. keytype() is as given to FromTuf ("ecdsa" for keys made by
  // PrivateKey). public_value() is the keyval.public string: lower-case hex for ed25519; for
  // PEM schemes the string given to FromTuf unchanged (so key ids computed from it stay
  // stable), or PEM_write_bio_PUBKEY's output for keys made by PrivateKey.
  const std::string& keytype() const { return keytype_; }
  const std::string& scheme() const { return scheme_; }
  const std::string& public_value() const { return public_value_; }

  // The key's DER SubjectPublicKeyInfo (i2d_PUBKEY): the same bytes for the same key however
  // keyval.public was written (hex case; PEM line lengths, CRLF, surrounding whitespace) and
  // whichever keytype alias named it. Thresholds count keys by it (protocol/tuf_verify.h).
  const std::string& canonical_der() const { return canonical_der_; }

  // Returns OK if `signature` is a valid signature of `message` under this key and scheme.
  // Any other outcome, including signature bytes that are truncated, oversized or not even
  // well-formed, is kVerificationFailed ("signature does not verify").
  Status Verify(std::span<const uint8_t> message, std::span<const uint8_t> signature) const;

 private:
  static Result<PublicKey> Parse(std::string_view keytype, std::string_view scheme,
                                 std::string_view public_value);
  PublicKey(const crypto_internal::SchemeInfo* info, std::string keytype, std::string public_value,
            std::string canonical_der, std::shared_ptr<evp_pkey_st> key);

  const crypto_internal::SchemeInfo* info_;  // points into the static scheme table
  std::string keytype_;
  std::string scheme_;
  std::string public_value_;
  std::string canonical_der_;
  std::shared_ptr<evp_pkey_st> key_;  // public half only
};

// A private signing key of one scheme. Move-only; the key material is freed (and cleared by
// OpenSSL) when the object is destroyed. Nothing in this class logs or prints key material;
// ToPem() is the only way it leaves the object.
class PrivateKey {
 public:
  // Generates a fresh key: Ed25519, RSA-3072, ECDSA on P-256/P-384, or SM2, depending on
  // `scheme`.
  // Errors: kNotSupported for an unknown scheme or if OpenSSL refuses to generate the key
  // (e.g. a provider configuration without the algorithm).
  static Result<PrivateKey> Generate(std::string_view scheme);

  // Parses an unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----") for `scheme`.
  // Errors: kNotSupported for an unknown scheme; kInvalidArgument if `pem` is not such a PEM
  // (encrypted and traditional "BEGIN RSA/EC PRIVATE KEY" forms are refused) or holds a key
  // that does not fit the scheme (type, curve, RSA under 2048 bits). Messages never contain
  // key material.
  static Result<PrivateKey> FromPem(std::string_view scheme, std::string_view pem);

  PrivateKey(PrivateKey&&) = default;
  PrivateKey& operator=(PrivateKey&&) = default;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  ~PrivateKey();

  // The key as unencrypted PKCS#8 PEM. The caller owns the secret in the returned string.
  std::string ToPem() const;

  // The public half, with the scheme's canonical keytype.
  PublicKey Public() const { return public_; }

  // Signs `message` (the whole message; hashing, if the scheme has any, happens inside).
  // Errors: kNotSupported if OpenSSL refuses the operation (a provider configuration without
  // the algorithm, or memory exhaustion); never for keys and messages as such.
  Result<std::vector<uint8_t>> Sign(std::span<const uint8_t> message) const;

 private:
  using KeyPtr = std::unique_ptr<evp_pkey_st, crypto_internal::EvpPkeyDeleter>;

  static Result<PrivateKey> FromKey(const crypto_internal::SchemeInfo* info, KeyPtr key);
  PrivateKey(const crypto_internal::SchemeInfo* info, KeyPtr key, PublicKey public_key);

  const crypto_internal::SchemeInfo* info_;  // points into the static scheme table
  KeyPtr key_;
  PublicKey public_;
};

}  // namespace tiersync

#endif  // TIERSYNC_BASE_CRYPTO_H_
