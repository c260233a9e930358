#pragma once
// TempDir: a fresh directory under the system's temporary directory for one test (or fixture),
// removed with everything in it when the object goes. Create it before the objects that keep
// files open inside it (declare it first among a fixture's members), so that it goes last.
//
// Thread-safety: the object is immutable once made; its directory is the test's.

#include <string>
#include <string_view>

namespace sluice::testing {

class TempDir {
 public:
  // mkdtemp of "<temp>/<prefix>.XXXXXX", mode 0700. Throws std::system_error when it fails (a
  // test then fails with that message).
  explicit TempDir(std::string_view prefix = "sluice_test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + `name`.
  std::string Join(std::string_view name) const;

 private:
  std::string path_;
};

}  // namespace sluice::testing
