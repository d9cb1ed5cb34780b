#include "base/crypto.h"

#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/sha256.h"

namespace tiersync {
namespace {

constexpr const char* kAllSchemes[] = {"ed25519", "rsassa-pss-sha256", "ecdsa-sha2-nistp256",
                                       "ecdsa-sha2-nistp384", "sm2-sm3"};

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::vector<uint8_t> Unhex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.has_value()) << hex;
  return bytes.value_or(std::vector<uint8_t>{});
}

// Keys are cached per (scheme, index): RSA-3072 generation takes a noticeable fraction of a
// second.
const PrivateKey& TestKey(const std::string& scheme, int index = 0) {
  // OpenSSL registers its atexit cleanup when first used. Use it before the cache exists, so
  // that the cache is destroyed (freeing its keys) before OpenSSL shuts down.
  [[maybe_unused]] static const bool kOpensslReady = PrivateKey::Generate("ed25519").ok();
  static std::map<std::pair<std::string, int>, PrivateKey> keys;
  auto it = keys.find({scheme, index});
  if (it == keys.end()) {
    auto key = PrivateKey::Generate(scheme);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    it = keys.emplace(std::make_pair(scheme, index), std::move(key).value()).first;
  }
  return it->second;
}

// ---------------------------------------------------------------------------------------------
// Interoperability vectors, made with the openssl 3.0.19 command line tool, not with tiersync.
// Each command below is one shell line; "=> kName" says which constant its output became.
// Signature files were hex-encoded with `xxd -p -c 1000 FILE`.
//
// clang-format off
//   printf 'tiersync interop vector\n' > msg.txt                            => kInteropMessage
//
//   openssl genpkey -algorithm ED25519 -out ed.key
//   openssl pkey -in ed.key -pubout -outform DER | tail -c 32 | xxd -p -c 64   => kEd25519Public
//   openssl pkeyutl -sign -rawin -inkey ed.key -in msg.txt -out ed.sig          => kEd25519Sig
//
//   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out rsa.key
//   openssl pkey -in rsa.key -pubout -out rsa.pub                                => kRsaPublic
//   openssl dgst -sha256 -sign rsa.key -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256 -out rsa.sig msg.txt       => kRsaSig
//   openssl dgst -sha256 -sign rsa.key -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:max -sigopt rsa_mgf1_md:sha256 -out rsa_max.sig msg.txt  => kRsaSigMaxSalt
//
//   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key
//   openssl pkey -in ec.key -pubout -out ec.pub                                  => kP256Public
//   openssl dgst -sha256 -sign ec.key -out ec.sig msg.txt                        => kP256Sig
//
//   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ec384.key
//   openssl pkey -in ec384.key -pubout -out ec384.pub                            => kP384Public
//   openssl dgst -sha384 -sign ec384.key -out ec384.sig msg.txt                  => kP384Sig
//
//   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.key
//   openssl pkey -in rsa1024.key -pubout                                         => kRsa1024Public
//
//   openssl genpkey -algorithm SM2 -out sm2.key
//   openssl pkey -in sm2.key -pubout -out sm2.pub                                => kSm2Public
//   openssl pkeyutl -sign -rawin -digest sm3 -inkey sm2.key -in msg.txt -pkeyopt distid:1234567812345678 -out sm2.sig        => kSm2Sig
//   openssl pkeyutl -sign -rawin -digest sm3 -inkey sm2.key -in msg.txt -out sm2_noid.sig                                    => kSm2SigOpensslDefaultId
//   openssl pkeyutl -sign -rawin -digest sm3 -inkey sm2.key -in msg.txt -pkeyopt distid:ALICE123@YAHOO.COM -out sm2_alice.sig => kSm2SigOtherId
//
// Cross-checked with the CLI as well ("Verified OK" / "Signature Verified Successfully"):
//   openssl pkeyutl -verify -rawin -pubin -inkey <(openssl pkey -in ed.key -pubout) -in msg.txt -sigfile ed.sig
//   openssl dgst -sha256 -verify rsa.pub -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:auto -sigopt rsa_mgf1_md:sha256 -signature rsa.sig msg.txt
//   openssl dgst -sha256 -verify ec.pub -signature ec.sig msg.txt
//   openssl pkeyutl -verify -rawin -digest sm3 -pubin -inkey sm2.pub -in msg.txt -sigfile sm2.sig -pkeyopt distid:1234567812345678
// clang-format on
// ---------------------------------------------------------------------------------------------

constexpr std::string_view kInteropMessage = "tiersync interop vector\n";

constexpr std::string_view kEd25519Public =
    "4b39bfcbc9712701016c4418f7bbd59e4eff2a4639dab79b555c217b9f248066";
constexpr std::string_view kEd25519Sig =
    "799c0f2e5b93da5109db883126bd456c967385bf65fabec381ad6912c043f67e"
    "e1e67a2090e72b4ad232d2a28e7d604ca4e3402a13707774f4f1f6bcc4641005";

