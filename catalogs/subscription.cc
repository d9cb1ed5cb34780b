#include "catalogs/subscription.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>

namespace tiersync::catalogs {
namespace {

enum class Field : uint8_t {
  kPlatform,
  kBoard,
  kCategory,
  kStage,
  kGrade,
  kSubject,
  kEdition,
  kVolume,
  kLesson,
  kTag,
  kOrigin,
  kLanguage,
  kProvider,
};

struct FieldName {
  std::string_view name;
  Field field;
};

constexpr std::array<FieldName, 13> kFields = {{
    {"platform", Field::kPlatform},
    {"board", Field::kBoard},
    {"category", Field::kCategory},
    {"stage", Field::kStage},
    {"grade", Field::kGrade},
    {"subject", Field::kSubject},
    {"edition", Field::kEdition},
    {"volume", Field::kVolume},
    {"lesson", Field::kLesson},
    {"tag", Field::kTag},
    {"origin", Field::kOrigin},
    {"language", Field::kLanguage},
    {"provider", Field::kProvider},
}};

constexpr std::array<std::string_view, 7> kKeywords = {"and",    "or",  "not",     "in",
                                                       "within", "all", "priority"};

bool IsKeyword(std::string_view w) {
  return std::find(kKeywords.begin(), kKeywords.end(), w) != kKeywords.end();
}

const FieldName* FindField(std::string_view w) {
  for (const FieldName& f : kFields) {
    if (f.name == w) return &f;
  }
  return nullptr;
}

bool IsPlacementField(Field f) {
  return f == Field::kPlatform || f == Field::kBoard || f == Field::kCategory;
}

enum class Kind : uint8_t {
  kAll,       // always true
  kPriority,  // Resource::priority
  kNot,       // children[0] is false
  kAnd,       // every child is true
  kOr,        // some child is true
  kIn,        // the field's value is one of `values` (grade: a bit of `grades`)
  kWithin,    // origin is the region values[0] or lies under it
};

struct Node {
  Kind kind = Kind::kAll;
  Field field = Field::kPlatform;
  uint16_t grades = 0;  // bit g set: grade g (1..12) is listed
  std::vector<uint32_t> children;
  std::vector<std::string> values;
};

struct Rule {
  uint32_t root = 0;
  bool uses_placement = false;  // mentions platform, board or category
};

// ---------------------------------------------------------------------------------------
// Lexing

enum class Tok : uint8_t { kWord, kString, kLParen, kRParen, kComma, kEq, kNe, kEnd };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;   // bare word, or a quoted string's contents with escapes resolved
  size_t offset = 0;  // byte offset of its first character in the line
};

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// 1-based column, in code points, of byte `offset` of `line`.
size_t ColumnOf(std::string_view line, size_t offset) {
  size_t column = 1;
  for (size_t i = 0; i < offset && i < line.size(); ++i) {
    if (!IsContinuation(static_cast<unsigned char>(line[i]))) ++column;
  }
  return column;
}

// Byte offset of the first byte of `s` that is not part of valid UTF-8 (no overlong forms,
// surrogates or code points above U+10FFFF), or npos.
size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if (!IsContinuation(d)) return i;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7F; }

// U+3000 IDEOGRAPHIC SPACE, typed by Chinese input methods; counts as whitespace.
bool IsIdeographicSpace(std::string_view line, size_t i) {
  return line.substr(i, 3) == "\xE3\x80\x80";
}

bool IsAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

