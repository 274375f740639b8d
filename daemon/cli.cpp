#include "daemon/cli.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/program_options.hpp>

#include "changefeed/store.hpp"
#include "daemon/config.hpp"
#include "daemon/logging.hpp"
#include "daemon/run.hpp"
#include "rest/credentials.hpp"
#include "rest/webhook_client.hpp"

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
  int (*run)(const po::variables_map& args, std::istream& in, std::ostream& out,
             std::ostream& err);
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

int run_check_config(const po::variables_map& args, std::istream&, std::ostream& out,
                     std::ostream& err) {
  const std::string path = config_path(args);
  std::optional<Config> config = load_checked(path, err);
  if (!config) return kExitFailure;
  for (const std::string& warning : config_warnings(*config)) {
    err << path << ": warning: " << warning << '\n';
  }
  out << path << ": ok\n";
  return kExitOk;
}

void add_run_options(po::options_description& options) {
  add_config_option(options);
  options.add_options()("once", "Run one pass per domain, then exit (1 if any pass failed).");
}

int run_run(const po::variables_map& args, std::istream&, std::ostream&, std::ostream& err) {
  const std::string path = config_path(args);
  std::optional<Config> config = load_checked(path, err);
  if (!config) return kExitFailure;
  init_logging(config->log.level);
  return run_daemon(*config, args.count("once") != 0 ? RunMode::kOnce : RunMode::kForever);
}


// `dirfeed api ...`: the users and keys files (rest/credentials.hpp for their formats). They
// need only api.users_file / api.keys_file, so the config is parsed but its other files are
// not checked (that is check-config's job).

void add_user_options(po::options_description& options) {
  add_config_option(options);
  options.add_options()("user,u", po::value<std::string>()->value_name("NAME"),
                        "User name (no ':' or whitespace).");
}

void add_key_options(po::options_description& options) {
  add_config_option(options);
  options.add_options()("name,n", po::value<std::string>()->value_name("NAME"),
                        "Key name (no ':' or whitespace).");
}

void add_new_key_options(po::options_description& options) {
  add_key_options(options);
  options.add_options()(
      "scope", po::value<std::string>()->value_name("SCOPE"),
      "all (default without --tenant/--product), changes (the Directory Changes API only)\n"
      "or dsync (the Directory Sync API only; the default with --tenant/--product).")(
      "tenant", po::value<std::vector<std::string>>()->value_name("TENANT"),
      "Directory Sync tenant the key may see and manage (repeatable; default: any).")(
      "product", po::value<std::vector<std::string>>()->value_name("PRODUCT"),
      "Directory Sync product the key may see and manage (repeatable; default: any).");
}

std::optional<Config> load_parsed(const std::string& path, std::ostream& err) {
  ConfigResult result = load_config(path);
  if (result.errors.empty() && result.config) return std::move(result.config);
  for (const ConfigError& e : result.errors) err << e.to_string() << '\n';
  err << path << ": " << result.errors.size()
      << (result.errors.size() == 1 ? " error" : " errors") << '\n';
  return std::nullopt;
}

// The --user / --name value, checked; nullopt (usage error printed) when missing or invalid.
std::optional<std::string> required_name(const po::variables_map& args, const char* option,
                                         std::string_view command, std::ostream& err) {
  const std::string context = std::string(kProgram) + " " + std::string(command);
  if (args.count(option) == 0) {
    err << context << ": --" << option << " is required\n"
        << "Run '" << context << " --help' for usage.\n";
    return std::nullopt;
  }
  const std::string name = args[option].as<std::string>();
  if (std::string problem = rest::name_problem(name); !problem.empty()) {
    err << context << ": bad --" << option << " \"" << name << "\": " << problem << '\n';
    return std::nullopt;
  }
  return name;
}