constexpr std::string_view kRsaPublic =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEAwigmjCPAIb4ssuU982G8\n"
    "BWepZpirFZ2AdHRlM87wTi/FilONT2aRyVEHHTyijoK5Rprubt1odQIKb6Smha2J\n"
    "dqnYVHpp6kIXFkPKO7yuEG/VqrzTsCo/2zE7Kp9gvKbrG7uvYgzz6foHt3xd9F+p\n"
    "76ld+Zu8JySfgiMA/jLRjhxgmGobc9HcyqpqS4F3SQyLogXyTdA/OYvl0LwIDB60\n"
    "ne6WOvbI2f1zC1ei23/GCk7gxbg45KbyU9b8nDGoyfbSUwTkcFCymumC6e0Zj/W/\n"
    "ySE+kp5cnme5cGTKcWx3kLq//geXpM75XXmvGX86yXkKiPCfWuKUPjIf8PKatgBc\n"
    "j6LXOGMgzA3U4lfiG7rKGwsBjlUKZDNlSMFXhNiB/rP4YG69Iy7C9iVBfDWDyPbk\n"
    "zboNZ6totJRvDyAgVjI/vOI65YTNhteyu4K5W/lR5sCXtYbsdyRajUoMnTHpO80/\n"
    "NPDlUrZoGP7s/uYqRGTJwaND+DLwz17nGplP9qK0TAOdAgMBAAE=\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::string_view kRsaSig =
    "197657ececb6f075e3de9bd15acedcb95a4c864097e266a5b806b519ad595d00"
    "8f5caa4378c20cd23a07f03989cf2ad4338faa6ae05dfa404172b352f91a9d32"
    "741c093170a2452cea08e3c7ffeb7afa4aac970e0206018d8ca06dff0807f9d8"
    "388c957491df5b157b6f328ac89b68b06d25f509b7dc3c82ff951ddee0f7badb"
    "dc76aa62a3aa6cd44f8b69bb7abd3980cf8e85beb2b5a73c655f99f91afeac59"
    "647e619b6bc3c58c6bb849e186c24bf425facc428c875dc292498b4c2d63c1b6"
    "f4f866b2c7ddebcf3441d5bc1bdd0efcdc893506218c7f2dadb781f89c8c17d6"
    "a2397259e9257dd49b0db96e3b288e4c93731e6de948a73ece5063811a9adc44"
    "bce8e6d8fb5ddaf7fc8ff247fae3eb2f4660d5924331679c72a934cf14751a9b"
    "463dffa9403bf884e71da5b4875ed12216a66445bad71c602dd23f75184f3a65"
    "130b826cee7657e21a77a9d5b40b6d2e9f1e9a61a96a230c1b543e141363ca8a"
    "7cd94d65f4ee120e4da036eb455658f80ededb3c9f7ea4e7af87f443b6ec28ec";
constexpr std::string_view kRsaSigMaxSalt =
    "add6311c1b96198237ba1e99dc48e043ffd9823a5f833aa65ef2247763b8a18e"
    "a60df1279101bc731c9e6d6d13ef0eac183c607fa4dad3f5de3ff1c77937cc50"
    "5618a8729dd5f75f6bdea2065114121045047d07e02fbb8e7c43e2d406173151"
    "c87532fa6cb1b8a18959aaf8803daf3b69649c34a08a31e719c1a22a9c01c414"
    "47d186f3e7420bef5e2f538df61972a97ebfb6e4f75218beeaf4222303a7ee9f"
    "bcd4edcc10ecaee9ce4e9cc93519bb608129db631672de9e5cc070ab6dbeb349"
    "e06eb17dfa8b189faf99861e813aeae52aec6a2de9c6847848da18885bd58f65"
    "0049c864525b6b0fe64d20f274437c39554545e9372c04e48cfe0a52c31b1123"
    "71b2a459b789386be890f8bbb08eaa4b91b7fb3bf4f553277e4cab1b5da683ee"
    "0cb06d013790e55bff3106c5d4e8be1f0d53010bea5beef076f9233b86a60ea2"
    "b14f473f090ea0672e180c569de8c5ba7ceee3f1b12815bd8f61491da05d7e04"
    "4723c7e0cca37e1d11a51e1d3c1ba818938b63ddfbd2473178913024435a4609";

constexpr std::string_view kP256Public =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEw9ErPPeeyFeMw6DNVJopmBdbWSxo\n"
    "FozCV8nKQk7z2tkai6w4B7of/XO7wpPOmiwTyl6AX7xHMQ3xbUOWKN06gg==\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::string_view kP256Sig =
    "304502203ac3ba7532cc6d7dc68ebbd79ecefd6c51881a2a5b8362c7cf437d9ace6e89c4"
    "022100fb711aa22842c0d11dc9b488f73089a5d88d696f43c83365c3536b35ee1f9362";

constexpr std::string_view kP384Public =
    "-----BEGIN PUBLIC KEY-----\n"
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEkkti36WL9sjfgRy3uEEI3obziRk4dTE+\n"
    "wXpeDsBJv/cCIpW1a00hzG5YOVYc7IHPqZGod4T9al66q3fGfFLZLaTqmA6tIdyK\n"
    "Vu5rGVrFHGi45vG1I0/I1HxxGynr4kDb\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::string_view kP384Sig =
    "3066023100c4fcb6738708ec3fd52f750a69badee7ca9065243829eed5ae9d044229af9b56"
    "766a5cdb82f59d1366705dd24a4e25a8023100b393f181865385042356cfab128d29a81f63"
    "fc701b9cb9e1c15f97b4313ef585a6590db651ddda2ccb10e6b8a4fc502b";

