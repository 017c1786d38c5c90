// Detecting mpirun: compiled with or without MPI.
#include <cstdlib>

#include "sweep/mpi_runner.h"

namespace ppgkd {

bool under_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK");
}

}  // namespace ppgkd
