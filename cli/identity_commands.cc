#include "cli/identity_commands.h"

#include <unistd.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "access/audit_entry.h"
#include "base/bytes.h"
#include "cli/key_files.h"
#include "cli/units.h"
#include "identity/enrollment_request.h"
#include "identity/invitation.h"
#include "identity/node_certificate.h"
#include "node/http_fetcher.h"
#include "node/node_dir.h"
#include "node/node_sources.h"
#include "node/own_identity.h"
#include "protocol/tuf_time.h"

namespace tiersync::cli {
namespace {

using nlohmann::json;

// A CA certificate or enrollment request is far smaller; a chain of five is under 5 KiB.
constexpr size_t kMaxPemInputBytes = identity::kMaxCertificatePemBytes;
// The reply of /v1/enroll: a chain of five and a few fields.
constexpr size_t kMaxEnrollReplyBytes = 256 << 10;

Result<std::string> ReadText(const std::string& path, size_t max) {
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(Env::Default(), path, max));
  return std::string(bytes.begin(), bytes.end());
}

Status WriteText(const std::string& path, const std::string& text) {
  return WriteFileAtomically(Env::Default(), path, AsBytes(text));
}

std::string Time(int64_t t) { return protocol::FormatTufTime(t); }

// Who runs a command on this machine, for the audit log's operator.
std::string LocalOperator() {
  const char* user = std::getenv("USER");
  return user != nullptr && *user != '\0' ? user : "uid " + std::to_string(::getuid());
}

json CertificateJson(const identity::NodeCertificate& c) {
  return json{{"tier", c.identity().tier},
              {"region", c.identity().region},
              {"name", c.identity().name},
              {"issuer", identity::Describe(c.issuer())},
              {"not_before", Time(c.not_before())},
              {"not_after", Time(c.not_after())},
              {"serial", c.serial()},
              {"fingerprint", c.fingerprint()},
              {"key", c.public_key().scheme()},
              {"ca", c.is_ca()}};
}

// ---- identity (the ministry's offline CA) ----------------------------------------------------

struct CaArgs {
  std::string key, ca_key, ca_cert, request, out, name = "tiersync national identity CA";
  int days = 3650;       // ca-init
  int issue_days = 365;  // issue
  std::string show;
};

Status CaInit(const CaArgs& a, CommandContext* ctx) {
  if (a.days <= 0) return InvalidArgumentError("--days must be positive");
  TS_ASSIGN_OR_RETURN(PrivateKey key, ReadPrivateKey(a.key));
  const int64_t now = NowSeconds();
  TS_ASSIGN_OR_RETURN(
      identity::NodeCertificate ca,
      identity::MakeNationalCa(key, a.name, now - identity::kNotBeforeBackdateSeconds,
                               now + int64_t{a.days} * 86400));
  if (Env::Default()->FileExists(a.out)) {
    return AlreadyExistsError(a.out + " exists; not overwriting a CA certificate");
  }
  TS_RETURN_IF_ERROR(WriteText(a.out, ca.ToPem()));
  if (ctx->json) {
    std::cout << CertificateJson(ca).dump(2) << std::endl;
  } else {
    std::cout << "national identity CA '" << a.name << "' (" << key.Public().scheme()
              << ") written to " << a.out << ", valid until " << Time(ca.not_after())
              << "\nfingerprint " << ca.fingerprint()
              << "\nput it into the national root: tiersync hub init ... --identity-ca " << a.out
              << " (or repo rotate-root ... --identity-ca)" << std::endl;
  }
  return Status::Ok();
}

// The offline ceremony: the ministry certifies a province (or any node) from its request.
Status CaIssue(const CaArgs& a, CommandContext* ctx) {
  if (a.issue_days <= 0) return InvalidArgumentError("--days must be positive");
  TS_ASSIGN_OR_RETURN(PrivateKey key, ReadPrivateKey(a.ca_key));
  TS_ASSIGN_OR_RETURN(std::string ca_pem, ReadText(a.ca_cert, kMaxPemInputBytes));
  TS_ASSIGN_OR_RETURN(identity::NodeCertificate ca, identity::NodeCertificate::FromPem(ca_pem));
  TS_ASSIGN_OR_RETURN(std::string csr, ReadText(a.request, identity::kMaxRequestPemBytes));
  auto request = identity::ParseEnrollmentRequest(csr);
  if (!request.ok()) return request.status().WithContext(a.request);
  const int64_t now = NowSeconds();
  TS_ASSIGN_OR_RETURN(identity::NodeCertificate cert,
                      identity::Issue(ca, key, request->identity, request->key,
                                      now - identity::kNotBeforeBackdateSeconds,
                                      now + int64_t{a.issue_days} * 86400));
  TS_RETURN_IF_ERROR(WriteText(a.out, cert.ToPem()));
  if (ctx->json) {
    std::cout << CertificateJson(cert).dump(2) << std::endl;
  } else {
    std::cout << "certified " << identity::Describe(cert.identity()) << " ("
              << cert.public_key().scheme() << " key) until " << Time(cert.not_after())
              << ", serial " << cert.serial() << "; written to " << a.out
              << "\nthe node installs it with: tiersync node identity install NODE_DIR " << a.out
              << std::endl;
  }
  return Status::Ok();
}

Status CaShow(const CaArgs& a, CommandContext* ctx) {
  TS_ASSIGN_OR_RETURN(std::string pem, ReadText(a.show, kMaxPemInputBytes));
  TS_ASSIGN_OR_RETURN(auto chain, identity::NodeCertificate::ChainFromPem(pem));
  if (ctx->json) {
    json all = json::array();
    for (const auto& c : chain) all.push_back(CertificateJson(c));
    std::cout << all.dump(2) << std::endl;
    return Status::Ok();
  }
  for (const auto& c : chain) {
    std::cout << identity::Describe(c.identity()) << (c.is_ca() ? " (may enroll)" : "")
              << "\n  issuer       " << identity::Describe(c.issuer()) << "\n  valid        "
              << Time(c.not_before()) << " .. " << Time(c.not_after()) << "\n  serial       "
              << c.serial() << "\n  fingerprint  " << c.fingerprint() << "\n  key          "
              << c.public_key().scheme() << "\n";
  }
  std::cout << std::flush;
  return Status::Ok();
}

// ---- node identity, invite, enroll --------------------------------------------------------

struct NodeIdArgs {
  std::string dir, scheme, out, cert;
  std::string tier, region, name, expires = "72h";
  std::string token;
};

struct LoadedNode {
  node::NodePaths paths;
  node::NodeConfig config;
  node::IdentityPaths ip;
};

Result<LoadedNode> LoadNode(const std::string& dir) {
  node::NodePaths paths(dir);
  TS_ASSIGN_OR_RETURN(node::NodeConfig config, node::LoadNodeConfig(Env::Default(), paths));
  node::IdentityPaths ip(paths);
  return LoadedNode{paths, std::move(config), std::move(ip)};
}

access::AuditEntry LocalAudit(std::string action, std::string target) {
  access::AuditEntry e;
  e.operator_name = LocalOperator();
  e.role = "node_operator";
  e.action = std::move(action);
  e.target = std::move(target);
  e.from = "local";
  return e;
}

// `s` as the outcome of `entry`, appended to the node's audit log; returns `s` (or the log's
// failure, if `s` was OK).
Status Audited(const node::IdentityPaths& ip, access::AuditEntry entry, Status s) {
  entry.outcome = s.ok() ? "ok" : "refused: " + s.message();
  Status logged = node::AppendAudit(Env::Default(), ip, std::move(entry));
  if (!s.ok()) return s;
  return logged;
}

Status NodeIdentityRequest(const NodeIdArgs& a) {
  TS_ASSIGN_OR_RETURN(LoadedNode n, LoadNode(a.dir));
  Env* env = Env::Default();
  TS_ASSIGN_OR_RETURN(auto lock, node::IdentityLock::Take(env, n.ip));
  bool created = false;
  TS_ASSIGN_OR_RETURN(PrivateKey key, node::LoadOrCreateNodeKey(env, n.ip, a.scheme, &created));
  const identity::NodeIdentity self = node::IdentityOf(n.config);
  TS_ASSIGN_OR_RETURN(std::string csr, identity::MakeEnrollmentRequest(key, self));
  const std::string out = a.out.empty() ? JoinPath(n.ip.dir, "node.csr") : a.out;
  TS_RETURN_IF_ERROR(WriteText(out, csr));
  std::cout << "request for " << identity::Describe(self) << " written to " << out << " ("
            << key.Public().scheme() << " key " << n.ip.key << (created ? ", new" : ", kept")
            << ")\nhave it certified (tiersync identity issue ... --request " << out
            << "), then: tiersync node identity install " << a.dir << " CERT.pem" << std::endl;
  return Status::Ok();
}

Status NodeIdentityInstall(const NodeIdArgs& a) {
  TS_ASSIGN_OR_RETURN(LoadedNode n, LoadNode(a.dir));
  Env* env = Env::Default();
  TS_ASSIGN_OR_RETURN(auto lock, node::IdentityLock::Take(env, n.ip));
  auto entry = LocalAudit("install_certificate", a.cert);
  auto install = [&]() -> Result<identity::VerifiedChain> {
    auto key = node::LoadNodeKey(env, n.ip);
    if (!key.ok() && key.status().code() == StatusCode::kNotFound) {
      return FailedPreconditionError("this node has no key yet (" + n.ip.key +
                                     "): make a request first (tiersync node identity request)");
    }
    TS_RETURN_IF_ERROR(key.status());
    TS_ASSIGN_OR_RETURN(std::string pem, ReadText(a.cert, kMaxPemInputBytes));
    return node::InstallOwnChain(env, n.paths, n.config, *key, pem, NowSeconds());
  };
  auto installed = install();
  if (installed.ok()) {
    entry.target = identity::Describe(installed->identity) + ", certificate " +
                   installed->chain.front().serial();
  }
  TS_RETURN_IF_ERROR(Audited(n.ip, entry, installed.status()));
  const identity::NodeCertificate& leaf = installed->chain.front();
  std::cout << "installed: " << identity::Describe(leaf.identity()) << ", issued by "
            << identity::Describe(leaf.issuer()) << ", valid until " << Time(leaf.not_after())
            << std::endl;
  return Status::Ok();
}

Status NodeInvite(const NodeIdArgs& a, CommandContext* ctx) {
  TS_ASSIGN_OR_RETURN(LoadedNode n, LoadNode(a.dir));
  Env* env = Env::Default();
  TS_ASSIGN_OR_RETURN(int64_t lifetime, ParseDuration(a.expires));
  const identity::NodeIdentity bound{a.tier, a.region, a.name};
  TS_ASSIGN_OR_RETURN(auto lock, node::IdentityLock::Take(env, n.ip));
  auto entry = LocalAudit("invite", identity::Describe(bound));
  const int64_t now = NowSeconds();
  auto create = [&]() -> Result<std::string> {
    const identity::NodeIdentity self = node::IdentityOf(n.config);
    if (!identity::IsIssuingTier(self.tier)) {
      return InvalidArgumentError("this node is a " + self.tier + " node: it enrolls no one");
    }
    auto own = node::LoadOwnIdentity(env, n.paths, n.config, now);
    if (!own.ok()) {
      return Status(own.status().code(),
                    identity::Describe(self) + " cannot invite: " + own.status().message());
    }
    identity::InvitationStore::Options options;
    options.env = env;
    options.path = n.ip.invitations;
    options.issuer = &own->chain.front();
    options.issuer_key = &own->key;
    TS_ASSIGN_OR_RETURN(auto store, identity::InvitationStore::Open(options));
    return store->Create(bound, now, now + lifetime);
  };
  auto token = create();
  if (token.ok()) entry.target += ", invitation " + token->substr(7, 32);
  TS_RETURN_IF_ERROR(Audited(n.ip, entry, token.status()));
  if (ctx->json) {
    std::cout << json{{"token", *token}, {"expires_at", Time(now + lifetime)}}.dump(2) << std::endl;
  } else {
    std::cerr << "invitation for " << a.tier << " " << (a.name.empty() ? "(any name)" : a.name)
              << " (" << a.region << "), valid until " << Time(now + lifetime)
              << ", usable once. Hand this token to the new node's operator (it is shown only "
                 "now); they run: tiersync node enroll NODE_DIR --token TOKEN"
              << std::endl;
    std::cout << *token << std::endl;
  }
  return Status::Ok();
}

// The error of a refused enrollment as the parent said it, with the code it named.
Status EnrollRefusal(const std::string& url, const node::HttpAnswer& answer) {
  const json j = json::parse(answer.body.begin(), answer.body.end(), nullptr, false);
  std::string error = j.is_object() && j.contains("error") && j["error"].is_string()
                          ? j["error"].get<std::string>()
                          : std::string("no explanation given");
  StatusCode code = StatusCode::kUnavailable;
  const std::string name = j.is_object() ? j.value("code", std::string()) : std::string();
  for (int c = 1; c <= static_cast<int>(StatusCode::kNewerFormat); ++c) {
    if (StatusCodeName(static_cast<StatusCode>(c)) == name) code = static_cast<StatusCode>(c);
  }
  return Status(
      code, url + " refused the enrollment (HTTP " + std::to_string(answer.status) + "): " + error);
}

Status NodeEnroll(const NodeIdArgs& a) {
  TS_ASSIGN_OR_RETURN(LoadedNode n, LoadNode(a.dir));
  Env* env = Env::Default();
  if (n.config.sources.empty()) {
    return FailedPreconditionError(
        "node.toml names no upstream: a node enrolls with its parent, "
        "the first of [upstream] sources");
  }
  std::string url = n.config.sources.front();
  while (url.ends_with('/')) url.pop_back();
  url += "/v1/enroll";
  TS_ASSIGN_OR_RETURN(auto lock, node::IdentityLock::Take(env, n.ip));
  auto entry = LocalAudit("enroll_with_parent", url);
  auto enroll = [&]() -> Result<identity::VerifiedChain> {
    // Before anything is sent: the root must carry the CA the answer is checked against.
    TS_RETURN_IF_ERROR(node::TrustedIdentityCas(env, n.paths).status());
    bool created = false;
    TS_ASSIGN_OR_RETURN(PrivateKey key, node::LoadOrCreateNodeKey(env, n.ip, a.scheme, &created));
    TS_ASSIGN_OR_RETURN(std::string csr,
                        identity::MakeEnrollmentRequest(key, node::IdentityOf(n.config)));
    TS_ASSIGN_OR_RETURN(node::HttpFetcherOptions fo,
                        node::SyncFetcherOptions(env, n.config, n.paths));
    fo.limiter = nullptr;  // not the sync's windows and caps
    node::HttpFetcher fetcher(fo);
    const std::string body = json{{"token", a.token}, {"request", csr}}.dump();
    TS_ASSIGN_OR_RETURN(
        node::HttpAnswer answer,
        fetcher.PostForAnswer(url, "application/json", AsBytes(body), kMaxEnrollReplyBytes));
    if (answer.status != 200) return EnrollRefusal(url, answer);
    const json j = json::parse(answer.body.begin(), answer.body.end(), nullptr, false);
    if (!j.is_object() || !j.contains("chain") || !j["chain"].is_string()) {
      return VerificationError(url + ": the answer holds no certificate chain");
    }
    // Kept before it is checked: the parent has used the invitation up, so a chain refused
    // here (this node's clock behind, say) is installed from this file later, not asked for.
    const std::string chain = j["chain"].get<std::string>();
    const std::string received = n.ip.chain + ".received";
    const Status kept = WriteText(received, chain);
    auto installed = node::InstallOwnChain(env, n.paths, n.config, key, chain, NowSeconds());
    if (!installed.ok()) {
      const std::string retry =
          kept.ok() ? "; the chain is kept: once the problem is fixed (this node's clock, say), "
                      "install it with: tiersync node identity install " +
                          a.dir + " " + received
                    : "; it could not be kept (" + kept.ToString() + ")";
      return Status(installed.status().code(), "the chain " + url + " returned is refused: " +
                                                   installed.status().message() + retry);
    }
    return installed;
  };
  auto enrolled = enroll();
  if (enrolled.ok()) {
    entry.target += ": " + identity::Describe(enrolled->identity) + ", certificate " +
                    enrolled->chain.front().serial();
  }
  TS_RETURN_IF_ERROR(Audited(n.ip, entry, enrolled.status()));
  const identity::NodeCertificate& leaf = enrolled->chain.front();
  std::cout << "enrolled: " << identity::Describe(leaf.identity()) << ", issued by "
            << identity::Describe(leaf.issuer()) << ", valid until " << Time(leaf.not_after())
            << std::endl;
  return Status::Ok();
}

}  // namespace

