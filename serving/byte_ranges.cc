#include "serving/byte_ranges.h"

#include <algorithm>
#include <optional>

#include "serving/text.h"

namespace tiersync::serving {
namespace {

// Decimal digits only; nullopt if empty, not digits, or over 64 bits.
std::optional<uint64_t> Number(std::string_view s, bool* overflow) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) {
      *overflow = true;
      return std::nullopt;
    }
    v = v * 10 + d;
  }
  return v;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

}  // namespace

RangeRequest ParseRange(std::string_view header, uint64_t size) {
  RangeRequest out;
  if (header.size() > kMaxRangeHeaderBytes) return out;
  header = TrimOws(header);
  const size_t eq = header.find('=');
  if (eq == std::string_view::npos || !EqualsIgnoreCase(TrimOws(header.substr(0, eq)), "bytes")) {
    return out;
  }
  std::string_view list = header.substr(eq + 1);
  std::vector<ByteRange> ranges;
  bool any = false;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view spec = TrimOws(list.substr(start, comma - start));
    start = comma + 1;
    if (spec.empty()) continue;  // "bytes=0-1,,2-3": empty list elements are allowed
    any = true;
    const size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return RangeRequest{};  // malformed: ignore the header
    std::string_view a = TrimOws(spec.substr(0, dash)), b = TrimOws(spec.substr(dash + 1));
    bool overflow = false;
    if (a.empty()) {  // suffix: the last N bytes
      std::optional<uint64_t> n = Number(b, &overflow);
      if (!n) {
        if (overflow && size > 0) {  // a suffix longer than any file: the whole file
          ranges.push_back({0, size - 1});
          continue;
        }
        if (!overflow) return RangeRequest{};
        continue;
      }
      if (*n == 0 || size == 0) continue;  // unsatisfiable
      ranges.push_back({size - std::min(*n, size), size - 1});
      continue;
    }
    std::optional<uint64_t> first = Number(a, &overflow);
    if (!first) {
      if (!overflow) return RangeRequest{};
      continue;  // a first byte beyond 2^64 is beyond any file
    }
    uint64_t last = UINT64_MAX;
    if (!b.empty()) {
      bool last_overflow = false;
      std::optional<uint64_t> l = Number(b, &last_overflow);
      if (!l && !last_overflow) return RangeRequest{};
      if (l) last = *l;
      if (l && *l < *first) return RangeRequest{};  // "5-3" is invalid: ignore the header
    }
    if (*first >= size) continue;  // unsatisfiable
    ranges.push_back({*first, std::min(last, size - 1)});
  }
  if (!any) return RangeRequest{};
  if (ranges.empty()) {
    out.kind = RangeRequest::kUnsatisfiable;
    return out;
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const ByteRange& x, const ByteRange& y) { return x.first < y.first; });
  std::vector<ByteRange> merged;
  for (const ByteRange& r : ranges) {
    // Overlapping or adjacent (r.first == last + 1) ranges join; last + 1 cannot overflow
    // because last < size.
    if (!merged.empty() && r.first <= merged.back().last + 1) {
      merged.back().last = std::max(merged.back().last, r.last);
    } else {
      merged.push_back(r);
    }
  }
  if (merged.size() > kMaxRanges) return RangeRequest{};
  out.kind = RangeRequest::kRanges;
  out.ranges = std::move(merged);
  return out;
}

std::string ContentRange(const ByteRange& r, uint64_t size) {
  return "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" +
         std::to_string(size);
}

std::string UnsatisfiedContentRange(uint64_t size) { return "bytes */" + std::to_string(size); }

MultipartBody BuildMultipart(const std::vector<ByteRange>& ranges, uint64_t size,
                             std::string_view part_content_type, std::string_view boundary) {
  MultipartBody body;
  body.content_type = "multipart/byteranges; boundary=" + std::string(boundary);
  for (size_t i = 0; i < ranges.size(); ++i) {
    MultipartPiece p;
    p.literal = (i == 0 ? "--" : "\r\n--") + std::string(boundary) +
                "\r\nContent-Type: " + std::string(part_content_type) +
                "\r\nContent-Range: " + ContentRange(ranges[i], size) + "\r\n\r\n";
    p.has_range = true;
    p.range = ranges[i];
    body.total += p.literal.size() + p.range.length();
    body.pieces.push_back(std::move(p));
  }
  MultipartPiece end;
  end.literal = "\r\n--" + std::string(boundary) + "--\r\n";
  body.total += end.literal.size();
  body.pieces.push_back(std::move(end));
  return body;
}

}  // namespace tiersync::serving
