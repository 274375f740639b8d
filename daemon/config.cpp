#include "daemon/config.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "core/file.hpp"
#include "daemon/config_reader.hpp"
#include "daemon/config_sections.hpp"
#include "ldap/kerberos.hpp"

namespace dirfeed::daemon {
namespace {

using namespace config_reader;
namespace fs = std::filesystem;

// Whether 1-based `line` of `text` is indented with a tab.
bool leading_tab(std::string_view text, int line) {
  size_t start = 0;
  for (int i = 1; i < line && start != std::string_view::npos; ++i) {
    start = text.find('\n', start);
    if (start != std::string_view::npos) ++start;
  }
  if (line < 1 || start == std::string_view::npos) return false;
  for (size_t i = start; i < text.size() && (text[i] == ' ' || text[i] == '\t'); ++i) {
    if (text[i] == '\t') return true;
  }
  return false;
}

// api.webhook_proxy ("none", or a proxy URL) with api.webhook_no_proxy (rest/webhook_proxy.hpp).
void read_webhook_proxy(Parser& p, MapReader& m, ApiOptions& api) {
  std::optional<Entry> proxy = m.take("webhook_proxy");
  std::optional<Entry> no_proxy = m.take("webhook_no_proxy");
  std::vector<std::string> hosts;
  if (no_proxy) {
    if (!proxy) p.error(*no_proxy, "needs webhook_proxy (without it, NO_PROXY is read)");
    if (auto items = p.list(*no_proxy)) {
      for (const Entry& item : *items) {
        if (auto s = p.non_empty_string(item)) hosts.push_back(*s);
      }
    }
  }
  if (!proxy) return;
  const std::optional<std::string> url = p.non_empty_string(*proxy);
  if (!url) return;
  if (*url == "none") {
    if (no_proxy) p.error(*no_proxy, "means nothing with webhook_proxy: none");
    api.webhook_proxy = rest::WebhookProxy();
    return;
  }
  Result<rest::WebhookProxy> configured = rest::WebhookProxy::configured(*url, hosts);
  if (configured.is_ok()) {
    api.webhook_proxy = std::move(*configured);
  } else {
    p.error(*proxy, quote(*url) + ": " + configured.status().message());
  }
}

void read_api(Parser& p, const Entry& e, ApiOptions& api) {
  auto m =
      p.map(e, {"listen", "tls", "anonymous_read", "users_file", "keys_file", "ip_mapping_timeout",
                "webhook_allowed_networks", "webhook_proxy", "webhook_no_proxy", "max_directories",
                "metrics_detail", "webhook_event_retention", "max_webhook_events"});
  if (!m) return;
  if (auto v = m->take("listen")) {
    if (auto s = p.string_value(*v)) {
      if (!split_host_port(*s, true, &api.listen_host, &api.listen_port)) {
        p.error(*v, quote(*s) + " is not HOST:PORT (e.g. 0.0.0.0:5000 or [::]:5000)");
      }
    }
  }
  if (auto v = m->take("tls")) {
    if (auto t = p.map(*v, {"cert_file", "key_file"})) {
      auto cert = t->require("cert_file");
      auto key = t->require("key_file");
      std::optional<std::string> cert_path = cert ? p.absolute_path(*cert) : std::nullopt;
      std::optional<std::string> key_path = key ? p.absolute_path(*key) : std::nullopt;
      if (cert_path && key_path) api.tls = ApiTlsOptions{*cert_path, *key_path};
    }
  }
  if (auto v = m->take("anonymous_read")) {
    if (auto b = p.bool_value(*v)) api.anonymous_read = *b;
  }
  if (auto v = m->take("users_file")) {
    if (auto s = p.absolute_path(*v)) api.users_file = *s;
  }
  if (auto v = m->take("keys_file")) {
    if (auto s = p.absolute_path(*v)) api.keys_file = *s;
  }
  if (auto v = m->take("ip_mapping_timeout")) {
    if (auto d = p.duration_value(*v)) api.ip_mapping_timeout = *d;
  }
  if (auto v = m->take("webhook_allowed_networks")) {
    if (auto items = p.list(*v)) {
      for (const Entry& item : *items) {
        auto s = p.non_empty_string(item);
        if (!s) continue;
        std::string error;
        if (auto network = rest::IpNetwork::parse(*s, &error)) {
          api.webhook_allowed_networks.push_back(*network);
        } else {
          p.error(item, error);
        }
      }
    }
  }
  read_webhook_proxy(p, *m, api);
  if (auto v = m->take("max_directories")) {
    if (auto n = p.int_value(*v, 1, std::numeric_limits<long long>::max())) {
      api.max_directories = static_cast<size_t>(*n);
    }
  }
  if (auto v = m->take("metrics_detail")) {
    if (auto b = p.bool_value(*v)) api.metrics_detail = *b;
  }
  if (auto v = m->take("webhook_event_retention")) {
    if (auto d = p.duration_value(*v)) api.webhook_event_retention = *d;
  }
  if (auto v = m->take("max_webhook_events")) {
    if (auto n = p.int_value(*v, 1, 1'000'000)) api.max_webhook_events = static_cast<size_t>(*n);
  }
}

void read_root(Parser& p, const YAML::Node& root, Config& config) {
  MapReader m(p, root, "", line_of(root),
              {"state_dir", "log", "domains", "api", "feed", "ip_sources", "publish"});
  if (auto v = m.take("state_dir")) {
    if (auto s = p.absolute_path(*v)) config.state_dir = *s;
  }
  if (auto v = m.take("log")) {
    if (auto log = p.map(*v, {"level"})) {
      if (auto level = log->take("level")) {
        if (auto s = p.enum_value(*level, {"trace", "debug", "info", "warning", "error"})) {
          config.log.level = *parse_log_level(*s);
        }
      }
    }
  }
  if (auto v = m.require("domains")) {
    if (auto items = p.list(*v)) {
      if (items->empty()) p.error(*v, "must list at least one domain");
      std::map<std::string, std::string> seen;  // name -> path of its first domain
      for (const Entry& item : *items) {
        ldap::DomainOptions domain;
        read_domain(p, item, domain);
        if (!domain.name.empty()) {
          auto [it, inserted] = seen.emplace(domain.name, item.path);
          if (!inserted) {
            const std::string key = item.path + ".name";
            p.error(p.line_of_key(key).value_or(item.line), key,
                    quote(domain.name) + " is already configured in " + it->second);
          }
        }
        config.domains.push_back(std::move(domain));
      }
    }
  }
  if (auto v = m.take("api")) read_api(p, *v, config.api);
  if (auto v = m.take("ip_sources")) read_ip_sources(p, *v, config.ip_sources);
  if (auto v = m.take("publish")) read_publish(p, *v, config.publish);
  if (auto v = m.take("feed")) {
    if (auto feed = p.map(*v, {"retention"})) {
      if (auto r = feed->take("retention")) {
        if (auto d = p.duration_value(*r)) config.feed.retention = *d;
      }
    }
  }
}

// errno-style message of why `path` cannot be opened for reading, or nullopt when it can.
std::optional<std::string> open_error(const std::string& path, int* fd_out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return std::string(std::strerror(errno));
  if (fd_out != nullptr) {
    *fd_out = fd;
  } else {
    ::close(fd);
  }
  return std::nullopt;
}

class FileChecker {
 public:
  explicit FileChecker(const Config& config) : config_(config) {}

