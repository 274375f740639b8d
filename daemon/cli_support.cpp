#include "daemon/cli_support.hpp"

#include <ctime>
#include <stdexcept>

#include "core/clock.hpp"

namespace dirfeed::daemon::cli {

void add_config_option(po::options_description& options) {
  options.add_options()("config,c", po::value<std::string>()->value_name("FILE"),
                        (std::string("Config file (default: ") + kDefaultConfig + ").").c_str());
}

std::string config_path(const po::variables_map& args) {
  return args.count("config") != 0 ? args["config"].as<std::string>() : kDefaultConfig;
}

std::optional<Config> load_parsed(const std::string& path, std::ostream& err) {
  ConfigResult result = load_config(path);
  if (result.errors.empty() && result.config) return std::move(result.config);
  for (const ConfigError& e : result.errors) err << e.to_string() << '\n';
  err << path << ": " << result.errors.size()
      << (result.errors.size() == 1 ? " error" : " errors") << '\n';
  return std::nullopt;
}

std::unique_ptr<changefeed::Store> open_store_read_only(const Config& config) {
  static const SystemClock clock;
  std::string error;
  changefeed::StoreOptions options;
  options.path = config.state_dir + "/feed";  // as `dirfeed run` opens it
  options.read_only = true;
  std::unique_ptr<changefeed::Store> store = changefeed::Store::open(options, clock, &error);
  if (!store) throw std::runtime_error(error + " (has the daemon run with this state_dir?)");
  return store;
}

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

}  // namespace dirfeed::daemon::cli