bool EndsBareWord(std::string_view line, size_t i) {
  const char c = line[i];
  return IsAsciiSpace(c) || c == '(' || c == ')' || c == ',' || c == '=' || c == '!' || c == '"' ||
         c == '#' || IsControl(static_cast<unsigned char>(c)) || IsIdeographicSpace(line, i);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A grade written as decimal digits, or 0 if it is not one in 1..12.
int ParseGrade(std::string_view s) {
  if (!AllDigits(s) || s.size() > 3) return 0;
  int g = 0;
  for (char c : s) g = g * 10 + (c - '0');
  return g >= 1 && g <= 12 ? g : 0;
}

// ---------------------------------------------------------------------------------------
// Parsing one line

class LineParser {
 public:
  LineParser(std::string_view line, size_t line_no, const Taxonomy& taxonomy,
             const RegionTable& regions, std::vector<Node>* nodes)
      : line_(line), line_no_(line_no), taxonomy_(taxonomy), regions_(regions), nodes_(*nodes) {}

  // Splits the line into tokens (ending with kEnd). The line has no rule if that is the only
  // token.
  Status Lex();
  bool empty() const { return tokens_.size() == 1; }
  size_t first_offset() const { return tokens_.front().offset; }

  // Parses the tokens as one rule.
  Result<Rule> ParseRule();

  Status Error(size_t offset, const std::string& what) const {
    return InvalidArgumentError("subscription line " + std::to_string(line_no_) + ", column " +
                                std::to_string(ColumnOf(line_, offset)) + ": " + what);
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  bool PeekWord(std::string_view w) const { return Peek().kind == Tok::kWord && Peek().text == w; }
  void Advance() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }
  uint32_t Add(Node n) {
    nodes_.push_back(std::move(n));
    return static_cast<uint32_t>(nodes_.size() - 1);
  }

  Status ParseExpr(int depth, uint32_t* out);
  Status ParseTerm(int depth, uint32_t* out);
  Status ParseFactor(int depth, uint32_t* out);
  Status ParseComparison(Field field, uint32_t* out);
  // Adds one value or range (ranges only if `in_list`) of `field` to `n`.
  Status ParseItem(Field field, bool in_list, Node* n);
  Status CheckVocabulary(Field field, const Token& t) const;

  std::string_view line_;
  size_t line_no_;
  const Taxonomy& taxonomy_;
  const RegionTable& regions_;
  std::vector<Node>& nodes_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  bool uses_placement_ = false;
};

// A quoted form of a token for messages: "人教版", 'and', '(', end of line.
std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kWord:
      if (IsKeyword(t.text)) return "'" + t.text + "'";
      return "\"" + t.text + "\"";
    case Tok::kString:
      return "quoted \"" + t.text + "\"";
    case Tok::kLParen:
      return "'('";
    case Tok::kRParen:
      return "')'";
    case Tok::kComma:
      return "','";
    case Tok::kEq:
      return "'='";
    case Tok::kNe:
      return "'!='";
    case Tok::kEnd:
      return "end of line";
  }
  return "?";
}

// A hint when `t` is a keyword written with capitals ("AND").
std::string LowercaseHint(const Token& t) {
  if (t.kind != Tok::kWord || Lower(t.text) == t.text || !IsKeyword(Lower(t.text))) return "";
  return " (keywords are lowercase)";
}

// Full-width punctuation typed by a Chinese input method where ASCII syntax was meant.
std::string FullWidthHint(std::string_view text) {
  static constexpr std::array<std::string_view, 5> kFullWidth = {"（", "）", "，", "＝", "！"};
  for (std::string_view fw : kFullWidth) {
    if (text.find(fw) != std::string_view::npos) {
      return " (full-width '" + std::string(fw) + "': the syntax uses ASCII ( ) , = !)";
    }
  }
  return "";
}

Status LineParser::Lex() {
  if (size_t bad = FindInvalidUtf8(line_); bad != std::string_view::npos) {
    return Error(bad, "invalid UTF-8");
  }
  size_t i = 0;
  size_t last_end = 0;
  while (i < line_.size()) {
    const char c = line_[i];
    const unsigned char uc = static_cast<unsigned char>(c);
    if (IsAsciiSpace(c)) {
      ++i;
      continue;
    }
    if (IsIdeographicSpace(line_, i)) {
      i += 3;
      continue;
    }
    if (c == '#') break;
    if (IsControl(uc)) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "U+%04X", uc);
      return Error(i, std::string("control character ") + buf);
    }
    Token t;
    t.offset = i;
    if (c == '(' || c == ')' || c == ',' || c == '=') {
      t.kind = c == '('   ? Tok::kLParen
               : c == ')' ? Tok::kRParen
               : c == ',' ? Tok::kComma
                          : Tok::kEq;
      ++i;
    } else if (c == '!') {
      if (i + 1 >= line_.size() || line_[i + 1] != '=')
        return Error(i, "'!' must be followed by '='");
      t.kind = Tok::kNe;
      i += 2;
    } else if (c == '"') {
      t.kind = Tok::kString;
      size_t j = i + 1;
      while (true) {
        if (j >= line_.size()) return Error(i, "quoted string is not closed");
        const char d = line_[j];
        if (d == '"') break;
        if (d == '\\') {
          if (j + 1 < line_.size() && (line_[j + 1] == '"' || line_[j + 1] == '\\')) {
            t.text.push_back(line_[j + 1]);
            j += 2;
            continue;
          }
          return Error(j, "unknown escape in quoted string (only \\\" and \\\\)");
        }
        if (IsControl(static_cast<unsigned char>(d))) {
          return Error(j, "control character in quoted string");
        }
        t.text.push_back(d);
        ++j;
      }
      i = j + 1;
    } else {
      t.kind = Tok::kWord;
      size_t j = i;
      while (j < line_.size() && !EndsBareWord(line_, j)) ++j;
      t.text = std::string(line_.substr(i, j - i));
      i = j;
    }
    last_end = i;
    tokens_.push_back(std::move(t));
  }
  Token end;
  end.kind = Tok::kEnd;
  end.offset = tokens_.empty() ? i : last_end;
  tokens_.push_back(std::move(end));
  return Status::Ok();
}

