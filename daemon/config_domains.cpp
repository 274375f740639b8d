// The domains section of the config file (DESIGN.md section 7): controllers, TLS, bind and
// sync of each domain, with the checks of their values.
#include <algorithm>
#include <string>

#include "daemon/config_sections.hpp"
#include "ldap/kerberos.hpp"

namespace dirfeed::daemon {
namespace {

using namespace config_reader;

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




// ldap://host, ldaps://host:636, ldaps://[2001:db8::1]/ and nothing more; the scheme in any case.
bool is_ldap_uri(std::string_view uri) { return ldap::controller_host(uri).has_value(); }

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

bool is_ip_address(std::string_view host) {
  if (host.find(':') != std::string_view::npos) return true;  // IPv6
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

}  // namespace

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
    if (domain.bind.method == ldap::BindMethod::kGssapi && is_ip_address(ldap::controller_host(uri).value_or(""))) {
      p.error(controllers[i], quote(uri) +
                                  ": a Kerberos bind needs the DC's DNS host name in the URI "
                                  "(its service principal is ldap/<host name>), not an address");
    }
  }
  if (auto v = m->take("sync")) read_sync(p, *v, domain.sync);
}

}  // namespace dirfeed::daemon
