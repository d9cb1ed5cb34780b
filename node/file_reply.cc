#include "node/file_reply.h"

#include <algorithm>
#include <random>

#include "base/hex.h"
#include "base/random.h"
#include "serving/byte_ranges.h"
#include "serving/conditional.h"

namespace tiersync::node {
namespace {

using serving::ByteRange;

// What the body is made of, in order: literal text, then file bytes.
struct Segment {
  std::string literal;
  bool has_range = false;
  ByteRange range;
};

// The streaming state of one reply.
class Body {
 public:
  Body(protocol::ChunkIndex index, std::shared_ptr<ChunkSource> source,
       std::vector<Segment> segments)
      : index_(std::move(index)), source_(std::move(source)), segments_(std::move(segments)) {
    offsets_.reserve(index_.chunks.size() + 1);
    uint64_t at = 0;
    for (const auto& c : index_.chunks) {
      offsets_.push_back(at);
      at += c.size;
    }
    offsets_.push_back(at);
  }

  Result<std::string> Next() {
    std::string piece;
    piece.reserve(kFilePieceBytes);  // one allocation, no copies as it grows
    while (piece.size() < kFilePieceBytes && seg_ < segments_.size()) {
      Segment& s = segments_[seg_];
      if (!literal_done_) {
        piece += s.literal;
        literal_done_ = true;
        pos_ = s.range.first;
        if (!s.has_range) {
          Advance();
          continue;
        }
        source_->Want(s.range.first, s.range.last);
      }
      // Bytes [pos_, s.range.last] of the file, from the chunk holding pos_.
      const size_t i = ChunkAt(pos_);
      if (i != chunk_no_) {
        TS_ASSIGN_OR_RETURN(chunk_, source_->Read(i));
        if (chunk_.size() != index_.chunks[i].size) {
          return CorruptionError("chunk " + std::to_string(i) + " has the wrong size");
        }
        chunk_no_ = i;
      }
      const uint64_t from = pos_ - offsets_[i];
      const uint64_t until = std::min<uint64_t>(s.range.last + 1, offsets_[i + 1]) - offsets_[i];
      const uint64_t take = std::min<uint64_t>(
          until - from, kFilePieceBytes - std::min(kFilePieceBytes, piece.size()));
      if (take == 0) break;
      piece.append(reinterpret_cast<const char*>(chunk_.data()) + from, static_cast<size_t>(take));
      pos_ += take;
      if (pos_ > s.range.last) Advance();
    }
    if (piece.empty() && !finished_) {
      finished_ = true;
      chunk_.clear();
      source_->Finished();
    }
    return piece;
  }

 private:
  // The chunk that holds byte `at` of the file.
  size_t ChunkAt(uint64_t at) const {
    return static_cast<size_t>(std::upper_bound(offsets_.begin(), offsets_.end(), at) -
                               offsets_.begin() - 1);
  }
  void Advance() {
    ++seg_;
    literal_done_ = false;
  }

  protocol::ChunkIndex index_;
  std::shared_ptr<ChunkSource> source_;
  std::vector<Segment> segments_;
  std::vector<uint64_t> offsets_;  // chunk i starts at offsets_[i]; offsets_.back() = size
  size_t seg_ = 0;
  bool literal_done_ = false;
  uint64_t pos_ = 0;
  size_t chunk_no_ = SIZE_MAX;
  std::vector<uint8_t> chunk_;
  bool finished_ = false;
};

void CommonHeaders(HttpReply* r, const FileInfo& info) {
  r->headers.emplace_back("ETag", info.etag);
  r->headers.emplace_back("Cache-Control", info.cache_control);
  r->headers.emplace_back("Accept-Ranges", "bytes");
  r->headers.emplace_back("X-Content-Type-Options", "nosniff");
}

std::string Boundary() {
  std::random_device device;
  uint8_t bytes[12];
  Random((uint64_t{device()} << 32) ^ device()).Fill({bytes, sizeof bytes});
  return "tiersync-" + ToHex({bytes, sizeof bytes});
}

// The Range header to honour: none when If-Range does not match.
const std::string* EffectiveRange(const HttpRequest& request, const FileInfo& info) {
  const std::string* range = request.Header("range");
  if (range == nullptr) return nullptr;
  if (const std::string* if_range = request.Header("if-range")) {
    if (!serving::IfRangeAllows(*if_range, info.etag)) return nullptr;
  }
  return range;
}

}  // namespace

bool CountsAsDownload(const HttpRequest& request) {
  return request.method == "GET" && request.Header("range") == nullptr;
}

HttpReply FileReply(const HttpRequest& request, protocol::ChunkIndex index,
                    std::shared_ptr<ChunkSource> source, const FileInfo& info) {
  const uint64_t size = index.file_size;
  if (const std::string* inm = request.Header("if-none-match")) {
    if (serving::NoneMatchHits(*inm, info.etag)) {
      HttpReply r;
      r.status = 304;
      r.content_type = info.content_type;
      CommonHeaders(&r, info);
      return r;
    }
  }
  std::vector<Segment> segments;
  HttpReply r;
  r.content_type = info.content_type;
  CommonHeaders(&r, info);
  serving::RangeRequest ranges;
  if (const std::string* range = EffectiveRange(request, info)) {
    ranges = serving::ParseRange(*range, size);
  }
  switch (ranges.kind) {
    case serving::RangeRequest::kUnsatisfiable: {
      HttpReply bad = HttpReply::Text(
          416, "range not satisfiable: the file has " + std::to_string(size) + " bytes");
      CommonHeaders(&bad, info);
      bad.headers.emplace_back("Content-Range", serving::UnsatisfiedContentRange(size));
      return bad;
    }
    case serving::RangeRequest::kRanges:
      r.status = 206;
      if (ranges.ranges.size() == 1) {
        r.headers.emplace_back("Content-Range", serving::ContentRange(ranges.ranges[0], size));
        segments.push_back({"", true, ranges.ranges[0]});
        r.length = ranges.ranges[0].length();
      } else {
        serving::MultipartBody mp =
            serving::BuildMultipart(ranges.ranges, size, info.content_type, Boundary());
        r.content_type = mp.content_type;
        for (auto& p : mp.pieces) segments.push_back({std::move(p.literal), p.has_range, p.range});
        r.length = mp.total;
      }
      break;
    case serving::RangeRequest::kIgnore:
      if (size > 0) segments.push_back({"", true, {0, size - 1}});
      r.length = size;
      break;
  }
  auto body = std::make_shared<Body>(std::move(index), std::move(source), std::move(segments));
  r.stream = [body]() { return body->Next(); };
  return r;
}

}  // namespace tiersync::node
