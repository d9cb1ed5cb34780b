#include "node/metrics_text.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace tiersync::node {

struct MetricsText::Families {
  std::vector<prometheus::MetricFamily> list;
};

namespace {

prometheus::MetricFamily Family(const std::string& name, const std::string& help,
                                prometheus::MetricType type,
                                std::vector<MetricsText::Sample> samples) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  for (auto& s : samples) {
    prometheus::ClientMetric m;
    for (auto& [k, v] : s.labels) m.label.push_back({k, v});
    if (type == prometheus::MetricType::Counter) {
      m.counter.value = s.value;
    } else {
      m.gauge.value = s.value;
    }
    f.metric.push_back(std::move(m));
  }
  return f;
}

}  // namespace

MetricsText::MetricsText() : families_(std::make_unique<Families>()) {}
MetricsText::~MetricsText() = default;
MetricsText::MetricsText(MetricsText&&) noexcept = default;
MetricsText& MetricsText::operator=(MetricsText&&) noexcept = default;

void MetricsText::Counter(const std::string& name, const std::string& help,
                          std::vector<Sample> samples) {
  families_->list.push_back(
      Family(name, help, prometheus::MetricType::Counter, std::move(samples)));
}

void MetricsText::Gauge(const std::string& name, const std::string& help,
                        std::vector<Sample> samples) {
  families_->list.push_back(Family(name, help, prometheus::MetricType::Gauge, std::move(samples)));
}

void MetricsText::Append(MetricsText other) {
  for (auto& f : other.families_->list) families_->list.push_back(std::move(f));
}

std::string MetricsText::Serialize() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families_->list);
  return out.str();
}

}  // namespace tiersync::node
