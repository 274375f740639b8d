#include "ldap/options.hpp"

#include <cctype>

#include "ldap/values.hpp"

namespace dirfeed::ldap {
namespace {

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

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