Result<Rule> LineParser::ParseRule() {
  pos_ = 0;
  uses_placement_ = false;
  uint32_t root = 0;
  TS_RETURN_IF_ERROR(ParseExpr(0, &root));
  if (Peek().kind != Tok::kEnd) {
    return Error(Peek().offset, "expected 'and', 'or' or end of line, found " + Describe(Peek()) +
                                    LowercaseHint(Peek()));
  }
  return Rule{root, uses_placement_};
}

Status LineParser::ParseExpr(int depth, uint32_t* out) {
  Node n;
  n.kind = Kind::kOr;
  uint32_t term = 0;
  TS_RETURN_IF_ERROR(ParseTerm(depth, &term));
  n.children.push_back(term);
  while (PeekWord("or")) {
    Advance();
    TS_RETURN_IF_ERROR(ParseTerm(depth, &term));
    n.children.push_back(term);
  }
  *out = n.children.size() == 1 ? n.children[0] : Add(std::move(n));
  return Status::Ok();
}

Status LineParser::ParseTerm(int depth, uint32_t* out) {
  Node n;
  n.kind = Kind::kAnd;
  uint32_t factor = 0;
  TS_RETURN_IF_ERROR(ParseFactor(depth, &factor));
  n.children.push_back(factor);
  while (PeekWord("and")) {
    Advance();
    TS_RETURN_IF_ERROR(ParseFactor(depth, &factor));
    n.children.push_back(factor);
  }
  *out = n.children.size() == 1 ? n.children[0] : Add(std::move(n));
  return Status::Ok();
}

Status LineParser::ParseFactor(int depth, uint32_t* out) {
  const Token& t = Peek();
  const bool nests = t.kind == Tok::kLParen || (t.kind == Tok::kWord && t.text == "not");
  if (nests && depth >= kMaxSubscriptionDepth) {
    return Error(t.offset, "parentheses and 'not' nested more than " +
                               std::to_string(kMaxSubscriptionDepth) + " deep");
  }
  if (t.kind == Tok::kLParen) {
    const size_t open = t.offset;
    Advance();
    TS_RETURN_IF_ERROR(ParseExpr(depth + 1, out));
    if (Peek().kind == Tok::kRParen) {
      Advance();
      return Status::Ok();
    }
    if (Peek().kind == Tok::kEnd) return Error(open, "'(' is not closed");
    return Error(Peek().offset,
                 "expected 'and', 'or' or ')', found " + Describe(Peek()) + LowercaseHint(Peek()));
  }
  if (t.kind != Tok::kWord) {
    if (t.kind == Tok::kString) {
      return Error(t.offset,
                   "expected a condition, found a quoted string (field names are not "
                   "quoted)");
    }
    return Error(t.offset, "expected a condition, found " + Describe(t));
  }
  if (t.text == "not") {
    Advance();
    Node n;
    n.kind = Kind::kNot;
    uint32_t child = 0;
    TS_RETURN_IF_ERROR(ParseFactor(depth + 1, &child));
    n.children.push_back(child);
    *out = Add(std::move(n));
    return Status::Ok();
  }
  if (t.text == "all" || t.text == "priority") {
    Node n;
    n.kind = t.text == "all" ? Kind::kAll : Kind::kPriority;
    Advance();
    *out = Add(std::move(n));
    return Status::Ok();
  }
  if (IsKeyword(t.text)) return Error(t.offset, "expected a condition, found " + Describe(t));
  const FieldName* f = FindField(t.text);
  if (f == nullptr) {
    std::string what = "unknown field \"" + t.text + "\"";
    const std::string lower = Lower(t.text);
    if (lower != t.text && (FindField(lower) != nullptr || IsKeyword(lower))) {
      what += " (field names and keywords are lowercase)";
    }
    return Error(t.offset, what + FullWidthHint(t.text));
  }
  Advance();
  if (IsPlacementField(f->field)) uses_placement_ = true;
  return ParseComparison(f->field, out);
}

