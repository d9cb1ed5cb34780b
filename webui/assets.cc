#include "webui/assets.h"

#include <cstddef>

namespace tiersync::webui {

// Defined in the generated assets_data.cc (webui/embed.cmake).
extern const Asset kEmbeddedAssets[];
extern const size_t kEmbeddedAssetCount;

const Asset* FindAsset(std::string_view path) {
  for (size_t i = 0; i < kEmbeddedAssetCount; ++i) {
    if (kEmbeddedAssets[i].path == path) return &kEmbeddedAssets[i];
  }
  return nullptr;
}

}  // namespace tiersync::webui
