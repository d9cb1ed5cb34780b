// The collector's /metrics families about space: the file system holding the node directory
// (what the disk alert of deploy/prometheus/tiersync-alerts.yml divides). Collections
// themselves are tested through the CLI (tests/integration/gc.sh) and the simulation.
#include "node/garbage_collector.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <sstream>
#include <string>

#include "node/metrics_sample_for_test.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::node {
namespace {

class GarbageCollectorMetricsTest : public ::testing::Test {
 protected:
  GarbageCollectorMetricsTest() {
    replication::ChunkStoreOptions o;
    o.writable = true;
    EXPECT_TRUE(replication::ChunkStore::Create(tmp_.Sub("node/store"), o).ok());
    store_ = replication::ChunkStore::Open(tmp_.Sub("node/store"), o).value();
  }

  testing::TempDir tmp_;
  std::unique_ptr<replication::ChunkStore> store_;
};

TEST_F(GarbageCollectorMetricsTest, TheFileSystemUnderTheNodeDirectory) {
  GarbageCollector gc(Env::Default(), NodePaths(tmp_.Sub("node")), store_.get());
  const std::string text = gc.Metrics().Serialize();
  // Asked independently (std::filesystem::space); free space moves with whatever else writes
  // to this disk meanwhile, so within 1% of its size.
  const std::filesystem::space_info space = std::filesystem::space(tmp_.Sub("node"));
  const auto size = MetricsSample(text, "tiersync_filesystem_size_bytes");
  const auto avail = MetricsSample(text, "tiersync_filesystem_avail_bytes");
  ASSERT_TRUE(size && avail) << text;
  EXPECT_EQ(*size, static_cast<double>(space.capacity)) << text;
  EXPECT_NEAR(*avail, static_cast<double>(space.available), 0.01 * *size) << text;
  EXPECT_GT(*size, 0);
  EXPECT_LE(*avail, *size);
  EXPECT_NE(text.find("# TYPE tiersync_filesystem_avail_bytes gauge"), std::string::npos);
}

TEST_F(GarbageCollectorMetricsTest, NoFileSystemGaugesWhenTheDirectoryCannotBeAsked) {
  GarbageCollector gc(Env::Default(), NodePaths(tmp_.Sub("missing")), store_.get());
  const std::string text = gc.Metrics().Serialize();
  EXPECT_EQ(text.find("tiersync_filesystem_"), std::string::npos) << text;
  EXPECT_TRUE(MetricsSample(text, "tiersync_gc_runs_total").has_value()) << text;
}

}  // namespace
}  // namespace tiersync::node
