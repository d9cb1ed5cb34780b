#include "tests/sim/sim_liar.h"

#include <utility>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/sha256.h"
#include "protocol/chunk_batch.h"
#include "protocol/tuf_metadata.h"

namespace tiersync::sim {
namespace {

namespace tuf = protocol::tuf;

// Makes a reply's body whole (streamed bodies are drained) and returns it.
const std::string& Whole(node::HttpReply& reply) {
  if (reply.stream) {
    std::string out;
    while (true) {
      auto piece = reply.stream();
      if (!piece.ok() || piece->empty()) break;
      out += *piece;
    }
    reply.stream = nullptr;
    reply.body = std::move(out);
  }
  return reply.body;
}

node::HttpReply Body(std::string body) {
  node::HttpReply r;
  r.body = std::move(body);
  return r;
}

std::string MetadataName(const std::string& target) {
  constexpr std::string_view kPrefix = "/v1/metadata/";
  return target.starts_with(kPrefix) ? target.substr(kPrefix.size()) : std::string();
}

}  // namespace

const char* LieName(Lie lie) {
  switch (lie) {
    case Lie::kNone:
      return "none";
    case Lie::kFlipChunk:
      return "flip-chunk";
    case Lie::kSwapChunks:
      return "swap-chunks";
    case Lie::kForgeTargets:
      return "forge-targets";
    case Lie::kRollback:
      return "rollback";
    case Lie::kFreeze:
      return "freeze";
    case Lie::kMixAndMatch:
      return "mix-and-match";
    case Lie::kEndlessData:
      return "endless-data";
    case Lie::kWithhold:
      return "withhold";
    case Lie::kSwapIndex:
      return "swap-index";
  }
  return "?";
}

LiarHandler::LiarHandler(node::HttpHandler* honest, const PrivateKey* own_key)
    : honest_(honest), own_key_(own_key) {}

void LiarHandler::SetLie(Lie lie) { lie_ = lie; }

std::string LiarHandler::Forge(const std::string& envelope) {
  auto env = tuf::ParseEnvelope(AsBytes(envelope), 64 << 20);
  if (!env.ok() || env->signatures.empty()) return envelope + " ";
  protocol::Json signed_json = env->signed_json;
  const protocol::Json* targets = signed_json.Find("targets");
  if (targets != nullptr && targets->is_object() && !targets->as_object().empty()) {
    // Point the first target at other bytes (what the liar would like to install).
    protocol::Json changed = *targets;
    const auto& [path, entry] = targets->as_object().front();
    protocol::Json new_entry = entry;
    protocol::Json hashes = protocol::Json::Object();
    hashes.Set("sha256", ToHex(Sha256(AsBytes("forged " + path))));
    new_entry.Set("hashes", std::move(hashes));
    changed.Set(path, std::move(new_entry));
    signed_json.Set("targets", std::move(changed));
  }
  auto sig = own_key_->Sign(AsBytes(tuf::SigningBytes(signed_json)));
  if (!sig.ok()) return envelope + " ";
  // Under the real role's keyid: a client must check the signature, not trust the keyid.
  return tuf::SerializeEnvelope(signed_json, {{env->signatures[0].keyid, ToHex(*sig)}});
}

node::HttpReply LiarHandler::Handle(const node::HttpRequest& request) {
  node::HttpReply reply = honest_->Handle(request);
  const std::string name = MetadataName(request.target);
  const bool ok = reply.status == 200;
  // What it remembers of what it relayed, to replay later.
  if (!name.empty() && ok) {
    const std::string& body = Whole(reply);
    if (name == "timestamp.json" && oldest_timestamp_.empty()) oldest_timestamp_ = body;
    if (name.ends_with(".targets.json") && oldest_targets_.empty()) oldest_targets_ = body;
    if (name == "timestamp.json" && lie_ == Lie::kNone) frozen_timestamp_ = body;
  }
  if (request.target.starts_with("/v1/indexes/") && ok && first_index_.empty()) {
    first_index_ = Whole(reply);
  }
  const bool batch = request.target == "/v1/chunks/batch" && ok;
  switch (lie_) {
    case Lie::kNone:
      return reply;
    case Lie::kFlipChunk:
      if (batch && !Whole(reply).empty()) {
        ++lies_told_;
        reply.body.back() ^= 0x20;  // the last frame's last byte (or a header byte)
      }
      return reply;
    case Lie::kSwapChunks:
      if (batch) {
        auto ids = protocol::DecodeBatchRequest(AsBytes(request.body));
        auto frames = ids.ok() ? protocol::DecodeBatchResponse(AsBytes(Whole(reply)), *ids)
                               : Result<std::vector<protocol::BatchFrame>>(ids.status());
        if (frames.ok() && frames->size() >= 2 && protocol::CarriesChunk((*frames)[0].kind) &&
            protocol::CarriesChunk((*frames)[1].kind)) {
          ++lies_told_;
          std::swap((*frames)[0].bytes, (*frames)[1].bytes);
          std::swap((*frames)[0].kind, (*frames)[1].kind);
          protocol::BatchResponseWriter w;
          for (const auto& f : *frames) w.AddFrame(f.id, f.kind, f.bytes);
          return Body(std::move(w).Finish());
        }
      }
      return reply;
    case Lie::kForgeTargets:
      if (name.ends_with("targets.json") && ok) {
        ++lies_told_;
        return Body(Forge(Whole(reply)));
      }
      return reply;
    case Lie::kRollback:
      if (name == "timestamp.json" && ok) {
        ++lies_told_;
        return Body(oldest_timestamp_);
      }
      return reply;
    case Lie::kFreeze:
      if (name == "timestamp.json" && !frozen_timestamp_.empty()) {
        ++lies_told_;
        return Body(frozen_timestamp_);
      }
      return reply;
    case Lie::kMixAndMatch:
      if (name.ends_with(".targets.json") && ok && !oldest_targets_.empty() &&
          oldest_targets_ != reply.body) {
        ++lies_told_;
        return Body(oldest_targets_);
      }
      return reply;
    case Lie::kEndlessData:
      if (!name.empty()) {
        ++lies_told_;
        node::HttpReply endless;
        endless.length = uint64_t{1} << 40;
        endless.stream = [] { return Result<std::string>(std::string(64 << 10, ' ')); };
        return endless;
      }
      return reply;
    case Lie::kWithhold:
      if (batch) {
        auto ids = protocol::DecodeBatchRequest(AsBytes(request.body));
        if (ids.ok()) {
          ++lies_told_;
          protocol::BatchResponseWriter w;
          for (const auto& id : *ids) w.AddMissing(id, protocol::BatchFrameKind::kAbsent);
          return Body(std::move(w).Finish());
        }
      }
      if (request.target.starts_with("/v1/indexes/")) {
        ++lies_told_;
        return node::HttpReply::Text(404, "not here");
      }
      return reply;
    case Lie::kSwapIndex:
      if (request.target.starts_with("/v1/indexes/") && ok && !first_index_.empty() &&
          Whole(reply) != first_index_) {
        ++lies_told_;
        return Body(first_index_);
      }
      return reply;
  }
  return reply;
}

}  // namespace tiersync::sim
