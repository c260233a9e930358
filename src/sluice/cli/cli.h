#pragma once
// cli: the `sluice` command. `serve` hands over to app/; every other command works on the data
// directory directly (the catalog and the pool are SQLite files that the running server and
// the CLI open concurrently), so the CLI works whether or not a server is running.

namespace sluice::cli {

// Parses argv and runs the command; returns the process exit code (0 success, 1 failure,
// 2 usage error).
int Run(int argc, char** argv);

}  // namespace sluice::cli
