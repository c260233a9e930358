#include "sluice/core/fatal_signal.h"

#include <execinfo.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cstring>

namespace sluice {
namespace {

constexpr std::array<int, 5> kSignals = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr int kMaxFrames = 64;
// The alternate stack: a handler running on the stack that overflowed would fault again.
constexpr size_t kAltStackBytes = 64 * 1024;
alignas(16) char alt_stack[kAltStackBytes];

void Write(const char* text) {
  size_t left = std::strlen(text);
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, text, left);
    if (n <= 0) return;
    text += n;
    left -= static_cast<size_t>(n);
  }
}

const char* Name(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV (invalid memory access)";
    case SIGBUS:
      return "SIGBUS (bus error)";
    case SIGFPE:
      return "SIGFPE (arithmetic error)";
    case SIGILL:
      return "SIGILL (illegal instruction)";
    case SIGABRT:
      return "SIGABRT (aborted)";
    default:
      return "a fatal signal";
  }
}

void OnFatalSignal(int sig) {
  Write("sluice: died of ");
  Write(Name(sig));
  Write("; stack of the thread it hit, innermost first:\n");
  void* frames[kMaxFrames];
  const int n = ::backtrace(frames, kMaxFrames);
  ::backtrace_symbols_fd(frames, n, STDERR_FILENO);
  // The default action: the process ends by this signal (and dumps core where enabled).
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

void InstallFatalSignalReport() {
  // backtrace() loads libgcc on its first call, which allocates: not in the handler.
  void* warm[1];
  ::backtrace(warm, 1);
  stack_t ss{};
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof(alt_stack);
  ::sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_handler = OnFatalSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
  for (int sig : kSignals) ::sigaction(sig, &sa, nullptr);
}

}  // namespace sluice
