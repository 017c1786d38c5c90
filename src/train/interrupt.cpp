// Interrupt flag and signal handlers (see interrupt.h).
#include "train/interrupt.h"

#include <atomic>
#include <csignal>

namespace ppgkd {

namespace {
// Lock-free atomics are async-signal-safe; a plain bool is not guaranteed to be.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void ppgkd_train_on_signal(int) {
  g_interrupted.store(true);
}
}  // namespace

void install_interrupt_handlers() {
  std::signal(SIGINT, ppgkd_train_on_signal);
  std::signal(SIGTERM, ppgkd_train_on_signal);
}
void request_interrupt() {
  g_interrupted.store(true);
}
bool interrupt_requested() {
  return g_interrupted.load();
}
void clear_interrupt() {
  g_interrupted.store(false);
}

}  // namespace ppgkd
