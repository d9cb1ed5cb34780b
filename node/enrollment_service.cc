#include "node/enrollment_service.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "access/audit_entry.h"
#include "identity/enrollment_request.h"
#include "identity/invitation.h"
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

int64_t NowSeconds(Env* env) { return static_cast<int64_t>(env->NowMicros() / 1'000'000); }

}  // namespace

EnrollmentService::EnrollmentService(Env* env, NodePaths paths, NodeConfig config)
    : env_(env), paths_(std::move(paths)), config_(std::move(config)) {}

HttpReply EnrollmentService::Refuse(const std::string& peer, int status, const Status& error) {
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
  it->second.Charge(kFailureIntervalSeconds, now_us);
  return JsonReply(status, json{{"error", error.message()},
                                {"code", std::string(StatusCodeName(error.code()))}});
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
  const std::string& peer = request.peer;
  {
    const int64_t now_us = static_cast<int64_t>(env_->MonotonicMicros());
    MutexLock l(&mu_);
    auto it = failures_.find(peer);
    if (it != failures_.end()) {
      const int64_t ready = it->second.ReadyAt(now_us);
      if (ready > now_us) {
        HttpReply r = JsonReply(
            429,
            json{{"error", "too many failed enrollment attempts from " + peer + "; try again in " +
                               std::to_string((ready - now_us) / 1'000'000 + 1) + " s"},
                 {"code", std::string(StatusCodeName(StatusCode::kUnavailable))}});
        r.headers.emplace_back("Retry-After", std::to_string((ready - now_us) / 1'000'000 + 1));
        return r;
      }
    }
  }
  const int64_t now = NowSeconds(env_);
  const identity::NodeIdentity self = IdentityOf(config_);
  const IdentityPaths ip(paths_);
  // Every answer from here on is an audit line.
  access::AuditEntry audit;
  audit.role = "invitee";
  audit.action = "enroll";
  audit.from = peer;
  audit.target = "(no valid request)";
  auto answer = [&](int status, const Status& error) {
    audit.outcome = "refused: " + error.message();
    if (Status s = AppendAudit(env_, ip, audit); !s.ok()) {
      return JsonReply(500, json{{"error", "the audit log cannot be written: " + s.ToString()}});
    }
    return Refuse(peer, status, error);
  };

  const json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("token") || !body["token"].is_string() ||
      !body.contains("request") || !body["request"].is_string()) {
    auto lock = IdentityLock::Take(env_, ip);
    if (!lock.ok()) return JsonReply(503, json{{"error", lock.status().ToString()}});
    return answer(400, InvalidArgumentError("the body must be JSON {\"token\": \"tsinv1....\", "
                                            "\"request\": \"<PEM certificate request>\"}"));
  }
  const std::string token = body["token"].get<std::string>();
  const std::string csr = body["request"].get<std::string>();
  audit.operator_name = InvitationOf(token);

  auto lock = IdentityLock::Take(env_, ip);
  if (!lock.ok()) return JsonReply(503, json{{"error", lock.status().ToString()}});
  if (!identity::IsIssuingTier(self.tier)) {
    return answer(403,
                  InvalidArgumentError("this node is a " + self.tier + " node: it enrolls no one"));
  }
  // The request first: what it asks for is the audit line's target, and a request outside this
  // node's scope is refused as such, whatever the token.
  auto parsed = identity::ParseEnrollmentRequest(csr);
  if (!parsed.ok()) {
    return answer(
        400, Status(parsed.status().code(), "certificate request: " + parsed.status().message()));
  }
  audit.target = identity::Describe(parsed->identity);
  if (Status scope = identity::CheckScope(self, parsed->identity); !scope.ok()) {
    return answer(403, InvalidArgumentError("outside the scope of " + identity::Describe(self) +
                                            ": " + scope.message()));
  }
  auto own = LoadOwnIdentity(env_, paths_, config_, now);
  if (!own.ok()) {
    return answer(403, FailedPreconditionError(identity::Describe(self) +
                                               " cannot enroll nodes: " + own.status().message()));
  }
  identity::InvitationStore::Options options;
  options.env = env_;
  options.path = ip.invitations;
  options.issuer = &own->chain.front();
  options.issuer_key = &own->key;
  auto store = identity::InvitationStore::Open(options);
  if (!store.ok()) {
    audit.outcome = "refused: " + store.status().ToString();
    AppendAudit(env_, ip, audit).IgnoreError();
    return JsonReply(500, json{{"error", "invitations: " + store.status().ToString()}});
  }
  auto cert = (*store)->Redeem(token, csr, now);
  if (!cert.ok()) return answer(RedeemStatus(cert.status()), cert.status());
  audit.target += ", certificate " + cert->serial();
  audit.outcome = "ok";
  if (Status s = AppendAudit(env_, ip, audit); !s.ok()) {
    // Issued and marked used already: the node gets its certificate; the log's failure is said.
    std::cerr << "tiersync node: audit log: " << s.ToString() << std::endl;
  }
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