// The entries of a credentials file. Prints the malformed lines and throws when it has any:
// rewriting it would silently drop them.
template <typename Entry, typename Parse>
std::vector<Entry> read_entries(const std::string& path, Parse parse,
                                               std::ostream& err) {
  std::optional<std::string> text = rest::read_credentials_file(path);
  if (!text) return {};
  rest::ParsedCredentials<Entry> parsed = parse(*text);
  if (parsed.errors.empty()) return std::move(parsed.entries);
  for (const auto& e : parsed.errors) err << path << ':' << e.line << ": " << e.message << '\n';
  throw std::runtime_error(path + ": fix or remove the malformed lines first");
}

// The account the systemd unit runs the daemon as (User= in systemd/dirfeed.service).
constexpr char kServiceUser[] = "dirfeed";

// Whether the service account may read `path` by its permission bits (owner, group or
// primary/supplementary group membership, others). True when there is no such account (a
// source build run by hand) or the file cannot be examined.
bool service_can_read(const std::string& path) {
  const passwd* account = ::getpwnam(kServiceUser);
  struct stat file {};
  if (account == nullptr || ::stat(path.c_str(), &file) != 0) return true;
  if (account->pw_uid == 0 || (file.st_mode & S_IROTH) != 0) return true;
  if (file.st_uid == account->pw_uid) return (file.st_mode & S_IRUSR) != 0;
  if ((file.st_mode & S_IRGRP) == 0) return false;
  if (file.st_gid == account->pw_gid) return true;
  const group* owner_group = ::getgrgid(file.st_gid);
  for (char** member = owner_group ? owner_group->gr_mem : nullptr; member && *member; ++member) {
    if (std::string_view(*member) == kServiceUser) return true;
  }
  return false;
}

// Writes a users or keys file the daemon reads; warns, with the command that fixes it, when
// the service account could not read the result (then every login the file holds would fail).
void write_credentials(const std::string& file, std::string_view content, std::ostream& err) {
  rest::write_file_atomically(file, content);
  if (!service_can_read(file)) {
    err << "warning: the daemon's user " << kServiceUser << " cannot read " << file
        << "; run: chgrp " << kServiceUser << ' ' << file << '\n';
  }
}

