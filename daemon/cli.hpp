#pragma once
// The `dirfeed` command line (DESIGN.md section 8): subcommands from a table, each with its
// own options and --help. main() only calls run_cli(); tests call it with string streams.
#include <istream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace dirfeed::daemon {

// Process exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // invalid configuration, or the command failed
inline constexpr int kExitUsage = 2;    // unknown command or option, bad arguments

// The project version ("0.1.0"), from CMake's PROJECT_VERSION.
std::string_view version();

// Runs the command line `argv` (argv[0] is the program name). Help, version and the results
// of commands go to `out`; usage errors, configuration errors and failures go to `err`.
// Returns the exit code. Never throws: exceptions from a command are printed to `err` and
// give kExitFailure. `dirfeed run` does not return until the daemon stops.
int run_cli(int argc, char** argv, std::ostream& out, std::ostream& err);

// Same, with the arguments after the program name.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// Same, reading from `in` instead of stdin (passwords for `api add-user`; a terminal prompt
// without echo only when `in` is std::cin on a terminal).
int run_cli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
            std::ostream& err);

}  // namespace dirfeed::daemon
