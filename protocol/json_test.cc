#include "protocol/json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace tiersync::protocol {
namespace {

using std::string_literals::operator""s;

Json MustParse(std::string_view text) {
  Result<Json> r = ParseJson(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << " for input: " << text;
  return r.ok() ? *r : Json();
}

// Parses `text` expecting failure with `code`; returns the message.
std::string ParseError(std::string_view text, StatusCode code = StatusCode::kCorruption,
                       const JsonLimits& limits = {}) {
  Result<Json> r = ParseJson(text, limits);
  EXPECT_FALSE(r.ok()) << "accepted: " << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  return r.status().message();
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// ----- Values and builders -----

TEST(JsonTest, BuildersAndAccessors) {
  Json obj = Json::Object();
  obj.Set("b", 1).Set("a", "x").Set("c", true).Set("n", nullptr);
  Json arr = Json::Array();
  arr.Push(int64_t{-5});
  arr.Push(std::string("s"));
  obj.Set("arr", arr);

  ASSERT_TRUE(obj.is_object());
  EXPECT_EQ(obj.Find("b")->as_int(), 1);
  EXPECT_EQ(obj.Find("a")->as_string(), "x");
  EXPECT_TRUE(obj.Find("c")->as_bool());
  EXPECT_TRUE(obj.Find("n")->is_null());
  EXPECT_EQ(obj.Find("arr")->as_array().size(), 2u);
  EXPECT_EQ(obj.Find("missing"), nullptr);
  EXPECT_EQ(Json(1).Find("a"), nullptr);

  // Iteration is in key byte order.
  std::string keys;
  for (const auto& [k, v] : obj.as_object()) keys += k;
  EXPECT_EQ(keys, "aarrbcn");
}

TEST(JsonTest, SetReplacesExistingKey) {
  Json obj = Json::Object();
  obj.Set("version", 1).Set("version", 2);
  EXPECT_EQ(obj.as_object().size(), 1u);
  EXPECT_EQ(obj.Find("version")->as_int(), 2);
}

TEST(JsonTest, EqualityIsTypeStrict) {
  EXPECT_NE(Json(true), Json(1));
  EXPECT_NE(Json("1"), Json(1));
  EXPECT_NE(Json(), Json(false));
  EXPECT_EQ(Json(0), Json(int64_t{0}));
  EXPECT_EQ(MustParse(R"({"a":[1,{"b":null}]})"),
            MustParse(R"( { "a" : [ 1 , { "b" : null } ] } )"));
  EXPECT_NE(MustParse(R"({"a":[1]})"), MustParse(R"({"a":[1,2]})"));
}

TEST(JsonTest, KeysSortByUnsignedBytes) {
  // U+00E9 (0xC3 0xA9) must sort after ASCII 'z' (0x7A), as in code point order.
  Json v = MustParse("{\"\xc3\xa9\":1,\"z\":2,\"A\":3}");
  EXPECT_EQ(EncodeCanonical(v), "{\"A\":3,\"z\":2,\"\xc3\xa9\":1}");
}

// ----- Parsing: accepted input -----

TEST(JsonTest, ParsesScalars) {
  EXPECT_EQ(MustParse("null"), Json());
  EXPECT_EQ(MustParse("true"), Json(true));
  EXPECT_EQ(MustParse("false"), Json(false));
  EXPECT_EQ(MustParse("0"), Json(0));
  EXPECT_EQ(MustParse("-12"), Json(-12));
  EXPECT_EQ(MustParse(" \t\r\n\"x\" \n"), Json("x"));
}

TEST(JsonTest, ParsesInt64Extremes) {
  EXPECT_EQ(MustParse("9223372036854775807").as_int(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(MustParse("-9223372036854775808").as_int(), std::numeric_limits<int64_t>::min());
}

TEST(JsonTest, DecodesAllEscapes) {
  EXPECT_EQ(MustParse(R"("\"\\\/\b\f\n\r\t")").as_string(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(MustParse(R"("\u0041\u00e9\u00E9")").as_string(), "A\xc3\xa9\xc3\xa9");
}

TEST(JsonTest, NulViaEscapeIsKept) {
  Json v = MustParse(R"("a\u0000b")");
  EXPECT_EQ(v.as_string(), "a\0b"s);
  EXPECT_EQ(EncodeCanonical(v), "\"a\0b\""s);
  EXPECT_EQ(MustParse(EncodePretty(v)), v);
}

TEST(JsonTest, ChineseRawAndEscapedDecodeEqual) {
  const char* raw = "\"国家智慧教育平台\"";
  const char* escaped = R"("\u56fd\u5bb6\u667a\u6167\u6559\u80b2\u5e73\u53f0")";
  Json a = MustParse(raw);
  Json b = MustParse(escaped);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.as_string(), "国家智慧教育平台");
  EXPECT_EQ(EncodeCanonical(b), raw);  // UTF-8 emitted raw, never \u-escaped
  EXPECT_EQ(EncodePretty(b), std::string(raw) + "\n");
}

TEST(JsonTest, SurrogatePairDecodesToUtf8) {
  EXPECT_EQ(MustParse(R"("\ud83d\ude00")").as_string(), "\xf0\x9f\x98\x80");  // U+1F600
  EXPECT_EQ(MustParse(R"("\uDBFF\uDFFF")").as_string(), "\xf4\x8f\xbf\xbf");  // U+10FFFF
}

TEST(JsonTest, AcceptsValidMultiByteUtf8) {
  EXPECT_EQ(MustParse("\"\xc2\x80\xdf\xbf\"").as_string(), "\xc2\x80\xdf\xbf");
  EXPECT_EQ(MustParse("\"\xe0\xa0\x80\xef\xbf\xbf\"").as_string().size(), 6u);
  EXPECT_EQ(MustParse("\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"").as_string().size(), 8u);
}

// ----- Encoders -----

TEST(JsonTest, CanonicalKnownInput) {
  Json v = MustParse(R"({"b":1,"a":[true,null,"x\"y\\z"]})");
  EXPECT_EQ(EncodeCanonical(v), R"({"a":[true,null,"x\"y\\z"],"b":1})");
}

TEST(JsonTest, CanonicalEmitsControlCharactersRaw) {
  Json v = MustParse(R"({"k":"line1\nline2\t\u001f"})");
  EXPECT_EQ(EncodeCanonical(v), "{\"k\":\"line1\nline2\t\x1f\"}");
}

TEST(JsonTest, CanonicalTufShapedDocument) {
  Json v = MustParse(R"({
    "_type": "timestamp", "spec_version": "1.0.0", "version": 7,
    "expires": "2030-01-01T00:00:00Z",
    "meta": {"snapshot.json": {"version": 7, "length": 515, "hashes": {"sha256": "ab"}}}
  })");
  EXPECT_EQ(EncodeCanonical(v),
            R"({"_type":"timestamp","expires":"2030-01-01T00:00:00Z","meta":{"snapshot.json":)"
            R"({"hashes":{"sha256":"ab"},"length":515,"version":7}},"spec_version":"1.0.0",)"
            R"("version":7})");
}

TEST(JsonTest, CanonicalEmptyContainersAndNegatives) {
  EXPECT_EQ(EncodeCanonical(MustParse(R"({"a":{},"b":[],"c":-9223372036854775808})")),
            R"({"a":{},"b":[],"c":-9223372036854775808})");
}

TEST(JsonTest, CanonicalIsFixedPoint) {
  const std::string canonical = EncodeCanonical(MustParse(R"( {"z":[1, 2, {"y":"\u00e9"}]} )"));
  EXPECT_EQ(EncodeCanonical(MustParse(canonical)), canonical);
}

TEST(JsonTest, PrettyLayout) {
  Json v = MustParse(R"({"b":[1,{}],"a":"x","c":[]})");
  EXPECT_EQ(EncodePretty(v),
            "{\n"
            "  \"a\": \"x\",\n"
            "  \"b\": [\n"
            "    1,\n"
            "    {}\n"
            "  ],\n"
            "  \"c\": []\n"
            "}\n");
}

TEST(JsonTest, PrettyEscapesControlCharacters) {
  Json v("q\"b\\\n\r\t\b\f\x01\x1f\x7f/");
  EXPECT_EQ(EncodePretty(v), "\"q\\\"b\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\x7f/\"\n");
  EXPECT_EQ(MustParse(EncodePretty(v)), v);
}

TEST(JsonTest, PrettyRoundTrip) {
  const char* inputs[] = {
      R"({"b":1,"a":[true,null,"x\"y\\z"]})",
      R"([[],[[]],{},{"":""}])",
      (R"({"signed":{"keys":{"k1":{"keytype":"ed25519","keyval":{"public":"00"}}}},)"
       R"("signatures":[{"keyid":"k1","sig":"ff"}]})"),
      "\"\\u0000\\u001f\xe5\x9b\xbd\\ud83d\\ude00\"",
      "-9223372036854775808",
  };
  for (const char* input : inputs) {
    Json v = MustParse(input);
    EXPECT_EQ(MustParse(EncodePretty(v)), v) << input;
  }
}

