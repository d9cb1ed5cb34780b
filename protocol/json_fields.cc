#include "protocol/json_fields.h"

#include <algorithm>
#include <set>

namespace tiersync::protocol {

Status JsonFields::Bad(std::string_view field, std::string_view what) const {
  return Status(code_, prefix_ + std::string(field) + ": " + std::string(what));
}

Status JsonFields::IsObject() const {
  return obj_.is_object() ? Status::Ok() : Bad(where_, "is not a JSON object");
}

Status JsonFields::OnlyKnown(const std::vector<std::string_view>& allowed) const {
  if (!obj_.is_object()) return IsObject();
  for (const auto& [key, value] : obj_.as_object()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Bad(Field(key), "unknown field");
    }
  }
  return Status::Ok();
}

Result<const Json*> JsonFields::Get(std::string_view name) const {
  const Json* v = obj_.Find(name);
  if (v == nullptr) return Bad(where_, "missing field \"" + std::string(name) + "\"");
  return v;
}

Result<std::string> JsonFields::String(std::string_view name) const {
  TS_ASSIGN_OR_RETURN(const Json* v, Get(name));
  if (!v->is_string()) return Bad(Field(name), "is not a string");
  return v->as_string();
}

Result<int64_t> JsonFields::Int(std::string_view name) const {
  TS_ASSIGN_OR_RETURN(const Json* v, Get(name));
  if (!v->is_int()) return Bad(Field(name), "is not an integer");
  return v->as_int();
}

Result<uint64_t> JsonFields::Uint(std::string_view name, uint64_t min) const {
  TS_ASSIGN_OR_RETURN(const Json* v, Get(name));
  if (!v->is_int() || v->as_int() < 0 || static_cast<uint64_t>(v->as_int()) < min) {
    return Bad(Field(name), "is not an integer >= " + std::to_string(min));
  }
  return static_cast<uint64_t>(v->as_int());
}

Result<bool> JsonFields::Bool(std::string_view name) const {
  TS_ASSIGN_OR_RETURN(const Json* v, Get(name));
  if (!v->is_bool()) return Bad(Field(name), "is not a boolean");
  return v->as_bool();
}

Result<const Json*> JsonFields::Object(std::string_view name) const {
  TS_ASSIGN_OR_RETURN(const Json* v, Get(name));
  if (!v->is_object()) return Bad(Field(name), "is not an object");
  return v;
}

Result<const Json*> JsonFields::Array(std::string_view name) const {
  TS_ASSIGN_OR_RETURN(const Json* v, Get(name));
  if (!v->is_array()) return Bad(Field(name), "is not an array");
  return v;
}

Result<std::vector<std::string>> JsonFields::StringList(std::string_view name, bool unique) const {
  TS_ASSIGN_OR_RETURN(const Json* v, Array(name));
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const Json& e : v->as_array()) {
    if (!e.is_string()) return Bad(Field(name), "has an element that is not a string");
    if (unique && !seen.insert(e.as_string()).second) {
      return Bad(Field(name), "lists \"" + e.as_string() + "\" twice");
    }
    out.push_back(e.as_string());
  }
  return out;
}

}  // namespace tiersync::protocol