Status LineParser::ParseComparison(Field field, uint32_t* out) {
  const Token& op = Peek();
  Node n;
  n.kind = Kind::kIn;
  n.field = field;
  if (op.kind == Tok::kEq || op.kind == Tok::kNe) {
    const bool negate = op.kind == Tok::kNe;
    Advance();
    TS_RETURN_IF_ERROR(ParseItem(field, /*in_list=*/false, &n));
    *out = Add(std::move(n));
    if (negate) {
      Node neg;
      neg.kind = Kind::kNot;
      neg.children.push_back(*out);
      *out = Add(std::move(neg));
    }
    return Status::Ok();
  }
  if (op.kind == Tok::kWord && op.text == "in") {
    Advance();
    if (Peek().kind != Tok::kLParen) {
      return Error(Peek().offset, "expected '(' after 'in', found " + Describe(Peek()) +
                                      FullWidthHint(Peek().text));
    }
    const size_t open = Peek().offset;
    Advance();
    if (Peek().kind == Tok::kRParen) return Error(Peek().offset, "empty 'in' list");
    while (true) {
      TS_RETURN_IF_ERROR(ParseItem(field, /*in_list=*/true, &n));
      if (Peek().kind == Tok::kComma) {
        Advance();
        continue;
      }
      if (Peek().kind == Tok::kRParen) {
        Advance();
        break;
      }
      if (Peek().kind == Tok::kEnd) return Error(open, "'(' is not closed");
      std::string what = "expected ',' or ')' in 'in' list, found " + Describe(Peek());
      if (Peek().kind == Tok::kWord && Peek().text.starts_with("..")) {
        what += " (write a range without spaces: 1..9)";
      }
      return Error(Peek().offset, what + FullWidthHint(Peek().text));
    }
    *out = Add(std::move(n));
    return Status::Ok();
  }
  if (op.kind == Tok::kWord && op.text == "within") {
    if (field != Field::kOrigin) return Error(op.offset, "'within' is only for origin");
    Advance();
    const Token& v = Peek();
    if (v.kind != Tok::kWord && v.kind != Tok::kString) {
      return Error(v.offset, "expected a region code after 'within', found " + Describe(v));
    }
    if (v.text == kNationalOrigin) {
      return Error(v.offset, "'within' needs a region code, not national (use origin = national)");
    }
    if (regions_.Find(v.text) == nullptr) {
      return Error(v.offset, "unknown region code \"" + v.text + "\"" + FullWidthHint(v.text));
    }
    n.kind = Kind::kWithin;
    n.values.push_back(v.text);
    Advance();
    *out = Add(std::move(n));
    return Status::Ok();
  }
  return Error(op.offset,
               std::string(field == Field::kOrigin ? "expected '=', '!=', 'in' or 'within'"
                                                   : "expected '=', '!=' or 'in'") +
                   " after the field name, found " + Describe(op) + LowercaseHint(op) +
                   FullWidthHint(op.text));
}

