#include "cli/retract_commands.h"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/key_files.h"
#include "hub/retract.h"
#include "protocol/tuf_time.h"

namespace tiersync::cli {
namespace {

namespace tuf = protocol::tuf;

struct RetractArgs {
  std::string dir;
  std::string role = std::string(tuf::kTargetsRole);
  std::vector<std::string> keys;
  std::string resource, provider, sha256, reason;
  bool lift = false;
};

Result<tuf::Retraction> RetractionOf(const RetractArgs& a) {
  int given = 0;
  tuf::Retraction r;
  for (auto [kind, value] : {std::pair{tuf::Retraction::Kind::kResource, &a.resource},
                             std::pair{tuf::Retraction::Kind::kProvider, &a.provider},
                             std::pair{tuf::Retraction::Kind::kSha256, &a.sha256}}) {
    if (value->empty()) continue;
    ++given;
    r.kind = kind;
    r.value = *value;
  }
  if (given != 1)
    return InvalidArgumentError("give exactly one of --resource, --provider, --sha256");
  r.reason = a.reason;
  TS_RETURN_IF_ERROR(tuf::CheckRetraction(r));
  return r;
}

void Run(const RetractArgs& a, bool hub, CommandContext* ctx) {
  const std::string what =
      std::string(hub ? "hub" : "repo") + (a.lift ? " retract --lift" : " retract");
  auto retraction = RetractionOf(a);
  if (!retraction.ok()) return ctx->Fail(what, retraction.status());
  auto keys = ReadPrivateKeys(a.keys);
  if (!keys.ok()) return ctx->Fail(what, keys.status());
  hub::RetractOptions options{*retraction, a.lift, RingOf(*keys), NowSeconds()};
  Result<hub::RetractReport> report = [&]() -> Result<hub::RetractReport> {
    if (hub) return hub::Retract(Env::Default(), a.dir, options);
    TS_ASSIGN_OR_RETURN(auto repo, replication::TufRepository::Open(Env::Default(), a.dir));
    return hub::RetractInRepository(repo, a.role, options);
  }();
  if (!report.ok()) return ctx->Fail(what, report.status());
  const std::string subject =
      std::string(tuf::RetractionKindName(retraction->kind)) + " " + retraction->value;
  if (ctx->json) {
    std::cout << nlohmann::json{{"ok", true},
                                {"role", hub ? std::string(tuf::kTargetsRole) : a.role},
                                {"lifted", a.lift},
                                {"retraction", subject},
                                {"targets_version", report->targets_version},
                                {"resources", report->resources},
                                {"files", report->files},
                                {"retractions", report->retractions}}
                     .dump()
              << "\n";
    return;
  }
  std::cout << (a.lift ? "lifted the retraction of " : "retracted ") << subject;
  if (hub && !a.lift) {
    std::cout << " (" << report->resources << " resource(s), " << report->files
              << " file(s) in the signed release)";
  }
  std::cout << ": role " << (hub ? std::string(tuf::kTargetsRole) : a.role) << " version "
            << report->targets_version << " signed and published (" << report->retractions
            << " retraction(s) in force); nodes apply it at their next timestamp check\n";
}

void AddCommand(CLI::App* parent, bool hub, CommandContext* ctx) {
  auto a = std::make_shared<RetractArgs>();
  CLI::App* c = parent->add_subcommand(
      "retract", hub ? "Withdraw a resource, a provider's resources or a file from every node now "
                       "(signed by the national targets role)"
                     : "Withdraw resources or files inside a role's namespace (a region's role)");
  c->fallthrough();
  c->add_option("dir", a->dir, hub ? "Hub directory" : "Repository directory")->required();
  c->add_option("-k,--key", a->keys, "Private key file (the role's, snapshot, timestamp)")
      ->required();
  if (!hub) c->add_option("--role", a->role, "Targets role that signs it")->capture_default_str();
  c->add_option("--resource", a->resource, "Resource id");
  c->add_option("--provider", a->provider, "Every resource of this provider");
  c->add_option("--sha256", a->sha256, "Every file with these bytes (hex SHA-256)");
  c->add_option("--reason", a->reason, "Why: shown to users (required unless --lift)");
  c->add_flag("--lift", a->lift, "Remove the retraction instead (the content comes back)");
  c->callback([a, hub, ctx] { Run(*a, hub, ctx); });
}

}  // namespace

void RegisterRetractCommands(CLI::App* app, CommandContext* ctx) {
  AddCommand(app->get_subcommand("hub"), /*hub=*/true, ctx);
  AddCommand(app->get_subcommand("repo"), /*hub=*/false, ctx);
}

}  // namespace tiersync::cli
