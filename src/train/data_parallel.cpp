// Gloo process group and gradient averaging (see data_parallel.h). Without Gloo's headers
// (libgloo-dev; CMake defines PPGKD_WITH_GLOO when it finds them) DataParallel refuses to start.
#include "train/data_parallel.h"

#include <fmt/format.h>

#include <cstdlib>

#include "common/error.h"

#ifdef PPGKD_WITH_GLOO
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace ppgkd {

#ifdef PPGKD_WITH_GLOO

struct DataParallel::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
};

DataParallel::DataParallel(int rank, int world, const std::string& store)
    : impl_(std::make_unique<Impl>()), rank_(rank), world_(world) {
  if (world < 1 || rank < 0 || rank >= world)
    throw Error("data parallel", fmt::format("rank {} of world size {} is invalid", rank, world));
  try {
    if (store.rfind("file:", 0) == 0) {
      impl_->store = c10::make_intrusive<c10d::FileStore>(store.substr(5), world);
    } else if (store.rfind("tcp:", 0) == 0) {
      const auto colon = store.rfind(':');
      if (colon <= 4) throw Error("data parallel", "store " + store + " is not tcp:HOST:PORT");
      c10d::TCPStoreOptions opts;
      opts.port = static_cast<uint16_t>(std::stoi(store.substr(colon + 1)));
      opts.isServer = rank == 0;
      opts.numWorkers = world;
      impl_->store = c10::make_intrusive<c10d::TCPStore>(store.substr(4, colon - 4), opts);
    } else {
      throw Error("data parallel", "store " + store + " is neither file:PATH nor tcp:HOST:PORT");
    }
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    if (const char* host = std::getenv("PPGKD_GLOO_HOST"))  // multi-machine: this host's address
      options->devices.back() = c10d::ProcessGroupGloo::createDeviceForHostname(host);
    options->threads = 1;
    impl_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, rank, world, options);
  } catch (const c10::Error& e) {
    throw Error("data parallel", std::string("rendezvous failed: ") + e.what_without_backtrace());
  }
}

DataParallel::~DataParallel() = default;

void DataParallel::average_gradients(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad().reshape({-1}));
  if (grads.empty()) return;
  std::vector<torch::Tensor> flat = {torch::cat(grads)};
  impl_->pg->allreduce(flat)->wait();
  flat[0].div_(world_);
  int64_t at = 0;
  torch::NoGradGuard ng;
  for (const auto& p : params) {
    if (!p.grad().defined()) continue;
    const int64_t n = p.grad().numel();
    p.grad().copy_(flat[0].slice(0, at, at + n).view_as(p.grad()));
    at += n;
  }
}

void DataParallel::barrier() {
  impl_->pg->barrier()->wait();
}

#else
struct DataParallel::Impl {};
DataParallel::DataParallel(int rank, int world, const std::string&) : rank_(rank), world_(world) {
  throw Error("data parallel", "built without Gloo headers (install libgloo-dev and reconfigure)");
}
DataParallel::~DataParallel() = default;
void DataParallel::average_gradients(const std::vector<torch::Tensor>&) {}
void DataParallel::barrier() {}
#endif

void rank_from_env(int* rank, int* world) {
  auto get = [](const char* a, const char* b) -> const char* {
    const char* v = std::getenv(a);
    return v ? v : std::getenv(b);
  };
  const char* r = get("OMPI_COMM_WORLD_RANK", "PPGKD_RANK");
  const char* w = get("OMPI_COMM_WORLD_SIZE", "PPGKD_WORLD_SIZE");
  *rank = r ? std::atoi(r) : 0;
  *world = w ? std::atoi(w) : 1;
}

}  // namespace ppgkd
