#include "access/audit_entry.h"

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "protocol/json.h"
#include "protocol/json_fields.h"
#include "protocol/tuf_time.h"

namespace tiersync::access {
namespace {

std::string Cut(std::string_view s, size_t limit) {
  if (s.size() <= limit) return std::string(s);
  return std::string(s.substr(0, limit - 3)) + "...";
}

bool IsHash(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

std::string EncodeAuditLine(const AuditEntry& e) {
  nlohmann::ordered_json j;
  j["seq"] = e.seq;
  j["time"] = protocol::FormatTufTime(e.time);
  j["operator"] = Cut(e.operator_name, kMaxAuditNameBytes);
  j["role"] = Cut(e.role, kMaxAuditNameBytes);
  j["action"] = Cut(e.action, kMaxAuditNameBytes);
  j["target"] = Cut(e.target, kMaxAuditTextBytes);
  j["from"] = Cut(e.from, kMaxAuditNameBytes);
  j["outcome"] = Cut(e.outcome, kMaxAuditTextBytes);
  j["prev"] = e.prev;
  // Compact, UTF-8 kept, control characters escaped (so no newline inside), bad UTF-8 replaced.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<AuditEntry> DecodeAuditLine(std::string_view line) {
  protocol::JsonLimits limits;
  limits.max_bytes = kMaxAuditLineBytes;
  limits.max_depth = 2;
  TS_ASSIGN_OR_RETURN(protocol::Json j, protocol::ParseJson(line, limits));
  protocol::JsonFields f(j, "audit line", StatusCode::kCorruption, "");
  TS_RETURN_IF_ERROR(f.IsObject());
  TS_RETURN_IF_ERROR(f.OnlyKnown(
      {"seq", "time", "operator", "role", "action", "target", "from", "outcome", "prev"}));
  AuditEntry e;
  TS_ASSIGN_OR_RETURN(e.seq, f.Uint("seq", 1));
  TS_ASSIGN_OR_RETURN(std::string time, f.String("time"));
  auto t = protocol::ParseTufTime(time);
  if (!t.ok()) return f.Bad(f.Field("time"), "not an RFC 3339 UTC time");
  e.time = *t;
  TS_ASSIGN_OR_RETURN(e.operator_name, f.String("operator"));
  TS_ASSIGN_OR_RETURN(e.role, f.String("role"));
  TS_ASSIGN_OR_RETURN(e.action, f.String("action"));
  TS_ASSIGN_OR_RETURN(e.target, f.String("target"));
  TS_ASSIGN_OR_RETURN(e.from, f.String("from"));
  TS_ASSIGN_OR_RETURN(e.outcome, f.String("outcome"));
  TS_ASSIGN_OR_RETURN(e.prev, f.String("prev"));
  if (!IsHash(e.prev)) return f.Bad(f.Field("prev"), "not 64 lower-case hex digits");
  return e;
}

std::string AuditLineHash(std::string_view line) {
  return ToHex(Sha256({reinterpret_cast<const uint8_t*>(line.data()), line.size()}));
}

}  // namespace tiersync::access
