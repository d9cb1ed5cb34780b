#include "tests/sim/sim_scheduler.h"

#include <vector>

namespace tiersync::sim {

void SeededScheduler::Run(replication::TransferEngine* engine,
                          replication::TransferExecutor* executor, Env* env, int,
                          const replication::TransferProgress& progress) {
  using Kind = replication::TransferStep::Kind;
  ZstdCodec codec;
  std::vector<replication::TransferRequest> in_flight;
  for (;;) {
    const int64_t now = static_cast<int64_t>(env->NowMicros());
    replication::TransferStep step = engine->Next(now);
    if (step.kind == Kind::kRequest) {
      in_flight.push_back(std::move(step.request));
      continue;
    }
    if (in_flight.empty()) {
      return;  // kDone (kIdle with nothing in flight cannot happen; never spin)
    }
    const size_t k = random_.Uniform(in_flight.size());
    replication::TransferRequest r = std::move(in_flight[k]);
    in_flight.erase(in_flight.begin() + static_cast<ptrdiff_t>(k));
    replication::TransferAnswer answer = executor->Execute(r, &codec);
    replication::Deliver(engine, r, std::move(answer), static_cast<int64_t>(env->NowMicros()),
                         progress);
  }
}

}  // namespace tiersync::sim
