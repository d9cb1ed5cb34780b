#include "bundle/bundle_layout.h"

#include <nlohmann/json.hpp>

#include "base/hex.h"

namespace tiersync::bundle {
namespace {

constexpr std::string_view kInfoRefs = "v1/catalog.git/info/refs?service=git-upload-pack";

// 64 lowercase hex digits (ToHex's form of a SHA-256).
bool IsHexId(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

std::string EncodeManifest(const BundleManifest& m) {
  nlohmann::json j = {{"format", kBundleFormat},
                      {"release", m.release},
                      {"version", m.version},
                      {"files", m.files},
                      {"bytes", m.bytes},
                      {"chunks", m.chunks},
                      {"created_at", m.created_at},
                      {"exported_from", m.exported_from},
                      {"subscription", m.subscription},
                      {"delta_from", m.delta_from}};
  return j.dump(2) + "\n";
}

Result<BundleManifest> DecodeManifest(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("format") || !j["format"].is_string()) {
    return InvalidArgumentError(std::string(kManifestFile) + ": not a tiersync bundle manifest");
  }
  const std::string format = j["format"];
  if (format != kBundleFormat) {
    if (format.rfind("tiersync-bundle ", 0) == 0) {
      return Status(StatusCode::kNewerFormat,
                    "the bundle has format \"" + format + "\"; this tiersync reads \"" +
                        std::string(kBundleFormat) + "\": upgrade tiersync");
    }
    return InvalidArgumentError(std::string(kManifestFile) + ": format \"" + format +
                                "\" is not a tiersync bundle");
  }
  BundleManifest m;
  try {
    m.release = j.at("release").get<std::string>();
    m.version = j.at("version").get<uint64_t>();
    m.files = j.at("files").get<uint64_t>();
    m.bytes = j.at("bytes").get<uint64_t>();
    m.chunks = j.at("chunks").get<uint64_t>();
    m.created_at = j.at("created_at").get<int64_t>();
    m.exported_from = j.at("exported_from").get<std::string>();
    m.subscription = j.at("subscription").get<std::string>();
    if (j.contains("delta_from")) m.delta_from = j.at("delta_from").get<std::string>();
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string(kManifestFile) + ": " + e.what());
  }
  return m;
}

std::string IndexFile(const protocol::ChunkId& id) {
  return std::string(kIndexesDir) + "/" + ToHex(id);
}

std::string ChunkFile(const protocol::ChunkId& id) {
  return std::string(kChunksDir) + "/" + ToHex(id);
}

Result<std::string> FileForGet(std::string_view request, bool* content_addressed) {
  if (content_addressed != nullptr) *content_addressed = false;
  const Status none = NotFoundError(std::string(request) + ": a bundle holds no such file");
  if (request == kInfoRefs) return std::string(kCatalogAdvertisement);
  if (request.find('?') != std::string_view::npos || request.find('#') != std::string_view::npos) {
    return none;
  }
  for (std::string_view dir : {kIndexesDir, kChunksDir}) {
    if (request.size() == dir.size() + 65 && request.rfind(dir, 0) == 0 &&
        request[dir.size()] == '/') {
      if (!IsHexId(request.substr(dir.size() + 1))) return none;
      if (content_addressed != nullptr) *content_addressed = true;
      return std::string(request);
    }
  }
  for (std::string_view dir : {kMetadataDir, kTargetsDir}) {
    if (request.size() > dir.size() + 1 && request.rfind(dir, 0) == 0 &&
        request[dir.size()] == '/') {
      return std::string(request);  // the layout is the URL layout
    }
  }
  return none;
}

}  // namespace tiersync::bundle
