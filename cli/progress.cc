#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace tiersync::cli {

ProgressBar::ProgressBar(std::string label, bool unit_bytes)
    : label_(std::move(label)),
      unit_bytes_(unit_bytes),
      enabled_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
  if (drawn_) std::fputc('\n', stderr);
}

void ProgressBar::Update(uint64_t done, uint64_t total) {
  done_ = done;
  total_ = total;
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  Draw(done, total);
}

void ProgressBar::Finish() {
  if (!enabled_) return;
  Draw(done_, total_);
  std::fputc('\n', stderr);
  drawn_ = false;
}

void ProgressBar::Draw(uint64_t done, uint64_t total) {
  constexpr int kWidth = 30;
  double frac = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  int fill = static_cast<int>(frac * kWidth);
  std::string bar(fill, '#');
  bar.resize(kWidth, ' ');
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (unit_bytes_) {
    double mib = 1024.0 * 1024.0;
    std::fprintf(stderr, "\r%s [%s] %3d%% %.0f/%.0f MiB %.0f MiB/s ", label_.c_str(), bar.c_str(),
                 static_cast<int>(frac * 100), done / mib, total / mib,
                 secs > 0 ? done / mib / secs : 0.0);
  } else {
    std::fprintf(stderr, "\r%s [%s] %3d%% %llu/%llu ", label_.c_str(), bar.c_str(),
                 static_cast<int>(frac * 100), static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total));
  }
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace tiersync::cli
