#include "tests/fault_proxy/git_lies.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <charconv>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace tiersync::fault_proxy {
namespace {

constexpr size_t kIdHex = 40;

struct Pkt {
  bool flush = false;
  std::string payload;
};

Result<std::vector<Pkt>> SplitPkts(std::string_view in) {
  std::vector<Pkt> out;
  while (!in.empty()) {
    size_t length = 0;
    if (in.size() < 4 ||
        std::from_chars(in.data(), in.data() + 4, length, 16).ptr != in.data() + 4 ||
        (length != 0 && (length < 4 || length > in.size()))) {
      return InvalidArgumentError("advertisement: bad pkt-line");
    }
    if (length == 0) {
      out.push_back({true, {}});
      in.remove_prefix(4);
      continue;
    }
    out.push_back({false, std::string(in.substr(4, length - 4))});
    in.remove_prefix(length);
  }
  return out;
}

void AppendPkt(std::string* out, const Pkt& pkt) {
  if (pkt.flush) {
    *out += "0000";
    return;
  }
  char length[5];
  std::snprintf(length, sizeof length, "%04zx", pkt.payload.size() + 4);
  *out += std::string(length, 4) + pkt.payload;
}

// The N of a "<id> refs/tags/rN" or "<id> refs/tags/rN^{}" line, and whether it is peeled.
std::optional<std::pair<uint64_t, bool>> ReleaseLine(std::string_view payload) {
  constexpr std::string_view kTags = " refs/tags/r";
  if (payload.size() <= kIdHex + kTags.size() || payload.substr(kIdHex, kTags.size()) != kTags) {
    return std::nullopt;
  }
  std::string_view rest = payload.substr(kIdHex + kTags.size());
  rest = rest.substr(0, rest.find_first_of(std::string_view("\n\0", 2)));
  const bool peeled = rest.ends_with("^{}");
  if (peeled) rest.remove_suffix(3);
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
  if (ec != std::errc() || end != rest.data() + rest.size() || n == 0) return std::nullopt;
  return std::make_pair(n, peeled);
}

std::string Sha1(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha1(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), size);
}

// A pack holding one blob of `size` zero bytes.
std::string BombPack(uint64_t size) {
  std::string pack = "PACK";
  pack += std::string("\0\0\0\2\0\0\0\1", 8);
  // Object header: type 3 (blob), the size in 4 + 7k bits.
  uint64_t rest = size >> 4;
  pack += static_cast<char>((rest ? 0x80 : 0) | (3 << 4) | (size & 0x0f));
  while (rest != 0) {
    const uint8_t byte = rest & 0x7f;
    rest >>= 7;
    pack += static_cast<char>((rest ? 0x80 : 0) | byte);
  }
  z_stream z = {};
  deflateInit(&z, 9);
  const std::vector<unsigned char> zeros(1 << 20, 0);
  std::vector<unsigned char> out(1 << 16);
  uint64_t left = size;
  int flush = Z_NO_FLUSH;
  do {
    const size_t piece = static_cast<size_t>(std::min<uint64_t>(left, zeros.size()));
    z.next_in = const_cast<unsigned char*>(zeros.data());
    z.avail_in = static_cast<uInt>(piece);
    left -= piece;
    flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      deflate(&z, flush);
      pack.append(reinterpret_cast<char*>(out.data()), out.size() - z.avail_out);
    } while (z.avail_out == 0);
  } while (flush != Z_FINISH);
  deflateEnd(&z);
  return pack + Sha1(pack);
}

}  // namespace

Result<std::string> RotateReleaseTags(std::string_view advertisement, bool* rotated) {
  *rotated = false;
  TS_ASSIGN_OR_RETURN(std::vector<Pkt> pkts, SplitPkts(advertisement));
  // Release number -> the ids of its tag line and peeled line.
  std::map<uint64_t, std::pair<std::string, std::string>> ids;
  for (const Pkt& p : pkts) {
    if (auto line = ReleaseLine(p.payload)) {
      (line->second ? ids[line->first].second : ids[line->first].first) =
          p.payload.substr(0, kIdHex);
    }
  }
  if (ids.size() < 2) return std::string(advertisement);
  std::map<uint64_t, std::pair<std::string, std::string>> lies;
  auto previous = std::prev(ids.end());
  for (auto it = ids.begin(); it != ids.end(); previous = it++) lies[it->first] = previous->second;
  std::string out;
  for (Pkt p : pkts) {
    if (auto line = ReleaseLine(p.payload)) {
      const auto& lie = lies[line->first];
      p.payload.replace(0, kIdHex, line->second ? lie.second : lie.first);
    }
    AppendPkt(&out, p);
  }
  *rotated = true;
  return out;
}

Result<std::string> ReplacePackWithBomb(std::string_view result, uint64_t inflated_bytes) {
  const size_t at = result.find("PACK");
  if (at == std::string_view::npos) return InvalidArgumentError("upload-pack result: no pack");
  return std::string(result.substr(0, at)) + BombPack(inflated_bytes);
}

}  // namespace tiersync::fault_proxy
