// Throwaway TLS credentials for tests, made at test time with the OpenSSL 3 API (EC P-256 keys,
// X.509 v3): a CA and the server certificates it signs, written as PEM files. Nothing private
// is committed to the repository. Failures abort the test binary (test support only).
#ifndef TIERSYNC_TESTS_TESTING_TEST_CERTS_H_
#define TIERSYNC_TESTS_TESTING_TEST_CERTS_H_

#include <memory>
#include <string>
#include <vector>

namespace tiersync::testing {

struct CertFiles {
  std::string cert;  // PEM certificate
  std::string key;   // PEM private key (unencrypted)
};

class TestCa {
 public:
  // Creates a self-signed CA named `name`; writes <dir>/<stem>.pem (its certificate).
  TestCa(const std::string& dir, const std::string& stem = "ca",
         const std::string& name = "tiersync test CA");
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::string& cert_file() const { return cert_file_; }

  // A server certificate (CN = the first name) for `dns_names` and `ip_addresses`, valid
  // from an hour ago for a day, signed by this CA: <dir>/<stem>.pem and <dir>/<stem>.key.
  CertFiles Issue(const std::string& stem, const std::vector<std::string>& dns_names,
                  const std::vector<std::string>& ip_addresses) const;

  // The usual one: localhost and 127.0.0.1.
  CertFiles IssueLoopback(const std::string& stem) const {
    return Issue(stem, {"localhost"}, {"127.0.0.1"});
  }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string dir_;
  std::string cert_file_;
};

}  // namespace tiersync::testing

#endif  // TIERSYNC_TESTS_TESTING_TEST_CERTS_H_
