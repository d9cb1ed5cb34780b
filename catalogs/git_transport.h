// Kept for files that still include it (node/node_server.cc, cli/node_commands.cc): the
// catalog over git smart HTTP is now catalogs/git_upload_pack.h (the server side),
// catalogs/git_fetch.h (the client) and catalogs/git_pkt_line.h (the framing). Include those.
#ifndef TIERSYNC_CATALOGS_GIT_TRANSPORT_H_
#define TIERSYNC_CATALOGS_GIT_TRANSPORT_H_

#include "catalogs/git_fetch.h"
#include "catalogs/git_upload_pack.h"

#endif  // TIERSYNC_CATALOGS_GIT_TRANSPORT_H_
