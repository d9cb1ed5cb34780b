// SimNetwork: the simulated network between the nodes of a simulated federation
// (tests/sim/README.md). A request from node A to "sim://B/<target>" is handed, in the same
// thread, to B's real HTTP handler (node::RepositoryService, possibly wrapped by a liar), and
// the reply comes back through the faults of the link A -> B, each decided by one seeded
// Random so that a run replays exactly:
//   down      B is crashed or dark, or the link is partitioned: kUnavailable, no reply
//   drop      the connection is reset: kUnavailable
//   delay     the reply arrives late: the requester's clock moves on
//   stall     the reply never completes: the requester's clock moves by the stall timeout,
//             kDeadlineExceeded (the real fetcher's per-read deadline)
//   truncate  the body is cut short but delivered as if complete (the worst transport)
//   bitflip   one bit of the body is flipped
//   stale     the reply to the previous request on this link is delivered instead (a
//             reordering / duplicating middlebox)
// HTTP statuses map as the real fetcher maps them: 404/403 kNotFound, other non-2xx
// kUnavailable; a body over the caller's cap is kResourceExhausted.
#ifndef TIERSYNC_TESTS_SIM_SIM_NETWORK_H_
#define TIERSYNC_TESTS_SIM_SIM_NETWORK_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/mem_env.h"
#include "base/random.h"
#include "node/http_server.h"
#include "replication/fetcher.h"

namespace tiersync::sim {

// Per-request probabilities (out of 1,000,000) of each fault on a link, and their sizes.
struct LinkFaults {
  uint32_t drop_ppm = 0;
  uint32_t delay_ppm = 0;
  uint32_t stall_ppm = 0;
  uint32_t truncate_ppm = 0;
  uint32_t bitflip_ppm = 0;
  uint32_t stale_ppm = 0;
  uint64_t max_delay_micros = 2'000'000;
  uint64_t stall_timeout_micros = 30'000'000;
  bool any() const {
    return drop_ppm || delay_ppm || stall_ppm || truncate_ppm || bitflip_ppm || stale_ppm;
  }
};

// What happened on the network, for the report and for honest-status checks.
struct NetworkCounters {
  uint64_t requests = 0;
  uint64_t down = 0, dropped = 0, delayed = 0, stalled = 0, truncated = 0, flipped = 0, stale = 0;
  uint64_t body_bytes = 0;                       // delivered reply bytes
  std::map<std::string, uint64_t> bytes_out_of;  // by serving host
};

class SimNetwork {
 public:
  explicit SimNetwork(uint64_t seed) : random_(seed) {}

  // `handler` answers for `host` (not owned). A host without a handler is down.
  void Attach(const std::string& host, node::HttpHandler* handler);
  void SetUp(const std::string& host, bool up);
  bool IsUp(const std::string& host) const;
  // Cuts (or heals) the link in both directions.
  void SetPartitioned(const std::string& a, const std::string& b, bool cut);
  // Faults on every link (the default) and on the link from `from` to `to`.
  void SetDefaultFaults(const LinkFaults& faults) { default_faults_ = faults; }
  void SetLinkFaults(const std::string& from, const std::string& to, const LinkFaults& faults);
  void ClearFaults();

  // Called before each request `from` sends (with the running count of requests in `from`'s
  // current cycle), so a scenario can make things happen mid-cycle (a parent switching
  // releases while a child reads: threats.md F10).
  void SetBeforeRequest(std::function<void(const std::string& from, uint64_t n)> hook) {
    before_request_ = std::move(hook);
  }

  // One request from `from` (whose clock `clock` delays move). POST of `post` (of
  // `content_type`) when `post` is set.
  Result<std::vector<uint8_t>> Request(const std::string& from, MemEnv* clock,
                                       const std::string& url, const std::string* post,
                                       size_t max_bytes, std::string_view content_type = "");

  const NetworkCounters& counters() const { return counters_; }
  void StartCycle() { cycle_requests_ = 0; }

 private:
  bool Chance(uint32_t ppm) { return ppm > 0 && random_.Uniform(1'000'000) < ppm; }
  const LinkFaults& FaultsFor(const std::string& from, const std::string& to) const;

  Random random_;
  std::map<std::string, node::HttpHandler*> hosts_;
  std::map<std::string, bool> up_;
  std::map<std::pair<std::string, std::string>, bool> cut_;
  LinkFaults default_faults_;
  std::map<std::pair<std::string, std::string>, LinkFaults> link_faults_;
  std::map<std::pair<std::string, std::string>, std::vector<uint8_t>> last_reply_;
  std::function<void(const std::string&, uint64_t)> before_request_;
  NetworkCounters counters_;
  uint64_t cycle_requests_ = 0;
};

// The Fetcher of one node: its requests go through the network as `host`.
class SimFetcher : public replication::Fetcher {
 public:
  SimFetcher(SimNetwork* net, std::string host, MemEnv* clock)
      : net_(net), host_(std::move(host)), clock_(clock) {}
  Result<std::vector<uint8_t>> Fetch(const std::string& url, size_t max_bytes) override;
  Result<std::vector<uint8_t>> Post(const std::string& url, std::string_view content_type,
                                    std::span<const uint8_t> body, size_t max_bytes) override;

 private:
  SimNetwork* net_;
  std::string host_;
  MemEnv* clock_;
};

}  // namespace tiersync::sim

#endif  // TIERSYNC_TESTS_SIM_SIM_NETWORK_H_
