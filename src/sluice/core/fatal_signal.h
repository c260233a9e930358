#pragma once
// What a process that dies of a signal leaves behind: one line naming the signal and the
// stack of the thread it hit, on stderr (the server's log), so that a crash that no test
// expected (a segfault, an abort from a failed assertion in a library) still says where it
// happened. The frames are the executable's and libraries' addresses (`sluice(+0x1f3a2)`);
// `addr2line -f -C -e <the same build's sluice> 0x1f3a2` names the function and line.
//
// After the report the default action runs (the signal is raised again): the exit status
// still says which signal ended the process, and a core dump is still written where enabled.
// Handled: SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT. The main thread's handler runs on an
// alternate stack, so that its stack overflowing is reported too (another thread's overflow
// ends the process unreported). Only async-signal-safe calls run in the handler.

namespace sluice {

// Installs the handlers for the whole process; call once, early in main.
void InstallFatalSignalReport();

}  // namespace sluice