// ----- Rejections: structure -----

TEST(JsonTest, DuplicateKey) {
  std::string msg = ParseError(R"({"version":1,"version":2})");
  EXPECT_TRUE(Contains(msg, "duplicate key \"version\"")) << msg;
  EXPECT_TRUE(Contains(msg, "at offset 13")) << msg;
}

TEST(JsonTest, DuplicateKeyNested) {
  std::string msg = ParseError(R"({"a":{"b":{"x":1,"y":2,"x":3}}})");
  EXPECT_TRUE(Contains(msg, "duplicate key \"x\" at offset 23")) << msg;
}

TEST(JsonTest, DuplicateKeyReportsFirstRepeatInTextOrder) {
  // "z" repeats before "a" does, although "a" sorts first.
  std::string msg = ParseError(R"({"z":1,"z":2,"a":3,"a":4})");
  EXPECT_TRUE(Contains(msg, "duplicate key \"z\" at offset 7")) << msg;
}

TEST(JsonTest, DuplicateKeyViaEscapes) {
  // Same key once raw, once escaped: still a duplicate after decoding.
  std::string msg = ParseError(R"({"ab":1,"\u0061b":2})");
  EXPECT_TRUE(Contains(msg, "duplicate key \"ab\"")) << msg;
}

TEST(JsonTest, TrailingData) {
  std::string msg = ParseError(R"({"a":1} {"a":2})");
  EXPECT_TRUE(Contains(msg, "trailing data")) << msg;
  EXPECT_TRUE(Contains(msg, "offset 8")) << msg;
  ParseError("1 2");
  ParseError("nullx");
  ParseError("{}\n\0"s);
}

