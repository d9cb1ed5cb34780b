// For tests of /metrics text: the value of one exposed sample.
#ifndef TIERSYNC_NODE_METRICS_SAMPLE_FOR_TEST_H_
#define TIERSYNC_NODE_METRICS_SAMPLE_FOR_TEST_H_

#include <optional>
#include <sstream>
#include <string>

namespace tiersync::node {

// The value of the sample `series` (name and labels as exposed) in `text`; nullopt if absent.
inline std::optional<double> MetricsSample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_METRICS_SAMPLE_FOR_TEST_H_
