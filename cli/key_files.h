// Key files of the CLI: a private key is a PKCS#8 PEM file (mode 0600) whose first line is a
// comment naming its scheme ("# tiersync-key scheme=ed25519"); its public half is written
// beside it as <file>.pub.json, the TUF key object.
#ifndef TIERSYNC_CLI_KEY_FILES_H_
#define TIERSYNC_CLI_KEY_FILES_H_

#include <string>
#include <vector>

#include "base/crypto.h"
#include "protocol/tuf_metadata.h"

namespace tiersync::cli {

Status WriteKeyFiles(const std::string& path, const PrivateKey& key);
Result<PrivateKey> ReadPrivateKey(const std::string& path);
// A public key from a .pub.json file or from a private key file.
Result<protocol::tuf::Key> ReadPublicKey(const std::string& path);
Result<std::vector<PrivateKey>> ReadPrivateKeys(const std::vector<std::string>& paths);
protocol::tuf::Key TufKeyOf(const PrivateKey& key);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_KEY_FILES_H_