TEST(JsonTest, TrailingComma) {
  EXPECT_TRUE(Contains(ParseError("[1,2,]"), "trailing comma"));
  EXPECT_TRUE(Contains(ParseError(R"({"a":1,})"), "trailing comma"));
}

TEST(JsonTest, MissingSeparators) {
  ParseError("[1 2]");
  ParseError(R"({"a" 1})");
  ParseError(R"({"a":1 "b":2})");
  ParseError("[,1]");
  ParseError("{1:2}");
  ParseError("[1,2");
  ParseError(R"({"a":1)");
}

TEST(JsonTest, EmptyInput) {
  EXPECT_TRUE(Contains(ParseError(""), "empty input"));
  EXPECT_TRUE(Contains(ParseError(" \n\t\r "), "empty input"));
}

TEST(JsonTest, NonJsonWhitespaceAndBom) {
  ParseError("\f1");
  ParseError("\v1");
  ParseError("\xef\xbb\xbf{}");  // byte-order mark
  ParseError("[1,\xc2\xa0 2]");  // U+00A0 no-break space
}

TEST(JsonTest, SingleQuotes) {
  EXPECT_TRUE(Contains(ParseError("'abc'"), "single-quoted"));
  EXPECT_TRUE(Contains(ParseError("{'a':1}"), "single-quoted"));
}

