// libFuzzer target for what a node reads out of a catalog repository it fetched: resource
// records (ParseResource, ValidateResource) and release manifests (ParseManifest).
//
// For every input it checks:
//   * a refused record or manifest is an error status, never a crash or hang;
//   * an accepted record re-encodes to bytes that parse back to an equal record, and encoding
//     is a fixed point (EncodeResource(Parse(EncodeResource(r))) == EncodeResource(r));
//   * an accepted manifest re-encodes to exactly the input bytes (one canonical form).
// Any violation calls abort().
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "catalogs/catalog_manifest.h"
#include "catalogs/region_table.h"
#include "catalogs/resource.h"
#include "catalogs/taxonomy.h"

namespace tiersync::catalogs {
namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

void FuzzRecord(std::string_view text) {
  for (RecordSource source : {RecordSource::kInput, RecordSource::kCatalog}) {
    Result<Resource> r = ParseResource(text, "fuzz.json", source);
    if (!r.ok()) {
      Check(r.status().code() == StatusCode::kInvalidArgument);
      continue;
    }
    ValidateResource(*r, Taxonomy::Builtin(), RegionTable::Builtin()).IgnoreError();
    std::string encoded = EncodeResource(*r);
    Result<Resource> back = ParseResource(encoded, "fuzz.json", source);
    Check(back.ok() && *back == *r && EncodeResource(*back) == encoded);
  }
}

void FuzzManifest(std::string_view text) {
  Result<std::vector<ManifestEntry>> m = ParseManifest(text);
  if (!m.ok()) {
    Check(m.status().code() == StatusCode::kCorruption);
    return;
  }
  Result<std::string> encoded = EncodeManifest(*m);
  Check(encoded.ok() && *encoded == text);
}

}  // namespace
}  // namespace tiersync::catalogs

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  tiersync::catalogs::FuzzRecord(text);
  tiersync::catalogs::FuzzManifest(text);
  return 0;
}
