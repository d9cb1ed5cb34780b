// libFuzzer target: chunk batch responses as they arrive from a parent. The first byte picks
// how many ids were requested (the ids are those the frames claim, or zeros); whatever decodes
// must re-encode to exactly the input bytes.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/bytes.h"
#include "protocol/chunk_batch.h"

using namespace tiersync::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t count = data[0] % 8;
  std::span<const uint8_t> body(data + 1, size - 1);
  (void)DecodeBatchRequest(body);
  // Requested ids: read from where the frames would put them if every chunk were absent,
  // so that well-formed inputs are reachable.
  std::vector<ChunkId> ids(count);
  for (size_t i = 0; i < count; ++i) {
    size_t at = 8 + i * 40;
    if (at + 32 <= body.size()) std::memcpy(ids[i].data(), &body[at], 32);
  }
  auto frames = DecodeBatchResponse(body, ids);
  if (!frames.ok()) return 0;
  BatchResponseWriter w;
  for (const auto& f : *frames) w.AddFrame(f.id, f.kind, f.bytes);
  const std::string again = std::move(w).Finish();
  const tiersync::ByteSpan bytes = tiersync::AsBytes(again);
  if (bytes.size() != body.size() || !std::equal(bytes.begin(), bytes.end(), body.begin())) {
    std::abort();
  }
  return 0;
}
