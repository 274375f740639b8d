#pragma once
// The configuration file (DESIGN.md section 7), parsed once into typed options. Nothing but
// daemon/ reads YAML: each module gets its plain options struct from here.
//
// Two steps, both collecting every error rather than stopping at the first:
//   load_config()  reads and parses the file: syntax, unknown keys, types, required keys,
//                  values. Pure apart from reading the one file; no other file is touched.
//   check_files()  what parsing deliberately leaves out because it depends on the machine:
//                  the files the config names (password files, keytabs and that they hold
//                  a key for the principal, CA and TLS files).
// `dirfeed check-config` and `dirfeed run` run both.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/logging.hpp"
#include "ipsource/options.hpp"
#include "ldap/options.hpp"
#include "publish/jetstream.hpp"
#include "rest/api.hpp"
#include "rest/webhook_target.hpp"
#include "rest/webhooks.hpp"

namespace dirfeed::daemon {

struct LogOptions {
  LogLevel level = LogLevel::kInfo;
};

struct ApiTlsOptions {
  std::string cert_file;  // PEM certificate chain, absolute path
  std::string key_file;   // PEM private key, absolute path
};

struct ApiOptions {
  std::string listen_host = "0.0.0.0";                // IPv6 literals without brackets ("::")
  uint16_t listen_port = 5000;                        // 0: any free port (tests)
  std::optional<ApiTlsOptions> tls;                   // nullopt: plain HTTP
  bool anonymous_read = true;                         // User ID API reads without auth
  std::string users_file = "/etc/dirfeed/api-users";  // may not exist yet: no users
  std::string keys_file = "/etc/dirfeed/api-keys";    // may not exist yet: no keys
  std::chrono::seconds ip_mapping_timeout{std::chrono::hours(6)};
  // Networks webhooks may be sent to although refused by default (loopback, link-local, ...:
  // rest/webhook_target.hpp).
  std::vector<rest::IpNetwork> webhook_allowed_networks;
  // The proxy webhooks go through (api.webhook_proxy, "none" being no proxy, with
  // api.webhook_no_proxy); nullopt: the environment's HTTPS_PROXY / HTTP_PROXY / NO_PROXY.
  std::optional<rest::WebhookProxy> webhook_proxy;
  size_t max_directories = rest::kDefaultMaxDirectories;  // Directory Sync API directories
  // The webhook event log of directories with log_webhook_events: kept this long, at most
  // this many per directory.
  std::chrono::seconds webhook_event_retention{std::chrono::hours(24 * 7)};
  size_t max_webhook_events = rest::kDefaultMaxLoggedEvents;
  // /metrics with series by directory (ids): off, since /metrics is public.
  bool metrics_detail = false;
};

struct FeedOptions {
  std::chrono::seconds retention{std::chrono::hours(24 * 30)};
};

// publish: feed sinks beyond this machine. nats: the JetStream publisher (publish.nats;
// servers set, user with password_file, cert_file with key_file, credentials_file or user).
struct PublishOptions {
  std::optional<publish::NatsOptions> nats;
};

struct Config {
  std::string path;  // the file this was loaded from, as given
  std::string state_dir = "/var/lib/dirfeed";
  LogOptions log;
  // At least one. Names are lower case and unique; base_dn is always set (derived from the
  // name when the file has none); controllers are ldap:// or ldaps:// URIs, the scheme in
  // lower case whatever the file says, and none sends_cleartext() unless tls.allow_plaintext.
  std::vector<ldap::DomainOptions> domains;
  ApiOptions api;
  FeedOptions feed;
  // Logon-event receivers (ip_sources); names unique, regexes checked, tls set for tls://.
  std::vector<ipsource::SourceOptions> ip_sources;
  PublishOptions publish;
  // 1-based line of every key the file sets, by key path ("domains[0].bind.password_file"),
  // so later checks can point at the line too.
  std::map<std::string, int, std::less<>> lines;
};

struct ConfigError {
  std::string file;
  int line = 0;     // 1-based; 0 when the error is about the whole file
  std::string key;  // key path such as "domains[0].sync.interval"; empty for syntax errors
  std::string message;

  // "FILE:LINE: KEY: MESSAGE", leaving out the parts that are empty or zero.
  std::string to_string() const;
};

struct ConfigResult {
  std::optional<Config> config;     // set exactly when errors is empty
  std::vector<ConfigError> errors;  // every error found, ordered by line

  bool ok() const { return errors.empty(); }
};

// Reads and parses `path`. Never throws for a bad or unreadable file: that is an error in
// the result.
ConfigResult load_config(const std::string& path);

// Parses YAML text as if it had been read from `file_name` (used in messages only).
ConfigResult parse_config(std::string_view yaml, const std::string& file_name);

// The configured domains as the REST APIs (and the feed's sinks) name them.
std::vector<rest::DomainInfo> api_domains(const Config& config);

// The machine-dependent checks described above, with the same kind of messages. Readability
// is checked as the calling user: run it as the daemon's user to be sure.
std::vector<ConfigError> check_files(const Config& config);

// What a valid `config` allows but the admin must hear about at every start (one message
// per item, for the log and check-config): each controller used without TLS because
// tls.allow_plaintext allows it, naming the domain and the controller.
std::vector<std::string> config_warnings(const Config& config);

// "90s", "15m", "6h", "30d", or a sum such as "1h30m". A unit is required: a bare number is
// not a duration. nullopt when malformed or out of range.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

}  // namespace dirfeed::daemon