constexpr std::string_view kSm2Public =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE3QklA9VWjC4tkhcyDl0Wj41oFYJT\n"
    "8Y9siVJinOb6xDoZISkpQUdNYfIZVhaReTXnRwuiUIIMXVr9VZnQwRBo5A==\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::string_view kSm2Sig =
    "3045022004114df9e70be3d094847d79c5aec643fc7bbb5611c8ebcb21b0e72afd2f4456022100c81553c6023e"
    "276e703ab7f075190675b89d7f6b4a6a46d10512cc9565d4e476";
// The same key and message signed under other distinguishing IDs: OpenSSL 3.0's default (the
// empty ID) and the ID of GB/T 32918.2's own examples. Neither may verify: the ID is part of
// what is signed.
constexpr std::string_view kSm2SigOpensslDefaultId =
    "304402205225d46b6e2748f10c89226ca31e2cc10d737bc5a53cfee0ab39ef90391a76dd0220042549c71adb64"
    "b123e5dc486f67d6b15438a1bdf505f426284a78a6d74d2b45";
constexpr std::string_view kSm2SigOtherId =
    "304402206c5a02fe0d2199705095fc20d17ce67b24ef81f792f23e883000f12c5a009ccd022012a786474ae8ac"
    "b10dcce050cefb920799feae9ad064bec7afc46d754b530cd0";

// GM/T 0003.5-2012 (GB/T 32918.5-2017) Appendix A: a signature on the recommended curve with
// the standard ID 1234567812345678, message "message digest". The public key (xA, yA) as
// SPKI PEM: `echo 3059301306072a8648ce3d020106082a811ccf5501822d03420004 XA YA | xxd -r -p |
// openssl pkey -pubin -inform DER`; the signature as DER SEQUENCE {r, s} (both 33-byte
// INTEGERs: their top bits are set). Standard values: dA = 3945208F 7B2144B1 3F36E38A C6D39F95
// 88939369 2860B51A 42FB81EF 4DF7C5B8, k = 59276E27 ..., e = F0B43E94 BA45ACCA ACE692ED
// 534382EB 17E6AB5A 19CE7B31 F4486FDF C0D28640.
constexpr std::string_view kGmtMessage = "message digest";
constexpr std::string_view kGmtPublic =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAECfnfMR5UIaFQ3X0WHkvFxnIXn60Y\n"
    "M/wHa7CP81bzUCDM6kkM4md1pS3G6nGMwapgCu0F+/NeCEpmMvYHLamtEw==\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::string_view kGmtPublicDerHex =
    "3059301306072a8648ce3d020106082a811ccf5501822d03420004"
    "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"   // xA
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13";  // yA
constexpr std::string_view kGmtSignature =
    "3046"
    "022100f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"   // r
    "022100b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa";  // s

constexpr std::string_view kRsa1024Public =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC9PaZk+4UnSe7bBFT9RD7s7h7L\n"
    "1JDA4PYPmrF7Q1I2Ae79BAXB4G+2xB68RdkmiX2QZFJqmC1Va41Hvpv0vbWbt8Pn\n"
    "ocoQHDvEJFievA7PYindmpMDp3Gp7bYuEZAAYhNsTUxbmEd1u31JhpoNWz3IMdmq\n"
    "ii3KoSunR6TbimyUZQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

// Throwaway private keys for tests only, also made with the openssl CLI:
//   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out test_ec.key
//   cat test_ec.key                                  => kTestP256Pkcs8
//   openssl pkey -in test_ec.key -traditional        => kTestP256Traditional (same key)
//   openssl pkey -in test_ec.key -pubout             => kTestP256Public
//   openssl genpkey -algorithm ED25519 -out test_ed.key
//   cat test_ed.key                                  => kTestEd25519Pkcs8
//   openssl pkey -in test_ed.key -pubout -outform DER | tail -c 32 | xxd -p -c 64
//                                                    => kTestEd25519Public
constexpr std::string_view kTestP256Pkcs8 =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/Q6qZ86MbtdBacxv\n"
    "q8reDaNMD4STnx8cAKTUAq99E/2hRANCAARHjjcGFvUJU7Z9rem3gwoxwFCLF+hI\n"
    "d7qBMwvKOsfN3yZrT4s8GLiCGIiLWiwcFrPG2xdHOKATjMn7rZT4ldqV\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kTestP256Traditional =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIP0OqmfOjG7XQWnMb6vK3g2jTA+Ek58fHACk1AKvfRP9oAoGCCqGSM49\n"
    "AwEHoUQDQgAER443Bhb1CVO2fa3pt4MKMcBQixfoSHe6gTMLyjrHzd8ma0+LPBi4\n"
    "ghiIi1osHBazxtsXRzigE4zJ+62U+JXalQ==\n"
    "-----END EC PRIVATE KEY-----\n";
constexpr std::string_view kTestP256Public =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAER443Bhb1CVO2fa3pt4MKMcBQixfo\n"
    "SHe6gTMLyjrHzd8ma0+LPBi4ghiIi1osHBazxtsXRzigE4zJ+62U+JXalQ==\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::string_view kTestEd25519Pkcs8 =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIMU9VtNes/VHBBugu1P6SOE6KntCRi9QibYT70sqM7aZ\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kTestEd25519Public =
    "4222b91f5bca6adadd2241a15566f62c04de4d0d2bde9ddfa09ae92353f38cf7";

struct InteropVector {
  const char* name;
  std::string_view keytype;
  std::string_view scheme;
  std::string_view public_value;
  std::string_view signature_hex;
};