Status LineParser::ParseItem(Field field, bool in_list, Node* n) {
  const Token& t = Peek();
  if (t.kind == Tok::kWord && IsKeyword(t.text)) {
    return Error(t.offset,
                 "expected a value, found " + Describe(t) + " (quote it to use it as a value)");
  }
  if (t.kind != Tok::kWord && t.kind != Tok::kString) {
    return Error(t.offset, "expected a value, found " + Describe(t));
  }
  if (t.text.empty()) return Error(t.offset, "empty value");
  // A bare word "lo..hi" of two integers is a range.
  if (size_t dots = t.text.find(".."); t.kind == Tok::kWord && dots != std::string::npos &&
                                       AllDigits(t.text.substr(0, dots)) &&
                                       AllDigits(t.text.substr(dots + 2))) {
    if (field != Field::kGrade) return Error(t.offset, "ranges are only allowed for grade");
    if (!in_list) return Error(t.offset, "a range is only allowed in an 'in' list");
    const std::string lo_text = t.text.substr(0, dots);
    const std::string hi_text = t.text.substr(dots + 2);
    const int lo = ParseGrade(lo_text);
    const int hi = ParseGrade(hi_text);
    if (lo == 0) return Error(t.offset, "grade " + lo_text + " is not in 1..12");
    if (hi == 0) {
      return Error(t.offset + dots + 2, "grade " + hi_text + " is not in 1..12");
    }
    if (lo > hi) return Error(t.offset, "range " + t.text + " is empty (low end above high end)");
    for (int g = lo; g <= hi; ++g) n->grades |= static_cast<uint16_t>(1u << g);
    Advance();
    return Status::Ok();
  }
  if (field == Field::kGrade) {
    const int g = ParseGrade(t.text);
    if (g == 0) {
      return Error(t.offset, "grade must be an integer from 1 to 12, found " + Describe(t) +
                                 FullWidthHint(t.text));
    }
    n->grades |= static_cast<uint16_t>(1u << g);
    Advance();
    return Status::Ok();
  }
  TS_RETURN_IF_ERROR(CheckVocabulary(field, t));
  n->values.push_back(t.text);
  Advance();
  return Status::Ok();
}

Status LineParser::CheckVocabulary(Field field, const Token& t) const {
  const std::string& v = t.text;
  bool known = true;
  std::string what;
  switch (field) {
    case Field::kPlatform:
      known = taxonomy_.FindPlatform(v) != nullptr;
      what = "platform";
      break;
    case Field::kBoard:
      known = false;
      for (const Platform& p : taxonomy_.platforms()) {
        if (taxonomy_.FindBoard(p.id, v) != nullptr) known = true;
      }
      what = "board";
      break;
    case Field::kCategory:
      known = false;
      for (const Platform& p : taxonomy_.platforms()) {
        for (const Board& b : p.boards) {
          if (std::find(b.categories.begin(), b.categories.end(), v) != b.categories.end()) {
            known = true;
          }
        }
      }
      what = "category";
      break;
    case Field::kStage:
      known = taxonomy_.FindStage(v) != nullptr;
      what = "stage";
      break;
    case Field::kSubject:
      known = taxonomy_.HasSubject(v);
      what = "subject";
      break;
    case Field::kEdition:
      known = taxonomy_.HasEdition(v);
      what = "edition";
      break;
    case Field::kOrigin:
      known = v == kNationalOrigin || regions_.Find(v) != nullptr;
      if (!known) {
        return Error(t.offset, "unknown origin \"" + v + "\" (expected national or a region code)" +
                                   FullWidthHint(v));
      }
      break;
    default:  // volume, lesson, tag, language, provider: free text
      break;
  }
  if (!known) return Error(t.offset, "unknown " + what + " \"" + v + "\"" + FullWidthHint(v));
  return Status::Ok();
}

bool Contains(const std::vector<std::string>& values, std::string_view v) {
  if (v.empty()) return false;  // an unset facet equals nothing
  return std::find(values.begin(), values.end(), v) != values.end();
}

}  // namespace

struct Subscription::Impl {
  std::string text;
  std::vector<Node> nodes;
  std::vector<Rule> rules;
  const RegionTable* regions = nullptr;

  bool Eval(uint32_t index, const Resource& r, const Placement* p) const;
  bool FieldIn(const Node& n, const Resource& r, const Placement* p) const;
};

