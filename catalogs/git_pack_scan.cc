#include "catalogs/git_pack_scan.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace tiersync::catalogs {
namespace {

constexpr size_t kHeaderBytes = 12;
constexpr size_t kTrailerBytes = 20;
constexpr size_t kRefDeltaBaseBytes = 20;
constexpr size_t kInflateBufferBytes = 64 << 10;
constexpr size_t kDeltaHeaderBytes = 20;  // two 64-bit varints take at most this much
constexpr int kOfsDelta = 6;
constexpr int kRefDelta = 7;

Status Lie(const std::string& message) { return VerificationError("git pack: " + message); }

uint32_t BigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

std::string TypeName(int type) {
  static constexpr const char* kNames[] = {"?",   "commit", "tree",      "blob",
                                           "tag", "?",      "ofs-delta", "ref-delta"};
  return kNames[type & 7];
}

// A little-endian base-128 number (a delta's sizes); false if `in` ends first or it is over
// 64 bits.
bool DeltaSize(const std::vector<uint8_t>& in, size_t* at, uint64_t* out) {
  *out = 0;
  for (int shift = 0; *at < in.size() && shift < 64; shift += 7) {
    const uint8_t c = in[(*at)++];
    *out |= uint64_t{c & 0x7fu} << shift;
    if ((c & 0x80) == 0) return true;
  }
  return false;
}

class Scanner {
 public:
  Scanner(std::span<const uint8_t> pack, const PackLimits& limits)
      : pack_(pack), limits_(limits), end_(pack.size() - kTrailerBytes) {}
  ~Scanner() {
    if (zlib_ready_) inflateEnd(&z_);
  }

  Result<PackSummary> Run(uint32_t count) {
    if (inflateInit(&z_) != Z_OK) return IOError("zlib: inflateInit failed");
    zlib_ready_ = true;
    starts_.reserve(std::min<uint32_t>(count, 1 << 20));
    for (uint32_t i = 0; i < count; ++i) TS_RETURN_IF_ERROR(Object(i));
    if (at_ != end_) {
      return Lie(std::to_string(end_ - at_) + " bytes between the last object and the trailer");
    }
    return summary_;
  }

 private:
  Status Object(uint32_t i) {
    const size_t start = at_;
    const std::string name = "object " + std::to_string(i);
    if (at_ >= end_) return Lie(name + " runs past the end of the pack");
    uint8_t c = pack_[at_++];
    const int type = (c >> 4) & 7;
    uint64_t size = c & 0x0f;
    for (int shift = 4; c & 0x80; shift += 7) {
      if (at_ >= end_ || shift > 57) return Lie(name + ": malformed header");
      c = pack_[at_++];
      size |= uint64_t{c & 0x7fu} << shift;
    }
    if (type == 0 || type == 5)
      return Lie(name + " has type " + std::to_string(type) + ", which does not exist");
    if (size > limits_.max_object_bytes) {
      return Lie(name + " (" + TypeName(type) + ") inflates to " + std::to_string(size) +
                 " bytes, over the cap of " + std::to_string(limits_.max_object_bytes));
    }
    if (type == kOfsDelta) TS_RETURN_IF_ERROR(OfsBase(start, name));
    if (type == kRefDelta) {
      if (end_ - at_ < kRefDeltaBaseBytes) return Lie(name + " runs past the end of the pack");
      at_ += kRefDeltaBaseBytes;
    }
    std::vector<uint8_t> head;
    TS_RETURN_IF_ERROR(Inflate(size, name, type >= kOfsDelta ? &head : nullptr));
    if (type >= kOfsDelta) {
      size_t p = 0;
      uint64_t base_size = 0, result_size = 0;
      if (!DeltaSize(head, &p, &base_size) || !DeltaSize(head, &p, &result_size)) {
        return Lie(name + ": malformed delta header");
      }
      if (result_size > limits_.max_object_bytes) {
        return Lie(name + " (" + TypeName(type) + ") makes an object of " +
                   std::to_string(result_size) + " bytes, over the cap of " +
                   std::to_string(limits_.max_object_bytes));
      }
      ++summary_.deltas;
    }
    starts_.push_back(start);
    ++summary_.objects;
    return Status::Ok();
  }

