// Deterministic sample media for demos, tests and benchmarks: the same seed gives the same
// bytes on every machine and build.
//   kMedia: incompressible bytes, like encoded video (H.264 does not compress further).
//   kText:  UTF-8 lesson text in Chinese and English, compressible like e-textbook text.
#ifndef TIERSYNC_HUB_SAMPLE_MEDIA_H_
#define TIERSYNC_HUB_SAMPLE_MEDIA_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "base/env.h"
#include "base/status.h"

namespace tiersync::hub {

enum class SampleKind { kMedia, kText };

// "media" / "text"; nullopt for anything else.
std::optional<SampleKind> ParseSampleKind(std::string_view name);

// Produces `size` bytes of sample content from `seed`, handing them to `sink` in blocks of at
// most 1 MiB. Stops at the first error from the sink.
Status GenerateSample(SampleKind kind, uint64_t size, uint64_t seed,
                      const std::function<Status(ByteSpan)>& sink);

}  // namespace tiersync::hub

#endif  // TIERSYNC_HUB_SAMPLE_MEDIA_H_
