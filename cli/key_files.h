// Key files of the CLI: a private key is a PKCS#8 PEM file (mode 0600) whose first line is a
// comment naming its scheme ("# tiersync-key scheme=ed25519"); its public half is written
// beside it as <file>.pub.json, the TUF key object.
#ifndef TIERSYNC_CLI_KEY_FILES_H_
#define TIERSYNC_CLI_KEY_FILES_H_

#include <optional>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "protocol/tuf_metadata.h"
#include "replication/tuf_repository.h"

namespace tiersync::cli {

Status WriteKeyFiles(const std::string& path, const PrivateKey& key);
Result<PrivateKey> ReadPrivateKey(const std::string& path);
// A public key from a .pub.json file or from a private key file.
Result<protocol::tuf::Key> ReadPublicKey(const std::string& path);
Result<std::vector<PrivateKey>> ReadPrivateKeys(const std::vector<std::string>& paths);
protocol::tuf::Key TufKeyOf(const PrivateKey& key);

// The loaded keys as a key ring: a repository signs each role with those it authorises.
replication::KeyRing RingOf(const std::vector<PrivateKey>& keys);

// Public key files of the four top-level roles, as given on a command line.
struct RootKeyFiles {
  std::vector<std::string> root;
  uint32_t root_threshold = 1;
  std::vector<std::string> timestamp, snapshot, targets;
  // The root's signed offline grace (protocol/tuf_metadata.h), in days; none when unset.
  std::optional<uint32_t> offline_grace_days;
  // PEM files of national identity CAs for the root's x-tiersync-identity-ca; none when empty.
  std::vector<std::string> identity_cas;
};
// Sets the root's identity CAs (protocol/tuf_metadata.h kIdentityCaField) to the certificates
// in `files` (replacing the list): each must be a self-signed national identity CA
// (identity/node_certificate.h); kInvalidArgument naming the file otherwise, or for more than
// kMaxIdentityCas.
Status SetIdentityCas(protocol::tuf::Root* root, const std::vector<std::string>& files);
// Sets the root's offline grace from a day count given on a command line (kInvalidArgument
// past kMaxOfflineGraceSeconds).
Status SetOfflineGrace(protocol::tuf::Root* root, uint32_t days);
// Adds `role` with the keys in `files` to `root`. kInvalidArgument if there are none or the
// threshold exceeds them.
Status AddRoleKeyFiles(protocol::tuf::Root* root, const std::string& role,
                       const std::vector<std::string>& files, uint32_t threshold);
Result<protocol::tuf::Root> RootFromKeyFiles(const RootKeyFiles& files);

// Seconds since the epoch, for signing.
int64_t NowSeconds();

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_KEY_FILES_H_
