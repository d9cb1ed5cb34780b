#include "cli/catalog_commands.h"

#include <algorithm>
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "catalogs/catalog_diff.h"
#include "catalogs/git_catalog.h"
#include "catalogs/release.h"
#include "catalogs/subscription.h"
#include "hub/hub_dir.h"
#include "hub/signed_release.h"

namespace tiersync::cli {
namespace {

using catalogs::Resource;

struct CatalogArgs {
  std::string repo = ".";
  std::string release;  // default: the latest
  std::string filter;
  bool all = false;  // include retired resources
  std::string id, text, from, to;
};

// A hub directory or a catalog repository.
std::string RepoPath(const std::string& path) {
  hub::HubPaths hub(path);
  return Env::Default()->FileExists(hub.marker) ? hub.catalog : path;
}

Result<std::unique_ptr<catalogs::GitCatalog>> OpenRepo(const CatalogArgs& a) {
  return catalogs::GitCatalog::Open(RepoPath(a.repo));
}

Result<catalogs::ReleaseInfo> PickRelease(catalogs::GitCatalog* git, const std::string& name) {
  if (!name.empty()) return git->FindRelease(name);
  TS_ASSIGN_OR_RETURN(auto releases, git->Releases());
  if (releases.empty()) return NotFoundError("the catalog has no releases yet");
  return releases.back();
}

Result<std::map<std::string, Resource>> LoadRecords(catalogs::GitCatalog* git,
                                                    const catalogs::ReleaseInfo& release) {
  TS_ASSIGN_OR_RETURN(auto content, catalogs::ReadReleaseContent(git, release.tree));
  return catalogs::ParseReleaseRecords(content, catalogs::Taxonomy::Builtin(),
                                       catalogs::RegionTable::Builtin());
}

std::string Utc(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::string PlacementText(const catalogs::Placement& p) {
  return p.platform + "/" + p.board + (p.category.empty() ? "" : "/" + p.category);
}

nlohmann::json Summary(const Resource& r) {
  std::vector<std::string> places;
  for (const auto& p : r.placements) places.push_back(PlacementText(p));
  uint64_t bytes = 0;
  for (const auto& f : r.files) bytes += f.size;
  return {{"id", r.id},           {"title", r.title},
          {"placements", places}, {"files", r.files.size()},
          {"bytes", bytes},       {"link", r.link ? r.link->url : ""},
          {"retired", r.retired}, {"priority", r.priority}};
}

void PrintList(const std::vector<const Resource*>& list, bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const Resource* r : list) out.push_back(Summary(*r));
    std::cout << out.dump() << "\n";
    return;
  }
  for (const Resource* r : list) {
    std::cout << r->id << "  " << r->title << "  [" << PlacementText(r->placements[0]);
    if (r->placements.size() > 1) std::cout << " +" << r->placements.size() - 1;
    std::cout << "]";
    if (r->link) std::cout << "  link";
    if (r->retired) std::cout << "  retired";
    if (r->priority) std::cout << "  priority";
    std::cout << "\n";
  }
  std::cout << list.size() << " resources\n";
}

Status RunLog(const CatalogArgs& a, bool json) {
  TS_ASSIGN_OR_RETURN(auto git, OpenRepo(a));
  TS_ASSIGN_OR_RETURN(auto releases, git->Releases());
  nlohmann::json out = nlohmann::json::array();
  for (auto it = releases.rbegin(); it != releases.rend(); ++it) {
    std::string first_line = it->message.substr(0, it->message.find('\n'));
    if (json) {
      out.push_back({{"release", it->name},
                     {"commit", it->commit},
                     {"time", it->time},
                     {"publisher", it->tagger.name},
                     {"email", it->tagger.email},
                     {"message", it->message}});
    } else {
      std::cout << it->name << "  " << Utc(it->time) << "  " << it->tagger.name << " <"
                << it->tagger.email << ">  " << it->commit.substr(0, 12) << "\n    " << first_line
                << "\n";
    }
  }
  if (json) std::cout << out.dump() << "\n";
  return Status::Ok();
}

Status RunLs(const CatalogArgs& a, bool json, bool search) {
  TS_ASSIGN_OR_RETURN(auto git, OpenRepo(a));
  TS_ASSIGN_OR_RETURN(auto release, PickRelease(git.get(), a.release));
  TS_ASSIGN_OR_RETURN(auto records, LoadRecords(git.get(), release));
  std::optional<catalogs::Subscription> filter;
  if (!a.filter.empty()) {
    TS_ASSIGN_OR_RETURN(filter,
                        catalogs::Subscription::Parse(a.filter, catalogs::Taxonomy::Builtin(),
                                                      catalogs::RegionTable::Builtin()));
  }
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  const std::string needle = lower(a.text);
  std::vector<const Resource*> list;
  for (const auto& [id, r] : records) {
    if (r.retired && !a.all) continue;
    if (filter && !filter->Matches(r)) continue;
    if (search) {
      std::string hay = r.id + "\n" + r.title + "\n" + r.provider + "\n" + r.facets.volume + "\n" +
                        r.facets.lesson;
      for (const auto& t : r.facets.tags) hay += "\n" + t;
      if (lower(hay).find(needle) == std::string::npos) continue;
    }
    list.push_back(&r);
  }
  PrintList(list, json);
  return Status::Ok();
}

Status RunShow(const CatalogArgs& a) {
  TS_ASSIGN_OR_RETURN(auto git, OpenRepo(a));
  TS_ASSIGN_OR_RETURN(auto release, PickRelease(git.get(), a.release));
  TS_ASSIGN_OR_RETURN(auto records, LoadRecords(git.get(), release));
  auto it = records.find(a.id);
  if (it == records.end()) {
    return NotFoundError("release " + release.name + " has no resource " + a.id);
  }
  std::cout << catalogs::EncodeResource(it->second);
  return Status::Ok();
}

Status RunDiff(const CatalogArgs& a, bool json) {
  TS_ASSIGN_OR_RETURN(auto git, OpenRepo(a));
  TS_ASSIGN_OR_RETURN(auto from, git->FindRelease(a.from));
  TS_ASSIGN_OR_RETURN(auto to, git->FindRelease(a.to));
  TS_ASSIGN_OR_RETURN(auto old_records, LoadRecords(git.get(), from));
  TS_ASSIGN_OR_RETURN(auto new_records, LoadRecords(git.get(), to));
  catalogs::CatalogDiff d = catalogs::DiffCatalogs(old_records, new_records);
  const std::vector<std::pair<const char*, const std::vector<std::string>*>> kinds = {
      {"added", &d.added},
      {"changed", &d.changed},
      {"moved", &d.moved},
      {"retired", &d.retired},
      {"removed", &d.removed}};
  if (json) {
    nlohmann::json out{{"from", from.name}, {"to", to.name}};
    for (const auto& [kind, ids] : kinds) out[kind] = *ids;
    std::cout << out.dump() << "\n";
    return Status::Ok();
  }
  for (const auto& [kind, ids] : kinds) {
    for (const std::string& id : *ids) {
      auto it = new_records.find(id);
      const Resource& r = it != new_records.end() ? it->second : old_records.at(id);
      std::cout << kind << "  " << id << "  " << r.title << "\n";
    }
  }
  std::cout << from.name << " -> " << to.name << ": " << d.added.size() << " added, "
            << d.changed.size() << " changed, " << d.moved.size() << " moved, " << d.retired.size()
            << " retired, " << d.removed.size() << " removed\n";
  return Status::Ok();
}

Status RunVerify(const CatalogArgs& a, bool json) {
  hub::HubPaths paths(a.repo);
  if (!Env::Default()->FileExists(paths.marker)) {
    return FailedPreconditionError(a.repo +
                                   " is not a hub directory (verify needs its signed "
                                   "metadata)");
  }
  TS_RETURN_IF_ERROR(hub::CheckHubLayout(Env::Default(), paths));
  TS_ASSIGN_OR_RETURN(auto signed_release, hub::ReadSignedRelease(Env::Default(), paths));
  if (!signed_release) return NotFoundError("nothing is signed yet: no release was published");
  TS_ASSIGN_OR_RETURN(auto git, catalogs::GitCatalog::Open(paths.catalog));
  TS_ASSIGN_OR_RETURN(auto content, hub::ReadVerifiedRelease(git.get(), *signed_release));
  if (json) {
    std::cout << nlohmann::json{{"ok", true},
                                {"release", signed_release->release},
                                {"files", content.entries.size()},
                                {"content_sha256", ToHex(content.digest)}}
                     .dump()
              << "\n";
  } else {
    std::cout << "release " << signed_release->release << ": " << content.entries.size()
              << " files match the signed content digest " << ToHex(content.digest) << "\n";
  }
  return Status::Ok();
}

}  // namespace

