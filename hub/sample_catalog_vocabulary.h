// Vocabulary of the sample national catalog (hub/sample_catalog.h): the tables its records are
// drawn from (edition -> publisher, subjects with their grades, editions and lesson topics, the
// topics of the 专题教育, 课后服务, 教师研修, 家庭教育 and 教改实践经验 categories, the boards
// shared by the k12, vocational and higher platforms, the external link sites, grade and volume
// names), the mix of resource kinds, and small pure helpers over them.
//
// Internal to the generator (hub/sample_catalog.cc): not an API. Changing any table or helper
// changes what a given seed generates, i.e. the bytes of every generated catalog.
//
// Thread safety: the tables are built on first use (function-local statics) and immutable; all
// functions may be called from several threads at once.
#ifndef TIERSYNC_HUB_SAMPLE_CATALOG_VOCABULARY_H_
#define TIERSYNC_HUB_SAMPLE_CATALOG_VOCABULARY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/random.h"

namespace tiersync::hub::sample_catalog_internal {

using Strings = std::vector<std::string_view>;

// A uniformly chosen element of `v`. REQUIRES: !v.empty().
template <class T>
const T& Pick(Random& rng, const std::vector<T>& v) {
  return v[rng.Uniform(v.size())];
}

// Fisher-Yates shuffle of `*v`.
template <class T>
void Shuffle(Random& rng, std::vector<T>* v) {
  for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[rng.Uniform(i)]);
}

// ---------------------------------------------------------------------------------------------
// 课程教学: editions and subjects.

// The publisher of each of the 19 textbook editions of the taxonomy.
const std::vector<std::pair<std::string_view, std::string_view>>& EditionPublishers();

// The publisher of `edition`; 人民教育出版社 for an edition not in EditionPublishers().
std::string_view PublisherOf(std::string_view edition);

// A subject as taught in a range of grades: which editions publish it there, and lesson topics.
struct Subject {
  std::string_view name;
  int first_grade, last_grade;
  uint64_t weight;
  Strings editions;
  Strings topics;
  bool units = false;  // lessons are "Unit n ..." (English) rather than "第n课 ..."
};

// Every subject of grades 1-12; a subject taught differently in primary, junior and senior
// school has one entry per range.
const std::vector<Subject>& Subjects();

// "" (index 0), "一年级" ... "九年级", "高一" ... "高三": indexed by grade 1-12.
const Strings& GradeNames();

// Volume of the books of a senior-high grade ("必修 第一册" ...). REQUIRES: 10 <= grade <= 12.
const Strings& SeniorVolumes(int grade);

// The name of the taxonomy's stage holding `grade`, or "" if none does.
std::string StageOfGrade(int grade);

// ---------------------------------------------------------------------------------------------
// The other k12 boards.

// Topics (and providers) of the categories of the boards other than 课程教学.
struct CategoryTopics {
  std::string_view category;
  Strings topics;
};

const std::vector<CategoryTopics>& SpecialTopics();      // 专题教育
const std::vector<CategoryTopics>& AfterSchoolTopics();  // 课后服务
const std::vector<CategoryTopics>& TeacherTopics();      // 教师研修
const std::vector<CategoryTopics>& FamilyTopics();       // 家庭教育
const std::vector<CategoryTopics>& ReformTopics();       // 教改实践经验

// The entry of `list` for `category`, or the first one if there is none. REQUIRES: !list.empty().
const CategoryTopics& FindCategory(const std::vector<CategoryTopics>& list,
                                   std::string_view category);

// The 课后服务 category a 专题教育 category's items may also be placed in.
std::string_view AfterSchoolFor(std::string_view special_category);

// The priority (停课不停学) categories: 心理健康教育 and 生命与安全教育.
bool IsPriorityCategory(std::string_view category);

// A provider (drawn from `rng`) of the 课后服务 category `category`; 中央电化教育馆, drawing
// nothing, for an unknown category.
std::string_view AfterSchoolProvider(Random& rng, std::string_view category);

// Regions reporting practice, with their education authority.
const std::vector<std::pair<std::string_view, std::string_view>>& ReformRegions();

// The version-2 boards that sit in the k12, vocational and higher platforms at once.
struct MultiBoard {
  std::string_view board;
  std::vector<CategoryTopics> categories;
  Strings providers;
};

const std::vector<MultiBoard>& MultiBoards();

// ---------------------------------------------------------------------------------------------
// External links.

// The 60 external professional sites the platform links to, as obviously-sample names and
// example.edu.cn hosts: five sites for each of twelve themes, site NN having theme (NN-1) % 12.
inline constexpr std::string_view kLinkThemes[] = {"科普", "数字博物馆", "数字图书馆", "天文",
                                                   "地理", "生物",       "艺术",       "体育",
                                                   "法治", "安全",       "心理",       "编程"};
inline constexpr size_t kLinkSites = 60;

struct LinkSite {
  std::string name;
  std::string url;
};

// Site number k (0-4) of theme `theme` (an index into kLinkThemes).
LinkSite SiteOf(size_t theme, size_t k);

// ---------------------------------------------------------------------------------------------
// The mix of resources.

enum class Kind {
  kLesson,
  kTextbook,
  kSpecial,
  kAfterSchool,
  kTeacher,
  kFamily,
  kReform,
  kMultiBoard,
  kLink,
};

// `count` kinds in the catalog's shares of them (largest remainder), in random order.
std::vector<Kind> KindMix(uint64_t count, Random& rng);

}  // namespace tiersync::hub::sample_catalog_internal

#endif  // TIERSYNC_HUB_SAMPLE_CATALOG_VOCABULARY_H_
