// Interrupt flag and signal handlers (see interrupt.h).
#include "train/interrupt.h"

#include <atomic>
#include <csignal>

namespace ppgkd {

namespace {
// Lock-free atomics are async-signal-safe; a plain bool is not guaranteed to be.
std::atomic<int> g_signal{0};  // 0: no interrupt requested
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void ppgkd_train_on_signal(int signal) {
  g_signal.store(signal);
}
}  // namespace

void install_interrupt_handlers() {
  std::signal(SIGINT, ppgkd_train_on_signal);
  std::signal(SIGTERM, ppgkd_train_on_signal);
}
void request_interrupt(int signal) {
  g_signal.store(signal);
}
bool interrupt_requested() {
  return g_signal.load() != 0;
}
int interrupt_signal() {
  return g_signal.load();
}
void clear_interrupt() {
  g_signal.store(0);
}

}  // namespace ppgkd