  void error(const std::string& key, std::string message) {
    const auto it = config_.lines.find(key);
    errors_.push_back(ConfigError{config_.path, it != config_.lines.end() ? it->second : 0, key,
                                  std::move(message)});
  }

  // A regular file the daemon must be able to read. Returns its first bytes when `content`
  // is given (up to 64 KiB: enough for any password).
  bool readable(const std::string& key, const std::string& path, std::string* content = nullptr) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec) {
      error(key, "cannot read " + path + ": " + ec.message());
      return false;
    }
    if (!fs::is_regular_file(st)) {
      error(key, path + " is not a regular file");
      return false;
    }
    int fd = -1;
    if (auto why = open_error(path, &fd)) {
      error(key, "cannot read " + path + ": " + *why);
      return false;
    }
    bool ok = true;
    if (content != nullptr) {
      char buf[65536];
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0) {
        error(key, "cannot read " + path + ": " + std::strerror(errno));
        ok = false;
      } else {
        content->assign(buf, static_cast<size_t>(n));
      }
    }
    ::close(fd);
    return ok;
  }

  // A file that may not exist yet; when it does, it must be readable.
  void readable_if_present(const std::string& key, const std::string& path) {
    std::error_code ec;
    if (fs::status(path, ec).type() == fs::file_type::not_found) return;
    readable(key, path);
  }

  std::vector<ConfigError> take_errors() {
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
    return std::move(errors_);
  }

 private:
  const Config& config_;
  std::vector<ConfigError> errors_;
};

}  // namespace

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  return out;
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  constexpr long long kMax = 100LL * 365 * 24 * 3600;  // a century is plenty
  if (text.empty()) return std::nullopt;
  long long total = 0;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start || i == text.size() || i - start > 12) return std::nullopt;
    long long unit = 0;
    switch (text[i]) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      default: return std::nullopt;
    }
    long long n = 0;
    std::from_chars(text.data() + start, text.data() + i, n);
    ++i;
    if (n > kMax / unit) return std::nullopt;
    total += n * unit;
    if (total > kMax) return std::nullopt;
  }
  return std::chrono::seconds(total);
}

