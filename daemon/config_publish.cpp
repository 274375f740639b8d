// The publish section of the config file (publish.nats): see README "NATS JetStream".
#include "daemon/config_sections.hpp"

#include <string>
#include <string_view>

namespace dirfeed::daemon {
namespace {

using namespace config_reader;

// A JetStream stream name: letters, digits, '-' and '_' (no '.', '*', '>', spaces, slashes).
bool is_stream_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-' || c == '_';
         });
}

// Dot-separated subject tokens of letters, digits, '-' and '_' (no wildcard, none empty).
bool is_subject_prefix(std::string_view prefix) {
  if (prefix.empty() || prefix.front() == '.' || prefix.back() == '.') return false;
  if (prefix.find("..") != std::string_view::npos) return false;
  return std::all_of(prefix.begin(), prefix.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

// nats://HOST:PORT or tls://HOST:PORT (the port may be left out: 4222).
bool is_nats_url(std::string_view url) {
  for (std::string_view scheme : {"nats://", "tls://"}) {
    if (starts_with_ci(url, scheme)) {
      const std::string_view rest = url.substr(scheme.size());
      return !rest.empty() && rest.find_first_of(" /\t@") == std::string_view::npos;
    }
  }
  return false;
}

// The host of a URL is_nats_url accepts, lower case ("[::1]" for an IPv6 literal).
std::string url_host(std::string_view url) {
  std::string_view rest = url.substr(url.find("://") + 3);
  const size_t end = rest.front() == '[' ? rest.find(']') + 1 : rest.find(':');
  return lower(rest.substr(0, end));
}

void read_nats(Parser& p, const Entry& e, publish::NatsOptions& nats) {
  auto m = p.map(e, {"servers", "stream", "subject_prefix", "replicas", "max_age",
                     "duplicate_window", "tls", "credentials_file", "user", "password_file",
                     "max_pending", "ack_timeout"});
  if (!m) return;
  if (auto v = m->require("servers")) {
    if (auto items = p.list(*v)) {
      if (items->empty()) p.error(*v, "must list at least one server");
      for (const Entry& item : *items) {
        auto url = p.non_empty_string(item);
        if (!url) continue;
        if (is_nats_url(*url)) {
          nats.servers.push_back(*url);
        } else {
          p.error(item, quote(*url) + " is not nats://HOST:PORT or tls://HOST:PORT");
        }
      }
    }
  }
  if (auto v = m->take("stream")) {
    if (auto s = p.non_empty_string(*v)) {
      if (is_stream_name(*s)) {
        nats.stream = *s;
      } else {
        p.error(*v, quote(*s) + " is not a stream name (letters, digits, - and _)");
      }
    }
  }
  if (auto v = m->take("subject_prefix")) {
    if (auto s = p.non_empty_string(*v)) {
      if (is_subject_prefix(*s)) {
        nats.subject_prefix = *s;
      } else {
        p.error(*v, quote(*s) + " is not a subject prefix (tokens of letters, digits, - and _, "
                                "separated by dots, e.g. dirfeed or acme.directory)");
      }
    }
  }
  if (auto v = m->take("replicas")) {
    if (auto n = p.int_value(*v, 1, 5)) nats.replicas = static_cast<int>(*n);
  }
  if (auto v = m->take("max_age")) {
    if (auto d = p.duration_value(*v)) nats.max_age = *d;
  }
  if (auto v = m->take("duplicate_window")) {
    if (auto d = p.duration_value(*v)) nats.duplicate_window = *d;
  }
  if (auto v = m->take("ack_timeout")) {
    if (auto d = p.duration_value(*v)) nats.ack_timeout = *d;
  }
  if (auto v = m->take("max_pending")) {
    if (auto n = p.int_value(*v, 1, 65536)) nats.max_pending = static_cast<size_t>(*n);
  }
  if (auto v = m->take("tls")) {
    if (auto t = p.map(*v, {"ca_file", "server_name", "cert_file", "key_file"})) {
      if (auto name = t->take("server_name")) {
        if (auto s = p.non_empty_string(*name)) nats.tls_server_name = lower(*s);
      }
      for (auto [key, field] : {std::pair{"ca_file", &nats.ca_file},
                                std::pair{"cert_file", &nats.cert_file},
                                std::pair{"key_file", &nats.key_file}}) {
        if (auto f = t->take(key)) {
          if (auto path = p.absolute_path(*f)) *field = *path;
        }
      }
      if (nats.cert_file.empty() != nats.key_file.empty()) {
        p.error(*v, "cert_file and key_file go together");
      }
    }
  }
  // TLS: the name the servers' certificates must carry is their common host name, or given.
  if (publish::wants_tls(nats) && nats.tls_server_name.empty() && !nats.servers.empty()) {
    std::string host = url_host(nats.servers.front());
    for (const std::string& url : nats.servers) {
      if (url_host(url) != host) host.clear();
    }
    if (!host.empty()) {
      nats.tls_server_name = host;
    } else {
      p.error(e, "tls.server_name is required: the servers have different host names, and "
                 "their certificates are checked for one name");
    }
  }
  if (auto v = m->take("credentials_file")) {
    if (auto path = p.absolute_path(*v)) nats.credentials_file = *path;
  }
  std::optional<Entry> user = m->take("user");
  std::optional<Entry> password = m->take("password_file");
  if (user) {
    if (auto s = p.non_empty_string(*user)) nats.user = *s;
  }
  if (password) {
    if (auto path = p.absolute_path(*password)) nats.password_file = *path;
  }
  if (user && !password) p.error(*user, "needs password_file");
  if (password && !user) p.error(*password, "needs user");
  if (user && !nats.credentials_file.empty()) {
    p.error(*user, "use either credentials_file or user and password_file");
  }
}

}  // namespace

void read_publish(Parser& p, const Entry& e, PublishOptions& publish) {
  auto m = p.map(e, {"nats"});
  if (!m) return;
  if (auto v = m->take("nats")) {
    publish.nats.emplace();
    read_nats(p, *v, *publish.nats);
  }
}

}  // namespace dirfeed::daemon