// One line from `in` without its line end; nullopt at end of input.
std::optional<std::string> read_line(std::istream& in) {
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Reads a line from the terminal on stdin without echo, after `prompt` on stderr.
std::optional<std::string> read_hidden(std::istream& in, std::ostream& err,
                                       std::string_view prompt) {
  err << prompt << std::flush;
  termios old_mode {};
  const bool restore = ::tcgetattr(STDIN_FILENO, &old_mode) == 0;
  if (restore) {
    termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::optional<std::string> line = read_line(in);
  if (restore) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old_mode);
  return line;
}

// The new password: one line from stdin, or typed twice without echo on a terminal. Throws
// (the command fails) when there is none, it is empty, or the two differ.
std::string read_new_password(std::istream& in, std::ostream& err) {
  const bool terminal = &in == &std::cin && ::isatty(STDIN_FILENO) == 1;
  std::optional<std::string> password =
      terminal ? read_hidden(in, err, "Password: ") : read_line(in);
  if (!password) throw std::runtime_error("no password on stdin");
  if (password->empty()) throw std::runtime_error("the password is empty");
  if (terminal) {
    std::optional<std::string> again = read_hidden(in, err, "Repeat password: ");
    if (!again || *again != *password) throw std::runtime_error("the passwords differ");
  }
  return *password;
}

int run_api_add_user(const po::variables_map& args, std::istream& in, std::ostream& out,
                     std::ostream& err) {
  std::optional<std::string> user = required_name(args, "user", "api add-user", err);
  if (!user) return kExitUsage;
  std::optional<Config> config = load_parsed(config_path(args), err);
  if (!config) return kExitFailure;
  const std::string& file = config->api.users_file;
  auto users = read_entries<rest::UserEntry>(file, rest::parse_users, err);
  const std::string password = read_new_password(in, err);
  rest::UserEntry entry = rest::hash_password(*user, password);
  auto it = std::find_if(users.begin(), users.end(),
                         [&](const rest::UserEntry& e) { return e.name == *user; });
  const bool replaced = it != users.end();
  if (replaced) {
    *it = std::move(entry);
  } else {
    users.push_back(std::move(entry));
  }
  write_credentials(file, rest::format_users(users), err);
  out << "user " << *user << (replaced ? ": password changed in " : ": added to ") << file << '\n';
  return kExitOk;
}

int run_api_remove_user(const po::variables_map& args, std::istream&, std::ostream& out,
                        std::ostream& err) {
  std::optional<std::string> user = required_name(args, "user", "api remove-user", err);
  if (!user) return kExitUsage;
  std::optional<Config> config = load_parsed(config_path(args), err);
  if (!config) return kExitFailure;
  const std::string& file = config->api.users_file;
  auto users = read_entries<rest::UserEntry>(file, rest::parse_users, err);
  if (std::erase_if(users, [&](const rest::UserEntry& e) { return e.name == *user; }) == 0) {
    throw std::runtime_error("no user " + *user + " in " + file);
  }
  write_credentials(file, rest::format_users(users), err);
  out << "user " << *user << ": removed from " << file << '\n';
  return kExitOk;
}

int run_api_list_users(const po::variables_map& args, std::istream&, std::ostream& out,
                       std::ostream& err) {
  std::optional<Config> config = load_parsed(config_path(args), err);
  if (!config) return kExitFailure;
  auto users = read_entries<rest::UserEntry>(config->api.users_file, rest::parse_users, err);
  for (const rest::UserEntry& e : users) out << e.name << '\n';
  return kExitOk;
}

int run_api_add_key(const po::variables_map& args, std::istream&, std::ostream& out,
                    std::ostream& err) {
  std::optional<std::string> name = required_name(args, "name", "api add-key", err);
  if (!name) return kExitUsage;
  std::optional<Config> config = load_parsed(config_path(args), err);
  if (!config) return kExitFailure;
  const std::string& file = config->api.keys_file;
  auto keys = read_entries<rest::KeyEntry>(file, rest::parse_keys, err);
  if (std::any_of(keys.begin(), keys.end(),
                  [&](const rest::KeyEntry& e) { return e.name == *name; })) {
    throw std::runtime_error("a key named " + *name + " exists in " + file +
                             " (remove it first)");
  }
  const auto bad = [&](const std::string& message) {
    err << kProgram << " api add-key: " << message << "\nRun '" << kProgram
        << " api add-key --help' for usage.\n";
    return kExitUsage;
  };
  rest::KeyEntry entry;
  entry.name = *name;
  if (args.count("tenant") != 0) entry.tenants = args["tenant"].as<std::vector<std::string>>();
  if (args.count("product") != 0) entry.products = args["product"].as<std::vector<std::string>>();
  for (const std::string& value : entry.tenants) {
    if (value.empty() || value.find(':') != std::string::npos) {
      return bad("bad --tenant \"" + value + "\" (empty or has ':')");
    }
  }
  for (const std::string& value : entry.products) {
    if (value.empty() || value.find(':') != std::string::npos) {
      return bad("bad --product \"" + value + "\" (empty or has ':')");
    }
  }
  // Tenants or products limit the Directory Sync API: without --scope, such a key has no other.
  entry.scope = entry.restricted() ? rest::KeyScope::kDsync : rest::KeyScope::kAll;
  if (args.count("scope") != 0) {
    std::optional<rest::KeyScope> scope = rest::parse_key_scope(args["scope"].as<std::string>());
    if (!scope) {
      return bad("bad --scope \"" + args["scope"].as<std::string>() + "\" (all, changes or dsync)");
    }
    if (*scope == rest::KeyScope::kChanges && entry.restricted()) {
      return bad("--tenant and --product limit the Directory Sync API; a changes key has none");
    }
    entry.scope = *scope;
  }
  const std::string key = rest::generate_api_key();
  entry.hash = rest::api_key_hash(key);
  keys.push_back(std::move(entry));
  write_credentials(file, rest::format_keys(keys), err);
  out << key << '\n';
  err << "key " << *name << ": added to " << file << "; it is shown only this once\n";
  return kExitOk;
}

int run_api_remove_key(const po::variables_map& args, std::istream&, std::ostream& out,
                       std::ostream& err) {
  std::optional<std::string> name = required_name(args, "name", "api remove-key", err);
  if (!name) return kExitUsage;
  std::optional<Config> config = load_parsed(config_path(args), err);
  if (!config) return kExitFailure;
  const std::string& file = config->api.keys_file;
  auto keys = read_entries<rest::KeyEntry>(file, rest::parse_keys, err);
  if (std::erase_if(keys, [&](const rest::KeyEntry& e) { return e.name == *name; }) == 0) {
    throw std::runtime_error("no key " + *name + " in " + file);
  }
  write_credentials(file, rest::format_keys(keys), err);
  out << "key " << *name << ": removed from " << file << '\n';
  return kExitOk;
}

int run_api_list_keys(const po::variables_map& args, std::istream&, std::ostream& out,
                      std::ostream& err) {
  std::optional<Config> config = load_parsed(config_path(args), err);
  if (!config) return kExitFailure;
  auto keys = read_entries<rest::KeyEntry>(config->api.keys_file, rest::parse_keys, err);
  const auto any_or_list = [](const std::vector<std::string>& values) {
    std::string text;
    for (const std::string& value : values) text += (text.empty() ? "" : ",") + value;
    return text.empty() ? std::string("any") : text;
  };
  for (const rest::KeyEntry& e : keys) {
    out << e.name << "  scope=" << rest::key_scope_name(e.scope);
    if (e.restricted()) {
      out << "  tenants=" << any_or_list(e.tenants) << "  products=" << any_or_list(e.products);
    }
    out << '\n';
  }
  return kExitOk;
}

// `dirfeed status`: what the store under state_dir says, read-only, so it works next to the
// running daemon (which holds the database open for writing).

// Microseconds since the epoch as "2026-11-23T19:40:00Z"; 0 as "never".
std::string format_time(int64_t us) {
  if (us <= 0) return "never";
  const std::time_t seconds = static_cast<std::time_t>(us / 1'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

void print_field(std::ostream& out, std::string_view name, const std::string& value) {
  constexpr size_t kColumn = 17;
  out << "  " << name << ':' << std::string(name.size() < kColumn ? kColumn - name.size() : 1, ' ')
      << value << '\n';
}

int run_status(const po::variables_map& args, std::istream&, std::ostream& out,
               std::ostream& err) {
  std::optional<Config> config = load_parsed(config_path(args), err);
  if (!config) return kExitFailure;
  SystemClock clock;
  std::string error;
  changefeed::StoreOptions options;
  options.path = config->state_dir + "/feed";  // as `dirfeed run` opens it
  options.read_only = true;
  std::unique_ptr<changefeed::Store> store = changefeed::Store::open(options, clock, &error);
  if (!store) throw std::runtime_error(error + " (has the daemon run with this state_dir?)");

  const uint64_t last = store->last_sequence();
  out << "feed: " << last << (last == 1 ? " change" : " changes") << " so far\n";
  for (const ldap::DomainOptions& domain : config->domains) {
    out << "domain " << domain.name << '\n';
    std::optional<pb::Cursor> cursor = store->cursor(domain.name);
    if (!cursor) {
      out << "  no pass yet\n";
      continue;
    }
    for (const pb::ControllerProblem& problem : cursor->controller_problems()) {
      print_field(out, "bind refused",
                  problem.uri() + ": " + problem.problem() + " (next try " +
                      format_time(problem.retry_after_us()) +
                      ", or at once when the " + ldap::secret_file_kind(domain.bind) +
                      " changes)");
    }
    if (cursor->strategy().empty()) {  // only problems were ever stored
      out << "  no pass yet\n";
      continue;
    }
    print_field(out, "strategy", cursor->strategy());
    print_field(out, "controller", cursor->controller());
    print_field(out, "last pass", format_time(cursor->last_pass_us()));
    print_field(out, "full sync done", cursor->full_sync_done() ? "yes" : "no");
  }
  for (const ipsource::SourceOptions& source : config->ip_sources) {
    out << "ip source " << source.name << '\n';
    std::optional<pb::IpSourceState> state = store->ip_source_state(source.name);
    if (!state) {
      out << "  not run yet\n";
      continue;
    }
    print_field(out, "listen", state->listen());
    print_field(out, "counts since", format_time(state->started_us()) + " (as of " +
                                         format_time(state->updated_us()) + ")");
    print_field(out, "received", std::to_string(state->received()));
    print_field(out, "parsed", std::to_string(state->parsed()));
    print_field(out, "mapped", std::to_string(state->mapped()));
    print_field(out, "unknown user", std::to_string(state->unknown_user()));
    print_field(out, "ignored", std::to_string(state->ignored()));
    print_field(out, "dropped", std::to_string(state->dropped()));
  }
  store->directories([&](const pb::Directory& directory) {
    out << "directory " << directory.id() << ' ' << directory.name() << '\n';
    print_field(out, "tenant/product", directory.tenant() + "/" + directory.product());
    print_field(out, "domain", directory.domain());
    print_field(out, "webhook", directory.webhook_url().empty()
                                    ? "none"
                                    : rest::redact_url(directory.webhook_url()));
    const pb::WebhookState state =
        store->webhook_state(directory.id()).value_or(pb::WebhookState());
    const uint64_t backlog = last > state.after_sequence() ? last - state.after_sequence() : 0;
    // Not every feed entry is an event for the directory: the backlog is an upper bound.
    print_field(out, "delivered up to",
                "change " + std::to_string(state.after_sequence()) + " (" +
                    (backlog == 0 ? "no backlog" : "backlog <= " + std::to_string(backlog)) + ")");
    print_field(out, "last success", format_time(state.last_success_us()));
    if (state.last_error_us() == 0) {
      print_field(out, "last error", "none");
    } else {
      print_field(out, "last error",
                  format_time(state.last_error_us()) + " " + state.last_error() +
                      (state.failures() > 0
                           ? " (failing: " + std::to_string(state.failures()) +
                                 " attempts in a row)"
                           : ""));
    }
    return true;
  });
  return kExitOk;
}

// `api` commands are named "api VERB" and given as two words.
constexpr std::string_view kApiPrefix = "api ";

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
    {"status", "[--config FILE]",
     "Show each domain's sync, each IP source and each directory's webhook.",
     "Reads the store under state_dir (read-only, also while the daemon runs) and prints,\n"
     "per configured domain, its sync strategy, the controller of its last pass, when that\n"
     "pass ended and whether a full sync has completed; per Directory Sync API directory,\n"
     "its tenant and product, webhook URL (userinfo and query hidden), how far delivery\n"
     "stands in the feed with its backlog (an upper bound: not every change is an event for\n"
     "the directory), the last success and the last error; per IP source, where it listens\n"
     "and its counters since the daemon started (received, parsed, mapped, unknown user,\n"
     "ignored, dropped), as of the daemon's last update (every 5 s).",
     add_config_option, run_status},
    {"api add-user", "[--config FILE] --user NAME", "Add an API user, or change its password.",
     "Reads the password from stdin (one line; typed twice without echo on a terminal) and\n"
     "stores its salted PBKDF2-SHA256 hash in api.users_file, written atomically. The user\n"
     "may then call the User ID API's writes (and reads when api.anonymous_read is false)\n"
     "with HTTP Basic auth. A running daemon picks the change up within a second.",
     add_user_options, run_api_add_user},
    {"api remove-user", "[--config FILE] --user NAME", "Remove an API user.",
     "Removes the user from api.users_file (exit 1 when there is none of that name).",
     add_user_options, run_api_remove_user},
    {"api list-users", "[--config FILE]", "List the API users.",
     "Prints the names in api.users_file, one a line.", add_config_option,
     run_api_list_users},
    {"api add-key",
     "[--config FILE] --name NAME [--scope all|changes|dsync] [--tenant T]... [--product P]...",
     "Create an API key and print it once.",
     "Prints a new random API key on stdout and stores only its SHA-256 hash in\n"
     "api.keys_file, written atomically. The key cannot be shown again: to replace it,\n"
     "remove it and add a new one. A running daemon picks the change up within a second.\n"
     "A key with tenants or products sees and creates only Directory Sync directories of\n"
     "those (others answer 404, a create or list for others 403).",
     add_new_key_options, run_api_add_key},
    {"api remove-key", "[--config FILE] --name NAME", "Remove an API key.",
     "Removes the key from api.keys_file (exit 1 when there is none of that name).",
     add_key_options, run_api_remove_key},
    {"api list-keys", "[--config FILE]", "List the API keys and their scopes.",
     "Prints each key in api.keys_file, one a line: its name, its scope, and the tenants\n"
     "and products it is limited to, if any.",
     add_config_option, run_api_list_keys},
};

const Command* find_command(std::string_view name) {
  for (const Command& c : kCommands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// The command the leading words of `args` name ("run", or "api" and its verb), and how many
// words that took; nullptr when there is none.
const Command* find_command(const std::vector<std::string>& args, size_t& words) {
  if (!args.empty() && args.front() + " " == kApiPrefix) {
    words = 2;
    return args.size() >= 2 ? find_command(std::string(kApiPrefix) + args[1]) : nullptr;
  }
  words = 1;
  return args.empty() ? nullptr : find_command(args.front());
}

void print_row(std::ostream& out, std::string_view left, std::string_view right) {
  constexpr size_t kColumn = 18;
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

int run_command(const Command& command, const std::vector<std::string>& args, std::istream& in,
                std::ostream& out, std::ostream& err) {
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
    return command.run(vm, in, out, err);
  } catch (const std::exception& e) {
    err << context << ": " << e.what() << '\n';
    return kExitFailure;
  }
}

}  // namespace

std::string_view version() { return DIRFEED_VERSION; }

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return run_cli(args, std::cin, out, err);
}

int run_cli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
            std::ostream& err) {
  if (args.empty()) {
    print_usage(err);
    return kExitUsage;
  }
  const std::string& first = args.front();
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (first == "--help" || first == "-h" || first == "help") {
    if (!rest.empty()) {
      // `dirfeed help COMMAND` reads naturally; treat it as `dirfeed COMMAND --help`.
      size_t words = 0;
      if (const Command* command = find_command(rest, words); command && rest.size() == words) {
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
  size_t words = 0;
  const Command* command = find_command(args, words);
  if (command == nullptr) {
    const std::string name =
        words == 2 && args.size() >= 2 ? first + " " + args[1] : first;
    if (words == 2 && args.size() >= 2 && (args[1] == "--help" || args[1] == "-h")) {
      print_usage(out);
      return kExitOk;
    }
    err << kProgram << ": " << (words == 2 && args.size() < 2 ? "'api' needs a command"
                                                              : "unknown command '" + name + "'")
        << "\n\n";
    print_usage(err);
    return kExitUsage;
  }
  return run_command(*command, std::vector<std::string>(args.begin() + words, args.end()), in,
                     out, err);
}

int run_cli(int argc, char** argv, std::ostream& out, std::ostream& err) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return run_cli(args, out, err);
}

}  // namespace dirfeed::daemon
