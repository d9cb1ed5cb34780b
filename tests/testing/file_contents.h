// Test helper: a file's contents as a string, through any Env.
#ifndef TIERSYNC_TESTS_TESTING_FILE_CONTENTS_H_
#define TIERSYNC_TESTS_TESTING_FILE_CONTENTS_H_

#include <string>

#include "base/env.h"

namespace tiersync::testing {

// The contents of `path`, or "<status>" if it cannot be read (at most 1 MiB).
inline std::string Contents(Env* env, const std::string& path) {
  Result<std::vector<uint8_t>> bytes = ReadFileToBytes(env, path, 1 << 20);
  if (!bytes.ok()) return "<" + bytes.status().ToString() + ">";
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace tiersync::testing

#endif  // TIERSYNC_TESTS_TESTING_FILE_CONTENTS_H_
