#include "sluice/core/log.h"

#include <atomic>
#include <cstdio>
#include <string>

#include "sluice/core/clock.h"
#include "sluice/core/mutex.h"

namespace sluice {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
// Serialises whole lines on stderr (the only state it guards is the stream).
Mutex g_mu;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

}  // namespace

std::string EscapeForLog(std::string_view text, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool cut = text.size() > max_bytes;
  if (cut) text = text.substr(0, max_bytes);
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (cut) out += "...";
  return out;
}

void SetLogLevel(LogLevel level) { g_level.store(level); }
LogLevel GetLogLevel() { return g_level.load(); }

void Log(LogLevel level, std::string_view module, std::string_view message) {
  if (level < g_level.load()) return;
  std::string line = FormatIsoMicros(SystemClock::Instance().NowMicros());
  line += ' ';
  line += LevelName(level);
  line += ' ';
  line += module;
  line += ": ";
  line += message;
  line += '\n';
  MutexLock lock(&g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace sluice
