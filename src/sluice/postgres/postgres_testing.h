#pragma once
// Test support: a PostgreSQL database of the test's own. CTest runs every test of a PG test
// binary (sluice_module_test(... PG ...)) with SLUICE_TEST_PG set to the connection string of
// the `pg_server` fixture's throwaway server; TestDatabase creates a fresh database there
// (a unique name per process and object, so tests running in parallel never see each other's
// tables) and drops it when it goes.
//
// Run by hand, a test binary needs the variable too:
//   scripts/pg_server.sh start /tmp/pg && export SLUICE_TEST_PG="$(scripts/pg_server.sh dsn
//   /tmp/pg)"
//
// Thread-safety: none; one object per test.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "sluice/postgres/postgres.h"

namespace sluice::postgres::testing {

class TestDatabase {
 public:
  TestDatabase() {
    const char* server = std::getenv("SLUICE_TEST_PG");
    if (server == nullptr || *server == '\0') {
      ADD_FAILURE() << "SLUICE_TEST_PG is not set. Run the test through ctest (its pg_server "
                       "fixture starts a PostgreSQL server), or start one yourself: "
                       "scripts/pg_server.sh start /tmp/pg && export SLUICE_TEST_PG=\"$("
                       "scripts/pg_server.sh dsn /tmp/pg)\"";
      return;
    }
    server_ = server;
    static std::atomic<int> counter{0};
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    name_ = "sluice_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
            std::to_string(now % 1'000'000'007);
    auto admin = Conn::Open(server_, {.label = "test server"});
    if (!admin.ok()) {
      ADD_FAILURE() << admin.status().ToString();
      return;
    }
    Status st = (*admin)->Exec("CREATE DATABASE " + QuoteIdent(name_));
    if (!st.ok()) {
      ADD_FAILURE() << st.ToString();
      return;
    }
    auto info = WithDatabase(server_, name_);
    if (!info.ok()) {
      ADD_FAILURE() << info.status().ToString();
      return;
    }
    conninfo_ = *info;
  }

  ~TestDatabase() {
    if (conninfo_.empty()) return;
    auto admin = Conn::Open(server_, {.label = "test server"});
    if (!admin.ok()) return;
    // FORCE: a connection the test leaked must not keep its database alive.
    (*admin)->Exec("DROP DATABASE IF EXISTS " + QuoteIdent(name_) + " WITH (FORCE)").IgnoreError();
  }

  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // The connection string of the test's database; empty when the setup failed (and the test
  // has been marked failed).
  const std::string& conninfo() const { return conninfo_; }
  const std::string& name() const { return name_; }

  // A connection to it; fails the test when it cannot connect.
  std::unique_ptr<Conn> Connect(const std::string& label = "test") const {
    auto conn = Conn::Open(conninfo_, {.label = label});
    if (!conn.ok()) {
      ADD_FAILURE() << conn.status().ToString();
      return nullptr;
    }
    return std::move(*conn);
  }

 private:
  std::string server_;
  std::string name_;
  std::string conninfo_;
};

}  // namespace sluice::postgres::testing
