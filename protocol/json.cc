#include "protocol/json.h"

#include <algorithm>
#include <string>
#include <tuple>

namespace tiersync::protocol {

std::string_view JsonTypeName(JsonType type) {
  switch (type) {
    case JsonType::kNull:
      return "null";
    case JsonType::kBool:
      return "bool";
    case JsonType::kInt:
      return "integer";
    case JsonType::kString:
      return "string";
    case JsonType::kArray:
      return "array";
    case JsonType::kObject:
      return "object";
  }
  return "unknown";
}

Json Json::Object() {
  Json v;
  v.value_.emplace<JsonObject>();
  return v;
}

Json Json::Array() {
  Json v;
  v.value_.emplace<JsonArray>();
  return v;
}

namespace {

bool KeyLess(const JsonMember& member, std::string_view key) { return member.first < key; }

}  // namespace

const Json* Json::Find(std::string_view key) const {
  if (!is_object()) return nullptr;
  const JsonObject& members = as_object();
  auto it = std::lower_bound(members.begin(), members.end(), key, KeyLess);
  if (it == members.end() || it->first != key) return nullptr;
  return &it->second;
}

Json& Json::Set(std::string key, Json value) {
  assert(is_object());
  JsonObject& members = std::get<JsonObject>(value_);
  auto it = std::lower_bound(members.begin(), members.end(), key, KeyLess);
  if (it != members.end() && it->first == key) {
    it->second = std::move(value);
  } else {
    members.emplace(it, std::move(key), std::move(value));
  }
  return *this;
}

void Json::Push(Json value) {
  assert(is_array());
  std::get<JsonArray>(value_).push_back(std::move(value));
}

bool Json::operator==(const Json& other) const { return value_ == other.value_; }

// ---------------------------------------------------------------------------------------------
// Parsing

namespace {

constexpr size_t kMaxKeyBytesInMessage = 64;

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHighSurrogate(uint32_t u) { return u >= 0xD800 && u <= 0xDBFF; }
bool IsLowSurrogate(uint32_t u) { return u >= 0xDC00 && u <= 0xDFFF; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the UTF-8 sequence that starts with `lead` (>= 0x80), or 0 if it cannot start one.
// C0/C1 and F5..F7 are accepted here and rejected after decoding (overlong / too large), which
// gives more precise messages.
int Utf8SequenceLength(unsigned char lead) {
  if (lead >= 0xC0 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF7) return 4;
  return 0;
}

// Smallest code point that needs a sequence of `length` bytes.
uint32_t Utf8MinCodePoint(int length) { return length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000; }

// REQUIRES: cp <= 0x10FFFF and not a surrogate.
void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void AppendHexByte(unsigned char c, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 0xF]);
}

// Appends `s` as a quoted JSON string with the escapes EncodePretty() uses.
void AppendPrettyString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          *out += "\\u00";
          AppendHexByte(static_cast<unsigned char>(c), out);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// "'x'" for printable ASCII, "byte 0x1f" otherwise.
std::string DescribeByte(unsigned char c) {
  if (c >= 0x20 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "'";
  std::string s = "byte 0x";
  AppendHexByte(c, &s);
  return s;
}

// A key quoted for an error message, cut to kMaxKeyBytesInMessage at a UTF-8 boundary.
std::string QuoteKeyForMessage(std::string_view key) {
  bool cut = key.size() > kMaxKeyBytesInMessage;
  if (cut) {
    size_t n = kMaxKeyBytesInMessage;
    while (n > 0 && (static_cast<unsigned char>(key[n]) & 0xC0) == 0x80) --n;
    key = key.substr(0, n);
  }
  std::string s;
  AppendPrettyString(key, &s);
  if (cut) s += "...";
  return s;
}

// A recursive-descent parser for one document. One method per grammar rule; each leaves
// pos_ just past what it consumed. Recursion depth is bounded by limits_.max_depth.
class JsonParser {
 public:
  JsonParser(std::string_view text, const JsonLimits& limits) : text_(text), limits_(limits) {}

  Result<Json> ParseDocument();

 private:
  struct PendingMember {
    std::string key;
    Json value;
    size_t offset;  // of the key's opening quote
  };

  Result<Json> ParseValue(int depth);
  Result<Json> ParseArray(int depth);
  Result<Json> ParseObject(int depth);
  Status ParseMember(int depth, std::vector<PendingMember>* members);
  Result<Json> BuildObject(std::vector<PendingMember> members) const;
  Result<Json> ParseLiteral();
  Result<Json> ParseNumber();
  Result<std::string> ParseString();
  Status ParseEscape(std::string* out);
  Status ParseUnicodeEscape(size_t start, std::string* out);
  Result<uint32_t> ParseHex4();
  Status ParseUtf8(std::string* out);

  Status EnterContainer(int depth) const;
  Status CountValue();
  Status BadValueStart() const;
  void SkipWhitespace();
  bool Consume(char c);
  bool ConsumeWord(std::string_view word);
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }

  // kCorruption "json: <what> at offset <offset>".
  static Status Corrupt(std::string_view what, size_t offset);
  // Like Corrupt() at pos_, naming the byte found there (or the end of input).
  Status Unexpected(std::string_view expected) const;

  const std::string_view text_;
  const JsonLimits limits_;
  size_t pos_ = 0;
  size_t values_ = 0;
};

Status JsonParser::Corrupt(std::string_view what, size_t offset) {
  return CorruptionError("json: " + std::string(what) + " at offset " + std::to_string(offset));
}

Status JsonParser::Unexpected(std::string_view expected) const {
  std::string found = AtEnd() ? "end of input" : DescribeByte(Peek());
  return Corrupt(std::string(expected) + ", found " + found, pos_);
}

void JsonParser::SkipWhitespace() {
  while (!AtEnd() && IsWhitespace(Peek())) ++pos_;
}

bool JsonParser::Consume(char c) {
  if (AtEnd() || Peek() != c) return false;
  ++pos_;
  return true;
}

bool JsonParser::ConsumeWord(std::string_view word) {
  if (!text_.substr(pos_).starts_with(word)) return false;
  pos_ += word.size();
  return true;
}

Status JsonParser::EnterContainer(int depth) const {
  if (depth <= limits_.max_depth) return Status::Ok();
  return ResourceExhaustedError("json: nesting deeper than " + std::to_string(limits_.max_depth) +
                                " levels at offset " + std::to_string(pos_));
}

Status JsonParser::CountValue() {
  if (++values_ <= limits_.max_elements) return Status::Ok();
  return ResourceExhaustedError("json: more than " + std::to_string(limits_.max_elements) +
                                " values at offset " + std::to_string(pos_));
}

Result<Json> JsonParser::ParseDocument() {
  if (text_.size() > limits_.max_bytes) {
    return ResourceExhaustedError("json: input is " + std::to_string(text_.size()) +
                                  " bytes, limit " + std::to_string(limits_.max_bytes));
  }
  SkipWhitespace();
  if (AtEnd()) return Corrupt("empty input (no JSON value)", pos_);
  TS_ASSIGN_OR_RETURN(Json value, ParseValue(0));
  SkipWhitespace();
  if (!AtEnd()) return Corrupt("trailing data after the JSON value", pos_);
  return value;
}

// value = object / array / string / number / true / false / null
Result<Json> JsonParser::ParseValue(int depth) {
  SkipWhitespace();
  if (AtEnd()) return Unexpected("expected a value");
  TS_RETURN_IF_ERROR(CountValue());
  char c = Peek();
  if (c == '{') return ParseObject(depth + 1);
  if (c == '[') return ParseArray(depth + 1);
  if (c == '"') {
    TS_ASSIGN_OR_RETURN(std::string s, ParseString());
    return Json(std::move(s));
  }
  if (c == 't' || c == 'f' || c == 'n') return ParseLiteral();
  if (c == '-' || IsDigit(c)) return ParseNumber();
  return BadValueStart();
}

// Names the common non-JSON constructs precisely; REQUIRES: !AtEnd().
Status JsonParser::BadValueStart() const {
  switch (Peek()) {
    case '\'':
      return Corrupt("single-quoted strings are not JSON", pos_);
    case '/':
      return Corrupt("comments are not JSON", pos_);
    case 'N':
    case 'I':
      return Corrupt("NaN and Infinity are not JSON", pos_);
    case ']':
    case '}':
      return Unexpected("expected a value (trailing comma?)");
    default:
      return Unexpected("expected a value");
  }
}

// array = '[' [ value *( ',' value ) ] ']'
Result<Json> JsonParser::ParseArray(int depth) {
  TS_RETURN_IF_ERROR(EnterContainer(depth));
  ++pos_;  // '['
  Json array = Json::Array();
  SkipWhitespace();
  if (Consume(']')) return array;
  while (true) {
    TS_ASSIGN_OR_RETURN(Json element, ParseValue(depth));
    array.Push(std::move(element));
    SkipWhitespace();
    if (Consume(']')) return array;
    if (!Consume(',')) return Unexpected("expected ',' or ']' in array");
  }
}

// object = '{' [ member *( ',' member ) ] '}'
Result<Json> JsonParser::ParseObject(int depth) {
  TS_RETURN_IF_ERROR(EnterContainer(depth));
  ++pos_;  // '{'
  std::vector<PendingMember> members;
  SkipWhitespace();
  if (Consume('}')) return Json::Object();
  do {
    TS_RETURN_IF_ERROR(ParseMember(depth, &members));
    SkipWhitespace();
  } while (Consume(','));
  if (!Consume('}')) return Unexpected("expected ',' or '}' in object");
  return BuildObject(std::move(members));
}

// member = string ':' value
Status JsonParser::ParseMember(int depth, std::vector<PendingMember>* members) {
  SkipWhitespace();
  if (AtEnd() || Peek() != '"') {
    if (!AtEnd() && Peek() == '}') return Unexpected("expected a key (trailing comma?)");
    if (!AtEnd() && Peek() == '\'') return Corrupt("single-quoted strings are not JSON", pos_);
    return Unexpected("expected a double-quoted key");
  }
  size_t offset = pos_;
  TS_ASSIGN_OR_RETURN(std::string key, ParseString());
  SkipWhitespace();
  if (!Consume(':')) return Unexpected("expected ':' after object key");
  TS_ASSIGN_OR_RETURN(Json value, ParseValue(depth));
  members->push_back({std::move(key), std::move(value), offset});
  return Status::Ok();
}

// Sorts the members by key, rejects duplicates (naming the first repeated key in text order),
// and builds the object. O(n log n), so huge objects cannot cause quadratic work.
Result<Json> JsonParser::BuildObject(std::vector<PendingMember> members) const {
  std::sort(members.begin(), members.end(), [](const PendingMember& a, const PendingMember& b) {
    return std::tie(a.key, a.offset) < std::tie(b.key, b.offset);
  });
  const PendingMember* duplicate = nullptr;
  for (size_t i = 1; i < members.size(); ++i) {
    if (members[i].key != members[i - 1].key) continue;
    if (duplicate == nullptr || members[i].offset < duplicate->offset) duplicate = &members[i];
  }
  if (duplicate != nullptr) {
    return Corrupt("duplicate key " + QuoteKeyForMessage(duplicate->key), duplicate->offset);
  }
  Json object = Json::Object();
  for (PendingMember& m : members) object.Set(std::move(m.key), std::move(m.value));
  return object;
}

// true / false / null
Result<Json> JsonParser::ParseLiteral() {
  if (ConsumeWord("true")) return Json(true);
  if (ConsumeWord("false")) return Json(false);
  if (ConsumeWord("null")) return Json();
  return Corrupt("invalid literal (expected true, false or null)", pos_);
}

// number = [ '-' ] ( '0' / [1-9] *DIGIT ), fitting int64; fractions and exponents rejected.
Result<Json> JsonParser::ParseNumber() {
  const size_t start = pos_;
  const bool negative = Consume('-');
  if (AtEnd() || !IsDigit(Peek())) return Unexpected("invalid number: expected a digit");
  if (Peek() == '0' && pos_ + 1 < text_.size() && IsDigit(text_[pos_ + 1])) {
    return Corrupt("number with a leading zero", start);
  }
  const uint64_t limit = negative ? uint64_t{1} << 63 : uint64_t{INT64_MAX};
  uint64_t magnitude = 0;
  for (; !AtEnd() && IsDigit(Peek()); ++pos_) {
    const uint64_t digit = static_cast<uint64_t>(Peek() - '0');
    if (magnitude > (limit - digit) / 10) return Corrupt("integer out of int64 range", start);
    magnitude = magnitude * 10 + digit;
  }
  if (!AtEnd() && (Peek() == '.' || Peek() == 'e' || Peek() == 'E')) {
    return Corrupt("floating-point numbers are not supported (integers only)", start);
  }
  if (negative && magnitude == 0) return Corrupt("negative zero is not allowed", start);
  // Two's-complement wrap is well defined in C++20 and yields INT64_MIN for 2^63.
  return Json(negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude));
}

