#include "tests/testing/test_certs.h"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>

namespace tiersync::testing {
namespace {

[[noreturn]] void Die(const std::string& what) {
  const char* reason = ERR_reason_error_string(ERR_peek_last_error());
  std::fprintf(stderr, "test certificates: %s: %s\n", what.c_str(), reason ? reason : "error");
  std::abort();
}

void Check(bool ok, const std::string& what) {
  if (!ok) Die(what);
}

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

KeyPtr NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  Check(key != nullptr, "generate an EC P-256 key");
  return key;
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str());
  Check(ext != nullptr && X509_add_ext(cert, ext, -1) == 1, "extension " + value);
  X509_EXTENSION_free(ext);
}

// A v3 certificate for `key` named `cn`, valid from an hour ago for a day; issuer fields and
// signature are set by the caller.
CertPtr NewCert(EVP_PKEY* key, const std::string& cn, long serial) {
  CertPtr cert(X509_new(), X509_free);
  Check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("tiersync tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

void WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  Check(f != nullptr, "open " + path);
  const bool ok = cert != nullptr
                      ? PEM_write_X509(f, cert) == 1
                      : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  Check(std::fclose(f) == 0 && ok, "write " + path);
}

}  // namespace

struct TestCa::Impl {
  KeyPtr key{nullptr, EVP_PKEY_free};
  CertPtr cert{nullptr, X509_free};
  mutable long serial = 1;
};

TestCa::TestCa(const std::string& dir, const std::string& stem, const std::string& name)
    : impl_(std::make_unique<Impl>()), dir_(dir), cert_file_(dir + "/" + stem + ".pem") {
  impl_->key = NewKey();
  impl_->cert = NewCert(impl_->key.get(), name, impl_->serial++);
  X509* c = impl_->cert.get();
  X509_set_issuer_name(c, X509_get_subject_name(c));
  AddExtension(c, c, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(c, c, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(c, c, NID_subject_key_identifier, "hash");
  Check(X509_sign(c, impl_->key.get(), EVP_sha256()) > 0, "sign the CA");
  WritePem(cert_file_, c, nullptr);
}

TestCa::~TestCa() = default;

CertFiles TestCa::Issue(const std::string& stem, const std::vector<std::string>& dns_names,
                        const std::vector<std::string>& ip_addresses) const {
  KeyPtr key = NewKey();
  const std::string cn = !dns_names.empty() ? dns_names.front() : ip_addresses.front();
  CertPtr cert = NewCert(key.get(), cn, impl_->serial++);
  X509* c = cert.get();
  X509_set_issuer_name(c, X509_get_subject_name(impl_->cert.get()));
  std::string san;
  for (const auto& d : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  for (const auto& ip : ip_addresses) san += (san.empty() ? "IP:" : ",IP:") + ip;
  AddExtension(c, impl_->cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(c, impl_->cert.get(), NID_key_usage, "critical,digitalSignature");
  AddExtension(c, impl_->cert.get(), NID_ext_key_usage, "serverAuth");
  AddExtension(c, impl_->cert.get(), NID_subject_alt_name, san);
  Check(X509_sign(c, impl_->key.get(), EVP_sha256()) > 0, "sign " + cn);
  CertFiles out{dir_ + "/" + stem + ".pem", dir_ + "/" + stem + ".key"};
  WritePem(out.cert, c, nullptr);
  WritePem(out.key, nullptr, key.get());
  return out;
}

}  // namespace tiersync::testing
