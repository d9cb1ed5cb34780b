// A one-line progress bar on standard error, drawn only when standard error is a terminal
// (so logs and pipes stay clean). Redraws at most ten times a second.
#ifndef TIERSYNC_CLI_PROGRESS_H_
#define TIERSYNC_CLI_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace tiersync::cli {

class ProgressBar {
 public:
  // `unit_bytes`: show done/total as sizes (MiB) and a rate; otherwise as counts.
  ProgressBar(std::string label, bool unit_bytes);
  ~ProgressBar();

  void Update(uint64_t done, uint64_t total);
  // Draws the final state and ends the line.
  void Finish();

 private:
  void Draw(uint64_t done, uint64_t total);

  std::string label_;
  bool unit_bytes_;
  bool enabled_;
  bool drawn_ = false;
  uint64_t done_ = 0, total_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

// A bar per phase of a sync ("metadata", "catalog", ..., "chunks": in bytes): Update starts a
// new bar when the phase changes, Finish ends the last one.
class PhaseProgress {
 public:
  void Update(const std::string& phase, uint64_t done, uint64_t total) {
    if (phase != phase_) {
      if (bar_) bar_->Finish();
      bar_ = std::make_unique<ProgressBar>(phase, phase == "chunks");
      phase_ = phase;
    }
    bar_->Update(done, total);
  }
  void Finish() {
    if (bar_) bar_->Finish();
  }

 private:
  std::string phase_;
  std::unique_ptr<ProgressBar> bar_;
};

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_PROGRESS_H_