constexpr InteropVector kInteropVectors[] = {
    {"ed25519", "ed25519", "ed25519", kEd25519Public, kEd25519Sig},
    {"rsa_salt32", "rsa", "rsassa-pss-sha256", kRsaPublic, kRsaSig},
    {"rsa_salt_max", "rsa", "rsassa-pss-sha256", kRsaPublic, kRsaSigMaxSalt},
    {"p256", "ecdsa", "ecdsa-sha2-nistp256", kP256Public, kP256Sig},
    {"p256_legacy_keytype", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256", kP256Public, kP256Sig},
    {"p384", "ecdsa", "ecdsa-sha2-nistp384", kP384Public, kP384Sig},
    {"sm2", "sm2", "sm2-sm3", kSm2Public, kSm2Sig},
};

TEST(CryptoInteropTest, OpensslCliSignaturesVerify) {
  for (const InteropVector& v : kInteropVectors) {
    SCOPED_TRACE(v.name);
    auto key = PublicKey::FromTuf(v.keytype, v.scheme, v.public_value);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(key->keytype(), v.keytype);
    EXPECT_EQ(key->scheme(), v.scheme);
    EXPECT_EQ(key->public_value(), v.public_value);  // kept verbatim (key ids stay stable)
    std::vector<uint8_t> sig = Unhex(v.signature_hex);
    EXPECT_TRUE(key->Verify(Bytes(kInteropMessage), sig).ok());

    std::string other(kInteropMessage);
    other.back() = '!';
    EXPECT_EQ(key->Verify(Bytes(other), sig).code(), StatusCode::kVerificationFailed);
    sig[sig.size() / 2] ^= 0x01;
    EXPECT_EQ(key->Verify(Bytes(kInteropMessage), sig).code(), StatusCode::kVerificationFailed);
  }
}

TEST(CryptoInteropTest, GmT0003Part5VectorVerifies) {
  auto key = PublicKey::FromTuf("sm2", "sm2-sm3", kGmtPublic);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(ToHex(AsBytes(key->canonical_der())), kGmtPublicDerHex);
  EXPECT_TRUE(key->Verify(Bytes(kGmtMessage), Unhex(kGmtSignature)).ok());
  EXPECT_EQ(key->Verify(Bytes("message digesT"), Unhex(kGmtSignature)).code(),
            StatusCode::kVerificationFailed);
}

TEST(CryptoInteropTest, Sm2SignatureUnderAnotherDistinguishingIdFails) {
  auto key = PublicKey::FromTuf("sm2", "sm2-sm3", kSm2Public);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  ASSERT_TRUE(key->Verify(Bytes(kInteropMessage), Unhex(kSm2Sig)).ok());
  EXPECT_EQ(key->Verify(Bytes(kInteropMessage), Unhex(kSm2SigOpensslDefaultId)).code(),
            StatusCode::kVerificationFailed);
  EXPECT_EQ(key->Verify(Bytes(kInteropMessage), Unhex(kSm2SigOtherId)).code(),
            StatusCode::kVerificationFailed);
}

// FromTuf keeps parsed keys: the same strings give the same key, which still verifies only
// its own signatures; a malformed key is refused every time (errors are not kept).
TEST(CryptoTest, AKeyNamedAgainIsTheSameKeyAndAMalformedOneIsRefusedEveryTime) {
  auto signer = PrivateKey::Generate("ed25519");
  auto other = PrivateKey::Generate("ed25519");
  ASSERT_TRUE(signer.ok() && other.ok());
  const PublicKey pub = signer->Public();
  const std::span<const uint8_t> message = Bytes("the same key, named twice");
  auto sig = signer->Sign(message);
  ASSERT_TRUE(sig.ok());
  for (int i = 0; i < 3; ++i) {
    auto again = PublicKey::FromTuf(pub.keytype(), pub.scheme(), pub.public_value());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->canonical_der(), pub.canonical_der());
    EXPECT_TRUE(again->Verify(message, *sig).ok());
    auto wrong = PublicKey::FromTuf("ed25519", "ed25519", other->Public().public_value());
    ASSERT_TRUE(wrong.ok());
    EXPECT_NE(wrong->canonical_der(), pub.canonical_der());
    EXPECT_EQ(wrong->Verify(message, *sig).code(), StatusCode::kVerificationFailed);
    EXPECT_EQ(PublicKey::FromTuf("ed25519", "ed25519", "zz").status().code(),
              StatusCode::kInvalidArgument);
    // The same strings under another scheme are another question, answered on its own.
    EXPECT_EQ(
        PublicKey::FromTuf("ed25519", "ecdsa-sha2-nistp256", pub.public_value()).status().code(),
        StatusCode::kNotSupported);
  }
}

TEST(CryptoInteropTest, Sm2SignatureDoesNotVerifyUnderAnotherKey) {
  auto key = PublicKey::FromTuf("sm2", "sm2-sm3", kGmtPublic);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->Verify(Bytes(kInteropMessage), Unhex(kSm2Sig)).code(),
            StatusCode::kVerificationFailed);
}

