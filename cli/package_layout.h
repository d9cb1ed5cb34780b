// Where the Debian package keeps a node or the hub (docs/operators/package.md), for
// `tiersync node init --instance NAME` and `tiersync hub init --system`:
//
//   <config base>/<instance>/        /etc/tiersync/xihu: what the operator edits and provides
//     node.toml                      the configuration (conffile-like: edit, then
//                                    `systemctl reload tiersync-node@xihu`)
//     root.json                      the national root the node was set up with
//     tls.crt tls.key ca.pem         the [tls] files, when given
//   <state base>/<instance>/         /var/lib/tiersync/xihu: the node directory the unit serves
//     node.toml -> <config base>/<instance>/node.toml   (a symbolic link: the node reads its
//                                    configuration where the operator edits it; the unit's
//                                    ProtectSystem=strict keeps /etc read-only for the node)
//
//   <config base>/hub/keys/          the hub's online keys for its timers (timestamp.key,
//                                    snapshot.key, targets.key; never a root key)
//   <config base>/hub.env            the hub units' settings
//   <state base>/hub/                the hub's directory
//
// Modes: configuration directories 0750 and files 0640, owned root:tiersync when run as root
// (the node reads them and cannot change them); state owned tiersync:tiersync. Run as another
// user (tests, with the bases moved), everything stays that user's.
//
// The bases default to /etc/tiersync and /var/lib/tiersync (the units name those); tests move
// them with TIERSYNC_CONFIG_BASE and TIERSYNC_STATE_BASE (or --config-base, --state-base).
//
// The pure part (names and paths) is separate from the edge (ownership, modes, links: POSIX
// calls that Env does not offer, kept in this one file of cli/).
#ifndef TIERSYNC_CLI_PACKAGE_LAYOUT_H_
#define TIERSYNC_CLI_PACKAGE_LAYOUT_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace CLI {
class App;
}  // namespace CLI

namespace tiersync::cli {

inline constexpr char kDefaultConfigBase[] = "/etc/tiersync";
inline constexpr char kDefaultStateBase[] = "/var/lib/tiersync";
// The options --config-base and --state-base (or TIERSYNC_CONFIG_BASE / TIERSYNC_STATE_BASE)
// of an `init` command, meaningful with its `layout_flag` (e.g. "--instance"); defaults are
// the strings' current values.
void AddLayoutBaseOptions(CLI::App* init, std::string_view layout_flag, std::string* config_base,
                          std::string* state_base);

inline constexpr char kServiceUser[] = "tiersync";  // made by the package (sysusers.d)
inline constexpr char kHubInstance[] = "hub";       // tiersync-hub.service's directory name
inline constexpr size_t kMaxInstanceName = 64;

// An instance name names a unit (tiersync-node@NAME) and two directories: ASCII letters,
// digits, '-' and '_', 1 to kMaxInstanceName of them, and not "hub" (the hub's directory).
// kInvalidArgument says which rule it breaks.
Status CheckInstanceName(std::string_view name);

struct InstanceLayout {
  std::string config_dir;  // <config base>/<instance>
  std::string state_dir;   // <state base>/<instance>
  std::string config;      // <config_dir>/node.toml
};
InstanceLayout LayoutOf(const std::string& config_base, const std::string& state_base,
                        const std::string& instance);

// The name an input file gets in `config_dir` ("tls.crt"): `given` itself (absolute) if it is
// inside config_dir already, otherwise config_dir/name.
std::string PlaceInConfig(const std::string& config_dir, const std::string& given,
                          const std::string& name);

// ---- The edge: ownership and modes.

// Who the files are for: when this process runs as root, the package's user; otherwise
// nullopt (files stay the caller's). Also nullopt under root when the user does not exist (the
// package is not installed): *warning then says so, for the operator.
struct ServiceAccount {
  uid_t uid;
  gid_t gid;
};
std::optional<ServiceAccount> ServiceAccountIfRoot(std::string* warning);

// Creates `dir` (and parents) and makes it 0750, root:<service group> under root.
Status MakeConfigDir(const std::string& dir, const std::optional<ServiceAccount>& account);
// Writes `data` to `path` atomically, 0640, root:<service group> under root. kAlreadyExists if
// `path` exists and `replace` is false (an operator's edited file is never overwritten).
Status InstallConfigFile(const std::string& path, ByteSpan data,
                         const std::optional<ServiceAccount>& account, bool replace);
// Replaces `link` (a file or nothing) with a symbolic link to `target`, atomically.
Status ReplaceWithSymlink(const std::string& link, const std::string& target);
// Under root: `dir` and everything in it (links themselves, not their targets) become the
// service user's. Nothing otherwise.
Status GiveToService(const std::string& dir, const std::optional<ServiceAccount>& account);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_PACKAGE_LAYOUT_H_
