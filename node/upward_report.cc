#include "node/upward_report.h"

#include "base/bytes.h"

namespace tiersync::node {

ChildReport OwnReport(const NodeConfig& config, const std::optional<ServedRelease>& current,
                      const catalogs::RolledUp& rules) {
  ChildReport r;
  r.name = config.name;
  r.tier = std::string(TierName(config.tier));
  r.region = config.region;
  r.subscription = config.subscription;
  r.rolled_up = rules.text;
  if (current) {
    r.release = current->release;
    r.version = current->version;
  }
  return r;
}

Status SendReport(Fetcher* fetcher, const NodeConfig& config, const ChildReport& report) {
  if (config.sources.empty()) return Status::Ok();  // the top of the tree reports to nobody
  const std::string body = EncodeChildReport(report);
  return fetcher
      ->Post(config.sources.front() + "/v1/reports", "application/json", AsBytes(body), 4096)
      .status();
}

}  // namespace tiersync::node