// string = '"' *char '"', decoded to UTF-8.
Result<std::string> JsonParser::ParseString() {
  const size_t start = pos_;
  ++pos_;  // '"'
  std::string out;
  while (true) {
    if (AtEnd()) return Corrupt("unterminated string", start);
    const unsigned char c = static_cast<unsigned char>(Peek());
    if (c == '"') {
      ++pos_;
      return out;
    }
    if (c == '\\') {
      TS_RETURN_IF_ERROR(ParseEscape(&out));
    } else if (c < 0x20) {
      return Corrupt("raw control character " + DescribeByte(c) + " in string", pos_);
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++pos_;
    } else {
      TS_RETURN_IF_ERROR(ParseUtf8(&out));
    }
    if (out.size() > limits_.max_string_bytes) {
      return ResourceExhaustedError("json: string longer than " +
                                    std::to_string(limits_.max_string_bytes) + " bytes at offset " +
                                    std::to_string(start));
    }
  }
}

// escape = '\' ( '"' / '\' / '/' / 'b' / 'f' / 'n' / 'r' / 't' / 'u' 4HEXDIG )
Status JsonParser::ParseEscape(std::string* out) {
  const size_t start = pos_;
  ++pos_;  // '\'
  if (AtEnd()) return Corrupt("unterminated escape sequence", start);
  const char c = text_[pos_++];
  switch (c) {
    case '"':
    case '\\':
    case '/':
      out->push_back(c);
      return Status::Ok();
    case 'b':
      out->push_back('\b');
      return Status::Ok();
    case 'f':
      out->push_back('\f');
      return Status::Ok();
    case 'n':
      out->push_back('\n');
      return Status::Ok();
    case 'r':
      out->push_back('\r');
      return Status::Ok();
    case 't':
      out->push_back('\t');
      return Status::Ok();
    case 'u':
      return ParseUnicodeEscape(start, out);
    default:
      return Corrupt("invalid escape sequence \\" + DescribeByte(c), start);
  }
}