  // An ofs-delta's base: a negative offset that must land on the start of an earlier object.
  Status OfsBase(size_t start, const std::string& name) {
    if (at_ >= end_) return Lie(name + " runs past the end of the pack");
    uint8_t c = pack_[at_++];
    uint64_t offset = c & 0x7f;
    while (c & 0x80) {
      if (at_ >= end_ || offset > (uint64_t{1} << 56)) return Lie(name + ": malformed base offset");
      c = pack_[at_++];
      offset = ((offset + 1) << 7) | (c & 0x7f);
    }
    if (offset == 0 || offset > start ||
        !std::binary_search(starts_.begin(), starts_.end(), start - offset)) {
      return Lie(name + ": its base offset " + std::to_string(offset) +
                 " does not lead to an earlier object");
    }
    return Status::Ok();
  }

  // Inflates the stream at at_, which must give exactly `size` bytes; keeps the first
  // kDeltaHeaderBytes in *head when given.
  Status Inflate(uint64_t size, const std::string& name, std::vector<uint8_t>* head) {
    inflateReset(&z_);
    z_.next_in = const_cast<Bytef*>(pack_.data() + at_);
    z_.avail_in = static_cast<uInt>(end_ - at_);
    uint64_t produced = 0;
    for (;;) {
      z_.next_out = buffer_;
      z_.avail_out = sizeof buffer_;
      const int rc = inflate(&z_, Z_NO_FLUSH);
      const size_t got = sizeof buffer_ - z_.avail_out;
      if (head != nullptr && head->size() < kDeltaHeaderBytes) {
        head->insert(head->end(), buffer_,
                     buffer_ + std::min(got, kDeltaHeaderBytes - head->size()));
      }
      produced += got;
      summary_.inflated_bytes += got;
      if (produced > size) {
        return Lie(name + " inflates to more than the " + std::to_string(size) +
                   " bytes its header says");
      }
      if (summary_.inflated_bytes > limits_.max_inflated_bytes) {
        return Lie("inflates to more than the cap of " +
                   std::to_string(limits_.max_inflated_bytes) + " bytes");
      }
      if (rc == Z_STREAM_END) break;
      if (rc == Z_BUF_ERROR && z_.avail_in == 0) {
        return Lie(name + " runs past the end of the pack");
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return Lie(name + ": damaged zlib stream (" + (z_.msg != nullptr ? z_.msg : "error") + ")");
      }
    }
    if (produced != size) {
      return Lie(name + " inflates to " + std::to_string(produced) + " bytes, not the " +
                 std::to_string(size) + " its header says");
    }
    at_ += z_.total_in;
    return Status::Ok();
  }

  std::span<const uint8_t> pack_;
  const PackLimits& limits_;
  const size_t end_;  // where the trailer starts
  size_t at_ = kHeaderBytes;
  std::vector<size_t> starts_;  // every object's offset so far, ascending
  PackSummary summary_;
  z_stream z_ = {};
  bool zlib_ready_ = false;
  Bytef buffer_[kInflateBufferBytes];
};

}  // namespace

Result<PackSummary> ScanPack(std::span<const uint8_t> pack, const PackLimits& limits) {
  if (pack.size() < kHeaderBytes + kTrailerBytes || std::memcmp(pack.data(), "PACK", 4) != 0) {
    return Lie("does not start with a pack header");
  }
  if (pack.size() > UINT_MAX) return Lie("over 4 GiB");
  const uint32_t version = BigEndian32(pack.data() + 4);
  if (version != 2 && version != 3) {
    return Lie("version " + std::to_string(version) + " is not 2 or 3");
  }
  const uint32_t count = BigEndian32(pack.data() + 8);
  if (count > limits.max_objects) {
    return Lie("holds " + std::to_string(count) + " objects, over the cap of " +
               std::to_string(limits.max_objects));
  }
  auto scanner = std::make_unique<Scanner>(pack, limits);  // its buffer is 64 KiB
  return scanner->Run(count);
}

}  // namespace tiersync::catalogs
