// JSON values, a strict parser, and the two encoders TUF metadata needs.
//
// TUF 1.0 signs the OLPC canonical JSON form of a metadata file's "signed" object, exactly as
// securesystemslib.formats.encode_canonical produces it. EncodeCanonical() reproduces that
// byte for byte; EncodePretty() writes human-readable files that ParseJson() reads back.
//
// ParseJson() is deliberately strict (lesson of apt CVE-2016-1252: parse exactly the bytes
// that are verified, leave nothing ambiguous). On top of RFC 8259 it rejects:
//   * duplicate keys in any object,
//   * anything but whitespace (space, \t, \n, \r) after the one top-level value,
//   * numbers that are not int64 integers (fractions, exponents, "-0", leading zeros,
//     out-of-range values), and NaN/Infinity,
//   * lone or mismatched UTF-16 surrogates in \u escapes, raw control characters (< 0x20) in
//     strings, and invalid UTF-8 (overlong forms, encoded surrogates, > U+10FFFF, truncated).
// "\u0000" is accepted and kept as a NUL byte. Every syntax error is kCorruption with a
// message "json: <what is wrong> at offset <byte offset>"; exceeding a JsonLimits bound is
// kResourceExhausted.
//
// Note that canonical JSON is not itself strict JSON: EncodeCanonical() emits control
// characters raw, so ParseJson(EncodeCanonical(v)) fails when a string in v holds a byte
// < 0x20. Signatures are checked over EncodeCanonical(parsed value), never over file bytes.
#ifndef TIERSYNC_PROTOCOL_JSON_H_
#define TIERSYNC_PROTOCOL_JSON_H_

#include <cassert>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"

namespace tiersync::protocol {

// The order matches the alternatives of Json's storage; do not reorder.
enum class JsonType : uint8_t { kNull, kBool, kInt, kString, kArray, kObject };

// "null", "bool", "integer", "string", "array", "object" (for error messages).
std::string_view JsonTypeName(JsonType type);

class Json;
using JsonArray = std::vector<Json>;
using JsonMember = std::pair<std::string, Json>;
// Object members, kept sorted by key bytes (unsigned byte order, which for UTF-8 equals code
// point order) with unique keys.
using JsonObject = std::vector<JsonMember>;

// A JSON value: null, bool, int64 integer, string (UTF-8 bytes), array or object.
//
// A plain value type: copies are deep, moves are cheap. Once built it is only changed through
// Set() and Push(). Values produced by ParseJson() are at most JsonLimits::max_depth deep;
// copying, comparing, encoding and destroying recurse once per nesting level, so callers that
// build values by hand should keep them similarly shallow.
//
// Thread safety: const methods may be called concurrently; Set()/Push() need exclusive access.
class Json {
 public:
  // null.
  Json() = default;
  Json(std::nullptr_t) {}  // NOLINT(google-explicit-constructor)

  // Conversions are implicit so that `obj.Set("version", 1)` reads naturally. The bool
  // overload accepts only bool (not pointers or integers).
  template <std::same_as<bool> B>
  Json(B b) : value_(static_cast<bool>(b)) {}  // NOLINT(google-explicit-constructor)

  // REQUIRES: the value fits in int64_t.
  template <std::integral I>
  requires(!std::same_as<I, bool> && !std::same_as<I, char>) Json(I i)
      : value_(static_cast<int64_t>(i)) {  // NOLINT(google-explicit-constructor)
    assert(std::in_range<int64_t>(i));
  }

  // Strings hold UTF-8 bytes. Only valid UTF-8 survives EncodePretty() -> ParseJson().
  Json(std::string s) : value_(std::move(s)) {}         // NOLINT(google-explicit-constructor)
  Json(std::string_view s) : value_(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  Json(const char* s) : value_(std::string(s)) {}       // NOLINT(google-explicit-constructor)

  // An empty object / an empty array.
  static Json Object();
  static Json Array();

  JsonType type() const { return static_cast<JsonType>(value_.index()); }
  bool is_null() const { return type() == JsonType::kNull; }
  bool is_bool() const { return type() == JsonType::kBool; }
  bool is_int() const { return type() == JsonType::kInt; }
  bool is_string() const { return type() == JsonType::kString; }
  bool is_array() const { return type() == JsonType::kArray; }
  bool is_object() const { return type() == JsonType::kObject; }

  // REQUIRES: the matching is_*() is true.
  bool as_bool() const { return std::get<bool>(value_); }
  int64_t as_int() const { return std::get<int64_t>(value_); }
  const std::string& as_string() const { return std::get<std::string>(value_); }
  const JsonArray& as_array() const { return std::get<JsonArray>(value_); }
  // Members in byte-wise key order.
  const JsonObject& as_object() const { return std::get<JsonObject>(value_); }

  // The member named `key`, or nullptr if there is none or this is not an object.
  // The pointer is valid until this value is next changed or destroyed. O(log n).
  const Json* Find(std::string_view key) const;

  // Adds member `key`, replacing any member of that name. Returns *this for chaining.
  // REQUIRES: is_object().
  Json& Set(std::string key, Json value);

  // Appends an element. REQUIRES: is_array().
  void Push(Json value);

  // Deep equality. Types must match: true != 1, "1" != 1.
  bool operator==(const Json& other) const;

 private:
  std::variant<std::monostate, bool, int64_t, std::string, JsonArray, JsonObject> value_;
};

// Bounds on ParseJson()'s input. Exceeding any of them is kResourceExhausted.
struct JsonLimits {
  size_t max_bytes = 16 << 20;        // size of the whole input text
  int max_depth = 64;                 // nesting of arrays/objects; "[]" has depth 1
  size_t max_string_bytes = 1 << 20;  // decoded bytes of any one string or key
  size_t max_elements = 1'000'000;    // values in the document (scalars and containers)
};

// Parses `text`, which must hold exactly one JSON value (see the file comment for the rules).
// Stack use is proportional to limits.max_depth, never to the input.
// Thread safety: safe to call concurrently.
Result<Json> ParseJson(std::string_view text, const JsonLimits& limits = {});

// OLPC canonical JSON, byte-identical to securesystemslib.formats.encode_canonical: no
// whitespace, keys in byte order, strings quoted with only '"' and '\' escaped (every other
// byte raw), integers in decimal, true/false/null.
std::string EncodeCanonical(const Json& v);

// Human-readable JSON: 2-space indentation, keys in byte order, control characters escaped,
// UTF-8 kept raw, a trailing newline. ParseJson() reads it back to an equal value provided all
// strings are valid UTF-8 and the value is within the default JsonLimits.
std::string EncodePretty(const Json& v);

}  // namespace tiersync::protocol

#endif  // TIERSYNC_PROTOCOL_JSON_H_
