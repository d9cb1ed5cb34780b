// A compromised intermediate node (threats.md A1-A3, A5-A7, I7): it holds valid credentials
// and serves its children through the same API, but lies in one of the ways below. It wraps
// the node's real handler, so everything it does not lie about is served honestly.
#ifndef TIERSYNC_TESTS_SIM_SIM_LIAR_H_
#define TIERSYNC_TESTS_SIM_SIM_LIAR_H_

#include <string>
#include <vector>

#include "base/crypto.h"
#include "node/http_server.h"

namespace tiersync::sim {

enum class Lie {
  kNone,
  kFlipChunk,     // A1: one byte of every chunk batch flipped
  kSwapChunks,    // A1: two chunks' bytes swapped (ids kept)
  kForgeTargets,  // A1: its own targets metadata (a target's hash changed, signed by itself)
  kRollback,      // A2: the oldest timestamp it ever relayed
  kFreeze,        // A3: the timestamp it had when it turned, forever
  kMixAndMatch,   // A5: the newest snapshot with the oldest targets it relayed
  kEndlessData,   // A6: metadata bodies that never end
  kWithhold,      // A7-like denial: claims to have no chunk and no index
  kSwapIndex,     // A1: another file's chunk index for every index asked
};
inline constexpr Lie kAllLies[] = {Lie::kFlipChunk,   Lie::kSwapChunks, Lie::kForgeTargets,
                                   Lie::kRollback,    Lie::kFreeze,     Lie::kMixAndMatch,
                                   Lie::kEndlessData, Lie::kWithhold,   Lie::kSwapIndex};
const char* LieName(Lie lie);

class LiarHandler : public node::HttpHandler {
 public:
  // `honest` and `own_key` (which signs what it forges) are not owned.
  LiarHandler(node::HttpHandler* honest, const PrivateKey* own_key);

  void SetLie(Lie lie);
  Lie lie() const { return lie_; }
  // Replies it changed (what its victims must notice: I8).
  uint64_t lies_told() const { return lies_told_; }

  node::HttpReply Handle(const node::HttpRequest& request) override;

 private:
  std::string Forge(const std::string& envelope);

  node::HttpHandler* honest_;
  const PrivateKey* own_key_;
  Lie lie_ = Lie::kNone;
  uint64_t lies_told_ = 0;
  std::string frozen_timestamp_;
  std::string oldest_timestamp_;  // the first one relayed
  std::string oldest_targets_;
  std::string first_index_;
};

}  // namespace tiersync::sim

#endif  // TIERSYNC_TESTS_SIM_SIM_LIAR_H_
