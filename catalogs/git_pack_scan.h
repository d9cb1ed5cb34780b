// ScanPack: checks a git pack (https://git-scm.com/docs/pack-format) received from a source
// against caps before libgit2's indexer sees it — the defence against git bombs. Pure: the
// pack's bytes in, a verdict out (zlib is used here and in node/git_http_service.cc only).
//
// The pack: "PACK", version (2 or 3), object count (32-bit big-endian), the objects, a 20-byte
// SHA-1 trailer (checked by the indexer, not here). Each object: a header (type in bits 4-6 of
// the first byte; the inflated size in 4 + 7k bits), for an ofs-delta a backward offset, for a
// ref-delta a 20-byte base id, then a zlib stream of exactly that many bytes. A delta's data
// starts with two sizes: the base's and the result's.
//
// What is refused (kVerificationFailed: the source lied, named): a bad header or version; more
// objects than PackLimits::max_objects (checked before anything is inflated); an object type
// that does not exist; an object or a delta result larger than max_object_bytes (checked from
// the header, before its stream is inflated — a zlib bomb costs nothing); a stream that
// inflates to more or fewer bytes than its header says, is damaged, or runs past the pack; an
// ofs-delta whose base is not an earlier object; more than max_inflated_bytes inflated in all;
// anything between the last object and the trailer. Inflating works in a fixed 64 KiB buffer.
//
// Not capped here: how long delta chains are (bounded only by the object count and the pack's
// size, which the Fetcher caps).
#ifndef TIERSYNC_CATALOGS_GIT_PACK_SCAN_H_
#define TIERSYNC_CATALOGS_GIT_PACK_SCAN_H_

#include <cstdint>
#include <span>

#include "base/status.h"

namespace tiersync::catalogs {

struct PackLimits {
  uint32_t max_objects = 4'000'000;
  // One object inflated, or the result of one delta. The largest honest objects are trees
  // (a directory of a national catalog's records: a few MiB); a record is at most 64 KiB.
  uint64_t max_object_bytes = 16ull << 20;
  uint64_t max_inflated_bytes = 4ull << 30;  // every object's stream, inflated
};

struct PackSummary {
  uint32_t objects = 0;
  uint32_t deltas = 0;          // ofs-delta and ref-delta objects among them
  uint64_t inflated_bytes = 0;  // all streams together
};

Result<PackSummary> ScanPack(std::span<const uint8_t> pack, const PackLimits& limits);

}  // namespace tiersync::catalogs

#endif  // TIERSYNC_CATALOGS_GIT_PACK_SCAN_H_