TEST(JsonTest, Comments) {
  EXPECT_TRUE(Contains(ParseError("// c\n1"), "comments"));
  EXPECT_TRUE(Contains(ParseError("[1 /* c */]"), "offset 3"));
  ParseError("1 # c");
}

TEST(JsonTest, NaNInfinityLiterals) {
  EXPECT_TRUE(Contains(ParseError("NaN"), "NaN"));
  EXPECT_TRUE(Contains(ParseError("Infinity"), "Infinity"));
  ParseError("-Infinity");
  ParseError("[nan]");
}

TEST(JsonTest, InvalidLiterals) {
  ParseError("tru");
  ParseError("True");
  ParseError("nul");
  ParseError("undefined");
}

// ----- Rejections: numbers -----

TEST(JsonTest, LeadingZero) {
  EXPECT_TRUE(Contains(ParseError("01"), "leading zero"));
  EXPECT_TRUE(Contains(ParseError("[-012]"), "leading zero at offset 1"));
  ParseError("00");
}

TEST(JsonTest, FloatNumber) {
  std::string msg = ParseError(R"({"length":1.5})");
  EXPECT_TRUE(Contains(msg, "floating-point")) << msg;
  EXPECT_TRUE(Contains(msg, "offset 10")) << msg;
  ParseError("1.");
  ParseError("0.0");
  ParseError(".5");
}

TEST(JsonTest, ExponentNumber) {
  EXPECT_TRUE(Contains(ParseError("1e3"), "floating-point"));
  ParseError("1E3");
  ParseError("-2e-1");
}

TEST(JsonTest, NegativeZero) {
  EXPECT_TRUE(Contains(ParseError("-0"), "negative zero"));
  ParseError("[-0]");
}

TEST(JsonTest, MalformedNumbers) {
  ParseError("-");
  ParseError("+1");
  ParseError("- 1");
  ParseError("0x10");
}

TEST(JsonTest, IntegerOverflow) {
  EXPECT_TRUE(Contains(ParseError("9223372036854775808"), "int64"));
  EXPECT_TRUE(Contains(ParseError("-9223372036854775809"), "int64"));
  ParseError("99999999999999999999999999");
}

// ----- Rejections: strings and encoding -----

TEST(JsonTest, LoneSurrogate) {
  EXPECT_TRUE(Contains(ParseError(R"("\ud800")"), "surrogate"));
  EXPECT_TRUE(Contains(ParseError(R"("\udc00")"), "surrogate"));
  ParseError(R"("\ud800x")");
  ParseError(R"("\ud800\u0041")");
  ParseError(R"("\ud800\ud800")");
  ParseError(R"("\ude00\ud83d")");  // reversed pair
}

TEST(JsonTest, InvalidEscapes) {
  ParseError(R"("\x41")");
  ParseError(R"("\u12")");
  ParseError(R"("\u12G4")");
  ParseError(R"("\U0041")");
  ParseError("\"\\");
}

TEST(JsonTest, InvalidUtf8) {
  std::string msg = ParseError("\"ab\xff\"");
  EXPECT_TRUE(Contains(msg, "UTF-8")) << msg;
  EXPECT_TRUE(Contains(msg, "offset 3")) << msg;
  ParseError("\"\x80\"");              // stray continuation byte
  ParseError("\"\xc3\"");              // truncated by the quote
  ParseError("\"\xe5\x9b");            // truncated by end of input
  ParseError("\"\xed\xa0\x80\"");      // UTF-8-encoded surrogate U+D800
  ParseError("\"\xf4\x90\x80\x80\"");  // U+110000
  ParseError("\"\xf8\x88\x80\x80\x80\"");
  ParseError("{\"k\xff\":1}");  // in a key too
}

TEST(JsonTest, OverlongUtf8) {
  EXPECT_TRUE(Contains(ParseError("\"\xc0\xaf\""), "overlong"));  // '/' in 2 bytes
  EXPECT_TRUE(Contains(ParseError("\"\xc1\xbf\""), "overlong"));
  EXPECT_TRUE(Contains(ParseError("\"\xe0\x80\xaf\""), "overlong"));
  EXPECT_TRUE(Contains(ParseError("\"\xf0\x80\x80\xaf\""), "overlong"));
}

