#include "replication/pack_format.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/sha256.h"
#include "base/xxh3.h"
#include "protocol/little_endian.h"

namespace tiersync::replication {
namespace {

using protocol::GetLe;
using protocol::PutLe;

constexpr uint8_t kRecordMagic[4] = {'T', 'S', 'C', 'K'};

std::string Where(const ChunkLocation& loc) {
  return "pack " + std::to_string(loc.pack) + " offset " + std::to_string(loc.offset);
}

template <size_t N>
std::array<uint8_t, N> ToArray(const std::vector<uint8_t>& v) {
  std::array<uint8_t, N> a{};
  std::copy_n(v.begin(), N, a.begin());
  return a;
}

}  // namespace

std::array<uint8_t, kLocationBytes> EncodeLocation(const ChunkLocation& loc) {
  std::vector<uint8_t> v;
  PutLe<uint32_t>(&v, loc.pack);
  v.push_back(loc.flags);
  v.insert(v.end(), 3, 0);
  PutLe<uint64_t>(&v, loc.offset);
  PutLe<uint32_t>(&v, loc.stored_len);
  PutLe<uint32_t>(&v, loc.raw_len);
  PutLe<uint64_t>(&v, loc.xxh3);
  return ToArray<kLocationBytes>(v);
}

Result<ChunkLocation> DecodeLocation(std::span<const uint8_t> b) {
  if (b.size() != kLocationBytes) return CorruptionError("chunk location has a wrong length");
  if (b[5] != 0 || b[6] != 0 || b[7] != 0) {
    return CorruptionError("chunk location has non-zero reserved bytes");
  }
  ChunkLocation loc;
  loc.pack = GetLe<uint32_t>(&b[0]);
  loc.flags = b[4];
  loc.offset = GetLe<uint64_t>(&b[8]);
  loc.stored_len = GetLe<uint32_t>(&b[16]);
  loc.raw_len = GetLe<uint32_t>(&b[20]);
  loc.xxh3 = GetLe<uint64_t>(&b[24]);
  if ((loc.flags & ~kFlagZstd) != 0) return CorruptionError("chunk location has unknown flags");
  if (loc.raw_len > protocol::kMaxChunkBytes || loc.stored_len > protocol::kMaxChunkBytes + 1024) {
    return CorruptionError("chunk location has lengths over the chunk size limit");
  }
  return loc;
}

std::array<uint8_t, kPackHeaderBytes> EncodePackHeader(uint32_t pack) {
  std::vector<uint8_t> v = {'T', 'S', 'P', 'A', 'C', 'K', '0', '1'};
  PutLe<uint32_t>(&v, pack);
  PutLe<uint32_t>(&v, 0);
  return ToArray<kPackHeaderBytes>(v);
}

std::string PackFileName(uint32_t pack) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "pack-%08u.tsp", pack);
  return buf;
}

namespace {

constexpr size_t kSampleBytes = 4096;

bool WorthCompressing(std::span<const uint8_t> raw, ZstdCodec* codec) {
  if (codec == nullptr) return false;
  if (raw.size() < 4 * kSampleBytes) return true;
  thread_local std::vector<uint8_t> scratch;
  auto sample = raw.subspan(raw.size() / 2 - kSampleBytes / 2, kSampleBytes);
  return codec->CompressIfSmaller(sample, &scratch) && scratch.size() < kSampleBytes * 97 / 100;
}

}  // namespace

PreparedChunk PrepareChunk(const ChunkId& id, std::vector<uint8_t>* raw, ZstdCodec* codec) {
  PreparedChunk c;
  c.id = id;
  c.raw_len = static_cast<uint32_t>(raw->size());
  if (WorthCompressing(*raw, codec) && codec->CompressIfSmaller(*raw, &c.payload)) {
    c.flags = kFlagZstd;
  } else {
    c.payload = std::move(*raw);
    raw->clear();
  }
  c.xxh3 = Xxh3_64(c.payload);
  return c;
}

std::array<uint8_t, kRecordHeaderBytes> EncodeRecordHeader(const PreparedChunk& chunk) {
  std::vector<uint8_t> v(std::begin(kRecordMagic), std::end(kRecordMagic));
  v.push_back(chunk.flags);
  v.insert(v.end(), 3, 0);
  PutLe<uint32_t>(&v, static_cast<uint32_t>(chunk.payload.size()));
  PutLe<uint32_t>(&v, chunk.raw_len);
  v.insert(v.end(), chunk.id.begin(), chunk.id.end());
  PutLe<uint64_t>(&v, chunk.xxh3);
  return ToArray<kRecordHeaderBytes>(v);
}

Result<std::vector<uint8_t>> DecodeRecord(const ChunkId& id, const ChunkLocation& loc,
                                          std::span<const uint8_t> record, ReadCheck check,
                                          ZstdCodec* codec) {
  if (record.size() != kRecordHeaderBytes + loc.stored_len) {
    return CorruptionError("chunk " + ToHex(id) + " at " + Where(loc) + ": record is truncated");
  }
  std::span<const uint8_t> payload = record.subspan(kRecordHeaderBytes);
  return DecodeRecord(id, loc, record.first(kRecordHeaderBytes),
                      std::vector<uint8_t>(payload.begin(), payload.end()), check, codec);
}

Status CheckRecord(const ChunkId& id, const ChunkLocation& loc, std::span<const uint8_t> header,
                   std::span<const uint8_t> payload) {
  auto bad = [&](const std::string& what) {
    return CorruptionError("chunk " + ToHex(id) + " at " + Where(loc) + ": " + what);
  };
  if (header.size() != kRecordHeaderBytes || payload.size() != loc.stored_len) {
    return bad("record is truncated");
  }
  const uint8_t* h = header.data();
  if (std::memcmp(h, kRecordMagic, 4) != 0) return bad("record header magic is wrong");
  if (h[4] != loc.flags || GetLe<uint32_t>(h + 8) != loc.stored_len ||
      GetLe<uint32_t>(h + 12) != loc.raw_len || std::memcmp(h + 16, id.data(), 32) != 0 ||
      GetLe<uint64_t>(h + 48) != loc.xxh3) {
    return bad("record header does not match the index");
  }
  if (Xxh3_64(payload) != loc.xxh3) return bad("checksum mismatch (stored bytes are damaged)");
  return Status::Ok();
}

Result<std::vector<uint8_t>> DecodeRecord(const ChunkId& id, const ChunkLocation& loc,
                                          std::span<const uint8_t> header,
                                          std::vector<uint8_t> payload, ReadCheck check,
                                          ZstdCodec* codec) {
  auto bad = [&](const std::string& what) {
    return CorruptionError("chunk " + ToHex(id) + " at " + Where(loc) + ": " + what);
  };
  TS_RETURN_IF_ERROR(CheckRecord(id, loc, header, payload));
  std::vector<uint8_t> raw;
  if (loc.flags & kFlagZstd) {
    auto out = codec->Decompress(payload, loc.raw_len, protocol::kMaxChunkBytes);
    if (!out.ok()) return bad(out.status().message());
    raw = std::move(out).value();
  } else {
    if (loc.stored_len != loc.raw_len) return bad("raw record with two different lengths");
    raw = std::move(payload);
  }
  if (check == ReadCheck::kFull && Sha256(raw) != id) {
    return bad("SHA-256 of the content does not match the chunk id");
  }
  return raw;
}

}  // namespace tiersync::replication
