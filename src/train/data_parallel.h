// Data-parallel training across processes with libtorch's c10d Gloo backend (CPU): every rank
// holds the same model, takes its own slice of each batch (TrainHooks::shard_*), and the gradients
// are all-reduced and averaged after backward (TrainHooks::after_backward), so all ranks take the
// same optimiser step. Launched under `mpirun` (Open MPI's OMPI_COMM_WORLD_RANK/SIZE give rank and
// size) or any launcher that sets PPGKD_RANK/PPGKD_WORLD_SIZE.
//
// Equivalence: with equal slices the mean of the per-rank mean losses is the whole batch's mean, so
// W ranks with B/W windows each follow the 1-rank run with B windows up to float rounding, for
// models without BatchNorm (BN normalises each rank's slice with its own statistics) and without
// the per-batch random augmentation (its draws depend on the batch shape).
//
// Only this file's .cpp includes the c10d/Gloo headers (libgloo-dev).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace ppgkd {

class DataParallel {
 public:
  // store: "file:PATH" (a c10d FileStore: PATH on a file system every rank sees, absent before the
  // run) or "tcp:HOST:PORT" (a TCPStore served by rank 0). Blocks until all `world` ranks joined.
  DataParallel(int rank, int world, const std::string& store);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const { return rank_; }
  int world() const { return world_; }
  // Sum over ranks / world, in place, for every defined gradient of `params` (one flat buffer).
  void average_gradients(const std::vector<torch::Tensor>& params);
  void barrier();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, world_ = 1;
};

// Rank and world size from the environment: OMPI_COMM_WORLD_RANK/SIZE, else PPGKD_RANK and
// PPGKD_WORLD_SIZE, else 0 and 1.
void rank_from_env(int* rank, int* world);

}  // namespace ppgkd
