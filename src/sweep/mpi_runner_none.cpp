// The MPI scheduler when MPI was not found at build time: says so.
#include "common/error.h"
#include "sweep/mpi_runner.h"

namespace ppgkd {

SweepOutcome run_sweep_mpi(const SweepOptions&) {
  throw Error("sweep",
              "this ppgkd was built without MPI; install libopenmpi-dev and rebuild, or run "
              "without mpirun (use --shard i/n to split a sweep across machines)");
}

}  // namespace ppgkd
