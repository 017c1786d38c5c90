// Cooperative interruption: SIGINT/SIGTERM only set a flag; the training loop checks it after each
// step, writes a checkpoint and stops with an Error, so no step is ever half-applied. No libtorch.
#pragma once

namespace ppgkd {

// Installs SIGINT and SIGTERM handlers that call request_interrupt() (the CLI calls this once).
void install_interrupt_handlers();
void request_interrupt(int signal = 2);  // async-signal-safe; 2 = SIGINT
bool interrupt_requested();
int interrupt_signal();  // the signal that requested it (0: none)
void clear_interrupt();

}  // namespace ppgkd