// \uXXXX, or a surrogate pair \uD8xx\uDCxx; `start` is the offset of the first '\'.
Status JsonParser::ParseUnicodeEscape(size_t start, std::string* out) {
  TS_ASSIGN_OR_RETURN(uint32_t unit, ParseHex4());
  if (IsLowSurrogate(unit)) return Corrupt("lone low surrogate in \\u escape", start);
  if (IsHighSurrogate(unit)) {
    if (!ConsumeWord("\\u")) return Corrupt("lone high surrogate in \\u escape", start);
    TS_ASSIGN_OR_RETURN(uint32_t low, ParseHex4());
    if (!IsLowSurrogate(low)) return Corrupt("lone high surrogate in \\u escape", start);
    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
  }
  AppendUtf8(unit, out);
  return Status::Ok();
}

Result<uint32_t> JsonParser::ParseHex4() {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i, ++pos_) {
    const int digit = AtEnd() ? -1 : HexValue(Peek());
    if (digit < 0) return Unexpected("expected a hex digit in \\u escape");
    value = (value << 4) | static_cast<uint32_t>(digit);
  }
  return value;
}

// One multi-byte UTF-8 sequence, copied through after validation. REQUIRES: Peek() >= 0x80.
Status JsonParser::ParseUtf8(std::string* out) {
  const size_t start = pos_;
  const unsigned char lead = static_cast<unsigned char>(Peek());
  const int length = Utf8SequenceLength(lead);
  if (length == 0) return Corrupt("invalid UTF-8 lead " + DescribeByte(lead), start);
  if (text_.size() - pos_ < static_cast<size_t>(length)) {
    return Corrupt("truncated UTF-8 sequence", start);
  }
  uint32_t cp = lead & (0x7Fu >> length);
  for (int i = 1; i < length; ++i) {
    const unsigned char c = static_cast<unsigned char>(text_[pos_ + i]);
    if ((c & 0xC0) != 0x80) return Corrupt("truncated UTF-8 sequence", start);
    cp = (cp << 6) | (c & 0x3Fu);
  }
  if (cp < Utf8MinCodePoint(length)) return Corrupt("overlong UTF-8 encoding", start);
  if (cp >= 0xD800 && cp <= 0xDFFF) return Corrupt("UTF-8-encoded surrogate", start);
  if (cp > 0x10FFFF) return Corrupt("UTF-8 code point above U+10FFFF", start);
  out->append(text_.substr(pos_, static_cast<size_t>(length)));
  pos_ += static_cast<size_t>(length);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Encoding

void AppendCanonicalString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendCanonical(const Json& v, std::string* out);

void AppendCanonicalArray(const JsonArray& array, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < array.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendCanonical(array[i], out);
  }
  out->push_back(']');
}

