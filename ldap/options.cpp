#include "ldap/options.hpp"

#include <ldap.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/dn.hpp"
#include "core/text.hpp"
#include "ldap/values.hpp"

namespace dirfeed::ldap {

std::optional<std::string> controller_host(std::string_view uri) {
  const bool secure = starts_with_ci(uri, "ldaps://");
  if (!secure && !starts_with_ci(uri, "ldap://")) return std::nullopt;
  if (std::any_of(uri.begin(), uri.end(), [](unsigned char c) { return std::isspace(c); })) {
    return std::nullopt;
  }
  // libldap takes the port up to 65535 but also 0 and a DN after the host: checked here.
  const std::string text(uri);
  LDAPURLDesc* url = nullptr;
  if (ldap_url_parse(text.c_str(), &url) != LDAP_SUCCESS) return std::nullopt;
  const std::string_view after_host = std::string_view(text).substr(secure ? 8 : 7);
  // Attributes, scope, filter and extensions all follow a '?'.
  const bool plain = url->lud_host != nullptr && *url->lud_host != '\0' &&
                     (url->lud_dn == nullptr || *url->lud_dn == '\0') &&
                     url->lud_port >= 0 && url->lud_port <= 65535 &&
                     after_host.find('?') == std::string_view::npos &&
                     (after_host.find('/') == std::string_view::npos ||
                      after_host.find('/') + 1 == after_host.size());
  // A port written out must be 1..65535: libldap reads "h:0" and "h:" as the default port.
  const size_t close = after_host.front() == '[' ? after_host.find(']') : 0;
  const size_t colon =
      close == std::string_view::npos ? std::string_view::npos : after_host.find(':', close);
  bool port_ok = true;
  if (colon != std::string_view::npos) {
    const std::string_view port = after_host.substr(colon + 1, after_host.find('/') - colon - 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    port_ok = !port.empty() && ec == std::errc() && end == port.data() + port.size() &&
              value >= 1 && value <= 65535;
  }
  std::optional<std::string> host;
  if (plain && port_ok) host = url->lud_host;
  ldap_free_urldesc(url);
  return host;
}

Transport transport_of(std::string_view uri, const TlsOptions& tls) {
  if (starts_with_ci(uri, "ldaps://")) return Transport::kLdaps;
  if (starts_with_ci(uri, "ldap://") && tls.start_tls) return Transport::kStartTls;
  return Transport::kPlain;
}

const std::string& secret_file(const BindOptions& bind) {
  return bind.method == BindMethod::kGssapi ? bind.keytab : bind.password_file;
}

const char* secret_file_kind(const BindOptions& bind) {
  return bind.method == BindMethod::kGssapi ? "keytab" : "password file";
}

const std::string& bind_account(const BindOptions& bind) {
  return bind.method == BindMethod::kGssapi ? bind.principal : bind.dn;
}

bool sends_cleartext(std::string_view uri, const TlsOptions& tls, const BindOptions& bind) {
  return transport_of(uri, tls) == Transport::kPlain && bind.method == BindMethod::kSimple;
}

std::string base_dn_from_domain(const std::string& domain) {
  std::string_view rest = domain;
  if (!rest.empty() && rest.back() == '.') rest.remove_suffix(1);  // fully qualified form
  std::string dn;
  while (!rest.empty()) {
    const size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (!label.empty()) {
      if (!dn.empty()) dn += ',';
      dn += "DC=";
      dn += escape_dn_value(label);  // DNS labels never need it; the DN stays valid anyway
    }
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return dn;
}

}  // namespace dirfeed::ldap
