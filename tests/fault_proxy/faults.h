// Faults: what the test fault proxy (fault_proxy_main.cc) does to the answers of an honest
// upstream, so that integration tests can put a lying parent between two real nodes
// (threats.md: a compromised or broken tier). Pure functions over bodies; the proxy does the
// I/O.
//
//   pass            forward everything unchanged
//   flip-chunks     every chunk in a chunk batch response has one byte flipped (the frames
//                   stay well-formed: only the bytes lie)
//   flip-targets    every target file (/v1/targets/...) has one byte flipped
//   withhold-chunks the first chunk of every batch response is answered "absent", as by a
//                   parent that lacks it
//   rollback        timestamp.json is the oldest one the proxy has relayed (a replay of an
//                   old release: TUF's rollback attack)
//   freeze          timestamp.json is the newest one relayed before the mode was set, for
//                   ever (TUF's freeze attack: it expires, and newer releases are hidden)
//   down            every request is answered 503
//   git-tag-lie     the catalog's git advertisement names every release tag wrongly: r1 the
//                   highest release's tag, each other rK r(K-1)'s (git_lies.h)
//   git-bomb        the catalog's git pack is replaced by a zlib bomb: one blob that inflates
//                   to 256 MiB of zeros (git_lies.h)
#ifndef TIERSYNC_TESTS_FAULT_PROXY_FAULTS_H_
#define TIERSYNC_TESTS_FAULT_PROXY_FAULTS_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tiersync::fault_proxy {

enum class Fault {
  kPass,
  kFlipChunks,
  kFlipTargets,
  kWithholdChunks,
  kRollback,
  kFreeze,
  kDown,
  kGitTagLie,
  kGitBomb,
};

// What git-bomb's blob inflates to.
inline constexpr uint64_t kGitBombBytes = 256ull << 20;

// kInvalidArgument naming the accepted modes for anything else.
Result<Fault> ParseFault(std::string_view name);
std::string_view FaultName(Fault fault);

// A chunk batch response (protocol/chunk_batch.h) to `request` (the POSTed id list), with the
// fault applied. Returns the body unchanged for faults that do not touch batches, and an error
// if the upstream's response does not decode (the proxy then relays it as it came).
// `tampered` is increased by the number of frames changed.
Result<std::vector<uint8_t>> TamperBatch(Fault fault, std::span<const uint8_t> request,
                                         std::span<const uint8_t> response, uint64_t* tampered);

// A target file with one byte flipped (the middle one); empty bodies stay empty.
std::vector<uint8_t> FlipOneByte(std::vector<uint8_t> body);

// Remembers the timestamp.json bodies relayed and answers the rollback and freeze faults.
// Thread-safe.
class TimestampMemory {
 public:
  void Relayed(const std::vector<uint8_t>& body);
  // Pins the newest relayed body as the frozen one (called when the freeze fault is set).
  void Freeze();
  // What to serve instead of the upstream's answer under `fault`; nullopt: the upstream's.
  std::optional<std::vector<uint8_t>> Replacement(Fault fault) const;

 private:
  mutable std::mutex mu_;
  std::optional<std::vector<uint8_t>> oldest_, newest_, frozen_;
};

}  // namespace tiersync::fault_proxy

#endif  // TIERSYNC_TESTS_FAULT_PROXY_FAULTS_H_
