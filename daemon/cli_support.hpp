#pragma once
// Internal to daemon/: what the `dirfeed` subcommands share (cli.cpp holds the table of
// commands, cli_status.cpp the commands that read the store).
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include <boost/program_options.hpp>

#include "changefeed/store.hpp"
#include "daemon/config.hpp"

namespace dirfeed::daemon::cli {

namespace po = boost::program_options;

inline constexpr char kProgram[] = "dirfeed";
inline constexpr char kDefaultConfig[] = "/etc/dirfeed/dirfeed.yaml";

void add_config_option(po::options_description& options);
// --config, or kDefaultConfig.
std::string config_path(const po::variables_map& args);
// The configuration at `path`, or nullopt after printing its errors to `err`.
std::optional<Config> load_parsed(const std::string& path, std::ostream& err);

// The store under config.state_dir, read-only (works next to the running daemon); throws
// std::runtime_error when it cannot be opened.
std::unique_ptr<changefeed::Store> open_store_read_only(const Config& config);
// Microseconds since the epoch as "2026-11-23T19:40:00Z"; 0 as "never".
std::string format_time(int64_t us);
// "  name:      value" with the values in one column.
void print_field(std::ostream& out, std::string_view name, const std::string& value);

// `dirfeed status`, `dirfeed deletes show`, `dirfeed deletes allow` (cli_status.cpp).
void add_domain_option(po::options_description& options);
int run_status(const po::variables_map& args, std::istream& in, std::ostream& out,
               std::ostream& err);
int run_deletes_show(const po::variables_map& args, std::istream& in, std::ostream& out,
                     std::ostream& err);
int run_deletes_allow(const po::variables_map& args, std::istream& in, std::ostream& out,
                      std::ostream& err);

}  // namespace dirfeed::daemon::cli
