#include "node/git_http_service.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <optional>
#include <utility>

#include "catalogs/git_upload_pack.h"

namespace tiersync::node {
namespace {

constexpr char kSmartOnly[] =
    "the catalog is served over git's smart HTTP protocol only (git clone "
    "http://HOST:PORT/v1/catalog.git)";
constexpr char kReadOnly[] = "the catalog is read-only: pushing is not allowed";

// The value of `name` in a query string ("a=1&b=2"), without percent-decoding.
std::optional<std::string_view> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t end = std::min(query.find('&'), query.size());
    std::string_view pair = query.substr(0, end);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    query.remove_prefix(std::min(end + 1, query.size()));
  }
  return std::nullopt;
}

// One complete gzip stream, inflated. kResourceExhausted beyond `max` bytes.
Result<std::string> Gunzip(std::string_view in, size_t max) {
  if (in.size() > UINT_MAX) return ResourceExhaustedError("gzip body too large");
  z_stream z = {};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return IOError("zlib: inflateInit2 failed");
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&z};
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string out;
  for (int rc = Z_OK; rc != Z_STREAM_END;) {
    if (out.size() > max) {
      return ResourceExhaustedError("the gzip body inflates to more than " + std::to_string(max) +
                                    " bytes");
    }
    const size_t used = out.size();
    out.resize(std::min<size_t>(used + (64 << 10), max + 1));
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = static_cast<uInt>(out.size() - used);
    rc = inflate(&z, Z_NO_FLUSH);
    out.resize(out.size() - z.avail_out);
    if (rc == Z_BUF_ERROR) return InvalidArgumentError("the gzip body is truncated");
    if (rc != Z_OK && rc != Z_STREAM_END) {
      return InvalidArgumentError(std::string("the gzip body is damaged: ") +
                                  (z.msg != nullptr ? z.msg : "zlib error"));
    }
  }
  if (z.avail_in != 0) return InvalidArgumentError("data after the gzip body");
  if (out.size() > max) return ResourceExhaustedError("the gzip body inflates to too many bytes");
  return out;
}

// The request body, inflated if it is gzip-encoded (stock git gzips bodies over 1 KiB).
Result<std::string> RequestBody(const HttpRequest& request) {
  const std::string* encoding = request.Header("content-encoding");
  if (encoding != nullptr && (*encoding == "gzip" || *encoding == "x-gzip")) {
    return Gunzip(request.body, GitHttpService::kMaxInflatedBytes);
  }
  if (encoding != nullptr && *encoding != "identity") {
    return NotSupportedError("Content-Encoding \"" + *encoding + "\" is not supported");
  }
  if (request.body.size() > GitHttpService::kMaxInflatedBytes) {
    return ResourceExhaustedError("the request body is over 4 MiB");
  }
  return request.body;
}

HttpReply ErrorReply(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return HttpReply::Text(400, status.message());
    case StatusCode::kResourceExhausted:
      return HttpReply::Text(413, status.message());
    case StatusCode::kNotSupported:
      return HttpReply::Text(415, status.message());
    default:
      return HttpReply::Text(status.retryable() ? 503 : 500,
                             "the catalog repository cannot be served (" +
                                 std::string(StatusCodeName(status.code())) + ")");
  }
}

HttpReply GitReply(const char* content_type, Result<std::string> body) {
  if (!body.ok()) return ErrorReply(body.status());
  HttpReply reply;
  reply.content_type = content_type;
  reply.headers = {{"Cache-Control", "no-cache"}};
  reply.body = std::move(body).value();
  return reply;
}

// Takes one of `max` slots counted by `n`; false if all are taken.
bool TryAcquire(std::atomic<size_t>* n, size_t max) {
  size_t current = n->load();
  while (current < max) {
    if (n->compare_exchange_weak(current, current + 1)) return true;
  }
  return false;
}

// The pieces of an upload-pack answer: the ACK/NAK lines, then the pack file's bytes.
class PackStream {
 public:
  PackStream(std::string head, std::unique_ptr<SequentialFile> pack, uint64_t pack_bytes,
             size_t piece_bytes)
      : head_(std::move(head)), pack_(std::move(pack)), left_(pack_bytes), piece_(piece_bytes) {}

  Result<std::string> Next() {
    if (!head_.empty()) return std::exchange(head_, std::string());
    if (left_ == 0) return std::string();
    std::string piece(static_cast<size_t>(std::min<uint64_t>(left_, piece_)), '\0');
    TS_ASSIGN_OR_RETURN(size_t got, pack_->Read(MutableByteSpan(
                                        reinterpret_cast<uint8_t*>(piece.data()), piece.size())));
    if (got == 0) return IOError("upload-pack: the pack file ended early");
    piece.resize(got);
    left_ -= got;
    return piece;
  }