TEST(CryptoInteropTest, SignatureOfOneSchemeDoesNotVerifyUnderAnother) {
  auto p256 = PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp256", kP256Public);
  ASSERT_TRUE(p256.ok());
  EXPECT_EQ(p256->Verify(Bytes(kInteropMessage), Unhex(kP384Sig)).code(),
            StatusCode::kVerificationFailed);
  auto rsa = PublicKey::FromTuf("rsa", "rsassa-pss-sha256", kRsaPublic);
  ASSERT_TRUE(rsa.ok());
  EXPECT_EQ(rsa->Verify(Bytes(kInteropMessage), Unhex(kEd25519Sig)).code(),
            StatusCode::kVerificationFailed);
}

TEST(CryptoInteropTest, Ed25519PublicValueIsCanonicalLowerHex) {
  std::string upper(kEd25519Public);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto key = PublicKey::FromTuf("ed25519", "ed25519", upper);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->public_value(), kEd25519Public);
  EXPECT_TRUE(key->Verify(Bytes(kInteropMessage), Unhex(kEd25519Sig)).ok());
}

TEST(CryptoInteropTest, OpensslCliPrivateKeysParse) {
  auto ec = PrivateKey::FromPem("ecdsa-sha2-nistp256", kTestP256Pkcs8);
  ASSERT_TRUE(ec.ok()) << ec.status().ToString();
  EXPECT_EQ(ec->Public().keytype(), "ecdsa");
  EXPECT_EQ(ec->Public().public_value(), kTestP256Public);
  EXPECT_EQ(ec->ToPem(), kTestP256Pkcs8);

  auto ed = PrivateKey::FromPem("ed25519", kTestEd25519Pkcs8);
  ASSERT_TRUE(ed.ok()) << ed.status().ToString();
  EXPECT_EQ(ed->Public().public_value(), kTestEd25519Public);
  EXPECT_EQ(ed->ToPem(), kTestEd25519Pkcs8);

  // Signatures by the parsed keys verify under the CLI's public keys.
  auto ec_pub = PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp256", kTestP256Public);
  auto ed_pub = PublicKey::FromTuf("ed25519", "ed25519", kTestEd25519Public);
  ASSERT_TRUE(ec_pub.ok() && ed_pub.ok());
  auto ec_sig = ec->Sign(Bytes(kInteropMessage));
  auto ed_sig = ed->Sign(Bytes(kInteropMessage));
  ASSERT_TRUE(ec_sig.ok() && ed_sig.ok());
  EXPECT_TRUE(ec_pub->Verify(Bytes(kInteropMessage), *ec_sig).ok());
  EXPECT_TRUE(ed_pub->Verify(Bytes(kInteropMessage), *ed_sig).ok());
}

TEST(CryptoInteropTest, TraditionalPrivateKeyFormIsRefused) {
  // Same key as kTestP256Pkcs8, which is accepted.
  auto key = PrivateKey::FromPem("ecdsa-sha2-nistp256", kTestP256Traditional);
  EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(key.status().message().find("PKCS#8"), std::string::npos);
}

// Per-scheme round trips ----------------------------------------------------------------------

class CryptoSchemeTest : public testing::TestWithParam<const char*> {
 protected:
  const std::string scheme_ = GetParam();
  const std::string message_ = "{\"signed\":{\"_type\":\"root\",\"version\":1}}";
};

TEST_P(CryptoSchemeTest, IsSupported) { EXPECT_TRUE(IsSupportedScheme(scheme_)); }

TEST_P(CryptoSchemeTest, SignThenVerify) {
  const PrivateKey& key = TestKey(scheme_);
  auto sig = key.Sign(Bytes(message_));
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_TRUE(key.Public().Verify(Bytes(message_), *sig).ok());
}

TEST_P(CryptoSchemeTest, SignThenVerifyEmptyMessage) {
  const PrivateKey& key = TestKey(scheme_);
  auto sig = key.Sign({});
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_TRUE(key.Public().Verify({}, *sig).ok());
  EXPECT_FALSE(key.Public().Verify(Bytes("x"), *sig).ok());
}

TEST_P(CryptoSchemeTest, PublicKeyRoundTripsThroughTufStrings) {
  PublicKey pub = TestKey(scheme_).Public();
  EXPECT_EQ(pub.scheme(), scheme_);
  const std::map<std::string, std::string> keytypes = {{"ed25519", "ed25519"},
                                                       {"rsassa-pss-sha256", "rsa"},
                                                       {"ecdsa-sha2-nistp256", "ecdsa"},
                                                       {"ecdsa-sha2-nistp384", "ecdsa"},
                                                       {"sm2-sm3", "sm2"}};
  EXPECT_EQ(pub.keytype(), keytypes.at(scheme_));
  if (scheme_ == "ed25519") {
    EXPECT_EQ(pub.public_value().size(), 64u);
  } else {
    EXPECT_TRUE(pub.public_value().starts_with("-----BEGIN PUBLIC KEY-----\n"));
  }
  auto again = PublicKey::FromTuf(pub.keytype(), pub.scheme(), pub.public_value());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->public_value(), pub.public_value());
  auto sig = TestKey(scheme_).Sign(Bytes(message_));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(again->Verify(Bytes(message_), *sig).ok());
}

TEST_P(CryptoSchemeTest, FlippedMessageByteFails) {
  const PrivateKey& key = TestKey(scheme_);
  auto sig = key.Sign(Bytes(message_));
  ASSERT_TRUE(sig.ok());
  for (size_t i : {size_t{0}, message_.size() / 2, message_.size() - 1}) {
    std::string tampered = message_;
    tampered[i] ^= 0x20;
    Status s = key.Public().Verify(Bytes(tampered), *sig);
    EXPECT_EQ(s.code(), StatusCode::kVerificationFailed) << i;
    EXPECT_EQ(s.message(), "signature does not verify");
  }
}

