// libFuzzer target: TUF metadata bytes from a parent, mirror or disk, through the same entry
// points as production (ParseEnvelope, then the typed parser for its "_type"). Whatever parses
// must serialise and parse back to the same value.
#include <cstdlib>

#include "protocol/tuf_metadata.h"

namespace tuf = tiersync::protocol::tuf;

template <class T>
void RoundTrip(tiersync::Result<T> (*parse)(const tiersync::protocol::Json&),
               const tiersync::protocol::Json& signed_json) {
  auto typed = parse(signed_json);
  if (!typed.ok()) return;
  auto again = parse(tuf::ToJson(*typed));
  if (!again.ok() || !(*again == *typed)) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto env = tuf::ParseEnvelope({data, size}, tuf::kMaxTargetsBytes);
  if (!env.ok()) return 0;
  if (env->type == "root") RoundTrip(&tuf::ParseRoot, env->signed_json);
  if (env->type == "timestamp") RoundTrip(&tuf::ParseTimestamp, env->signed_json);
  if (env->type == "snapshot") RoundTrip(&tuf::ParseSnapshot, env->signed_json);
  if (env->type == "targets") RoundTrip(&tuf::ParseTargets, env->signed_json);
  return 0;
}