 private:
  std::string head_;
  std::unique_ptr<SequentialFile> pack_;
  uint64_t left_;
  size_t piece_;
};

}  // namespace

GitHttpService::GitHttpService(std::string repo_dir, std::function<uint64_t()> served_release,
                               GitHttpOptions options)
    : repo_dir_(std::move(repo_dir)),
      served_release_(std::move(served_release)),
      options_(std::move(options)) {
  if (options_.scratch_dir.empty()) options_.scratch_dir = repo_dir_ + "/tiersync-upload-pack";
  // Scratch files a crash left behind (best effort: each build makes the directory again).
  RemoveTree(options_.env, options_.scratch_dir).IgnoreError();
}

HttpReply GitHttpService::Handle(const HttpRequest& request, std::string_view rest) {
  const size_t mark = std::min(rest.find('?'), rest.size());
  const std::string_view path = rest.substr(0, mark);
  if (path == "/info/refs") return InfoRefs(request, rest.substr(std::min(mark + 1, rest.size())));
  if (path == "/git-upload-pack") return UploadPack(request);
  if (path == "/git-receive-pack") return HttpReply::Text(403, kReadOnly);
  return HttpReply::Text(404, kSmartOnly);
}

HttpReply GitHttpService::InfoRefs(const HttpRequest& request, std::string_view query) {
  if (request.method != "GET" && request.method != "HEAD") {
    return HttpReply::Text(405, "info/refs takes GET");
  }
  const std::optional<std::string_view> service = QueryParam(query, "service");
  if (!service) return HttpReply::Text(403, kSmartOnly);
  if (*service == "git-receive-pack") return HttpReply::Text(403, kReadOnly);
  if (*service != "git-upload-pack") return HttpReply::Text(403, "unknown git service");
  return GitReply("application/x-git-upload-pack-advertisement",
                  catalogs::AdvertiseUploadPack(repo_dir_, served_release_()));
}

HttpReply GitHttpService::UploadPack(const HttpRequest& request) {
  if (request.method != "POST") return HttpReply::Text(405, "git-upload-pack takes POST");
  const std::string* type = request.Header("content-type");
  if (type == nullptr || *type != "application/x-git-upload-pack-request") {
    return HttpReply::Text(415, "expected Content-Type application/x-git-upload-pack-request");
  }
  Result<std::string> body = RequestBody(request);
  if (!body.ok()) return ErrorReply(body.status());
  return BuildAndStream(*body);
}

HttpReply GitHttpService::BuildAndStream(const std::string& request_body) {
  if (!TryAcquire(&building_, options_.max_concurrent_builds)) {
    HttpReply busy = HttpReply::Text(503, "the catalog is busy building other packs; try again");
    busy.headers.push_back({"Retry-After", std::to_string(options_.retry_after_seconds)});
    return busy;
  }
  Env* env = options_.env;
  const std::string path =
      options_.scratch_dir + "/" + std::to_string(next_scratch_.fetch_add(1)) + ".pack";
  Result<catalogs::UploadPackAnswer> answer = IOError("upload-pack: not built");
  {
    struct Slot {
      std::atomic<size_t>* n;
      ~Slot() { n->fetch_sub(1); }
    } slot{&building_};
    if (options_.on_build) options_.on_build();
    if (Status made = CreateDirs(env, options_.scratch_dir); !made.ok()) {
      answer = made;
    } else {
      answer = catalogs::UploadPack(env, repo_dir_, request_body, served_release_(), path);
    }
  }
  if (!answer.ok()) {
    env->RemoveFile(path).IgnoreError();
    return ErrorReply(answer.status());
  }
  HttpReply reply;
  reply.content_type = "application/x-git-upload-pack-result";
  reply.headers = {{"Cache-Control", "no-cache"}};
  if (answer->pack_bytes == 0) {
    reply.body = std::move(answer->head);
    return reply;
  }
  auto pack = env->NewSequentialFile(path);
  env->RemoveFile(path).IgnoreError();  // the open file is all that is left of it
  if (!pack.ok()) return ErrorReply(pack.status());
  reply.length = answer->head.size() + answer->pack_bytes;
  auto stream = std::make_shared<PackStream>(std::move(answer->head), std::move(pack).value(),
                                             answer->pack_bytes, options_.piece_bytes);
  reply.stream = [stream] { return stream->Next(); };
  return reply;
}

}  // namespace tiersync::node
