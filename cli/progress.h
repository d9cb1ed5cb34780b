// A one-line progress bar on standard error, drawn only when standard error is a terminal
// (so logs and pipes stay clean). Redraws at most ten times a second.
#ifndef TIERSYNC_CLI_PROGRESS_H_
#define TIERSYNC_CLI_PROGRESS_H_

#include <chrono>
#include <cstdint>
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

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_PROGRESS_H_
