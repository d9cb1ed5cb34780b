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
//   403  this node enrolls no one (a school: "... it enrolls no one") or holds no valid issuing
//        certificate ("<node> cannot enroll nodes: it holds no valid certificate of its own
//        now ..."); the request is outside this node's region or below-tier scope;
//        a wrong secret (the 5th burns the invitation)
//   404  unknown invitation      409  invitation already used
//   410  invitation expired or burned
//   413  body over kMaxEnrollBodyBytes     405  not a POST
//   429  too many failed attempts from this address (kFailureBurst at once, then one each
//        kFailureIntervalSeconds), with Retry-After
//   503  another enrollment is being handled (one at a time per process), or the identity
//        files are busy (a command holds LOCK): Retry-After: 1, answered at once
//   500  this node cannot record the enrollment (its files): "the parent could not record the
//        enrollment; try again later"
// Answers never carry this node's file paths or I/O errors: when the cause is this node's own
// trouble (500; the 403 of a node without a valid certificate) the client gets a plain message
// and the detail goes to the audit log and the node's log (standard error).
// Every answer but 405/413/429/503 is an audit line (node/own_identity.h): action "enroll",
// operator "invitation <id>", the requested identity, the client's address, the outcome.
//
// Failure limit: each request past 405/413 is charged as a failure to its address when it is
// admitted, before any work, and refunded when it ends in 200; so requests in flight at once
// count as they arrive, and a 503 or 500 counts too (a burst cannot outrun the limit).
//
// Invitations made by `node invite` while the node runs are seen at once: each redemption
// opens the invitation store afresh from its file under the node's identity lock (which
// `node invite` takes too; the service never waits for it), and reads this node's certificate
// and key afresh (so one installed or renewed while running is used from the next request on).
//
// Thread-safe: the server's workers call Enroll concurrently; none ever sleeps in it.
#ifndef TIERSYNC_NODE_ENROLLMENT_SERVICE_H_
#define TIERSYNC_NODE_ENROLLMENT_SERVICE_H_

#include <map>
#include <optional>
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
  // Charges a failure to `peer` and takes the one enrollment slot; the 429 or 503 otherwise.
  std::optional<HttpReply> Admit(const std::string& peer) EXCLUDES(mu_);
  // Gives the slot back, and the failure charged by Admit if `status` is 200.
  void Release(const std::string& peer, int status) EXCLUDES(mu_);
  // An admitted request, holding the slot.
  HttpReply EnrollAdmitted(const HttpRequest& request);

  Env* const env_;
  const NodePaths paths_;
  const NodeConfig config_;
  Mutex mu_;
  std::map<std::string, TokenBucket> failures_ GUARDED_BY(mu_);  // by client address
  bool enrolling_ GUARDED_BY(mu_) = false;                       // the slot is taken
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_ENROLLMENT_SERVICE_H_