void AppendCanonicalObject(const JsonObject& object, std::string* out) {
  out->push_back('{');
  for (size_t i = 0; i < object.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendCanonicalString(object[i].first, out);
    out->push_back(':');
    AppendCanonical(object[i].second, out);
  }
  out->push_back('}');
}

// Scalars are written the same way by both encoders except for strings.
void AppendScalar(const Json& v, std::string* out) {
  switch (v.type()) {
    case JsonType::kNull:
      *out += "null";
      break;
    case JsonType::kBool:
      *out += v.as_bool() ? "true" : "false";
      break;
    case JsonType::kInt:
      *out += std::to_string(v.as_int());
      break;
    default:
      assert(false);
  }
}

void AppendCanonical(const Json& v, std::string* out) {
  switch (v.type()) {
    case JsonType::kString:
      AppendCanonicalString(v.as_string(), out);
      break;
    case JsonType::kArray:
      AppendCanonicalArray(v.as_array(), out);
      break;
    case JsonType::kObject:
      AppendCanonicalObject(v.as_object(), out);
      break;
    default:
      AppendScalar(v, out);
  }
}

void AppendPretty(const Json& v, int indent, std::string* out);

void AppendNewline(int indent, std::string* out) {
  out->push_back('\n');
  out->append(static_cast<size_t>(indent), ' ');
}

