// Telling systemd how a long-running command is doing: `node serve` and `hub serve` run as
// Type=notify units (deploy/systemd/), which count as started only once the command says it
// is READY — it listens, so what is ordered after it finds the port open.
//
// The protocol is sd_notify(3): a datagram to the socket named by $NOTIFY_SOCKET, which the
// service manager sets. Without that variable (a shell, a test, another supervisor) every call
// does nothing. libsystemd is used only in service_notify.cc.
//
// No watchdog: a ping from a thread of its own would say only that the process exists, which
// systemd knows already; the node's health is in `tiersync node status` and /metrics.
#ifndef TIERSYNC_CLI_SERVICE_NOTIFY_H_
#define TIERSYNC_CLI_SERVICE_NOTIFY_H_

#include <string>

namespace tiersync::cli {

// Tells the service manager the command is ready: "READY=1" and `status` (one line, shown by
// `systemctl status`). Returns true if a service manager was told, false if there is none or
// the message could not be sent (the command goes on either way).
// Thread safety: call from one thread (it reads the environment).
bool NotifyReady(const std::string& status);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_SERVICE_NOTIFY_H_
