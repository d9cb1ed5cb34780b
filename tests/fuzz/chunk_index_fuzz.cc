// libFuzzer target: chunk indexes as they arrive from a parent or a disk. Whatever decodes must
// re-encode to exactly the input bytes (one encoding per index).
#include <algorithm>
#include <cstdlib>

#include "protocol/chunk_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto index = tiersync::protocol::DecodeChunkIndex({data, size});
  if (!index.ok()) return 0;
  auto bytes = tiersync::protocol::EncodeChunkIndex(*index);
  if (bytes.size() != size || !std::equal(bytes.begin(), bytes.end(), data)) std::abort();
  return 0;
}