void RegisterCatalogCommands(CLI::App* app, CommandContext* ctx) {
  auto a = std::make_shared<CatalogArgs>();
  CLI::App* cat = app->add_subcommand("catalog", "Read a catalog: releases, resources, diffs");
  cat->require_subcommand(1);
  auto common = [&](CLI::App* c, bool release) {
    c->add_option("--repo", a->repo, "Hub directory or catalog repository")->capture_default_str();
    if (release) c->add_option("--release", a->release, "Release r<N> (default: the latest)");
  };
  auto run = [ctx](const char* what, std::function<Status()> f) {
    return [ctx, what, f] {
      Status s = f();
      if (!s.ok()) ctx->Fail(std::string("catalog ") + what, s);
    };
  };

  CLI::App* log = cat->add_subcommand("log", "Releases, newest first, with their publishers");
  common(log, false);
  log->callback(run("log", [a, ctx] { return RunLog(*a, ctx->json); }));

  CLI::App* ls = cat->add_subcommand("ls", "List the resources of a release");
  common(ls, true);
  ls->add_option("--filter", a->filter,
                 "Subscription expression, e.g. 'board = 专题教育' (docs/formats/subscription.md)");
  ls->add_flag("--all", a->all, "Include retired resources");
  ls->callback(run("ls", [a, ctx] { return RunLs(*a, ctx->json, false); }));

  CLI::App* search = cat->add_subcommand("search", "Find resources by id, title, lesson, tag");
  common(search, true);
  search->add_option("text", a->text, "Text to look for (case-insensitive)")->required();
  search->add_flag("--all", a->all, "Include retired resources");
  search->callback(run("search", [a, ctx] { return RunLs(*a, ctx->json, true); }));

  CLI::App* show = cat->add_subcommand("show", "Print one resource record");
  common(show, true);
  show->add_option("id", a->id, "Resource id")->required();
  show->callback(run("show", [a] { return RunShow(*a); }));

  CLI::App* diff = cat->add_subcommand("diff", "Resources added, changed, moved, retired");
  common(diff, false);
  diff->add_option("from", a->from, "Older release, e.g. r1")->required();
  diff->add_option("to", a->to, "Newer release, e.g. r2")->required();
  diff->callback(run("diff", [a, ctx] { return RunDiff(*a, ctx->json); }));

  CLI::App* verify = cat->add_subcommand(
      "verify", "Check the signed release against the hub's catalog repository (SHA-256)");
  verify->add_option("--repo", a->repo, "Hub directory")->capture_default_str();
  verify->callback(run("verify", [a, ctx] { return RunVerify(*a, ctx->json); }));
}

}  // namespace tiersync::cli