bool Subscription::Impl::FieldIn(const Node& n, const Resource& r, const Placement* p) const {
  switch (n.field) {
    case Field::kPlatform:
      return p != nullptr && Contains(n.values, p->platform);
    case Field::kBoard:
      return p != nullptr && Contains(n.values, p->board);
    case Field::kCategory:
      return p != nullptr && Contains(n.values, p->category);
    case Field::kStage:
      return Contains(n.values, r.facets.stage);
    case Field::kGrade:
      return r.facets.grade >= 1 && r.facets.grade <= 12 && ((n.grades >> r.facets.grade) & 1u);
    case Field::kSubject:
      return Contains(n.values, r.facets.subject);
    case Field::kEdition:
      return Contains(n.values, r.facets.edition);
    case Field::kVolume:
      return Contains(n.values, r.facets.volume);
    case Field::kLesson:
      return Contains(n.values, r.facets.lesson);
    case Field::kTag:
      for (const std::string& tag : r.facets.tags) {
        if (Contains(n.values, tag)) return true;
      }
      return false;
    case Field::kOrigin:
      return Contains(n.values, r.origin);
    case Field::kLanguage:
      return Contains(n.values, r.language);
    case Field::kProvider:
      return Contains(n.values, r.provider);
  }
  return false;
}

// Recursion is bounded by the parse: at most kMaxSubscriptionDepth levels of '(' / 'not',
// each adding at most an 'or' and an 'and' node.
bool Subscription::Impl::Eval(uint32_t index, const Resource& r, const Placement* p) const {
  const Node& n = nodes[index];
  switch (n.kind) {
    case Kind::kAll:
      return true;
    case Kind::kPriority:
      return r.priority;
    case Kind::kNot:
      return !Eval(n.children[0], r, p);
    case Kind::kAnd:
      for (uint32_t c : n.children) {
        if (!Eval(c, r, p)) return false;
      }
      return true;
    case Kind::kOr:
      for (uint32_t c : n.children) {
        if (Eval(c, r, p)) return true;
      }
      return false;
    case Kind::kIn:
      return FieldIn(n, r, p);
    case Kind::kWithin:
      return r.origin != kNationalOrigin && regions->IsWithin(r.origin, n.values[0]);
  }
  return false;
}

Result<Subscription> Subscription::Parse(std::string_view text, const Taxonomy& taxonomy,
                                         const RegionTable& regions) {
  if (text.size() > kMaxSubscriptionBytes) {
    return InvalidArgumentError("subscription: text is " + std::to_string(text.size()) +
                                " bytes; at most " + std::to_string(kMaxSubscriptionBytes) +
                                " are allowed");
  }
  auto impl = std::make_shared<Impl>();
  impl->text = std::string(text);
  impl->regions = &regions;
  std::string_view rest = text;
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);  // a byte-order mark
  size_t line_no = 0;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    ++line_no;
    LineParser parser(line, line_no, taxonomy, regions, &impl->nodes);
    TS_RETURN_IF_ERROR(parser.Lex());
    if (parser.empty()) continue;
    if (impl->rules.size() >= kMaxSubscriptionRules) {
      return parser.Error(parser.first_offset(),
                          "more than " + std::to_string(kMaxSubscriptionRules) + " rules");
    }
    TS_ASSIGN_OR_RETURN(Rule rule, parser.ParseRule());
    impl->rules.push_back(rule);
  }
  return Subscription(std::move(impl));
}

bool Subscription::Matches(const Resource& r) const {
  for (const Rule& rule : impl_->rules) {
    if (!rule.uses_placement || r.placements.empty()) {
      if (impl_->Eval(rule.root, r, nullptr)) return true;
      continue;
    }
    for (const Placement& p : r.placements) {
      if (impl_->Eval(rule.root, r, &p)) return true;
    }
  }
  return false;
}

const std::string& Subscription::text() const { return impl_->text; }

size_t Subscription::rule_count() const { return impl_->rules.size(); }

std::vector<WantedFile> SelectWanted(const std::vector<Resource>& release, const Subscription& s,
                                     const RegionTable& regions) {
  std::vector<WantedFile> out;
  for (const Resource& r : release) {
    for (WantedFile& w : WantedFilesOf(r, s, regions)) out.push_back(std::move(w));
  }
  std::stable_sort(out.begin(), out.end(), [](const WantedFile& a, const WantedFile& b) {
    return a.target_path < b.target_path;
  });
  return out;
}

std::vector<WantedFile> WantedFilesOf(const Resource& r, const Subscription& s,
                                      const RegionTable& regions) {
  std::vector<WantedFile> out;
  if (!IsServed(r) || !s.Matches(r)) return out;
  for (const ResourceFile& f : r.files) {
    out.push_back(WantedFile{TargetPath(r, f, regions), r.id, f, r.priority});
  }
  return out;
}

}  // namespace tiersync::catalogs
