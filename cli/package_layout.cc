#include "cli/package_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>

#include "base/env.h"

namespace tiersync::cli {
namespace {

constexpr mode_t kConfigDirMode = 0750;
constexpr mode_t kConfigFileMode = 0640;

Status Errno(const std::string& what, const std::string& path) {
  const int e = errno;
  std::string m = what + " " + path + ": " + strerror(e);
  if (e == EACCES || e == EPERM) m += " (the package layout is set up as root: sudo tiersync ...)";
  return IOError(m).AsLocal();
}

// root:<service group> under root; nothing otherwise.
Status OwnForConfig(const std::string& path, const std::optional<ServiceAccount>& account) {
  if (account && ::lchown(path.c_str(), 0, account->gid) != 0) return Errno("chown", path);
  return Status::Ok();
}

}  // namespace

Status CheckInstanceName(std::string_view name) {
  if (name.empty() || name.size() > kMaxInstanceName) {
    return InvalidArgumentError("instance name \"" + std::string(name) + "\": 1 to " +
                                std::to_string(kMaxInstanceName) + " characters");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) {
      return InvalidArgumentError("instance name \"" + std::string(name) +
                                  "\": only ASCII letters, digits, '-' and '_' (it names the "
                                  "unit tiersync-node@NAME and its directories)");
    }
  }
  if (name == kHubInstance) {
    return InvalidArgumentError("instance name \"hub\" is the hub's directory");
  }
  return Status::Ok();
}

InstanceLayout LayoutOf(const std::string& config_base, const std::string& state_base,
                        const std::string& instance) {
  InstanceLayout l;
  l.config_dir = JoinPath(config_base, instance);
  l.state_dir = JoinPath(state_base, instance);
  l.config = JoinPath(l.config_dir, "node.toml");
  return l;
}

std::string PlaceInConfig(const std::string& config_dir, const std::string& given,
                          const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::absolute(config_dir).lexically_normal();
  const fs::path file = fs::absolute(given).lexically_normal();
  if (file.parent_path() == dir) return file.string();
  return (dir / name).string();
}

std::optional<ServiceAccount> ServiceAccountIfRoot(std::string* warning) {
  if (::geteuid() != 0) return std::nullopt;
  const passwd* pw = ::getpwnam(kServiceUser);
  if (pw == nullptr) {
    *warning = std::string("warning: no user ") + kServiceUser +
               " (is the tiersync package installed?): the files stay root's";
    return std::nullopt;
  }
  return ServiceAccount{pw->pw_uid, pw->pw_gid};
}

Status MakeConfigDir(const std::string& dir, const std::optional<ServiceAccount>& account) {
  TS_RETURN_IF_ERROR(CreateDirs(Env::Default(), dir));
  if (::chmod(dir.c_str(), kConfigDirMode) != 0) return Errno("chmod", dir);
  return OwnForConfig(dir, account);
}

Status InstallConfigFile(const std::string& path, ByteSpan data,
                         const std::optional<ServiceAccount>& account, bool replace) {
  Env* env = Env::Default();
  if (!replace && env->FileExists(path)) {
    return AlreadyExistsError(path + " exists (edit it, or move it away to start afresh)");
  }
  TS_RETURN_IF_ERROR(WriteFileAtomically(env, path, data));
  if (::chmod(path.c_str(), kConfigFileMode) != 0) return Errno("chmod", path);
  return OwnForConfig(path, account);
}

Status ReplaceWithSymlink(const std::string& link, const std::string& target) {
  const std::string tmp = link + ".link-tmp";
  ::unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) != 0) return Errno("symlink", tmp);
  if (::rename(tmp.c_str(), link.c_str()) != 0) return Errno("rename to", link);
  return Status::Ok();
}

Status GiveToService(const std::string& dir, const std::optional<ServiceAccount>& account) {
  if (!account) return Status::Ok();
  namespace fs = std::filesystem;
  auto own = [&](const fs::path& p) -> Status {
    if (::lchown(p.c_str(), account->uid, account->gid) != 0) return Errno("chown", p.string());
    return Status::Ok();
  };
  TS_RETURN_IF_ERROR(own(dir));
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    TS_RETURN_IF_ERROR(own(it->path()));
  }
  if (ec) return IOError("chown " + dir + ": " + ec.message()).AsLocal();
  return Status::Ok();
}

void AddLayoutBaseOptions(CLI::App* init, std::string_view layout_flag, std::string* config_base,
                          std::string* state_base) {
  const std::string with = "With " + std::string(layout_flag) + ": the ";
  init->add_option("--config-base", *config_base, with + "configuration base")
      ->envname("TIERSYNC_CONFIG_BASE")
      ->capture_default_str();
  init->add_option("--state-base", *state_base, with + "state base")
      ->envname("TIERSYNC_STATE_BASE")
      ->capture_default_str();
}

}  // namespace tiersync::cli
