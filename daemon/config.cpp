#include "daemon/config.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "daemon/config_publish.hpp"
#include "daemon/config_reader.hpp"
#include "ldap/kerberos.hpp"

namespace dirfeed::daemon {
namespace {

using namespace config_reader;
namespace fs = std::filesystem;

constexpr size_t kMaxPageSize = 1000;  // AD's default MaxPageSize


bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = name.find('.', start);
    const std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (unsigned char c : label) {
      if (!std::isalnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool is_port(std::string_view text, bool allow_zero, uint16_t* port) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 65535 ||
      (value == 0 && !allow_zero)) {
    return false;
  }
  if (port != nullptr) *port = static_cast<uint16_t>(value);
  return true;
}

bool has_space(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); });
}

// "host:port", "[v6]:port". The host comes back without brackets.
bool split_host_port(std::string_view text, bool allow_zero_port, std::string* host,
                     uint16_t* port) {
  if (text.empty() || has_space(text)) return false;
  std::string_view h;
  std::string_view p;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
    if (h.find(':') != std::string_view::npos) return false;  // IPv6 needs brackets
  }
  if (h.empty() || !is_port(p, allow_zero_port, port)) return false;
  if (host != nullptr) *host = std::string(h);
  return true;
}

// ldap://host, ldaps://host:636, ldaps://[2001:db8::1]/ and nothing more; the scheme in any case.
bool is_ldap_uri(std::string_view uri) {
  std::string_view rest;
  if (starts_with_ci(uri, "ldaps://")) {
    rest = uri.substr(8);
  } else if (starts_with_ci(uri, "ldap://")) {
    rest = uri.substr(7);
  } else {
    return false;
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || has_space(rest) || rest.find('/') != std::string_view::npos ||
      rest.find('?') != std::string_view::npos) {
    return false;
  }
  if (rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    if (close + 1 == rest.size()) return true;
    return rest[close + 1] == ':' && is_port(rest.substr(close + 2), false, nullptr);
  }
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return true;
  return colon > 0 && is_port(rest.substr(colon + 1), false, nullptr);
}

// An LDAP URI (is_ldap_uri) with its scheme in lower case, the rest as written: the form the
// options hold, so that no other code has to compare schemes.
std::string with_lower_scheme(std::string_view uri) {
  const size_t end = uri.find("://");
  return lower(uri.substr(0, end)) + std::string(uri.substr(end));
}

// A single RFC 4515 filter: "(...)" with balanced parentheses (a literal parenthesis in a
// value is escaped as \28 or \29, so every parenthesis is structure).
bool is_ldap_filter(std::string_view filter) {
  if (filter.size() < 3 || filter.front() != '(' || filter.back() != ')') return false;
  int depth = 0;
  for (size_t i = 0; i < filter.size(); ++i) {
    if (filter[i] == '(') ++depth;
    if (filter[i] == ')') --depth;
    if (depth < 0 || (depth == 0 && i + 1 != filter.size())) return false;
  }
  return depth == 0;
}

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

// Each read_* function fills the part of the options its entry describes and reports what
// is wrong; defaults stay where the file says nothing or says something wrong.

void read_tls(Parser& p, const Entry& e, ldap::TlsOptions& tls) {
  auto m = p.map(e, {"ca_file", "verify", "start_tls", "allow_plaintext"});
  if (!m) return;
  if (auto v = m->take("ca_file")) {
    if (auto s = p.absolute_path(*v)) tls.ca_file = *s;
  }
  if (auto v = m->take("verify")) {
    if (auto b = p.bool_value(*v)) tls.verify = *b;
  }
  if (auto v = m->take("start_tls")) {
    if (auto b = p.bool_value(*v)) tls.start_tls = *b;
  }
  if (auto v = m->take("allow_plaintext")) {
    if (auto b = p.bool_value(*v)) tls.allow_plaintext = *b;
  }
}

// "svc-dirfeed@EXAMPLE.TEST": NAME@REALM without spaces, the realm in upper case (Kerberos
// compares realms case-sensitively; AD's realm is its DNS name in upper case).
bool is_principal(std::string_view principal) {
  const size_t at = principal.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == principal.size()) return false;
  if (has_space(principal)) return false;
  const std::string_view realm = principal.substr(at + 1);
  return std::none_of(realm.begin(), realm.end(),
                      [](unsigned char c) { return std::islower(c) || c == '@'; });
}