TEST_P(CryptoSchemeTest, FlippedSignatureByteFails) {
  const PrivateKey& key = TestKey(scheme_);
  auto sig = key.Sign(Bytes(message_));
  ASSERT_TRUE(sig.ok());
  for (size_t i : {size_t{0}, size_t{1}, sig->size() / 2, sig->size() - 1}) {
    std::vector<uint8_t> tampered = *sig;
    tampered[i] ^= 0x01;
    EXPECT_EQ(key.Public().Verify(Bytes(message_), tampered).code(),
              StatusCode::kVerificationFailed)
        << i;
  }
}

TEST_P(CryptoSchemeTest, SignatureFromAnotherKeyFails) {
  auto sig = TestKey(scheme_, 1).Sign(Bytes(message_));
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(TestKey(scheme_, 0).Public().Verify(Bytes(message_), *sig).code(),
            StatusCode::kVerificationFailed);
  EXPECT_TRUE(TestKey(scheme_, 1).Public().Verify(Bytes(message_), *sig).ok());
}

TEST_P(CryptoSchemeTest, MalformedSignaturesFail) {
  const PrivateKey& key = TestKey(scheme_);
  auto sig = key.Sign(Bytes(message_));
  ASSERT_TRUE(sig.ok());
  const PublicKey pub = key.Public();
  std::vector<std::vector<uint8_t>> bad = {
      {},
      {0x00},
      {0x30, 0x00},
      std::vector<uint8_t>(sig->begin(), sig->end() - 1),
      std::vector<uint8_t>(sig->begin(), sig->begin() + sig->size() / 2),
      std::vector<uint8_t>(sig->size(), 0x00),
      std::vector<uint8_t>(sig->size(), 0xff),
      std::vector<uint8_t>(4096, 0x30),
  };
  std::vector<uint8_t> longer = *sig;
  longer.push_back(0x00);
  bad.push_back(longer);
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_EQ(pub.Verify(Bytes(message_), bad[i]).code(), StatusCode::kVerificationFailed) << i;
  }
}

TEST_P(CryptoSchemeTest, PrivateKeyPemRoundTrip) {
  const PrivateKey& key = TestKey(scheme_);
  std::string pem = key.ToPem();
  EXPECT_TRUE(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
  auto parsed = PrivateKey::FromPem(scheme_, pem);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->Public().public_value(), key.Public().public_value());
  EXPECT_EQ(parsed->ToPem(), pem);
  auto sig = parsed->Sign(Bytes(message_));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key.Public().Verify(Bytes(message_), *sig).ok());
}

TEST_P(CryptoSchemeTest, PublicKeyOutlivesPrivateKey) {
  std::optional<PublicKey> pub;
  std::vector<uint8_t> sig;
  {
    auto key = PrivateKey::Generate(scheme_ == "rsassa-pss-sha256" ? "ed25519" : scheme_);
    ASSERT_TRUE(key.ok());
    PrivateKey moved = std::move(key).value();
    pub = moved.Public();
    auto s = moved.Sign(Bytes(message_));
    ASSERT_TRUE(s.ok());
    sig = *s;
  }
  EXPECT_TRUE(pub->Verify(Bytes(message_), sig).ok());
}