void RegisterIdentityCommands(CLI::App* app, CommandContext* ctx) {
  CLI::App* id = app->add_subcommand(
      "identity",
      "The national identity CA (offline): make it, certify provinces, show certificates");
  id->require_subcommand(1);
  auto a = std::make_shared<CaArgs>();

  CLI::App* init = id->add_subcommand("ca-init", "Make the self-signed national identity CA");
  init->add_option("--key", a->key, "Its key (tiersync keys gen --scheme ed25519|sm2-sm3)")
      ->required();
  init->add_option("--out", a->out, "The CA certificate (PEM) to write")->required();
  init->add_option("--name", a->name, "Its name (the certificate's CN)")->capture_default_str();
  init->add_option("--days", a->days, "Validity in days")->capture_default_str();
  init->callback([a, ctx] {
    if (Status s = CaInit(*a, ctx); !s.ok()) ctx->Fail("identity ca-init", s);
  });

  CLI::App* issue = id->add_subcommand(
      "issue", "Certify a node (a province) from its request: the offline ceremony");
  issue->add_option("--ca-key", a->ca_key, "The CA's key")->required();
  issue->add_option("--ca-cert", a->ca_cert, "The CA's certificate (PEM)")->required();
  issue->add_option("--request", a->request, "The node's request (tiersync node identity request)")
      ->required();
  issue->add_option("--days", a->issue_days, "Validity in days")->capture_default_str();
  issue->add_option("--out", a->out, "The certificate (PEM) to write")->required();
  issue->callback([a, ctx] {
    if (Status s = CaIssue(*a, ctx); !s.ok()) ctx->Fail("identity issue", s);
  });

  CLI::App* show = id->add_subcommand("show", "Show a node certificate or chain");
  show->add_option("cert", a->show, "PEM certificate or chain")->required();
  show->callback([a, ctx] {
    if (Status s = CaShow(*a, ctx); !s.ok()) ctx->Fail("identity show", s);
  });
}

