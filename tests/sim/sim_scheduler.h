// The simulation's scheduler of the transfer engine (replication/chunk_sync.h): one thread,
// several requests in flight, their answers delivered in an order drawn from the seed. The
// node's scheduler runs the same engine and executor on threads, where the order answers
// arrive in is the network's; here it is the seed's, so a run replays exactly and the seeds
// explore the orders (a late answer after a fallback, a lie delivered after a good batch).
#ifndef TIERSYNC_TESTS_SIM_SIM_SCHEDULER_H_
#define TIERSYNC_TESTS_SIM_SIM_SCHEDULER_H_

#include "base/random.h"
#include "replication/chunk_sync.h"

namespace tiersync::sim {

class SeededScheduler final : public replication::TransferScheduler {
 public:
  explicit SeededScheduler(uint64_t seed) : random_(seed) {}

  // Whatever the node's configuration says (the simulation runs its metadata one request at
  // a time), transfers keep this many requests in flight, so their answers can cross.
  static constexpr size_t kInFlight = 3;
  size_t InFlight(int) const override { return kInFlight; }

  // Takes requests while the engine gives them (up to its in-flight bound), then delivers
  // one of those in flight, chosen by the seed; waits (the env's clock) when the rate gate
  // says so and nothing is in flight.
  void Run(replication::TransferEngine* engine, replication::TransferExecutor* executor, Env* env,
           int parallel, const replication::TransferProgress& progress) override;

 private:
  Random random_;
};

}  // namespace tiersync::sim

#endif  // TIERSYNC_TESTS_SIM_SIM_SCHEDULER_H_
