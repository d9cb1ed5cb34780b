#include "catalogs/region_table.h"

#include <cstdlib>
#include <functional>
#include <optional>
#include <vector>

#include "catalogs/region_data.h"

namespace tiersync::catalogs {
namespace {

Status Bad(const std::string& where, const std::string& what) {
  return CorruptionError("region table " + where + ": " + what);
}

bool AllDigits(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Splits one CSV line: plain fields, or a double-quoted field without embedded quotes or
// commas (what the tables use). nullopt if the line is not of that form.
std::optional<std::vector<std::string>> SplitCsv(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    std::string field;
    if (i < line.size() && line[i] == '"') {
      size_t end = line.find('"', i + 1);
      if (end == std::string_view::npos) return std::nullopt;
      field = std::string(line.substr(i + 1, end - i - 1));
      i = end + 1;
    } else {
      size_t end = line.find(',', i);
      field = std::string(line.substr(i, end == std::string_view::npos ? end : end - i));
      if (field.find('"') != std::string::npos) return std::nullopt;
      i = end == std::string_view::npos ? line.size() : end;
    }
    out.push_back(std::move(field));
    if (i >= line.size()) return out;
    if (line[i] != ',') return std::nullopt;
    ++i;
  }
}

// Calls `row(fields, where)` for each data line of `csv` after checking its header.
Status ForEachRow(
    std::string_view csv, std::string_view file, std::string_view header,
    const std::function<Status(const std::vector<std::string>&, const std::string&)>& row) {
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < csv.size()) {
    size_t end = csv.find('\n', pos);
    std::string_view line = csv.substr(pos, end == std::string_view::npos ? end : end - pos);
    pos = end == std::string_view::npos ? csv.size() : end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_no;
    const std::string where = std::string(file) + ":" + std::to_string(line_no);
    if (line_no == 1) {
      if (line != header) return Bad(where, "header is not \"" + std::string(header) + "\"");
      continue;
    }
    if (line.empty()) continue;
    auto fields = SplitCsv(line);
    if (!fields) return Bad(where, "malformed CSV line");
    TS_RETURN_IF_ERROR(row(*fields, where));
  }
  if (line_no == 0) return Bad(std::string(file), "is empty");
  return Status::Ok();
}

}  // namespace

Status RegionTable::Add(Region r, const std::string& where) {
  if (r.name.empty()) return Bad(where, "empty name");
  if (!r.parent.empty()) {
    const Region* parent = Find(r.parent);
    if (parent == nullptr) return Bad(where, "parent " + r.parent + " does not exist");
  }
  std::string code = r.code;
  if (!regions_.emplace(code, std::move(r)).second) return Bad(where, "code " + code + " twice");
  return Status::Ok();
}

Result<RegionTable> RegionTable::Parse(std::string_view provinces_csv, std::string_view cities_csv,
                                       std::string_view areas_csv) {
  RegionTable t;
  TS_RETURN_IF_ERROR(ForEachRow(
      provinces_csv, "provinces.csv", "code,name", [&](const auto& f, const std::string& w) {
        if (f.size() != 2 || !AllDigits(f[0], 2))
          return Bad(w, "expected a 2-digit code and a name");
        return t.Add({f[0] + "0000", f[1], RegionLevel::kProvince, "", false, false}, w);
      }));
  TS_RETURN_IF_ERROR(ForEachRow(
      cities_csv, "cities.csv", "code,name,provinceCode", [&](const auto& f, const std::string& w) {
        if (f.size() != 3 || !AllDigits(f[0], 4) || !AllDigits(f[2], 2) ||
            f[0].compare(0, 2, f[2]) != 0) {
          return Bad(w, "expected a 4-digit code extending its 2-digit province code");
        }
        return t.Add(
            {f[0] + "00", f[1], RegionLevel::kPrefecture, f[2] + "0000", f[1] == "市辖区", false},
            w);
      }));
  TS_RETURN_IF_ERROR(ForEachRow(
      areas_csv, "areas.csv", "code,name,cityCode,provinceCode",
      [&](const auto& f, const std::string& w) {
        if (f.size() != 4 || !AllDigits(f[0], 6) || !AllDigits(f[2], 4) || !AllDigits(f[3], 2) ||
            f[0].compare(0, 4, f[2]) != 0 || f[2].compare(0, 2, f[3]) != 0) {
          return Bad(w, "expected a 6-digit code extending its city and province codes");
        }
        if (f[0] == f[2] + "00") {  // a city without counties, listed at county level too
          Region* city = &t.regions_.at(f[0]);
          if (city->name != f[1] || city->also_county) return Bad(w, "repeats city " + f[0]);
          city->also_county = true;
          return Status::Ok();
        }
        return t.Add({f[0], f[1], RegionLevel::kCounty, f[2] + "00", false, false}, w);
      }));
  return t;
}

const RegionTable& RegionTable::Builtin() {
  static const RegionTable table = [] {
    auto t = Parse(kProvincesCsv, kCitiesCsv, kAreasCsv);
    if (!t.ok()) std::abort();  // the compiled-in tables are checked by the tests
    return std::move(t).value();
  }();
  return table;
}

const Region* RegionTable::Find(std::string_view code) const {
  auto it = regions_.find(code);
  return it == regions_.end() ? nullptr : &it->second;
}

std::vector<const Region*> RegionTable::Children(std::string_view code) const {
  std::vector<const Region*> out;
  for (const auto& [c, r] : regions_) {
    if (r.parent == code) out.push_back(&r);
  }
  return out;
}

std::vector<const Region*> RegionTable::Chain(std::string_view code) const {
  std::vector<const Region*> chain;
  for (const Region* r = Find(code); r != nullptr;
       r = r->parent.empty() ? nullptr : Find(r->parent)) {
    chain.insert(chain.begin(), r);
  }
  return chain;
}

bool RegionTable::IsWithin(std::string_view code, std::string_view ancestor) const {
  for (const Region* r : Chain(code)) {
    if (r->code == ancestor) return true;
  }
  return false;
}

std::vector<const Region*> RegionTable::AtLevel(RegionLevel level) const {
  std::vector<const Region*> out;
  for (const auto& [c, r] : regions_) {
    if (r.level == level) out.push_back(&r);
  }
  return out;
}

}  // namespace tiersync::catalogs
