#pragma once
// Injectable crash points: a test makes `sluice serve` die at the Nth pass through a named
// point in the code, with `_exit` (no destructors, no flush, no cleanup: what a power cut does
// to the process; the kernel's page cache survives, so this is a process crash, not an OS
// crash that loses unsynced writes). The crash tests (tests/e2e/test_crash.py) use it to hit
// the windows between the durable steps of ingestion exactly, where a random SIGKILL hits
// them only by luck.
//
// Configuration: the environment variable SLUICE_CRASH_AT, read once when the process starts
// (a static initialiser in crash_point.cc, before main), e.g.
//   SLUICE_CRASH_AT=load.after_pool_commit:3            die at the 3rd pass
//   SLUICE_CRASH_AT=landing.durable:2,fs.rename:40      whichever comes first
// An unknown point, a count < 1 or a malformed rule makes the process print why and exit 2
// before main: a typo must not silently test nothing. The process exits with status
// kCrashExitCode (86) at the crash, after one line on stderr naming the point and the pass,
// so that a test tells an injected crash from a real failure.
//
// Cost when unset: CrashPoint() is an inline relaxed load of one atomic bool and a branch
// that is never taken (a plain load on x86).
//
// The points, in the order one file passes them:
//   landing.durable         landing/: an incoming object or part is durable under its final
//                           name (fdatasync, rename, directory fsync) but not yet recorded in
//                           the ledger. Recovery: the orphaned object is never acknowledged.
//   ledger.after_append     catalog/ledger.cc: the ledger entry is committed (the file has a
//                           sequence and will be loaded) but the PUT has not been answered.
//   put.before_response     store/s3_backend.cc: the ledger entry is committed and the loader
//                           notified; the 200 is about to be sent.
//   load.mid_load           load/load.cc: after each batch applied to the open pool
//                           transaction, before its commit (the pass count is in batches).
//   load.after_pool_commit  load/load.cc: the pool transaction (rows and the sequence in
//                           _sluice_applied) committed; the ledger still says `loading`
//                           (with the ledger in PostgreSQL it says `loaded`: it committed
//                           with the rows).
//   load.after_mark_loaded  load/load.cc: the ledger says `loaded`; observers (waiting PUTs,
//                           metrics) not told yet.
//   fs.sync                 core/fs.cc: before the Nth fdatasync of a file or fsync of a
//                           directory through the FileSystem seam (landing, serve.json; not
//                           SQLite's own syncs).
//   fs.rename               core/fs.cc: before the Nth rename through the FileSystem seam.
//
// Thread-safety: CrashPoint is safe from any thread; passes are counted under a mutex (only
// when armed). ArmCrashPoints is for start-up and unit tests.

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/result.h"

namespace sluice {

inline constexpr int kCrashExitCode = 86;
inline constexpr const char* kCrashEnvVar = "SLUICE_CRASH_AT";

// Every point placed in the code (ParseCrashSpec refuses other names).
inline constexpr std::string_view kCrashPoints[] = {
    "landing.durable",
    "ledger.after_append",
    "put.before_response",
    "load.mid_load",
    "load.after_pool_commit",
    "load.after_mark_loaded",
    "fs.sync",
    "fs.rename",
};

// One rule: die at the `nth` pass (1-based) through `point`.
struct CrashRule {
  std::string point;
  uint64_t nth = 0;
};

// Parses "point:N[,point:N...]" (spaces around items allowed). Empty text: no rules.
Result<std::vector<CrashRule>> ParseCrashSpec(std::string_view spec);

// Replaces the armed rules and resets the pass counts; an empty list disarms.
void ArmCrashPoints(std::vector<CrashRule> rules);

// Passes counted at `point` since the rules were armed (0 when disarmed or not a rule's point).
uint64_t CrashPointPasses(std::string_view point);

namespace crash_internal {
extern std::atomic<bool> armed;
void Hit(std::string_view point);
}  // namespace crash_internal

// Marks a pass through `point` (one of kCrashPoints); dies here when a rule says so.
inline void CrashPoint(std::string_view point) {
  if (crash_internal::armed.load(std::memory_order_relaxed)) [[unlikely]] {
    crash_internal::Hit(point);
  }
}

}  // namespace sluice
