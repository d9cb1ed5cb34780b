#include "identity/enrollment_request.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "identity/openssl_handles.h"
#include "identity/x509_support.h"

namespace tiersync::identity {

using internal::TakeOpensslError;

Result<std::string> MakeEnrollmentRequest(const PrivateKey& key, const NodeIdentity& id) {
  TS_ASSIGN_OR_RETURN(internal::X509NamePtr name, internal::IdentityName(id));
  TS_ASSIGN_OR_RETURN(internal::EvpPkeyPtr evp, internal::PrivateEvp(key));
  internal::X509ReqPtr req(X509_REQ_new());
  if (req == nullptr || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(req.get(), name.get()) != 1 ||
      X509_REQ_set_pubkey(req.get(), evp.get()) != 1) {
    return NotSupportedError("cannot build the request" + TakeOpensslError());
  }
  TS_RETURN_IF_ERROR(internal::SignRequest(req.get(), evp.get()));
  internal::BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
    return NotSupportedError("cannot encode the request" + TakeOpensslError());
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len > 0 ? len : 0));
}

Result<EnrollmentRequest> ParseEnrollmentRequest(std::string_view pem) {
  if (pem.size() > kMaxRequestPemBytes) return InvalidArgumentError("request too large");
  internal::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  internal::X509ReqPtr req(bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr)
                               : nullptr);
  if (req == nullptr) {
    return InvalidArgumentError("not a PEM certificate request" + TakeOpensslError());
  }
  TS_RETURN_IF_ERROR(internal::AttachSm2Id(req.get()));
  Result<NodeIdentity> id = internal::NameIdentity(X509_REQ_get_subject_name(req.get()));
  if (!id.ok()) return id.status().WithContext("request subject");
  EVP_PKEY* pkey = X509_REQ_get0_pubkey(req.get());
  if (pkey == nullptr) return InvalidArgumentError("request key: unreadable" + TakeOpensslError());
  Result<PublicKey> key = internal::ToPublicKey(pkey);
  if (!key.ok()) return key.status().WithContext("request key");
  if (X509_REQ_verify(req.get(), pkey) != 1) {
    TakeOpensslError();
    return VerificationError(
        "request signature does not verify (no proof of possession of its key)");
  }
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  if (len <= 0) return InvalidArgumentError("cannot encode the request" + TakeOpensslError());
  std::string der_bytes(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return EnrollmentRequest{std::move(id).value(), std::move(key).value(), std::move(der_bytes)};
}

}  // namespace tiersync::identity
