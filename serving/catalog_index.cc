#include "serving/catalog_index.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "serving/text.h"

namespace tiersync::serving {
namespace {

using catalogs::Resource;

uint64_t Bigram(char32_t a, char32_t b) { return (uint64_t{a} << 32) | uint64_t{b}; }

bool Visible(const Resource& r) {
  return r.review == catalogs::ReviewState::kApproved && !r.retired;
}

std::vector<std::u32string> Terms(std::string_view text) {
  std::vector<std::u32string> terms;
  std::u32string folded = FoldForSearch(text);
  std::u32string term;
  for (char32_t c : folded) {
    if (c == U' ' || c == U'\t' || c == U'\u3000') {
      if (!term.empty()) terms.push_back(std::move(term));
      term.clear();
    } else {
      term.push_back(c);
    }
  }
  if (!term.empty()) terms.push_back(std::move(term));
  return terms;
}

std::vector<uint32_t> Intersect(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

std::u32string FoldForSearch(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    std::optional<char32_t> next = NextCodePoint(s, &i);
    if (!next) continue;  // invalid bytes are dropped
    char32_t cp = *next;
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp = cp - 0xFF01 + 0x21;  // full-width ASCII
    if (cp >= U'A' && cp <= U'Z') cp = cp - U'A' + U'a';
    out.push_back(cp);
  }
  return out;
}

CatalogIndex::CatalogIndex(std::string release, std::vector<Resource> resources,
                           const catalogs::Taxonomy& taxonomy)
    : release_(std::move(release)), taxonomy_(&taxonomy) {
  std::erase_if(resources, [](const Resource& r) { return !Visible(r); });
  resources_ = std::move(resources);
  resources_.shrink_to_fit();
  std::sort(resources_.begin(), resources_.end(), [](const Resource& a, const Resource& b) {
    return std::tie(a.title, a.id) < std::tie(b.title, b.id);
  });
  docs_.resize(resources_.size());
  for (uint32_t d = 0; d < resources_.size(); ++d) {
    const Resource& r = resources_[d];
    by_id_.emplace(r.id, d);
    Doc& doc = docs_[d];
    doc.text = FoldForSearch(r.title);
    doc.title_length = doc.text.size();
    for (const std::string* field : {&r.facets.lesson, &r.facets.volume, &r.provider}) {
      if (field->empty()) continue;
      doc.text.push_back(U'\0');
      doc.text += FoldForSearch(*field);
    }
    for (const std::string& tag : r.facets.tags) {
      doc.text.push_back(U'\0');
      doc.text += FoldForSearch(tag);
    }
    for (size_t i = 0; i < doc.text.size(); ++i) {
      const char32_t c = doc.text[i];
      if (c == U'\0') continue;
      auto& uni = unigrams_[c];
      if (uni.empty() || uni.back() != d) uni.push_back(d);
      if (i + 1 < doc.text.size() && doc.text[i + 1] != U'\0') {
        auto& bi = bigrams_[Bigram(c, doc.text[i + 1])];
        if (bi.empty() || bi.back() != d) bi.push_back(d);
      }
    }
    doc.text.shrink_to_fit();
  }
  // The lists grew by doubling; an index lives as long as its release.
  for (auto& [bigram, list] : bigrams_) list.shrink_to_fit();
  for (auto& [unigram, list] : unigrams_) list.shrink_to_fit();
}

const Resource* CatalogIndex::Find(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &resources_[it->second];
}

std::vector<PlatformCount> CatalogIndex::Tree() const {
  // (platform, board, category) -> resources placed there; a resource counts once per node.
  std::map<std::string, std::map<std::string, std::map<std::string, size_t>>> cats;
  std::map<std::string, std::map<std::string, size_t>> boards;
  std::map<std::string, size_t> platforms;
  for (const Resource& r : resources_) {
    std::set<std::string> seen_platforms;
    std::set<std::pair<std::string, std::string>> seen_boards;
    for (const auto& p : r.placements) {
      if (seen_platforms.insert(p.platform).second) ++platforms[p.platform];
      if (seen_boards.insert({p.platform, p.board}).second) ++boards[p.platform][p.board];
      if (!p.category.empty()) ++cats[p.platform][p.board][p.category];
    }
  }
  std::vector<PlatformCount> out;
  for (const catalogs::Platform& p : taxonomy_->platforms()) {
    auto pc = platforms.find(p.id);
    if (pc == platforms.end()) continue;
    PlatformCount platform{p.id, p.name, pc->second, {}};
    for (const catalogs::Board& b : p.boards) {
      auto bc = boards[p.id].find(b.name);
      if (bc == boards[p.id].end()) continue;
      BoardCount board{b.name, bc->second, {}};
      for (const std::string& c : b.categories) {
        auto cc = cats[p.id][b.name].find(c);
        if (cc != cats[p.id][b.name].end()) board.categories.push_back({c, cc->second});
      }
      platform.boards.push_back(std::move(board));
    }
    out.push_back(std::move(platform));
  }
  return out;
}

std::vector<uint32_t> CatalogIndex::Candidates(const std::u32string& term) const {
  if (term.size() == 1) {
    auto it = unigrams_.find(term[0]);
    return it == unigrams_.end() ? std::vector<uint32_t>{} : it->second;
  }
  // Rarest bigram first keeps the intersections small.
  std::vector<const std::vector<uint32_t>*> lists;
  for (size_t i = 0; i + 1 < term.size(); ++i) {
    auto it = bigrams_.find(Bigram(term[i], term[i + 1]));
    if (it == bigrams_.end()) return {};
    lists.push_back(&it->second);
  }
  std::sort(lists.begin(), lists.end(),
            [](const auto* a, const auto* b) { return a->size() < b->size(); });
  std::vector<uint32_t> out = *lists.front();
  for (size_t i = 1; i < lists.size() && !out.empty(); ++i) out = Intersect(out, *lists[i]);
  return out;
}

SearchResult CatalogIndex::Search(const SearchQuery& q,
                                  const std::function<bool(const Resource&)>& is_local) const {
  SearchResult result;
  const std::vector<std::u32string> terms =
      Terms(q.text.size() > kMaxQueryBytes ? q.text.substr(0, kMaxQueryBytes) : q.text);
  std::vector<uint32_t> docs;
  if (terms.empty()) {
    docs.resize(resources_.size());
    for (uint32_t d = 0; d < docs.size(); ++d) docs[d] = d;
  } else {
    docs = Candidates(terms[0]);
    for (size_t i = 1; i < terms.size() && !docs.empty(); ++i) {
      docs = Intersect(docs, Candidates(terms[i]));
    }
  }
  auto placed = [&](const Resource& r) {
    if (q.platform.empty() && q.board.empty() && q.category.empty()) return true;
    return std::any_of(r.placements.begin(), r.placements.end(), [&](const auto& p) {
      return (q.platform.empty() || p.platform == q.platform) &&
             (q.board.empty() || p.board == q.board) &&
             (q.category.empty() || p.category == q.category);
    });
  };
  std::vector<uint32_t> title_hits, other_hits;
  for (uint32_t d : docs) {
    const Resource& r = resources_[d];
    if (!placed(r)) continue;
    if (!q.stage.empty() && r.facets.stage != q.stage) continue;
    if (!q.subject.empty() && r.facets.subject != q.subject) continue;
    if (!q.edition.empty() && r.facets.edition != q.edition) continue;
    if (q.grade != 0 && r.facets.grade != q.grade) continue;
    bool all = true, in_title = true;
    const std::u32string_view text(docs_[d].text);
    const std::u32string_view title = text.substr(0, docs_[d].title_length);
    for (const std::u32string& t : terms) {
      if (text.find(t) == std::u32string_view::npos) {
        all = false;
        break;
      }
      if (title.find(t) == std::u32string_view::npos) in_title = false;
    }
    if (!all) continue;
    if (q.local_only && (!is_local || !is_local(r))) continue;
    (in_title ? title_hits : other_hits).push_back(d);
    auto& f = result.facets;
    if (!r.facets.stage.empty()) ++f["stage"][r.facets.stage];
    if (!r.facets.subject.empty()) ++f["subject"][r.facets.subject];
    if (!r.facets.edition.empty()) ++f["edition"][r.facets.edition];
    if (r.facets.grade != 0) ++f["grade"][std::to_string(r.facets.grade)];
  }
  result.total = title_hits.size() + other_hits.size();
  const size_t limit = std::min(q.limit, kMaxSearchLimit);
  for (size_t i = q.offset; i < result.total && result.items.size() < limit; ++i) {
    const uint32_t d = i < title_hits.size() ? title_hits[i] : other_hits[i - title_hits.size()];
    result.items.push_back(&resources_[d]);
  }
  return result;
}

}  // namespace tiersync::serving
