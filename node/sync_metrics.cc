#include "node/sync_metrics.h"

#include "catalogs/git_catalog.h"

namespace tiersync::node {

MetricsText SyncMetrics(const std::vector<replication::SourceHealth>& sources,
                        const std::map<std::string, uint64_t>& chunk_bytes_by_source,
                        uint64_t planned_bytes_total, const std::optional<ServedRelease>& current) {
  using Sample = MetricsText::Sample;
  std::vector<Sample> fetched, chunk_bytes, lacked, rejections;
  for (const auto& h : sources) {
    const MetricsText::Labels source = {{"source", h.source.url}};
    fetched.push_back({source, static_cast<double>(h.bytes)});
    auto it = chunk_bytes_by_source.find(h.source.url);
    chunk_bytes.push_back(
        {source, static_cast<double>(it == chunk_bytes_by_source.end() ? 0 : it->second)});
    lacked.push_back({source, static_cast<double>(h.lacked)});
    rejections.push_back({source, static_cast<double>(h.rejections)});
  }
  MetricsText m;
  m.Counter("tiersync_sync_fetched_bytes_total",
            "Verified bytes received from each source (all objects).", std::move(fetched));
  m.Counter("tiersync_sync_chunk_bytes_total", "Verified chunk bytes fetched, by source.",
            std::move(chunk_bytes));
  m.Counter("tiersync_sync_planned_bytes_total", "Missing chunk bytes the sync plans named.",
            {{{}, static_cast<double>(planned_bytes_total)}});
  m.Counter("tiersync_sync_lacked_total", "Objects a source was asked for and did not have.",
            std::move(lacked));
  m.Counter("tiersync_sync_rejections_total", "Answers from sources that failed verification.",
            std::move(rejections));
  m.Gauge("tiersync_served_release_version", "Timestamp version of the served release.",
          {{{}, static_cast<double>(current ? current->version : 0)}});
  const uint64_t number =
      current ? catalogs::ReleaseNumber(current->release).value_or(0) : uint64_t{0};
  m.Gauge("tiersync_served_release_number",
          "N of the served release rN (0 before the first): how many releases a node is "
          "behind is the newest any tier serves minus this.",
          {{{}, static_cast<double>(number)}});
  return m;
}

}  // namespace tiersync::node
