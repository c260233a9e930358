#pragma once
// Test support, not part of store's contract: what the store's and the admin side's tests stand
// a StoreBackend on. StoreRig is a fresh data directory with a real catalog, landing store,
// SQLite pool and loader in it, opened once and closed in the order that lets each part outlive
// its users; the helpers are what their PUT tests share.
//
//   FakeClock clock_{...};                   // declared before the rig: it outlives it
//   StoreRig rig_{"quota_test"};
//   ASSERT_TRUE(rig_.Open(clock_).ok());     // in SetUp; the fixture then builds its backend
//
// Thread-safety: as the parts it holds.

#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>

#include "sluice/catalog/catalog.h"
#include "sluice/core/core.h"
#include "sluice/core/testing/temp_dir.h"
#include "sluice/landing/landing.h"
#include "sluice/load/load.h"
#include "sluice/pool/pool.h"

namespace sluice::store {

// MD5 of `data` in lower-case hex: the ETag of a PUT or of one part.
inline std::string Md5Hex(std::string_view data) {
  std::array<uint8_t, 16> digest;
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &n, EVP_md5(), nullptr);
  return ToHex(ByteView(digest.data(), n));
}

// The bytes of ../shared's flat seed file (orders with an order_id key); empty when missing.
inline std::string SeedOrdersParquet() {
  std::ifstream in(std::string(SLUICE_SHARED_DIR) + "/parquet/generated/seed_order_flat_v1.parquet",
                   std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class StoreRig {
 public:
  // The directory is "<temp>/<name>.XXXXXX", removed with everything in it by the destructor.
  explicit StoreRig(std::string_view name) : tmp_(name) {}
  ~StoreRig() { Close(); }
  StoreRig(const StoreRig&) = delete;
  StoreRig& operator=(const StoreRig&) = delete;

  // Opens the catalog, the landing store (on `fs`) and the pool in dir(), and a loader over
  // them. `clock` and `fs` must outlive the rig.
  Status Open(const Clock& clock, FileSystem& fs = FileSystem::Default()) {
    SLUICE_ASSIGN_OR_RETURN(catalog,
                            sluice::catalog::Catalog::Open(dir(), FileSystem::Default(), clock));
    landing = std::make_unique<sluice::landing::DirectoryStore>(fs, dir() + "/landing");
    SLUICE_RETURN_IF_ERROR(landing->Init());
    SLUICE_ASSIGN_OR_RETURN(pool, sluice::pool::OpenSqlitePool(dir() + "/pool", clock));
    loader = std::make_unique<sluice::load::Loader>(*catalog, *landing, *pool, clock);
    return Status::Ok();
  }
  // Closes the loader, the pool, the landing store and the catalog, in that order. Whatever
  // uses them (a backend, backpressure) must be gone first.
  void Close() {
    loader.reset();
    pool.reset();
    landing.reset();
    catalog.reset();
  }

  const std::string& dir() const { return tmp_.path(); }

  std::unique_ptr<sluice::catalog::Catalog> catalog;
  std::unique_ptr<sluice::landing::DirectoryStore> landing;
  std::unique_ptr<sluice::pool::Pool> pool;
  std::unique_ptr<sluice::load::Loader> loader;

 private:
  testing::TempDir tmp_;
};

}  // namespace sluice::store