// bind: {method: simple, dn, password_file} or {method: gssapi, principal, keytab}. A key of
// the other method is an error, so that a half-converted block does not go unnoticed.
void read_bind(Parser& p, const Entry& e, ldap::BindOptions& bind) {
  auto m = p.map(e, {"method", "dn", "password_file", "principal", "keytab"});
  if (!m) return;
  bool method_ok = true;
  if (auto v = m->take("method")) {
    auto s = p.enum_value(*v, {"simple", "gssapi"});
    method_ok = s.has_value();
    if (s) bind.method = *s == "gssapi" ? ldap::BindMethod::kGssapi : ldap::BindMethod::kSimple;
  }
  const bool gssapi = bind.method == ldap::BindMethod::kGssapi;
  // The key's entry when it belongs to the method (required then), else an error. With an
  // invalid method nothing is required or refused.
  auto key = [&](std::string_view name, bool of_gssapi) -> std::optional<Entry> {
    if (!method_ok) return m->take(name);
    if (of_gssapi == gssapi) return m->require(name);
    if (auto v = m->take(name)) {
      p.error(*v, gssapi ? "not used with method gssapi (it binds with principal and keytab)"
                         : "not used with method simple (for a Kerberos bind write method: "
                           "gssapi)");
    }
    return std::nullopt;
  };
  if (auto v = key("dn", false)) {
    if (auto s = p.non_empty_string(*v)) bind.dn = *s;
  }
  if (auto v = key("password_file", false)) {
    if (auto s = p.absolute_path(*v)) bind.password_file = *s;
  }
  if (auto v = key("principal", true)) {
    if (auto s = p.non_empty_string(*v)) {
      if (is_principal(*s)) {
        bind.principal = *s;
      } else {
        p.error(*v, quote(*s) +
                        " is not a Kerberos principal (NAME@REALM, the realm in upper case, "
                        "e.g. svc-dirfeed@EXAMPLE.TEST)");
      }
    }
  }
  if (auto v = key("keytab", true)) {
    if (auto s = p.absolute_path(*v)) bind.keytab = *s;
  }
}

// The host of an LDAP URI (is_ldap_uri): "dc1.example.test", "[2001:db8::1]".
std::string_view uri_host(std::string_view uri) {
  std::string_view rest = uri.substr(uri.find("://") + 3);
  if (!rest.empty() && rest.front() == '[') return rest.substr(0, rest.find(']') + 1);
  return rest.substr(0, rest.find_first_of(":/"));
}

bool is_ip_address(std::string_view host) {
  if (!host.empty() && host.front() == '[') return true;
  return !host.empty() && std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isdigit(c) || c == '.';
  });
}

void read_sync(Parser& p, const Entry& e, ldap::SyncOptions& sync) {
  auto m = p.map(e, {"strategy", "interval", "notifications", "page_size", "search_bases",
                     "user_filter", "group_filter", "max_deletes", "max_delete_percent",
                     "member_range_step", "timeout"});
  if (!m) return;
  if (auto v = m->take("strategy")) {
    if (auto s = p.enum_value(*v, {"dirsync", "usn"})) {
      sync.strategy = *s == "usn" ? ldap::Strategy::kUsn : ldap::Strategy::kDirSync;
    }
  }
  if (auto v = m->take("interval")) {
    if (auto d = p.duration_value(*v)) sync.interval = *d;
  }
  if (auto v = m->take("notifications")) {
    if (auto b = p.bool_value(*v)) sync.notifications = *b;
  }
  if (auto v = m->take("page_size")) {
    if (auto n = p.int_value(*v, 1, kMaxPageSize)) sync.page_size = static_cast<int>(*n);
  }
  if (auto v = m->take("search_bases")) {
    if (auto items = p.list(*v)) {
      std::vector<std::string> bases;
      for (const Entry& item : *items) {
        if (auto s = p.non_empty_string(item)) bases.push_back(*s);
      }
      sync.search_bases = std::move(bases);
    }
  }
  for (auto [key, field] : {std::pair{"user_filter", &sync.user_filter},
                            std::pair{"group_filter", &sync.group_filter}}) {
    if (auto v = m->take(key)) {
      if (auto s = p.non_empty_string(*v)) {
        if (is_ldap_filter(*s)) {
          *field = *s;
        } else {
          p.error(*v, quote(*s) +
                          " is not an LDAP filter (one \"(...)\" with balanced "
                          "parentheses; escape literal ones as \\28 and \\29)");
        }
      }
    }
  }
  if (auto v = m->take("max_deletes")) {
    if (auto n = p.int_value(*v, 0, std::numeric_limits<long long>::max())) {
      sync.max_deletes = static_cast<size_t>(*n);
    }
  }
  if (auto v = m->take("max_delete_percent")) {
    if (auto n = p.int_value(*v, 0, 100)) sync.max_delete_percent = static_cast<double>(*n);
  }
  if (auto v = m->take("member_range_step")) {
    if (auto n = p.int_value(*v, 0, std::numeric_limits<int>::max())) {
      sync.member_range_step = static_cast<int>(*n);
    }
  }
  if (auto v = m->take("timeout")) {
    if (auto d = p.duration_value(*v)) sync.timeout = *d;
  }
}

