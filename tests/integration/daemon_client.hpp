#pragma once
// The real `dirfeed` binary as the integration tests and benchmarks drive it: its config
// for the Samba DC fixture, `dirfeed api add-key` / `add-user`, `dirfeed run` started until
// it listens (and is ready), and one-request HTTP clients for its API. The binary is
// DIRFEED_BINARY, a compile definition of each target that includes this.
#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <cstdio>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "core/base64.hpp"
#include "core/guid.hpp"
#include "tests/support/process.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

#ifndef DIRFEED_BINARY
#error "DIRFEED_BINARY must be defined (tests/integration/CMakeLists.txt)"
#endif

namespace dirfeed::testing {

// ---- HTTP ----------------------------------------------------------------------------------

struct Reply {
  int status = 0;  // 0: no connection, or no (complete) answer
  std::string body;
  bool chunked = false;  // the body came with chunked transfer encoding (a streamed list)
};

// Request headers besides Host (and Content-Type with a body), in the order sent.
using Headers = std::vector<std::pair<std::string, std::string>>;

// `Authorization: <value>`; none when `value` is empty.
inline Headers authorization(const std::string& value) {
  if (value.empty()) return {};
  return {{"Authorization", value}};
}

// `Authorization: Api-Key <key>` (the Directory Sync API); none when `key` is empty.
inline Headers api_key(const std::string& key) {
  return key.empty() ? Headers{} : authorization("Api-Key " + key);
}

// `x-api-key: <key>` (the Directory Changes API), even when `key` is empty.
inline Headers x_api_key(const std::string& key) { return {{"x-api-key", key}}; }

// `Authorization: Basic base64(user:password)` (the User ID Service API).
inline Headers basic_auth(const std::string& user, const std::string& password) {
  return authorization("Basic " + base64_encode(user + ":" + password));
}

// Sends one HTTP/1.1 request on `stream` (connected; TLS handshake done for a TLS stream):
// Host 127.0.0.1, then `headers`, then, when `body` is not empty, Content-Type
// application/json and the body. Reads the answer (bodies up to 256 MiB); a Reply with status
// 0 on any error.
template <class Stream>
Reply exchange(Stream& stream, boost::beast::http::verb verb, const std::string& target,
               const Headers& headers = {}, const std::string& body = "") {
  namespace http = boost::beast::http;
  http::request<http::string_body> request(verb, target, 11);
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) request.set(name, value);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
  }
  boost::system::error_code error;
  http::write(stream, request, error);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 << 20);
  if (!error) http::read(stream, buffer, parser, error);
  if (error) return {};
  return {static_cast<int>(parser.get().result_int()), parser.get().body(),
          parser.get().chunked()};
}

// exchange() on a new plain-HTTP connection to 127.0.0.1:port.
inline Reply call(uint16_t port, boost::beast::http::verb verb, const std::string& target,
                  const Headers& headers = {}, const std::string& body = "") {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  boost::system::error_code error;
  socket.connect({asio::ip::make_address("127.0.0.1"), port}, error);
  if (error) return {};
  return exchange(socket, verb, target, headers, body);
}

// ---- the directory -------------------------------------------------------------------------

// The GUID string form of the entry under `base` that ldapsearch finds with `filter` (the
// first one, when several match); "" when none.
inline std::string ldap_guid(const SambaDc& dc, const std::string& base,
                             const std::string& filter) {
  const std::string ldif = dc.search(base, filter, {"objectGUID"});
  std::smatch match;
  if (!std::regex_search(ldif, match, std::regex("objectGUID:: (\\S+)"))) return "";
  std::optional<std::string> bytes = guid_from_text(match[1].str());
  return bytes ? guid_to_string(*bytes) : "";
}

// ---- the config and the CLI ----------------------------------------------------------------

// What differs between the tests' daemon configs, for designated initializers (every member
// has a default member initializer, so -Wmissing-field-initializers stays quiet). Empty or
// absent fields are left out of the YAML (the daemon's default applies).
struct DaemonConfig {
  std::string log_level = "info";        // log.level
  std::string strategy = "usn";          // domains[0].sync.strategy
  std::string interval = "60s";          // domains[0].sync.interval
  std::optional<bool> notifications{};   // domains[0].sync.notifications
  std::optional<bool> anonymous_read{};  // api.anonymous_read
  std::string tls_cert_file{};           // api.tls (HTTPS) when set, with tls_key_file
  std::string tls_key_file{};
  // api.webhook_allowed_networks, when not empty (webhook receivers of tests are on 127.0.0.1,
  // refused by default).
  std::vector<std::string> webhook_allowed_networks{};
};

// One entry of `domains:` for the DC `dc` (over LDAPS with its CA, bound as the administrator
// with the password in `password_file`), up to its opening `sync:` line.
inline std::string domain_yaml(const SambaDc& dc, const std::string& password_file) {
  return "  - name: " + dc.domain() + "\n"
         "    controllers:\n      - " + dc.uri() + "\n"
         "    tls:\n      ca_file: " + dc.ca_file() + "\n"
         "    bind:\n      dn: " + dc.admin_dn() + "\n"
         "      password_file: " + password_file + "\n"
         "    sync:\n";
}

