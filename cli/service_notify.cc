#include "cli/service_notify.h"

#include <systemd/sd-daemon.h>

namespace tiersync::cli {

bool NotifyReady(const std::string& status) {
  // unset_environment = 0: a command it starts (none today) may tell the manager too.
  const std::string message = "READY=1\nSTATUS=" + status;
  return sd_notify(0, message.c_str()) > 0;
}

}  // namespace tiersync::cli
