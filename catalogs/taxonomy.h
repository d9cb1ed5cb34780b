// Taxonomy: the platforms, boards and categories of the National Smart Education Platform,
// and the facet vocabularies (stages with their grades, textbook editions, subjects) that
// catalog records are validated against. Built from catalogs/data/taxonomy/taxonomy.json,
// compiled into the binary (see that folder's README for the source and what was added).
//
// Immutable after construction; safe to share between threads.
#ifndef TIERSYNC_CATALOGS_TAXONOMY_H_
#define TIERSYNC_CATALOGS_TAXONOMY_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tiersync::catalogs {

struct Board {
  std::string name;                     // e.g. 专题教育
  std::vector<std::string> categories;  // empty: the source names none (category omitted)
};

struct Platform {
  std::string id;    // e.g. k12
  std::string name;  // e.g. 国家中小学智慧教育平台
  std::vector<Board> boards;
};

struct Stage {
  std::string name;  // 小学, 初中, 高中
  int first_grade = 0;
  int last_grade = 0;
};

class Taxonomy {
 public:
  // The compiled-in taxonomy. Parsed once; aborts only if the built-in data is broken (a
  // test checks it parses).
  static const Taxonomy& Builtin();

  // Parses a taxonomy JSON document (format "tiersync-taxonomy 1").
  static Result<Taxonomy> Parse(std::string_view json);

  const std::vector<Platform>& platforms() const { return platforms_; }
  const std::vector<Stage>& stages() const { return stages_; }
  const std::vector<std::string>& editions() const { return editions_; }
  const std::vector<std::string>& subjects() const { return subjects_; }

  // nullptr if unknown.
  const Platform* FindPlatform(std::string_view id) const;
  const Board* FindBoard(std::string_view platform, std::string_view board) const;
  const Stage* FindStage(std::string_view name) const;
  bool HasEdition(std::string_view name) const;
  bool HasSubject(std::string_view name) const;

 private:
  std::vector<Platform> platforms_;
  std::vector<Stage> stages_;
  std::vector<std::string> editions_;
  std::vector<std::string> subjects_;
};

}  // namespace tiersync::catalogs

#endif  // TIERSYNC_CATALOGS_TAXONOMY_H_
