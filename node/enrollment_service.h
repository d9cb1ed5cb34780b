// EnrollmentService: POST /v1/enroll of a running node (docs/protocol.md "Enrollment";
// docs/formats/node-identity.md "Invitations"). A new node of the tier below presents the
// one-time token an operator of this node made (`tiersync node invite`) with a PKCS#10 request
// for its own key; this node issues its certificate with its own certificate and key.
//
// Request: JSON {"token": "tsinv1.<id>.<secret>", "request": "<PEM certificate request>"},
// at most kMaxEnrollBodyBytes.
// Reply 200: {"chain": PEM, leaf first, then this node's own chain (no national CA),
//             "identity": {"tier", "region", "name"}, "expires_at": TUF time}.
// Refusals, JSON {"error": "<what is wrong, in words>", "code": "<StatusCodeName>"} (the code
// tells `node enroll` which exit code to give):
//   400  body not JSON / fields missing, token malformed, request malformed or without proof
//        of possession, request not for the invitation's identity
//   403  this node enrolls no one (a school) or holds no valid issuing certificate ("this node
//        is not enrolled ..."); the request is outside this node's region or below-tier scope;
//        a wrong secret (the 5th burns the invitation)
//   404  unknown invitation      409  invitation already used
//   410  invitation expired or burned
//   413  body over kMaxEnrollBodyBytes     405  not a POST
//   429  too many failed attempts from this address (kFailureBurst at once, then one each
//        kFailureIntervalSeconds)
//   503  the identity files are busy; 500 when the certificate cannot be stored
// Every answer but 405/413/429 is an audit line (node/own_identity.h): action "enroll",
// operator "invitation <id>", the requested identity, the client's address, the outcome.
//
// Invitations made by `node invite` while the node runs are seen at once: each redemption
// opens the invitation store afresh from its file under the node's identity lock (which
// `node invite` takes too), and reads this node's certificate and key afresh (so one installed
// or renewed while running is used from the next request on).
//
// Thread-safe: the server's workers call Enroll concurrently.
#ifndef TIERSYNC_NODE_ENROLLMENT_SERVICE_H_
#define TIERSYNC_NODE_ENROLLMENT_SERVICE_H_

#include <map>
#include <string>

#include "base/env.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "base/token_bucket.h"
#include "node/http_server.h"
#include "node/node_config.h"
#include "node/node_dir.h"

namespace tiersync::node {

inline constexpr size_t kMaxEnrollBodyBytes = 64 << 10;
inline constexpr int kFailureIntervalSeconds = 6;
inline constexpr int kFailureBurst = 10;
// Addresses tracked for the failure limit; beyond, those whose slate is clean are forgotten.
inline constexpr size_t kMaxTrackedAddresses = 4096;

class EnrollmentService {
 public:
  // `env` outlives the service; `paths` and `config` are copied (tier, region and name are
  // what a restart changes).
  EnrollmentService(Env* env, NodePaths paths, NodeConfig config);

  HttpReply Enroll(const HttpRequest& request) EXCLUDES(mu_);

 private:
  // The refusal, counted against the client's address.
  HttpReply Refuse(const std::string& peer, int status, const Status& error) EXCLUDES(mu_);

  Env* const env_;
  const NodePaths paths_;
  const NodeConfig config_;
  Mutex mu_;
  std::map<std::string, TokenBucket> failures_ GUARDED_BY(mu_);  // by client address
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_ENROLLMENT_SERVICE_H_
