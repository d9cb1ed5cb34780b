#include "node/enrollment_service.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "access/audit_entry.h"
#include "identity/enrollment_request.h"
#include "identity/invitation.h"
#include "node/node_log.h"
#include "node/own_identity.h"
#include "protocol/tuf_time.h"

namespace tiersync::node {
namespace {

using nlohmann::json;

HttpReply JsonReply(int status, const json& body) {
  HttpReply r = HttpReply::Json(body.dump(2, ' ', false, json::error_handler_t::replace));
  r.status = status;
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// The HTTP status of a refusal by InvitationStore::Redeem (identity/invitation.h).
int RedeemStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotSupported:
      return 400;
    case StatusCode::kVerificationFailed:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 410;
    default:
      return 500;
  }
}

// "invitation <id>" of a token "tsinv1.<id>.<secret>" (never the secret); "" if malformed.
std::string InvitationOf(const std::string& token) {
  const size_t a = token.find('.');
  const size_t b = a == std::string::npos ? a : token.find('.', a + 1);
  if (b == std::string::npos || b - a - 1 != 32) return "";
  return "invitation " + token.substr(a + 1, 32);
}

void EnrollLog(const std::string& line) { NodeLog("enroll: " + line); }

// What a client is told when this node's own files fail it (the detail is logged, not sent).
constexpr const char* kCouldNotRecord =
    "the parent could not record the enrollment; try again later";

HttpReply ErrorReply(int status, StatusCode code, const std::string& message) {
  return JsonReply(status, json{{"error", message}, {"code", std::string(StatusCodeName(code))}});
}

HttpReply CouldNotRecord() { return ErrorReply(500, StatusCode::kUnavailable, kCouldNotRecord); }

// Another enrollment is being handled, here or by a command: the client retries in a second.
HttpReply Busy() {
  HttpReply r = ErrorReply(503, StatusCode::kUnavailable,
                           "the parent is handling another enrollment; try again in a second");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace

EnrollmentService::EnrollmentService(Env* env, NodePaths paths, NodeConfig config)
    : env_(env), paths_(std::move(paths)), config_(std::move(config)) {}

std::optional<HttpReply> EnrollmentService::Admit(const std::string& peer) {
  const int64_t now_us = static_cast<int64_t>(env_->MonotonicMicros());
  MutexLock l(&mu_);
  if (failures_.size() >= kMaxTrackedAddresses) {
    for (auto it = failures_.begin(); it != failures_.end();) {
      it = it->second.ReadyAt(now_us) <= now_us ? failures_.erase(it) : std::next(it);
    }
  }
  // Each failure costs kFailureIntervalSeconds of a 1/s budget of which kFailureBurst - 1
  // intervals may be saved: kFailureBurst at once, then one an interval.
  auto it = failures_
                .try_emplace(peer, TokenBucket(1, int64_t{kFailureBurst - 1} *
                                                      kFailureIntervalSeconds * 1'000'000))
                .first;
  const int64_t ready = it->second.ReadyAt(now_us);
  if (ready > now_us) {
    const std::string wait = std::to_string((ready - now_us) / 1'000'000 + 1);
    HttpReply r =
        JsonReply(429, json{{"error", "too many failed enrollment attempts from " + peer +
                                          "; try again in " + wait + " s"},
                            {"code", std::string(StatusCodeName(StatusCode::kUnavailable))}});
    r.headers.emplace_back("Retry-After", wait);
    return r;
  }
  // Charged now, before any work: what is in flight counts already.
  it->second.Charge(kFailureIntervalSeconds, now_us);
  if (enrolling_) return Busy();
  enrolling_ = true;
  return std::nullopt;
}

void EnrollmentService::Release(const std::string& peer, int status) {
  const int64_t now_us = static_cast<int64_t>(env_->MonotonicMicros());
  MutexLock l(&mu_);
  enrolling_ = false;
  if (status != 200) return;
  if (auto it = failures_.find(peer); it != failures_.end()) {
    it->second.Refund(kFailureIntervalSeconds, now_us);
  }
}

HttpReply EnrollmentService::Enroll(const HttpRequest& request) {
  if (request.method != "POST") {
    HttpReply r = JsonReply(405, json{{"error", "POST an enrollment to /v1/enroll"}});
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  if (request.body.size() > kMaxEnrollBodyBytes) {
    return JsonReply(413, json{{"error", "an enrollment is at most " +
                                             std::to_string(kMaxEnrollBodyBytes) + " bytes"}});
  }
  if (std::optional<HttpReply> refused = Admit(request.peer)) return std::move(*refused);
  // The slot is given back however EnrollAdmitted ends (an exception counts as a failure).
  struct Releaser {
    EnrollmentService* service;
    const std::string& peer;
    int status = 500;
    ~Releaser() { service->Release(peer, status); }
  } releaser{this, request.peer};
  HttpReply reply = EnrollAdmitted(request);
  releaser.status = reply.status;
  return reply;
}

HttpReply EnrollmentService::EnrollAdmitted(const HttpRequest& request) {
  const std::string& peer = request.peer;
  const int64_t now = NowSeconds(env_);
  const identity::NodeIdentity self = IdentityOf(config_);
  const IdentityPaths ip(paths_);
  // Every answer from here on is an audit line.
  access::AuditEntry audit;
  audit.role = "invitee";
  audit.action = "enroll";
  audit.from = peer;
  audit.target = "(no valid request)";
  // Records the outcome; false (and said in the node's log) if the audit log cannot be written.
  auto record = [&](const std::string& outcome) {
    audit.outcome = outcome;
    if (Status s = AppendAudit(env_, ip, audit); !s.ok()) {
      EnrollLog("audit log: " + s.ToString() + " (" + audit.from + ", " + audit.target + ": " +
                outcome + ")");
      return false;
    }
    return true;
  };
  // A refusal for what the client sent: it is told what is wrong.
  auto refuse = [&](int status, const Status& error) {
    if (!record("refused: " + error.message())) return CouldNotRecord();
    return ErrorReply(status, error.code(), error.message());
  };
  // A refusal for this node's own trouble: the client gets `plain`, the detail is recorded.
  auto fail = [&](int status, StatusCode code, const std::string& plain, const Status& detail) {
    EnrollLog(audit.from + ", " + audit.target + ": " + detail.ToString());
    if (!record("refused: " + detail.ToString())) return CouldNotRecord();
    return ErrorReply(status, code, plain);
  };

  const json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  const bool well_formed = body.is_object() && body.contains("token") &&
                           body["token"].is_string() && body.contains("request") &&
                           body["request"].is_string();
  const std::string token = well_formed ? body["token"].get<std::string>() : "";
  const std::string csr = well_formed ? body["request"].get<std::string>() : "";
  audit.operator_name = InvitationOf(token);

  auto lock = IdentityLock::TryTake(env_, ip);
  if (!lock.ok()) {
    if (lock.status().code() != StatusCode::kUnavailable) EnrollLog(lock.status().ToString());
    return Busy();
  }
  if (!well_formed) {
    return refuse(400, InvalidArgumentError("the body must be JSON {\"token\": \"tsinv1....\", "
                                            "\"request\": \"<PEM certificate request>\"}"));
  }
  if (!identity::IsIssuingTier(self.tier)) {
    return refuse(403,
                  InvalidArgumentError("this node is a " + self.tier + " node: it enrolls no one"));
  }
  // The request first: what it asks for is the audit line's target, and a request outside this
  // node's scope is refused as such, whatever the token.
  auto parsed = identity::ParseEnrollmentRequest(csr);
  if (!parsed.ok()) {
    return refuse(
        400, Status(parsed.status().code(), "certificate request: " + parsed.status().message()));
  }
  audit.target = identity::Describe(parsed->identity);
  if (Status scope = identity::CheckScope(self, parsed->identity); !scope.ok()) {
    return refuse(403, InvalidArgumentError("outside the scope of " + identity::Describe(self) +
                                            ": " + scope.message()));
  }
  auto own = LoadOwnIdentity(env_, paths_, config_, now);
  if (!own.ok()) {
    return fail(403, StatusCode::kFailedPrecondition,
                identity::Describe(self) +
                    " cannot enroll nodes: it holds no valid certificate of its own now (its "
                    "operator finds why in its audit log)",
                own.status().WithContext(identity::Describe(self) + " cannot enroll nodes"));
  }
  identity::InvitationStore::Options options;
  options.env = env_;
  options.path = ip.invitations;
  options.issuer = &own->chain.front();
  options.issuer_key = &own->key;
  auto store = identity::InvitationStore::Open(options);
  if (!store.ok()) {
    return fail(500, StatusCode::kUnavailable, kCouldNotRecord,
                store.status().WithContext("invitations"));
  }
  auto cert = (*store)->Redeem(token, csr, now);
  if (!cert.ok()) {
    const int status = RedeemStatus(cert.status());
    if (status == 500) {
      return fail(500, StatusCode::kUnavailable, kCouldNotRecord,
                  cert.status().WithContext("invitations"));
    }
    return refuse(status, cert.status());
  }
  audit.target += ", certificate " + cert->serial();
  // Issued and marked used already: the node gets its certificate; the log's failure is said.
  record("ok");
  std::string chain = cert->ToPem();
  for (const auto& c : own->chain) chain += c.ToPem();
  return JsonReply(200, json{{"chain", chain},
                             {"identity",
                              {{"tier", cert->identity().tier},
                               {"region", cert->identity().region},
                               {"name", cert->identity().name}}},
                             {"expires_at", protocol::FormatTufTime(cert->not_after())}});
}

}  // namespace tiersync::node
