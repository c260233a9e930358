#pragma once
// Minimal leveled logging to stderr, one line per call, safe from any thread.
// Never pass a secret: there is no redaction here (see Secret in ids.h for the type that
// refuses to print).

#include <cstddef>
#include <string>
#include <string_view>

namespace sluice {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
void Log(LogLevel level, std::string_view module, std::string_view message);

// A client-supplied string (object key, bucket, upload id, header value) made safe to put in
// a log line: printable ASCII kept, '\\' and every other byte (CR, LF, controls, UTF-8 bytes)
// written as \xHH, so that a key cannot forge or split log lines; cut to `max_bytes` of input
// with "..." appended. Use it wherever a client string is logged.
std::string EscapeForLog(std::string_view text, size_t max_bytes = 1024);

inline void LogInfo(std::string_view module, std::string_view m) {
  Log(LogLevel::kInfo, module, m);
}
inline void LogWarn(std::string_view module, std::string_view m) {
  Log(LogLevel::kWarn, module, m);
}
inline void LogError(std::string_view module, std::string_view m) {
  Log(LogLevel::kError, module, m);
}
inline void LogDebug(std::string_view module, std::string_view m) {
  Log(LogLevel::kDebug, module, m);
}

}  // namespace sluice
