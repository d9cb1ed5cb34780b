// libFuzzer target: a pack from a source (catalogs/git_pack_scan.h), checked before libgit2
// indexes it. Whatever passes holds to the caps it was scanned with.
#include <cstdlib>
#include <span>

#include "catalogs/git_pack_scan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tiersync::catalogs;
  PackLimits limits;
  limits.max_objects = 64;
  limits.max_object_bytes = 1 << 16;
  limits.max_inflated_bytes = 1 << 20;
  auto summary = ScanPack(std::span<const uint8_t>(data, size), limits);
  if (summary.ok() &&
      (summary->objects > limits.max_objects || summary->deltas > summary->objects ||
       summary->inflated_bytes > limits.max_inflated_bytes)) {
    std::abort();
  }
  return 0;
}
