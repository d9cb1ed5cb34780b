// libFuzzer target: what the catalog's git smart HTTP reads in pkt-lines
// (catalogs/git_pkt_line.h) — the upload-pack request a server gets from anyone, and the
// advertisement and upload-pack result a node gets from a source. Whatever parses must hold to
// the limits and re-encode to an equivalent request.
#include <cstdlib>
#include <string_view>

#include "catalogs/git_pkt_line.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tiersync::catalogs;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto request = ParseUploadRequest(in);
  if (request.ok()) {
    if (request->wants.empty() || request->wants.size() > kMaxUploadPackWants ||
        request->haves.size() > kMaxUploadPackHaves) {
      std::abort();
    }
    for (const auto& id : request->wants) {
      if (!IsObjectIdHex(id)) std::abort();
    }
    if (request->done) {
      auto again = ParseUploadRequest(EncodeUploadRequest(request->wants, "", request->haves));
      if (!again.ok() || again->wants != request->wants || again->haves != request->haves) {
        std::abort();
      }
    }
  }
  auto ad = ParseAdvertisement(in);
  if (ad.ok()) {
    for (const auto& [name, id] : ad->refs) {
      if (!IsObjectIdHex(id)) std::abort();
    }
  }
  auto pack = PackOfUploadResult(in);
  if (pack.ok() && !pack->starts_with("PACK")) std::abort();
  return 0;
}