TEST(JsonTest, RawControlCharacter) {
  std::string msg = ParseError("\"a\nb\"");
  EXPECT_TRUE(Contains(msg, "control character")) << msg;
  EXPECT_TRUE(Contains(msg, "offset 2")) << msg;
  ParseError("\"\t\"");
  ParseError("\"\0\""s);
  ParseError("\"\x1f\"");
}

TEST(JsonTest, UnterminatedString) {
  EXPECT_TRUE(Contains(ParseError(R"({"a":"abc)"), "unterminated string at offset 5"));
  ParseError("\"");
  ParseError(R"(["a\"])");
}

// ----- Limits -----

TEST(JsonTest, DepthLimit) {
  // A million-deep input must fail cleanly rather than overflow the stack.
  std::string deep(1'000'000, '[');
  EXPECT_TRUE(Contains(ParseError(deep, StatusCode::kResourceExhausted), "nesting"));
  std::string deep_objects;
  for (int i = 0; i < 100'000; ++i) deep_objects += "{\"a\":";
  ParseError(deep_objects, StatusCode::kResourceExhausted);
}

TEST(JsonTest, DepthLimitBoundary) {
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(ParseJson(nested(64)).ok());
  ParseError(nested(65), StatusCode::kResourceExhausted);
  JsonLimits shallow;
  shallow.max_depth = 1;
  EXPECT_TRUE(ParseJson("[1]", shallow).ok());
  ParseError(R"([{}])", StatusCode::kResourceExhausted, shallow);
}

TEST(JsonTest, ByteLimit) {
  JsonLimits limits;
  limits.max_bytes = 10;
  EXPECT_TRUE(ParseJson("[1,2,3,45]", limits).ok());
  ParseError("[1,2,3,456]", StatusCode::kResourceExhausted, limits);
}

TEST(JsonTest, StringLimit) {
  JsonLimits limits;
  limits.max_string_bytes = 4;
  EXPECT_TRUE(ParseJson(R"({"abcd":"\u00e9\u00e9"})", limits).ok());
  ParseError(R"("abcde")", StatusCode::kResourceExhausted, limits);
  ParseError(R"({"abcde":1})", StatusCode::kResourceExhausted, limits);
  ParseError(R"("\u00e9\u00e9a")", StatusCode::kResourceExhausted, limits);  // decoded bytes
}

TEST(JsonTest, ElementLimit) {
  JsonLimits limits;
  limits.max_elements = 4;  // the array itself plus three elements
  EXPECT_TRUE(ParseJson("[1,2,3]", limits).ok());
  ParseError("[1,2,3,4]", StatusCode::kResourceExhausted, limits);
  ParseError(R"({"a":[1,2]})", StatusCode::kResourceExhausted, JsonLimits{.max_elements = 3});
}

TEST(JsonTest, LargeObjectParsesQuickly) {
  // Member insertion must not be quadratic; keys arrive in reverse order.
  std::string text = "{";
  for (int i = 99'999; i >= 0; --i) {
    text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + (i > 0 ? "," : "}");
  }
  Json v = MustParse(text);
  ASSERT_EQ(v.as_object().size(), 100'000u);
  EXPECT_EQ(v.Find("k12345")->as_int(), 12345);
}

TEST(JsonTest, TypeNames) {
  EXPECT_EQ(JsonTypeName(MustParse("{}").type()), "object");
  EXPECT_EQ(JsonTypeName(MustParse("[]").type()), "array");
  EXPECT_EQ(JsonTypeName(MustParse("1").type()), "integer");
  EXPECT_EQ(JsonTypeName(MustParse("\"\"").type()), "string");
  EXPECT_EQ(JsonTypeName(MustParse("true").type()), "bool");
  EXPECT_EQ(JsonTypeName(MustParse("null").type()), "null");
}

}  // namespace
}  // namespace tiersync::protocol
