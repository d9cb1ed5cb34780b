// A real temporary directory for a test, removed with everything in it when destroyed.
#ifndef TIERSYNC_TESTS_TESTING_TEMP_DIR_H_
#define TIERSYNC_TESTS_TESTING_TEMP_DIR_H_

#include <string>

namespace tiersync::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace tiersync::testing

#endif  // TIERSYNC_TESTS_TESTING_TEMP_DIR_H_