ConfigResult parse_config(std::string_view yaml, const std::string& file_name) {
  ConfigResult result;
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    std::string message = "YAML syntax error: " + e.msg;
    if (!e.mark.is_null()) message += " (column " + std::to_string(e.mark.column + 1) + ")";
    if (leading_tab(yaml, line)) message += "; indent with spaces, YAML does not allow tabs";
    result.errors.push_back(ConfigError{file_name, line, "", message});
    return result;
  }
  if (documents.empty() || documents.front().IsNull()) {
    result.errors.push_back(ConfigError{
        file_name, 0, "", "the file holds no settings (at least `domains` is required)"});
    return result;
  }
  if (documents.size() > 1) {
    result.errors.push_back(
        ConfigError{file_name, line_of(documents[1]), "",
                    "expected one YAML document, found " + std::to_string(documents.size())});
    return result;
  }
  const YAML::Node& root = documents.front();
  if (!root.IsMap()) {
    result.errors.push_back(
        ConfigError{file_name, line_of(root), "",
                    "expected a mapping of settings at the top level, got " + describe(root)});
    return result;
  }

  Parser parser(file_name);
  Config config;
  config.path = file_name;
  try {
    read_root(parser, root, config);
  } catch (const YAML::Exception& e) {
    // Not expected: every access above checks the node type first.
    parser.error(e.mark.is_null() ? 0 : e.mark.line + 1, "", "YAML error: " + e.msg);
  }
  config.lines = parser.take_lines();
  result.errors = parser.take_errors();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

ConfigResult load_config(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return ConfigResult{std::nullopt, {ConfigError{path, 0, "", "is a directory, not a file"}}};
  }
  Result<std::string> text = read_file(path);
  if (!text.is_ok()) {
    // "cannot read PATH: REASON" without the path, which the error names already.
    const std::string& message = text.status().message();
    return ConfigResult{
        std::nullopt,
        {ConfigError{path, 0, "", "cannot read: " + message.substr(message.rfind(": ") + 2)}}};
  }
  return parse_config(*text, path);
}

std::vector<std::string> config_warnings(const Config& config) {
  std::vector<std::string> warnings;
  for (const ldap::DomainOptions& domain : config.domains) {
    for (const std::string& uri : domain.controllers) {
      if (!ldap::sends_cleartext(uri, domain.tls, domain.bind)) continue;
      warnings.push_back("domain " + domain.name + ": controller " + uri +
                         " is used without TLS (tls.allow_plaintext): the bind password and "
                         "the directory cross the network in cleartext");
    }
  }
  return warnings;
}

std::vector<rest::DomainInfo> api_domains(const Config& config) {
  std::vector<rest::DomainInfo> domains;
  for (const auto& domain : config.domains) {
    domains.push_back({domain.name, domain.base_dn, domain.netbios_name});
  }
  return domains;
}

std::vector<ConfigError> check_files(const Config& config) {
  FileChecker check(config);

  std::error_code ec;
  if (fs::exists(config.state_dir, ec) && !fs::is_directory(config.state_dir, ec)) {
    check.error("state_dir", config.state_dir + " exists and is not a directory");
  }

  for (size_t i = 0; i < config.domains.size(); ++i) {
    const ldap::DomainOptions& domain = config.domains[i];
    const std::string path = "domains[" + std::to_string(i) + "]";
    if (domain.bind.method == ldap::BindMethod::kGssapi) {
      const std::string key = path + ".bind.keytab";
      if (check.readable(key, domain.bind.keytab)) {
        std::string problem = ldap::keytab_problem(domain.bind.principal, domain.bind.keytab);
        if (!problem.empty()) check.error(key, problem);
      }
    } else {
      std::string password;
      if (check.readable(path + ".bind.password_file", domain.bind.password_file, &password)) {
        while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
          password.pop_back();
        }
        if (password.empty()) {
          // AD treats a simple bind with an empty password as an anonymous bind that
          // "succeeds": never let that through.
          check.error(path + ".bind.password_file", domain.bind.password_file + " is empty");
        }
      }
    }
    if (!domain.tls.ca_file.empty()) check.readable(path + ".tls.ca_file", domain.tls.ca_file);
  }

  if (config.api.tls) {
    check.readable("api.tls.cert_file", config.api.tls->cert_file);
    check.readable("api.tls.key_file", config.api.tls->key_file);
  }
  for (size_t i = 0; i < config.ip_sources.size(); ++i) {
    const ipsource::ListenerTls& tls = config.ip_sources[i].tls;
    const std::string path = "ip_sources[" + std::to_string(i) + "].tls.";
    if (!tls.cert_file.empty()) check.readable(path + "cert_file", tls.cert_file);
    if (!tls.key_file.empty()) check.readable(path + "key_file", tls.key_file);
    if (!tls.client_ca_file.empty()) check.readable(path + "client_ca_file", tls.client_ca_file);
  }
  if (const std::optional<publish::NatsOptions>& nats = config.publish.nats) {
    for (auto [key, file] : {std::pair{"publish.nats.tls.ca_file", &nats->ca_file},
                             std::pair{"publish.nats.tls.cert_file", &nats->cert_file},
                             std::pair{"publish.nats.tls.key_file", &nats->key_file},
                             std::pair{"publish.nats.credentials_file", &nats->credentials_file},
                             std::pair{"publish.nats.password_file", &nats->password_file}}) {
      if (!file->empty()) check.readable(key, *file);
    }
  }
  check.readable_if_present("api.users_file", config.api.users_file);
  check.readable_if_present("api.keys_file", config.api.keys_file);
  return check.take_errors();
}

}  // namespace dirfeed::daemon
