// libFuzzer target: node.toml as an operator (or a damaged disk) may leave it
// (node/node_config.h). Parsing must never crash, whatever the bytes; what it accepts must
// satisfy the limits the parser promises and write back (FormatNodeConfig, what `node init`
// writes) to text that parses to the same configuration.
#include <cstdlib>
#include <string_view>

#include "node/node_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = tiersync::node::ParseNodeConfig(text, "node.toml");
  if (config.ok()) {
    if (config->parallel < 1 || config->name.empty()) std::abort();
    const std::string text2 = tiersync::node::FormatNodeConfig(*config);
    auto again = tiersync::node::ParseNodeConfig(text2, "node.toml");
    if (!again.ok() || tiersync::node::FormatNodeConfig(*again) != text2) std::abort();
  }
  return 0;
}
