#pragma once
// The daemon itself: `dirfeed run`. Declared here by the CLI, implemented in run.cpp.
#include "daemon/config.hpp"

namespace dirfeed::daemon {

// Runs the daemon until SIGTERM or SIGINT, then shuts down cleanly and returns the process
// exit code (0 after a clean shutdown, non-zero when start-up or the run failed).
//
// Called from the main thread by run_cli() once `config` has passed load_config() and
// check_files(), and after init_logging(config.log.level): the function logs through
// Boost.Log and reports start-up failures there (or by throwing std::exception, which
// run_cli() prints to stderr and turns into exit code 1). It owns signal handling, the
// io_context, the store under config.state_dir, the pollers and the REST server.
// kOnce: one pass per domain (retrying nothing), then return 0 when all succeeded, else 1.
enum class RunMode { kForever, kOnce };
int run_daemon(const Config& config, RunMode mode = RunMode::kForever);

}  // namespace dirfeed::daemon