void RegisterNodeIdentityCommands(CLI::App* node, CommandContext* ctx) {
  auto a = std::make_shared<NodeIdArgs>();
  CLI::App* id = node->add_subcommand("identity", "The node's own key and certificate");
  id->require_subcommand(1);
  CLI::App* request = id->add_subcommand(
      "request", "Make the node's key (if none) and a certificate request for its identity");
  request->add_option("dir", a->dir, "Node directory")->required();
  request->add_option("--scheme", a->scheme,
                      "Key scheme of a new key: ed25519 (default) or sm2-sm3");
  request->add_option("--out", a->out, "Request file to write (default DIR/identity/node.csr)");
  request->callback([a, ctx] {
    if (Status s = NodeIdentityRequest(*a); !s.ok()) ctx->Fail("node identity request", s);
  });
  CLI::App* install =
      id->add_subcommand("install", "Install the node's certificate (checked against the root)");
  install->add_option("dir", a->dir, "Node directory")->required();
  install->add_option("cert", a->cert, "PEM certificate or chain, leaf first")->required();
  install->callback([a, ctx] {
    if (Status s = NodeIdentityInstall(*a); !s.ok()) ctx->Fail("node identity install", s);
  });

  CLI::App* invite =
      node->add_subcommand("invite", "Invite a node of the tier below: prints a one-time token");
  invite->add_option("dir", a->dir, "Node directory")->required();
  invite->add_option("--tier", a->tier, "The new node's tier")->required();
  invite->add_option("--region", a->region, "The new node's GB/T 2260 region code")->required();
  invite->add_option("--name", a->name, "Bind the new node's name (default: any)");
  invite->add_option("--expires", a->expires, "Valid for, e.g. 72h, 30m, 7d")
      ->capture_default_str();
  invite->callback([a, ctx] {
    if (Status s = NodeInvite(*a, ctx); !s.ok()) ctx->Fail("node invite", s);
  });

  CLI::App* enroll =
      node->add_subcommand("enroll", "Enroll with the parent by an invitation token");
  enroll->add_option("dir", a->dir, "Node directory")->required();
  enroll->add_option("--token", a->token, "The invitation token (tsinv1....)")->required();
  enroll->add_option("--scheme", a->scheme,
                     "Key scheme of a new key: ed25519 (default) or sm2-sm3");
  enroll->callback([a, ctx] {
    if (Status s = NodeEnroll(*a); !s.ok()) ctx->Fail("node enroll", s);
  });
}

}  // namespace tiersync::cli
