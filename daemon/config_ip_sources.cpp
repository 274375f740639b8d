// The ip_sources section of the config file: see README "IP sources".
#include <map>
#include <string>

#include "daemon/config_sections.hpp"

namespace dirfeed::daemon {
namespace {

using namespace config_reader;

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

}  // namespace

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

}  // namespace dirfeed::daemon
