#include "sluice/cli/cli.h"
#include "sluice/core/fatal_signal.h"

int main(int argc, char** argv) {
  sluice::InstallFatalSignalReport();
  return sluice::cli::Run(argc, argv);
}
