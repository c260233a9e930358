#include "sluice/core/crash_point.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "sluice/core/mutex.h"
#include "sluice/core/text.h"

namespace sluice {
namespace crash_internal {

std::atomic<bool> armed{false};

}  // namespace crash_internal

namespace {

struct ArmedRule {
  CrashRule rule;
  uint64_t passes = 0;
};

struct ArmedRules {
  Mutex mu;
  std::vector<ArmedRule> rules GUARDED_BY(mu);
};

// A function-local static: the environment is read by a static initialiser, whose order
// relative to other translation units' globals is unspecified.
ArmedRules& Armed() {
  static ArmedRules armed;
  return armed;
}

bool IsKnownPoint(std::string_view name) {
  return std::find(std::begin(kCrashPoints), std::end(kCrashPoints), name) !=
         std::end(kCrashPoints);
}

std::string KnownPoints() {
  std::string out;
  for (std::string_view p : kCrashPoints) {
    if (!out.empty()) out += ", ";
    out += p;
  }
  return out;
}

Result<CrashRule> ParseRule(std::string_view item) {
  const size_t colon = item.rfind(':');
  if (colon == std::string_view::npos) {
    return Err(ErrorCode::kInvalidArgument,
               std::string(kCrashEnvVar) + ": '" + std::string(item) + "' is not POINT:N");
  }
  const std::string_view point = TrimAscii(item.substr(0, colon));
  const std::string_view count = TrimAscii(item.substr(colon + 1));
  if (!IsKnownPoint(point)) {
    return Err(ErrorCode::kInvalidArgument, std::string(kCrashEnvVar) + ": unknown crash point '" +
                                                std::string(point) + "' (known: " + KnownPoints() +
                                                ")");
  }
  uint64_t nth = 0;
  bool digits = !count.empty() && count.size() <= 18;
  for (char c : count) {
    if (c < '0' || c > '9') {
      digits = false;
      break;
    }
    nth = nth * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!digits || nth == 0) {
    return Err(ErrorCode::kInvalidArgument,
               std::string(kCrashEnvVar) + ": the count of '" + std::string(point) +
                   "' must be a number >= 1, not '" + std::string(count) + "'");
  }
  return CrashRule{std::string(point), nth};
}

void Die(std::string_view point, uint64_t pass) {
  // No stdio, no allocation that could take a lock another thread holds: format into a stack
  // buffer and write(2) it.
  char line[160];
  const int n = std::snprintf(
      line, sizeof(line), "sluice: crash point %.*s reached (pass %llu): exiting\n",
      static_cast<int>(point.size()), point.data(), static_cast<unsigned long long>(pass));
  if (n > 0) {
    [[maybe_unused]] const ssize_t written =
        ::write(STDERR_FILENO, line, std::min<size_t>(static_cast<size_t>(n), sizeof(line) - 1));
  }
  ::_exit(kCrashExitCode);
}

// Reads SLUICE_CRASH_AT once, before main.
struct ArmFromEnvironment {
  ArmFromEnvironment() {
    const char* spec = std::getenv(kCrashEnvVar);
    if (spec == nullptr || *spec == '\0') return;
    auto rules = ParseCrashSpec(spec);
    if (!rules.ok()) {
      std::fprintf(stderr, "sluice: %s\n", rules.status().message().c_str());
      std::exit(2);
    }
    std::fprintf(stderr, "sluice: crash points armed from %s=%s\n", kCrashEnvVar, spec);
    ArmCrashPoints(std::move(rules).value());
  }
};

const ArmFromEnvironment arm_from_environment;

}  // namespace

Result<std::vector<CrashRule>> ParseCrashSpec(std::string_view spec) {
  std::vector<CrashRule> out;
  while (!TrimAscii(spec).empty()) {
    const size_t comma = spec.find(',');
    const std::string_view item = TrimAscii(spec.substr(0, comma));
    SLUICE_ASSIGN_OR_RETURN(CrashRule rule, ParseRule(item));
    out.push_back(std::move(rule));
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  return out;
}

void ArmCrashPoints(std::vector<CrashRule> rules) {
  ArmedRules& armed = Armed();
  MutexLock lock(&armed.mu);
  armed.rules.clear();
  for (auto& r : rules) armed.rules.push_back({std::move(r), 0});
  crash_internal::armed.store(!armed.rules.empty(), std::memory_order_relaxed);
}

uint64_t CrashPointPasses(std::string_view point) {
  ArmedRules& armed = Armed();
  MutexLock lock(&armed.mu);
  for (const ArmedRule& r : armed.rules) {
    if (r.rule.point == point) return r.passes;
  }
  return 0;
}

namespace crash_internal {

void Hit(std::string_view point) {
  ArmedRules& armed = Armed();
  MutexLock lock(&armed.mu);
  // Two rules may name one point; each counts every pass, so count once per rule.
  for (ArmedRule& r : armed.rules) {
    if (r.rule.point != point) continue;
    if (++r.passes == r.rule.nth) Die(point, r.passes);
  }
}

}  // namespace crash_internal
}  // namespace sluice
