#include "node/report_intake.h"

#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "base/zstd_codec.h"
#include "node/fleet_report.h"

namespace tiersync::node {
namespace {

HttpReply Refuse(int status, const std::string& why) {
  return HttpReply::Text(status, "report refused: " + why);
}

// The body as JSON text: as sent, or the zstd frame expanded (bounded).
Result<std::string> BodyText(const HttpRequest& request) {
  const std::string* type = request.Header("content-type");
  if (type == nullptr || !type->starts_with("application/zstd")) return request.body;
  const ByteSpan frame = AsBytes(request.body);
  TS_ASSIGN_OR_RETURN(size_t size, ZstdCodec::DeclaredSize(frame));
  if (size > kMaxReportBodyBytes) {
    return InvalidArgumentError("the report expands to " + std::to_string(size) + " bytes, over " +
                                std::to_string(kMaxReportBodyBytes));
  }
  ZstdCodec codec;
  TS_ASSIGN_OR_RETURN(std::vector<uint8_t> text, codec.Decompress(frame, size, size));
  return std::string(text.begin(), text.end());
}

// The reply once the roll-up part is stored (or why it is not).
HttpReply Stored(const Result<bool>& stored, const nlohmann::json& reply) {
  if (stored.ok()) return HttpReply::Json(reply.dump());
  const StatusCode code = stored.status().code();
  return Refuse(code == StatusCode::kResourceExhausted    ? 503
                : code == StatusCode::kFailedPrecondition ? 409
                                                          : 500,
                stored.status().message());
}

}  // namespace

ReportIntake::ReportIntake(Env* env, ChildReports* children, fleet::FleetStore* store,
                           std::string name, std::string region)
    : env_(env),
      children_(children),
      store_(store),
      name_(std::move(name)),
      prefix_(region.empty() ? std::string() : fleet::RegionPrefix(region)) {}

bool ReportIntake::InRegion(const std::string& code) const { return code.starts_with(prefix_); }

HttpReply ReportIntake::Accept(const HttpRequest& request) {
  if (request.method != "POST") return HttpReply::Text(405, "POST a report");
  auto text = BodyText(request);
  if (!text.ok()) return Refuse(400, text.status().message());
  auto decoded = DecodeFleetReport(*text);
  if (!decoded.ok()) return Refuse(400, decoded.status().message());
  FleetReport& r = *decoded;
  if (Status s = ChildReports::Check(r.rollup); !s.ok()) return Refuse(400, s.message());
  if (!InRegion(r.rollup.region)) {
    return Refuse(403, r.rollup.name + " is in region " + r.rollup.region + ", outside " + name_ +
                           "'s region " + prefix_);
  }
  for (const fleet::NodeState& n : r.subtree) {
    if (!InRegion(n.region)) {
      return Refuse(403, r.rollup.name + " reports " + n.name + " of region " + n.region +
                             ", outside " + name_ + "'s region " + prefix_);
    }
  }
  const std::string sender = r.rollup.name;
  r.rollup.seq = r.seq;
  nlohmann::json reply = {{"ok", true}, {"seq", r.seq}, {"full", false}};
  if (const uint64_t last = children_->LastSeq(sender); r.format >= 2 && last != 0) {
    if (r.seq < last) {
      return Refuse(409, "report " + std::to_string(r.seq) + " of " + sender +
                             " is older than the last one accepted (" + std::to_string(last) +
                             "): a replay");
    }
    if (r.seq == last) return HttpReply::Json(reply.dump());  // a retry, applied already
  }
  if (r.format < 2) return Stored(children_->Put(std::move(r.rollup)), reply);

  const int64_t now = static_cast<int64_t>(env_->NowMicros() / 1'000'000);
  auto known = store_->Node(sender);
  if (!known.ok()) return Refuse(500, known.status().ToString());
  std::vector<fleet::NodeState> states;
  states.reserve(r.subtree.size() + 1);
  fleet::NodeState self = std::move(r.state);
  self.parent = name_;
  self.reported_at = r.sent_at;
  self.seen_at = now;
  self.stale_after = 3 * r.report_every + kReportSlackSeconds;
  states.push_back(std::move(self));
  for (fleet::NodeState& n : r.subtree) {
    if (n.name == sender || n.name == name_) continue;  // of itself, or of us, its parent
    states.push_back(std::move(n));  // as the child vouches for it (node/upward_report.h)
  }
  if (Status s = store_->PutStates(states, now); !s.ok()) return Refuse(500, s.ToString());
  if (Status s = store_->PutUsage(sender, r.rollup.region, r.usage, now); !s.ok()) {
    return Refuse(500, s.ToString());
  }
  reply["full"] = !known->has_value() && !r.subtree_full;
  // Last: a report whose states could not be stored is not taken for applied.
  return Stored(children_->Put(std::move(r.rollup)), reply);
}

}  // namespace tiersync::node