void read_domain(Parser& p, const Entry& e, ldap::DomainOptions& domain) {
  auto m = p.map(e, {"name", "base_dn", "netbios_name", "controllers", "tls", "bind", "sync"});
  if (!m) return;
  if (auto v = m->require("name")) {
    if (auto s = p.non_empty_string(*v)) {
      std::string name = lower(*s);
      if (is_dns_name(name)) {
        domain.name = std::move(name);
      } else {
        p.error(*v, quote(*s) + " is not a DNS domain name (e.g. example.test)");
      }
    }
  }
  if (auto v = m->take("base_dn")) {
    if (auto s = p.non_empty_string(*v)) {
      if (s->find('=') != std::string::npos) {
        domain.base_dn = *s;
      } else {
        p.error(*v, quote(*s) + " is not a DN (e.g. DC=example,DC=test)");
      }
    }
  }
  if (domain.base_dn.empty() && !domain.name.empty()) {
    domain.base_dn = ldap::base_dn_from_domain(domain.name);
  }
  if (auto v = m->take("netbios_name")) {
    if (auto s = p.non_empty_string(*v)) {
      if (s->size() <= 15 && !has_space(*s) &&
          s->find_first_of("\\/:*?\"<>|.") == std::string::npos) {
        domain.netbios_name = *s;
      } else {
        p.error(*v, quote(*s) +
                        " is not a NetBIOS domain name (at most 15 characters, "
                        "no spaces or \\/:*?\"<>|.)");
      }
    }
  }
  std::vector<Entry> controllers;  // the valid ones, for the cleartext check below
  if (auto v = m->require("controllers")) {
    if (auto items = p.list(*v)) {
      if (items->empty()) p.error(*v, "must list at least one domain controller");
      for (const Entry& item : *items) {
        auto s = p.non_empty_string(item);
        if (!s) continue;
        if (is_ldap_uri(*s)) {
          domain.controllers.push_back(with_lower_scheme(*s));
          controllers.push_back(item);
        } else {
          p.error(item, quote(*s) +
                            " is not an LDAP URI (use ldaps://HOST[:PORT] or "
                            "ldap://HOST[:PORT])");
        }
      }
    }
  }
  if (auto v = m->take("tls")) read_tls(p, *v, domain.tls);
  if (auto v = m->require("bind")) read_bind(p, *v, domain.bind);
  for (size_t i = 0; i < controllers.size(); ++i) {
    const std::string& uri = domain.controllers[i];
    if (!domain.tls.allow_plaintext && ldap::sends_cleartext(uri, domain.tls, domain.bind)) {
      p.error(controllers[i], quote(uri) +
                                  " would send the bind password and the directory in "
                                  "cleartext: use ldaps://, set tls.start_tls: true, or allow "
                                  "it for this domain with tls.allow_plaintext: true");
    }
    if (domain.bind.method == ldap::BindMethod::kGssapi && is_ip_address(uri_host(uri))) {
      p.error(controllers[i], quote(uri) +
                                  ": a Kerberos bind needs the DC's DNS host name in the URI "
                                  "(its service principal is ldap/<host name>), not an address");
    }
  }
  if (auto v = m->take("sync")) read_sync(p, *v, domain.sync);
}

