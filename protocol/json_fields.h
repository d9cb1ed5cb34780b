// JsonFields: typed access to the members of one JSON object, with error messages that name
// the offending field by its full path ("<prefix><where>.<field>: <what is wrong>").
//
// Used by every strict format parser built on protocol/json.h (TUF metadata, catalog records)
// so that each reports bad input the same way. Errors carry the code given at construction
// (kCorruption for signed metadata, kInvalidArgument for records an author wrote).
#ifndef TIERSYNC_PROTOCOL_JSON_FIELDS_H_
#define TIERSYNC_PROTOCOL_JSON_FIELDS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "protocol/json.h"

namespace tiersync::protocol {

class JsonFields {
 public:
  // `obj` must outlive this. `where` names the object ("resource abc", "root.signed").
  JsonFields(const Json& obj, std::string where, StatusCode code, std::string prefix)
      : obj_(obj), where_(std::move(where)), code_(code), prefix_(std::move(prefix)) {}

  // An error about `field` (a full path such as Field("title")).
  Status Bad(std::string_view field, std::string_view what) const;

  Status IsObject() const;
  // Fails naming the first member not in `allowed` (strict formats refuse unknown fields).
  Status OnlyKnown(const std::vector<std::string_view>& allowed) const;

  Result<const Json*> Get(std::string_view name) const;
  Result<std::string> String(std::string_view name) const;
  Result<int64_t> Int(std::string_view name) const;
  Result<uint64_t> Uint(std::string_view name, uint64_t min) const;
  Result<bool> Bool(std::string_view name) const;
  Result<const Json*> Object(std::string_view name) const;
  Result<const Json*> Array(std::string_view name) const;
  // An array of strings; with `unique`, a repeated element is an error.
  Result<std::vector<std::string>> StringList(std::string_view name, bool unique) const;

  bool Has(std::string_view name) const { return obj_.Find(name) != nullptr; }
  // The full path of member `name`.
  std::string Field(std::string_view name) const { return where_ + "." + std::string(name); }
  const std::string& where() const { return where_; }

 private:
  const Json& obj_;
  std::string where_;
  StatusCode code_;
  std::string prefix_;
};

}  // namespace tiersync::protocol

#endif  // TIERSYNC_PROTOCOL_JSON_FIELDS_H_
