// FileReply: the HTTP answer for one file a node serves users (docs/serving.md, "Files"):
// 200 with the whole file, 206 with one range or a multipart/byteranges body, 304 when
// If-None-Match matches, 416 when no range can be satisfied — with Content-Type,
// Content-Length, Accept-Ranges, ETag and Cache-Control. Range and conditional logic are the
// pure serving/ functions; this file maps them onto chunks.
//
// The body is streamed: each piece (up to kFilePieceBytes) is cut from the chunks that hold
// it, read one at a time through a ChunkSource, which checks every chunk before returning it.
// Nothing beyond one chunk and one piece is held in memory, whatever the file's size. If a
// chunk fails its check the stream fails and the connection is cut (the client's length check
// sees it); no unchecked byte is ever sent.
#ifndef TIERSYNC_NODE_FILE_REPLY_H_
#define TIERSYNC_NODE_FILE_REPLY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "node/http_server.h"
#include "protocol/chunk_index.h"

namespace tiersync::node {

inline constexpr size_t kFilePieceBytes = 1 << 20;

// Reads the chunks of one file. Read() is called from the server's worker threads, one call
// at a time for a given reply, usually with increasing `i`.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  // Chunk `i` of the file's index, checked; an error stops the reply.
  virtual Result<std::vector<uint8_t>> Read(size_t i) = 0;
  // Says that the reply is about to read the chunks that hold bytes `first`..`last`
  // (inclusive) of the file, in order: one requested range. A source that fetches may ask for
  // them together and for nothing beyond them.
  virtual void Want(uint64_t first, uint64_t last) {}
  // Called once after the last byte of a reply has been produced.
  virtual void Finished() {}
};

struct FileInfo {
  std::string content_type;   // the record's media type
  std::string etag;           // strong, quoted: "\"<sha256>\""
  std::string cache_control;  // e.g. immutable for content addresses
};

// REQUIRES: `index` describes the file `source` reads.
HttpReply FileReply(const HttpRequest& request, protocol::ChunkIndex index,
                    std::shared_ptr<ChunkSource> source, const FileInfo& info);

// True if `request` is what counts as a download: a GET of the whole file (no Range). A
// player's range requests (a browser's video element starts with "bytes=0-") and resumed or
// segmented downloads are not counted again.
bool CountsAsDownload(const HttpRequest& request);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_FILE_REPLY_H_