// Writes the daemon's config into `dir` as `dir`/dirfeed.yaml, and the DC's bind password
// as `dir`/bind.password (0600): state in `dir`/state, the fixture's one domain (its DC over
// LDAPS with the fixture's CA, bound as the administrator), the API on an ephemeral loopback
// port (see start()) with its users and keys files in `dir`. Returns the config's path.
inline std::string write_config(const TempDir& dir, const SambaDc& dc,
                                const DaemonConfig& options = {}) {
  auto flag = [](bool on) { return on ? std::string("true") : std::string("false"); };
  const std::string password_file = dir.path() + "/bind.password";
  write_text(password_file, dc.admin_password(), 0600);
  std::string yaml = "state_dir: " + dir.path() + "/state\n"
                     "log:\n  level: " + options.log_level + "\n"
                     "domains:\n" + domain_yaml(dc, password_file);
  if (!options.strategy.empty()) yaml += "      strategy: " + options.strategy + "\n";
  if (!options.interval.empty()) yaml += "      interval: " + options.interval + "\n";
  if (options.notifications) yaml += "      notifications: " + flag(*options.notifications) + "\n";
  yaml += "api:\n  listen: 127.0.0.1:0\n";
  if (options.anonymous_read) yaml += "  anonymous_read: " + flag(*options.anonymous_read) + "\n";
  yaml += "  users_file: " + dir.path() + "/api-users\n"
          "  keys_file: " + dir.path() + "/api-keys\n";
  if (!options.tls_cert_file.empty()) {
    yaml += "  tls:\n    cert_file: " + options.tls_cert_file + "\n"
            "    key_file: " + options.tls_key_file + "\n";
  }
  if (!options.webhook_allowed_networks.empty()) {
    yaml += "  webhook_allowed_networks:\n";
    for (const std::string& network : options.webhook_allowed_networks) {
      yaml += "    - \"" + network + "\"\n";
    }
  }
  const std::string config = dir.path() + "/dirfeed.yaml";
  write_text(config, yaml);
  return config;
}

// `dirfeed api add-key --config CONFIG --name NAME`, its stderr appended to `log_path`: the
// key it prints (its first line of stdout), "" when it failed.
inline std::string add_key(const std::string& config, const std::string& name,
                           const std::string& log_path) {
  const std::string command = std::string(DIRFEED_BINARY) + " api add-key --config " + config +
                              " --name " + name + " 2>>" + log_path;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  char line[256] = {};
  const bool read = std::fgets(line, sizeof line, pipe) != nullptr;
  const int status = ::pclose(pipe);
  if (!read || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return "";
  std::string key(line);
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  return key;
}

// `dirfeed api add-user --config CONFIG --user USER` with `password` on its stdin, its stdout
// and stderr appended to `log_path`; its exit code (-1 when it did not exit normally).
inline int add_user(const std::string& config, const std::string& user,
                    const std::string& password, const std::string& log_path) {
  const std::string command = std::string(DIRFEED_BINARY) + " api add-user --config " + config +
                              " --user " + user + " >>" + log_path + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "w");
  if (pipe == nullptr) return -1;
  std::fputs((password + "\n").c_str(), pipe);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// ---- the daemon ----------------------------------------------------------------------------

// Starts `dirfeed run --config CONFIG` as `daemon` (replacing, so killing, one it holds), its
// stdout and stderr appended to `log_path`, and waits until it logs "api: listening on
// <scheme>://127.0.0.1:PORT" (only what it logs after this start counts: a restart appends to
// the same log). Returns PORT, 0 when it did not say so within 30 s.
inline uint16_t launch(std::optional<Process>& daemon, const std::string& config,
                       const std::string& log_path, const std::string& scheme = "http") {
  const size_t logged = read_text(log_path).size();
  daemon.emplace(std::vector<std::string>{DIRFEED_BINARY, "run", "--config", config}, log_path,
                 log_path);
  const std::regex listening("api: listening on " + scheme + "://127\\.0\\.0\\.1:(\\d+)");
  uint16_t port = 0;
  wait_until(
      [&] {
        std::smatch match;
        const std::string log = read_text(log_path).substr(logged);
        if (!std::regex_search(log, match, listening)) return false;
        port = static_cast<uint16_t>(std::stoi(match[1].str()));
        return true;
      },
      std::chrono::seconds(30));
  return port;
}

// launch() over plain HTTP, then waits until GET /readyz answers 200 (first sync complete).
// Returns the port, 0 when it did not get there within 30 s each.
inline uint16_t start(std::optional<Process>& daemon, const std::string& config,
                      const std::string& log_path) {
  const uint16_t port = launch(daemon, config, log_path);
  if (port == 0) return 0;
  const bool ready = wait_until(
      [&] { return call(port, boost::beast::http::verb::get, "/readyz").status == 200; },
      std::chrono::seconds(30), std::chrono::milliseconds(100));
  return ready ? port : 0;
}

}  // namespace dirfeed::testing
