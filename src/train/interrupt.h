// Cooperative interruption: SIGINT/SIGTERM only set a flag; the training loop checks it after each
// step, writes a checkpoint and stops with an Error, so no step is ever half-applied. No libtorch.
#pragma once

namespace ppgkd {

// Installs SIGINT and SIGTERM handlers that call request_interrupt() (the CLI calls this once).
void install_interrupt_handlers();
void request_interrupt();  // async-signal-safe
bool interrupt_requested();
void clear_interrupt();

}  // namespace ppgkd
