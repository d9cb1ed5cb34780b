#include "tests/fault_proxy/faults.h"

#include "protocol/chunk_batch.h"

namespace tiersync::fault_proxy {
namespace {

struct Named {
  Fault fault;
  std::string_view name;
};
constexpr Named kFaults[] = {
    {Fault::kPass, "pass"},
    {Fault::kFlipChunks, "flip-chunks"},
    {Fault::kFlipTargets, "flip-targets"},
    {Fault::kWithholdChunks, "withhold-chunks"},
    {Fault::kRollback, "rollback"},
    {Fault::kFreeze, "freeze"},
    {Fault::kDown, "down"},
    {Fault::kGitTagLie, "git-tag-lie"},
    {Fault::kGitBomb, "git-bomb"},
};

}  // namespace

Result<Fault> ParseFault(std::string_view name) {
  std::string all;
  for (const Named& n : kFaults) {
    if (n.name == name) return n.fault;
    all += (all.empty() ? "" : ", ") + std::string(n.name);
  }
  return InvalidArgumentError("unknown fault \"" + std::string(name) + "\"; one of: " + all);
}

std::string_view FaultName(Fault fault) {
  for (const Named& n : kFaults) {
    if (n.fault == fault) return n.name;
  }
  return "?";
}

Result<std::vector<uint8_t>> TamperBatch(Fault fault, std::span<const uint8_t> request,
                                         std::span<const uint8_t> response, uint64_t* tampered) {
  if (fault != Fault::kFlipChunks && fault != Fault::kWithholdChunks) {
    return std::vector<uint8_t>(response.begin(), response.end());
  }
  TS_ASSIGN_OR_RETURN(auto ids, protocol::DecodeBatchRequest(request));
  TS_ASSIGN_OR_RETURN(auto frames, protocol::DecodeBatchResponse(response, ids));
  protocol::BatchResponseWriter out;
  bool withheld = false;
  for (const protocol::BatchFrame& f : frames) {
    if (!protocol::CarriesChunk(f.kind)) {
      out.AddMissing(f.id, f.kind);
    } else if (fault == Fault::kWithholdChunks && !withheld) {
      out.AddMissing(f.id, protocol::BatchFrameKind::kAbsent);
      withheld = true;
      ++*tampered;
    } else if (fault == Fault::kFlipChunks) {  // a chunk's bytes, or its zstd frame's
      out.AddFrame(f.id, f.kind, FlipOneByte(std::vector<uint8_t>(f.bytes.begin(), f.bytes.end())));
      ++*tampered;
    } else {
      out.AddFrame(f.id, f.kind, f.bytes);
    }
  }
  const std::string body = std::move(out).Finish();
  return std::vector<uint8_t>(body.begin(), body.end());
}

std::vector<uint8_t> FlipOneByte(std::vector<uint8_t> body) {
  if (!body.empty()) body[body.size() / 2] ^= 0x01;
  return body;
}

void TimestampMemory::Relayed(const std::vector<uint8_t>& body) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!oldest_) oldest_ = body;
  newest_ = body;
}

void TimestampMemory::Freeze() {
  std::lock_guard<std::mutex> lock(mu_);
  frozen_ = newest_;
}

std::optional<std::vector<uint8_t>> TimestampMemory::Replacement(Fault fault) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (fault == Fault::kRollback) return oldest_;
  if (fault == Fault::kFreeze) return frozen_;
  return std::nullopt;
}

}  // namespace tiersync::fault_proxy
