// The tiersync executable: wires every component's subcommands (docs/cli.md).
#include <malloc.h>

#include <CLI/CLI.hpp>

#include "base/version.h"
#include "cli/bundle_commands.h"
#include "cli/catalog_commands.h"
#include "cli/command_context.h"
#include "cli/demo_commands.h"
#include "cli/hub_commands.h"
#include "cli/identity_commands.h"
#include "cli/node_commands.h"
#include "cli/retract_commands.h"
#include "cli/store_commands.h"
#include "cli/tuf_commands.h"

int main(int argc, char** argv) {
  // Chunk batches (up to 32 MiB) and their buffers come and go with every request. By default
  // glibc gives each large block back to the kernel and the next one faults in afresh, page
  // by page — measured as most of a serving node's CPU time (bench/replicate.sh). Keep them.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  using namespace tiersync::cli;
  CommandContext ctx;
  CLI::App app{"tiersync: national education resources, carried down five tiers", "tiersync"};
  app.require_subcommand(1);
  app.add_flag("--json", ctx.json, "Machine-readable output on standard output");
  app.set_version_flag("--version", "tiersync " + std::string(tiersync::kTiersyncVersion));
  RegisterStoreCommands(&app, &ctx);
  RegisterDemoCommands(&app, &ctx);
  RegisterKeyCommands(&app, &ctx);
  RegisterRepoCommands(&app, &ctx);
  RegisterTufClientCommand(&app, &ctx);
  RegisterHubCommands(&app, &ctx);
  RegisterRetractCommands(&app, &ctx);
  RegisterNodeCommands(&app, &ctx);
  RegisterIdentityCommands(&app, &ctx);
  RegisterCatalogCommands(&app, &ctx);
  RegisterBundleCommands(&app, &ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  return ctx.exit_code;
}