TEST_P(CryptoSchemeTest, ConcurrentVerify) {
  const PrivateKey& key = TestKey(scheme_);
  auto sig = key.Sign(Bytes(message_));
  ASSERT_TRUE(sig.ok());
  const PublicKey pub = key.Public();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) failures[t] += !pub.Verify(Bytes(message_), *sig).ok();
    });
  }
  for (std::thread& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, CryptoSchemeTest, testing::ValuesIn(kAllSchemes),
                         [](const testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

// Ed25519 signatures are deterministic; the PSS and ECDSA ones are randomised.
TEST(CryptoTest, SignatureSizes) {
  std::string m = "message";
  auto ed = TestKey("ed25519").Sign(Bytes(m));
  ASSERT_TRUE(ed.ok());
  EXPECT_EQ(ed->size(), 64u);
  EXPECT_EQ(*TestKey("ed25519").Sign(Bytes(m)), *ed);
  auto rsa = TestKey("rsassa-pss-sha256").Sign(Bytes(m));
  ASSERT_TRUE(rsa.ok());
  EXPECT_EQ(rsa->size(), 384u);  // 3072-bit modulus
  auto ec = TestKey("ecdsa-sha2-nistp256").Sign(Bytes(m));
  ASSERT_TRUE(ec.ok());
  EXPECT_EQ((*ec)[0], 0x30);  // DER SEQUENCE
  EXPECT_LE(ec->size(), 72u);
  auto sm2 = TestKey("sm2-sm3").Sign(Bytes(m));  // GM/T 0009 SM2Signature: SEQUENCE {r, s}
  ASSERT_TRUE(sm2.ok());
  EXPECT_EQ((*sm2)[0], 0x30);
  EXPECT_LE(sm2->size(), 72u);
}

// FromTuf errors ------------------------------------------------------------------------------

TEST(CryptoFromTufTest, UnknownSchemeIsNotSupported) {
  auto key = PublicKey::FromTuf("ed25519", "ed448", kEd25519Public);
  EXPECT_EQ(key.status().code(), StatusCode::kNotSupported);
  EXPECT_NE(key.status().message().find("ed448"), std::string::npos);
  EXPECT_EQ(PublicKey::FromTuf("sm2", "sm2-sha256", kSm2Public).status().code(),
            StatusCode::kNotSupported);
  EXPECT_EQ(PublicKey::FromTuf("rsa", "rsassa-pss-sha512", kRsaPublic).status().code(),
            StatusCode::kNotSupported);
  EXPECT_EQ(PublicKey::FromTuf("rsa", "", kRsaPublic).status().code(), StatusCode::kNotSupported);
}

TEST(CryptoFromTufTest, KeytypeSchemeMismatchIsRejected) {
  auto key = PublicKey::FromTuf("ed25519", "rsassa-pss-sha256", kRsaPublic);
  EXPECT_EQ(key.status().code(), StatusCode::kNotSupported);
  EXPECT_NE(key.status().message().find("ed25519"), std::string::npos);
  EXPECT_NE(key.status().message().find("rsassa-pss-sha256"), std::string::npos);
  EXPECT_EQ(PublicKey::FromTuf("rsa", "ed25519", kEd25519Public).status().code(),
            StatusCode::kNotSupported);
  EXPECT_EQ(
      PublicKey::FromTuf("ecdsa-sha2-nistp384", "ecdsa-sha2-nistp256", kP256Public).status().code(),
      StatusCode::kNotSupported);
  // The GM/T suite: keytype "sm2" goes only with scheme "sm2-sm3", and back.
  EXPECT_EQ(PublicKey::FromTuf("ecdsa", "sm2-sm3", kSm2Public).status().code(),
            StatusCode::kNotSupported);
  EXPECT_EQ(PublicKey::FromTuf("sm2", "ecdsa-sha2-nistp256", kSm2Public).status().code(),
            StatusCode::kNotSupported);
  EXPECT_EQ(PublicKey::FromTuf("ed25519", "sm2-sm3", kSm2Public).status().code(),
            StatusCode::kNotSupported);
}

TEST(CryptoFromTufTest, MalformedEd25519KeysAreInvalid) {
  const std::string good(kEd25519Public);
  for (const std::string& bad :
       {std::string(), good.substr(0, 62), good + "00", good.substr(0, 63), "zz" + good.substr(2),
        good.substr(0, 32), " " + good.substr(1), std::string(kP256Public)}) {
    EXPECT_EQ(PublicKey::FromTuf("ed25519", "ed25519", bad).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(CryptoFromTufTest, MalformedPemKeysAreInvalid) {
  std::string truncated(kP256Public.substr(0, 60));
  std::string corrupted(kP256Public);
  corrupted[40] = '*';
  for (const std::string& bad :
       {std::string(), std::string("not a key"), truncated, corrupted, std::string(kEd25519Public),
        std::string("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"),
        std::string(kTestP256Traditional) + std::string(kP256Public)}) {
    EXPECT_EQ(PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp256", bad).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(CryptoFromTufTest, PemPublicValueIsKeptVerbatim) {
  std::string no_final_newline(kP256Public.substr(0, kP256Public.size() - 1));
  std::string crlf;
  for (char c : kP256Public) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  for (const std::string& pem : {no_final_newline, crlf, "\n" + std::string(kP256Public)}) {
    auto key = PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp256", pem);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(key->public_value(), pem);
    EXPECT_TRUE(key->Verify(Bytes(kInteropMessage), Unhex(kP256Sig)).ok());
  }
}

// A PEM body re-wrapped at `width` characters a line (OpenSSL writes 64).
std::string RewrapPem(std::string_view pem, size_t width) {
  std::string body;
  std::string_view rest = pem;
  rest.remove_prefix(rest.find('\n') + 1);
  rest = rest.substr(0, rest.find("-----END"));
  for (char c : rest) {
    if (c != '\n') body += c;
  }
  std::string out = "-----BEGIN PUBLIC KEY-----\n";
  for (size_t i = 0; i < body.size(); i += width) out += body.substr(i, width) + "\n";
  return out + "-----END PUBLIC KEY-----";
}

TEST(CryptoFromTufTest, CanonicalDerIsOneEncodingPerKey) {
  std::string upper(kEd25519Public);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto lower_ed = PublicKey::FromTuf("ed25519", "ed25519", kEd25519Public);
  auto upper_ed = PublicKey::FromTuf("ed25519", "ed25519", upper);
  ASSERT_TRUE(lower_ed.ok() && upper_ed.ok());
  EXPECT_EQ(lower_ed->canonical_der(), upper_ed->canonical_der());
  EXPECT_FALSE(lower_ed->canonical_der().empty());

  auto p256 = PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp256", kP256Public);
  ASSERT_TRUE(p256.ok());
  for (const std::string& pem : {RewrapPem(kP256Public, 64), RewrapPem(kP256Public, 40),
                                 std::string(kP256Public) + "\n\n"}) {
    for (const char* keytype : {"ecdsa", "ecdsa-sha2-nistp256"}) {
      auto other = PublicKey::FromTuf(keytype, "ecdsa-sha2-nistp256", pem);
      ASSERT_TRUE(other.ok()) << keytype << " " << pem << ": " << other.status().ToString();
      EXPECT_EQ(other->canonical_der(), p256->canonical_der()) << pem;
    }
  }
  auto rsa = PublicKey::FromTuf("rsa", "rsassa-pss-sha256", kRsaPublic);
  auto rsa_wrapped = PublicKey::FromTuf("rsa", "rsassa-pss-sha256", RewrapPem(kRsaPublic, 76));
  ASSERT_TRUE(rsa.ok() && rsa_wrapped.ok()) << rsa_wrapped.status().ToString();
  EXPECT_EQ(rsa->canonical_der(), rsa_wrapped->canonical_der());
  // Different keys stay different.
  EXPECT_NE(rsa->canonical_der(), p256->canonical_der());
  EXPECT_NE(TestKey("ed25519").Public().canonical_der(), lower_ed->canonical_der());
}

TEST(CryptoFromTufTest, WrongCurveIsInvalid) {
  EXPECT_EQ(PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp256", kP384Public).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp384", kP256Public).status().code(),
            StatusCode::kInvalidArgument);
  std::string generated_p384 = TestKey("ecdsa-sha2-nistp384").Public().public_value();
  EXPECT_EQ(PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp256", generated_p384).status().code(),
            StatusCode::kInvalidArgument);
  // An SM2 point is not a P-256 point, nor the other way round, though both SPKIs say
  // id-ecPublicKey and 256 bits.
  EXPECT_EQ(PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp256", kSm2Public).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromTuf("sm2", "sm2-sm3", kP256Public).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromTuf("sm2", "sm2-sm3", kEd25519Public).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CryptoFromTufTest, WrongKeyTypeForPemSchemeIsInvalid) {
  EXPECT_EQ(PublicKey::FromTuf("rsa", "rsassa-pss-sha256", kP256Public).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp256", kRsaPublic).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CryptoFromTufTest, SmallRsaKeyIsInvalid) {
  auto key = PublicKey::FromTuf("rsa", "rsassa-pss-sha256", kRsa1024Public);
  EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(key.status().message().find("2048"), std::string::npos);
}

// PrivateKey errors ---------------------------------------------------------------------------

TEST(CryptoPrivateKeyTest, GenerateUnknownSchemeIsNotSupported) {
  EXPECT_EQ(PrivateKey::Generate("sm2").status().code(), StatusCode::kNotSupported);
  EXPECT_EQ(PrivateKey::Generate("").status().code(), StatusCode::kNotSupported);
  EXPECT_FALSE(IsSupportedScheme("sm2"));
  EXPECT_FALSE(IsSupportedScheme("SM2-SM3"));
  EXPECT_FALSE(IsSupportedScheme("ecdsa"));
  EXPECT_FALSE(IsSupportedScheme("ED25519"));
}

TEST(CryptoPrivateKeyTest, FromPemChecksScheme) {
  std::string ed_pem = TestKey("ed25519").ToPem();
  EXPECT_EQ(PrivateKey::FromPem("rsassa-pss-sha256", ed_pem).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PrivateKey::FromPem("nope", ed_pem).status().code(), StatusCode::kNotSupported);
  std::string p384_pem = TestKey("ecdsa-sha2-nistp384").ToPem();
  EXPECT_EQ(PrivateKey::FromPem("ecdsa-sha2-nistp256", p384_pem).status().code(),
            StatusCode::kInvalidArgument);
  std::string sm2_pem = TestKey("sm2-sm3").ToPem();
  EXPECT_EQ(PrivateKey::FromPem("ecdsa-sha2-nistp256", sm2_pem).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PrivateKey::FromPem("sm2-sm3", kTestP256Pkcs8).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CryptoPrivateKeyTest, FromPemRejectsOtherForms) {
  std::string pem = TestKey("ecdsa-sha2-nistp256").ToPem();
  std::string body = pem.substr(pem.find('\n'));
  std::string traditional = "-----BEGIN EC PRIVATE KEY-----" + body;
  std::string encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----" + body;
  std::string corrupted = pem;
  corrupted[40] = '*';
  for (const std::string& bad :
       {std::string(), std::string("garbage"), traditional, encrypted, corrupted,
        pem.substr(0, pem.size() / 2), std::string(kP256Public)}) {
    auto key = PrivateKey::FromPem("ecdsa-sha2-nistp256", bad);
    EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
    // Error messages never echo the input.
    EXPECT_EQ(key.status().message().find("MI"), std::string::npos);
  }
}

// HexDecode -----------------------------------------------------------------------------------

TEST(HexDecodeTest, DecodesBothCases) {
  EXPECT_EQ(HexDecode(""), std::vector<uint8_t>{});
  EXPECT_EQ(HexDecode("00ff7fAB"), (std::vector<uint8_t>{0x00, 0xff, 0x7f, 0xab}));
  EXPECT_EQ(HexDecode("DeadBeef"), (std::vector<uint8_t>{0xde, 0xad, 0xbe, 0xef}));
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(HexDecode(ToHex(all)), all);
}

TEST(HexDecodeTest, RejectsMalformedInput) {
  for (std::string_view bad : {"0", "abc", "0g", "g0", " 00", "00 ", "0x00", "-1", "\xff\xff"}) {
    EXPECT_FALSE(HexDecode(bad).has_value()) << bad;
  }
  EXPECT_FALSE(HexDecode(std::string_view("\0\0", 2)).has_value());
}

}  // namespace
}  // namespace tiersync
