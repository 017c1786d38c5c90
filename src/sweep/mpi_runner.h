// The sweep across machines with MPI: `mpirun -np N ppgkd sweep --plan P --out DIR`. Rank 0
// owns the plan and the store and schedules; ranks 1..N-1 are workers that ask for a run, execute
// it as a child process (as the local runner does, so a crashing run cannot abort the MPI job)
// and send its result back. The unit of work is a WorkUnit (runner.h): one run, or a group of
// student runs trained by one `ppgkd group` child. OUT must be on a file system every rank sees (students read their
// teacher's run directory). Messages are JSON strings:
//   worker -> 0  READY {}                         ask for work
//   worker -> 0  RESULT {wall_s, results: [{key, ok, error, model_json}, ...]}
//   0 -> worker  RUN {keys, dirs, group, args, log}  |  WAIT {}  (nothing runnable yet)  |  STOP {}
// Not here: the store, the plan, the child process mechanics (runner.h, child.h).
#pragma once

#include "sweep/runner.h"

namespace ppgkd {

// True when started by mpirun (OMPI_COMM_WORLD_SIZE, or PMI_SIZE / PMIX_RANK, in the environment).
bool under_mpirun();

// Runs the sweep as one rank of an MPI job (every rank calls it with the same options).
// Rank 0 returns the outcome over all runs; workers return executed = their run count.
// With one rank it runs the local runner. Throws Error("sweep", "this ppgkd was built without
// MPI; ...") when MPI support was not compiled in.
SweepOutcome run_sweep_mpi(const SweepOptions& options);

}  // namespace ppgkd