void AppendPrettyArray(const JsonArray& array, int indent, std::string* out) {
  if (array.empty()) {
    *out += "[]";
    return;
  }
  out->push_back('[');
  for (size_t i = 0; i < array.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendNewline(indent + 2, out);
    AppendPretty(array[i], indent + 2, out);
  }
  AppendNewline(indent, out);
  out->push_back(']');
}

void AppendPrettyObject(const JsonObject& object, int indent, std::string* out) {
  if (object.empty()) {
    *out += "{}";
    return;
  }
  out->push_back('{');
  for (size_t i = 0; i < object.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendNewline(indent + 2, out);
    AppendPrettyString(object[i].first, out);
    *out += ": ";
    AppendPretty(object[i].second, indent + 2, out);
  }
  AppendNewline(indent, out);
  out->push_back('}');
}

void AppendPretty(const Json& v, int indent, std::string* out) {
  switch (v.type()) {
    case JsonType::kString:
      AppendPrettyString(v.as_string(), out);
      break;
    case JsonType::kArray:
      AppendPrettyArray(v.as_array(), indent, out);
      break;
    case JsonType::kObject:
      AppendPrettyObject(v.as_object(), indent, out);
      break;
    default:
      AppendScalar(v, out);
  }
}

}  // namespace

Result<Json> ParseJson(std::string_view text, const JsonLimits& limits) {
  return JsonParser(text, limits).ParseDocument();
}

std::string EncodeCanonical(const Json& v) {
  std::string out;
  AppendCanonical(v, &out);
  return out;
}

std::string EncodePretty(const Json& v) {
  std::string out;
  AppendPretty(v, 0, &out);
  out.push_back('\n');
  return out;
}

}  // namespace tiersync::protocol