void read_api(Parser& p, const Entry& e, ApiOptions& api) {
  auto m = p.map(e, {"listen", "tls", "anonymous_read", "users_file", "keys_file",
                     "ip_mapping_timeout", "webhook_allowed_networks", "max_directories",
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

// A list of CIDR networks (ip_sources).
std::vector<ipsource::Network> read_networks(Parser& p, const Entry& e) {
  std::vector<ipsource::Network> networks;
  if (auto items = p.list(e)) {
    for (const Entry& item : *items) {
      auto s = p.non_empty_string(item);
      if (!s) continue;
      if (auto network = ipsource::parse_network(*s)) {
        networks.push_back(*network);
      } else {
        p.error(item, quote(*s) + " is not a network (e.g. 10.0.0.0/8, 2001:db8::/32, 10.1.2.3)");
      }
    }
  }
  return networks;
}

void read_ip_source(Parser& p, const Entry& e, ipsource::SourceOptions& source) {
  auto m = p.map(e, {"name", "listen", "tls", "format", "regex", "logout_regex", "domain",
                     "timeout", "include_networks", "exclude_networks", "ignore_users",
                     "allowed_senders"});
  if (!m) return;
  if (auto v = m->require("name")) {
    if (auto s = p.non_empty_string(*v)) source.name = *s;
  }
  bool listen_ok = false;
  if (auto v = m->require("listen")) {
    if (auto s = p.string_value(*v)) {
      listen_ok = ipsource::parse_listen(*s, &source.transport, &source.host, &source.port);
      if (!listen_ok) {
        p.error(*v, quote(*s) + " is not udp://, tcp:// or tls://ADDRESS:PORT (e.g. "
                                "tcp://0.0.0.0:6514 or tls://[::]:6514)");
      }
    }
  }
  const bool tls = source.transport == ipsource::Transport::kTls;
  if (auto v = listen_ok && tls ? m->require("tls") : m->take("tls")) {
    if (listen_ok && !tls) p.error(*v, "only for a tls:// listener");
    if (auto t = p.map(*v, {"cert_file", "key_file", "client_ca_file"})) {
      for (auto [key, field] : {std::pair{"cert_file", &source.tls.cert_file},
                                std::pair{"key_file", &source.tls.key_file}}) {
        if (auto f = t->require(key)) {
          if (auto path = p.absolute_path(*f)) *field = *path;
        }
      }
      if (auto f = t->take("client_ca_file")) {
        if (auto path = p.absolute_path(*f)) source.tls.client_ca_file = *path;
      }
    }
  }
  bool regex_format = false;
  if (auto v = m->require("format")) {
    if (auto s = p.enum_value(*v, {"windows-security", "samba-auth-json", "regex"})) {
      regex_format = *s == "regex";
      source.format = regex_format           ? ipsource::Format::kRegex
                      : *s == "samba-auth-json" ? ipsource::Format::kSambaAuthJson
                                                : ipsource::Format::kWindowsSecurity;
    }
  }
  for (auto [key, field] : {std::pair{"regex", &source.regex},
                            std::pair{"logout_regex", &source.logout_regex}}) {
    auto v = regex_format && std::string_view(key) == "regex" ? m->require(key) : m->take(key);
    if (!v) continue;
    if (!regex_format) {
      p.error(*v, "only for format: regex");
      continue;
    }
    if (auto s = p.non_empty_string(*v)) {
      std::string error;
      if (ipsource::check_regex(*s, &error)) {
        *field = *s;
      } else {
        p.error(*v, quote(*s) + " " + error);
      }
    }
  }
  if (auto v = m->take("domain")) {
    if (auto s = p.non_empty_string(*v)) source.domain = *s;
  }
  if (auto v = m->take("timeout")) source.timeout = p.duration_value(*v);
  if (auto v = m->take("include_networks")) source.include_networks = read_networks(p, *v);
  if (auto v = m->take("exclude_networks")) source.exclude_networks = read_networks(p, *v);
  if (auto v = m->take("allowed_senders")) source.allowed_senders = read_networks(p, *v);
  if (auto v = m->take("ignore_users")) {
    if (auto items = p.list(*v)) {
      source.ignore_users.clear();
      for (const Entry& item : *items) {
        if (auto s = p.non_empty_string(item)) source.ignore_users.push_back(*s);
      }
    }
  }
}

void read_ip_sources(Parser& p, const Entry& e, std::vector<ipsource::SourceOptions>& sources) {
  auto items = p.list(e);
  if (!items) return;
  std::map<std::string, std::string> seen;  // name -> path of its first source
  for (const Entry& item : *items) {
    ipsource::SourceOptions source;
    read_ip_source(p, item, source);
    if (!source.name.empty()) {
      auto [it, inserted] = seen.emplace(source.name, item.path);
      if (!inserted) {
        const std::string key = item.path + ".name";
        p.error(p.line_of_key(key).value_or(item.line), key,
                quote(source.name) + " is already the name of " + it->second);
      }
    }
    sources.push_back(std::move(source));
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
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int saved = errno;
    return ConfigResult{
        std::nullopt,
        {ConfigError{path, 0, "", std::string("cannot read: ") + std::strerror(saved)}}};
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return ConfigResult{std::nullopt, {ConfigError{path, 0, "", "cannot read: I/O error"}}};
  }
  return parse_config(text.str(), path);
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
