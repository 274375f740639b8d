#include "daemon/cli.hpp"

#include <algorithm>
#include <exception>
#include <string>

#include <boost/program_options.hpp>

#include "daemon/config.hpp"
#include "daemon/logging.hpp"
#include "daemon/run.hpp"

#ifndef DIRFEED_VERSION
#error "DIRFEED_VERSION must be defined by the build (PROJECT_VERSION)"
#endif

namespace dirfeed::daemon {
namespace {

namespace po = boost::program_options;

constexpr char kProgram[] = "dirfeed";
constexpr char kDefaultConfig[] = "/etc/dirfeed/dirfeed.yaml";

// One subcommand. `api` (with its own sub-subcommands) and `status` are added here.
struct Command {
  std::string_view name;
  std::string_view arguments;    // shown after the name in the usage line
  std::string_view summary;      // one line, for the command list
  std::string_view description;  // a paragraph, for the command's --help
  void (*add_options)(po::options_description& options);
  int (*run)(const po::variables_map& args, std::ostream& out, std::ostream& err);
};

void add_config_option(po::options_description& options) {
  options.add_options()("config,c", po::value<std::string>()->value_name("FILE"),
                        (std::string("Config file (default: ") + kDefaultConfig + ").").c_str());
}

// load_config() and, when that succeeds, check_files(): every error the file has.
std::optional<Config> load_checked(const std::string& path, std::ostream& err) {
  ConfigResult result = load_config(path);
  std::vector<ConfigError> errors = std::move(result.errors);
  if (result.config) errors = check_files(*result.config);
  if (errors.empty()) return std::move(result.config);
  for (const ConfigError& e : errors) err << e.to_string() << '\n';
  err << path << ": " << errors.size() << (errors.size() == 1 ? " error" : " errors") << '\n';
  return std::nullopt;
}

std::string config_path(const po::variables_map& args) {
  return args.count("config") != 0 ? args["config"].as<std::string>() : kDefaultConfig;
}

int run_check_config(const po::variables_map& args, std::ostream& out, std::ostream& err) {
  const std::string path = config_path(args);
  if (!load_checked(path, err)) return kExitFailure;
  out << path << ": ok\n";
  return kExitOk;
}

void add_run_options(po::options_description& options) {
  add_config_option(options);
  options.add_options()("once", "Run one pass per domain, then exit (1 if any pass failed).");
}

int run_run(const po::variables_map& args, std::ostream&, std::ostream& err) {
  const std::string path = config_path(args);
  std::optional<Config> config = load_checked(path, err);
  if (!config) return kExitFailure;
  init_logging(config->log.level);
  return run_daemon(*config, args.count("once") != 0 ? RunMode::kOnce : RunMode::kForever);
}

const Command kCommands[] = {
    {"run", "[--config FILE] [--once]", "Run the daemon (what the systemd unit starts).",
     "Polls every configured domain into the change feed and serves the REST APIs until\n"
     "SIGTERM or SIGINT. Checks the configuration like check-config first, and exits 1\n"
     "with every error when it has any. With --once, runs one pass per domain and exits.",
     add_run_options, run_run},
    {"check-config", "[--config FILE]", "Validate the configuration and the files it names.",
     "Reads the configuration file and the files it names (password, CA and TLS files),\n"
     "then prints \"FILE: ok\" and exits 0, or prints every error to stderr and exits 1.\n"
     "Files are checked as the calling user: run it as the daemon's user to be sure.",
     add_config_option, run_check_config},
};

const Command* find_command(std::string_view name) {
  for (const Command& c : kCommands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

void print_row(std::ostream& out, std::string_view left, std::string_view right) {
  constexpr size_t kColumn = 16;
  out << "  " << left << std::string(left.size() < kColumn ? kColumn - left.size() : 1, ' ')
      << right << '\n';
}

void print_usage(std::ostream& out) {
  out << "Usage: " << kProgram << " COMMAND [OPTIONS]\n"
      << "       " << kProgram << " --version | --help\n\n"
      << "Watches Active Directory domain controllers and serves what changes there as a\n"
      << "change feed over REST APIs.\n\n"
      << "Commands:\n";
  for (const Command& c : kCommands) print_row(out, c.name, c.summary);
  out << "\nOptions:\n";
  print_row(out, "-h, --help", "Show this help.");
  print_row(out, "-V, --version", "Print the version.");
  out << "\nRun '" << kProgram << " COMMAND --help' for the options of a command.\n";
}

po::options_description command_options(const Command& command) {
  po::options_description options("Options", 80, 40);
  command.add_options(options);
  options.add_options()("help,h", "Show this help.");
  return options;
}

void print_command_help(const Command& command, std::ostream& out) {
  out << "Usage: " << kProgram << ' ' << command.name << ' ' << command.arguments << "\n\n"
      << command.description << "\n\n"
      << command_options(command);
}

void usage_error(std::ostream& err, std::string_view context, const std::string& message,
                 std::string_view help_hint) {
  err << context << ": " << message << '\n' << "Run '" << help_hint << " --help' for usage.\n";
}

int run_command(const Command& command, const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err) {
  const std::string context = std::string(kProgram) + " " + std::string(command.name);
  const po::options_description options = command_options(command);
  po::variables_map vm;
  try {
    // No abbreviations of long options: a script saying --conf would break when an option
    // such as --config-dir is added.
    const int style =
        po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    const po::parsed_options parsed =
        po::command_line_parser(args).options(options).style(style).run();
    for (const po::option& o : parsed.options) {
      if (o.position_key >= 0) {  // commands take options only
        usage_error(err, context, "unexpected argument '" + o.value.front() + "'", context);
        return kExitUsage;
      }
    }
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::error& e) {
    usage_error(err, context, e.what(), context);
    return kExitUsage;
  }
  if (vm.count("help") != 0) {
    print_command_help(command, out);
    return kExitOk;
  }
  try {
    return command.run(vm, out, err);
  } catch (const std::exception& e) {
    err << context << ": " << e.what() << '\n';
    return kExitFailure;
  }
}

}  // namespace

std::string_view version() { return DIRFEED_VERSION; }

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    print_usage(err);
    return kExitUsage;
  }
  const std::string& first = args.front();
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (first == "--help" || first == "-h" || first == "help") {
    if (!rest.empty()) {
      // `dirfeed help COMMAND` reads naturally; treat it as `dirfeed COMMAND --help`.
      if (const Command* command = find_command(rest.front()); command && rest.size() == 1) {
        print_command_help(*command, out);
        return kExitOk;
      }
      usage_error(err, kProgram, "unexpected argument '" + rest.front() + "'", kProgram);
      return kExitUsage;
    }
    print_usage(out);
    return kExitOk;
  }
  if (first == "--version" || first == "-V") {
    if (!rest.empty()) {
      usage_error(err, kProgram, "unexpected argument '" + rest.front() + "'", kProgram);
      return kExitUsage;
    }
    out << kProgram << ' ' << version() << '\n';
    return kExitOk;
  }
  if (!first.empty() && first.front() == '-') {
    usage_error(err, kProgram, "unknown option '" + first + "' (a command comes first)", kProgram);
    return kExitUsage;
  }
  const Command* command = find_command(first);
  if (command == nullptr) {
    err << kProgram << ": unknown command '" << first << "'\n\n";
    print_usage(err);
    return kExitUsage;
  }
  return run_command(*command, rest, out, err);
}

int run_cli(int argc, char** argv, std::ostream& out, std::ostream& err) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return run_cli(args, out, err);
}

}  // namespace dirfeed::daemon
