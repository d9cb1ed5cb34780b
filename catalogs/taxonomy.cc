#include "catalogs/taxonomy.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "catalogs/taxonomy_data.h"
#include "protocol/json.h"
#include "protocol/json_fields.h"

namespace tiersync::catalogs {
namespace {

using protocol::Json;
using protocol::JsonFields;

JsonFields TaxonomyFields(const Json& obj, std::string where) {
  return JsonFields(obj, std::move(where), StatusCode::kInvalidArgument, "taxonomy: ");
}

Result<Board> ParseBoard(const Json& v, const std::string& where) {
  JsonFields f = TaxonomyFields(v, where);
  TS_RETURN_IF_ERROR(f.IsObject());
  Board b;
  TS_ASSIGN_OR_RETURN(b.name, f.String("name"));
  TS_ASSIGN_OR_RETURN(b.categories, f.StringList("categories", /*unique=*/true));
  return b;
}

Result<Platform> ParsePlatform(const Json& v, const std::string& where) {
  JsonFields f = TaxonomyFields(v, where);
  TS_RETURN_IF_ERROR(f.IsObject());
  Platform p;
  TS_ASSIGN_OR_RETURN(p.id, f.String("id"));
  TS_ASSIGN_OR_RETURN(p.name, f.String("name"));
  TS_ASSIGN_OR_RETURN(const Json* boards, f.Array("boards"));
  for (const Json& b : boards->as_array()) {
    TS_ASSIGN_OR_RETURN(Board board, ParseBoard(b, f.Field("boards")));
    for (const Board& other : p.boards) {
      if (other.name == board.name) return f.Bad(f.Field("boards"), "repeats " + board.name);
    }
    p.boards.push_back(std::move(board));
  }
  return p;
}

}  // namespace

Result<Taxonomy> Taxonomy::Parse(std::string_view json) {
  TS_ASSIGN_OR_RETURN(Json doc, protocol::ParseJson(json));
  JsonFields f = TaxonomyFields(doc, "taxonomy");
  TS_RETURN_IF_ERROR(f.IsObject());
  TS_ASSIGN_OR_RETURN(std::string format, f.String("format"));
  if (format != "tiersync-taxonomy 1") return f.Bad(f.Field("format"), "unknown format");
  Taxonomy t;
  TS_ASSIGN_OR_RETURN(const Json* platforms, f.Array("platforms"));
  for (const Json& p : platforms->as_array()) {
    TS_ASSIGN_OR_RETURN(Platform platform, ParsePlatform(p, f.Field("platforms")));
    if (t.FindPlatform(platform.id) != nullptr) {
      return f.Bad(f.Field("platforms"), "repeats " + platform.id);
    }
    t.platforms_.push_back(std::move(platform));
  }
  TS_ASSIGN_OR_RETURN(const Json* stages, f.Array("stages"));
  for (const Json& s : stages->as_array()) {
    JsonFields sf = TaxonomyFields(s, f.Field("stages"));
    Stage stage;
    TS_ASSIGN_OR_RETURN(stage.name, sf.String("name"));
    TS_ASSIGN_OR_RETURN(uint64_t first, sf.Uint("first_grade", 1));
    TS_ASSIGN_OR_RETURN(uint64_t last, sf.Uint("last_grade", first));
    stage.first_grade = static_cast<int>(first);
    stage.last_grade = static_cast<int>(last);
    t.stages_.push_back(std::move(stage));
  }
  TS_ASSIGN_OR_RETURN(const Json* editions, f.Array("editions"));
  for (const Json& e : editions->as_array()) {
    TS_ASSIGN_OR_RETURN(std::string name, TaxonomyFields(e, f.Field("editions")).String("name"));
    t.editions_.push_back(std::move(name));
  }
  TS_ASSIGN_OR_RETURN(t.subjects_, f.StringList("subjects", /*unique=*/true));
  return t;
}

const Taxonomy& Taxonomy::Builtin() {
  static const Taxonomy* taxonomy = [] {
    Result<Taxonomy> t = Parse(kTaxonomyJson);
    if (!t.ok()) {
      std::cerr << "tiersync: built-in taxonomy: " << t.status().ToString() << "\n";
      std::abort();
    }
    return new Taxonomy(std::move(t).value());
  }();
  return *taxonomy;
}

const Platform* Taxonomy::FindPlatform(std::string_view id) const {
  for (const Platform& p : platforms_) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const Board* Taxonomy::FindBoard(std::string_view platform, std::string_view board) const {
  const Platform* p = FindPlatform(platform);
  if (p == nullptr) return nullptr;
  for (const Board& b : p->boards) {
    if (b.name == board) return &b;
  }
  return nullptr;
}

const Stage* Taxonomy::FindStage(std::string_view name) const {
  for (const Stage& s : stages_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool Taxonomy::HasEdition(std::string_view name) const {
  return std::find(editions_.begin(), editions_.end(), name) != editions_.end();
}

bool Taxonomy::HasSubject(std::string_view name) const {
  return std::find(subjects_.begin(), subjects_.end(), name) != subjects_.end();
}

}  // namespace tiersync::catalogs
