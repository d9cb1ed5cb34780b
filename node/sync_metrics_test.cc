// The sync's /metrics families: the served release by timestamp version and by release number
// (what the lag alert of deploy/prometheus/tiersync-alerts.yml subtracts), and the per-source
// counters.
#include "node/sync_metrics.h"

#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>

#include "node/metrics_sample_for_test.h"

namespace tiersync::node {
namespace {

TEST(SyncMetricsTest, TheServedReleaseByVersionAndByNumber) {
  ServedRelease current;
  current.version = 57;  // hourly timestamps advance it between releases
  current.release = "r12";
  const std::string text = SyncMetrics({}, {}, 0, current).Serialize();
  EXPECT_EQ(MetricsSample(text, "tiersync_served_release_version"), 57) << text;
  EXPECT_EQ(MetricsSample(text, "tiersync_served_release_number"), 12) << text;
  EXPECT_NE(text.find("# TYPE tiersync_served_release_number gauge"), std::string::npos) << text;
}

TEST(SyncMetricsTest, NoReleaseYetIsZero) {
  const std::string text = SyncMetrics({}, {}, 0, std::nullopt).Serialize();
  EXPECT_EQ(MetricsSample(text, "tiersync_served_release_version"), 0) << text;
  EXPECT_EQ(MetricsSample(text, "tiersync_served_release_number"), 0) << text;
}

TEST(SyncMetricsTest, AReleaseNameThatIsNotRNIsZero) {
  ServedRelease current;
  current.version = 3;
  current.release = "r012";  // not a release name (catalogs::ReleaseNumber)
  const std::string text = SyncMetrics({}, {}, 0, current).Serialize();
  EXPECT_EQ(MetricsSample(text, "tiersync_served_release_number"), 0) << text;
}

TEST(SyncMetricsTest, CountersBySource) {
  replication::SourceHealth parent;
  parent.source = {"parent", "http://parent:8080"};
  parent.bytes = 1000;
  parent.rejections = 2;
  parent.lacked = 3;
  const std::string text =
      SyncMetrics({parent}, {{"http://parent:8080", 700}}, 900, std::nullopt).Serialize();
  const std::string label = "{source=\"http://parent:8080\"}";
  EXPECT_EQ(MetricsSample(text, "tiersync_sync_fetched_bytes_total" + label), 1000) << text;
  EXPECT_EQ(MetricsSample(text, "tiersync_sync_chunk_bytes_total" + label), 700) << text;
  EXPECT_EQ(MetricsSample(text, "tiersync_sync_rejections_total" + label), 2) << text;
  EXPECT_EQ(MetricsSample(text, "tiersync_sync_lacked_total" + label), 3) << text;
  EXPECT_EQ(MetricsSample(text, "tiersync_sync_planned_bytes_total"), 900) << text;
}

}  // namespace
}  // namespace tiersync::node
