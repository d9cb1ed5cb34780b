// RestoreFile: streams a file back out of a ChunkStore from its chunk-index id.
//
// Every chunk is fully checked (XXH3 of the stored bytes and SHA-256 against its id) before
// any of its bytes reach the sink, so a damaged store never produces wrong bytes: output stops
// at the first bad chunk with an error naming it. At the end the file's size and SHA-256 are
// checked against the index as well.
#ifndef TIERSYNC_REPLICATION_FILE_RESTORE_H_
#define TIERSYNC_REPLICATION_FILE_RESTORE_H_

#include <functional>

#include "protocol/chunk_index.h"
#include "replication/chunk_store.h"

namespace tiersync::replication {

// Loads and decodes chunk index `id` (checked against its id).
Result<protocol::ChunkIndex> LoadChunkIndex(const ChunkStore& store, const protocol::ChunkId& id);

// Writes the file named by `index_id` to `sink`, chunk by chunk, in order.
Status RestoreFile(const ChunkStore& store, const protocol::ChunkId& index_id,
                   const std::function<Status(ByteSpan)>& sink);

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_FILE_RESTORE_H_
