// MetricsText: the Prometheus text exposition of /metrics (docs/protocol.md), written by
// prometheus-cpp's TextSerializer (the only file that uses prometheus-cpp). Each component
// adds the families it knows (the repository service its request counters, the sync its
// per-source byte counters); nothing writes the text format by hand.
#ifndef TIERSYNC_NODE_METRICS_TEXT_H_
#define TIERSYNC_NODE_METRICS_TEXT_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tiersync::node {

class MetricsText {
 public:
  using Labels = std::map<std::string, std::string>;
  struct Sample {
    Labels labels;
    double value = 0;
  };

  MetricsText();
  ~MetricsText();
  MetricsText(MetricsText&&) noexcept;
  MetricsText& operator=(MetricsText&&) noexcept;

  // A counter / gauge family `name` with its help text and samples (one per label set).
  void Counter(const std::string& name, const std::string& help, std::vector<Sample> samples);
  void Gauge(const std::string& name, const std::string& help, std::vector<Sample> samples);
  // Appends the families of `other`.
  void Append(MetricsText other);

  // The text exposition (version 0.0.4).
  std::string Serialize() const;
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct Families;
  std::unique_ptr<Families> families_;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_METRICS_TEXT_H_
