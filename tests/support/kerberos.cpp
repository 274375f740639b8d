#include "tests/support/kerberos.hpp"

#include <krb5.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace dirfeed::testing {
namespace {

void check(krb5_context context, krb5_error_code code, const char* what) {
  if (code == 0) return;
  const char* text = krb5_get_error_message(context, code);
  std::string message = std::string(what) + ": " + (text ? text : "?");
  krb5_free_error_message(context, text);
  throw std::runtime_error(message);
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

void write_keytab(const std::string& path, const std::string& principal,
                  const std::string& password, int kvno) {
  std::filesystem::remove(path);
  krb5_context context = nullptr;
  if (krb5_init_context(&context) != 0) throw std::runtime_error("krb5_init_context failed");
  krb5_principal name = nullptr;
  krb5_keytab table = nullptr;
  krb5_data salt{};
  krb5_keyblock key{};
  try {
    check(context, krb5_parse_name(context, principal.c_str(), &name), "parse principal");
    check(context, krb5_principal2salt(context, name, &salt), "salt");
    krb5_data secret{};
    secret.data = const_cast<char*>(password.data());
    secret.length = static_cast<unsigned int>(password.size());
    check(context,
          krb5_c_string_to_key(context, ENCTYPE_AES256_CTS_HMAC_SHA1_96, &secret, &salt, &key),
          "string to key");
    const std::string table_name = "FILE:" + path;
    check(context, krb5_kt_resolve(context, table_name.c_str(), &table), "keytab");
    krb5_keytab_entry entry{};
    entry.principal = name;
    entry.vno = static_cast<krb5_kvno>(kvno);
    entry.key = key;
    check(context, krb5_kt_add_entry(context, table, &entry), "add key");
  } catch (...) {
    if (table) krb5_kt_close(context, table);
    krb5_free_keyblock_contents(context, &key);
    krb5_free_data_contents(context, &salt);
    krb5_free_principal(context, name);
    krb5_free_context(context);
    throw;
  }
  krb5_kt_close(context, table);
  krb5_free_keyblock_contents(context, &key);
  krb5_free_data_contents(context, &salt);
  krb5_free_principal(context, name);
  krb5_free_context(context);
}

SambaKerberos::SambaKerberos(const SambaDc& dc, std::string dir)
    : dc_(dc), dir_(std::move(dir)), krb5_conf_(dir_ + "/krb5.conf") {
  write_file(krb5_conf_, krb5_conf_text(dc_.ip()));
  setenv("KRB5_CONFIG", krb5_conf_.c_str(), 1);
  dc_.ldif("dn: CN=DC1,OU=Domain Controllers," + dc_.base_dn() +
           "\nchangetype: modify\nadd: servicePrincipalName\nservicePrincipalName: "
           "ldap/dc1.example.test\n-\n");
}

std::string SambaKerberos::krb5_conf_text(const std::string& kdc) const {
  return "[libdefaults]\n"
         "  default_realm = " + realm() + "\n"
         "  dns_lookup_kdc = false\n"
         "  dns_lookup_realm = false\n"
         "  dns_canonicalize_hostname = false\n"
         "  rdns = false\n"
         "[realms]\n"
         "  " + realm() + " = {\n"
         "    kdc = " + kdc + "\n"
         "  }\n"
         "[domain_realm]\n"
         "  ." + dc_.domain() + " = " + realm() + "\n"
         "  " + dc_.domain() + " = " + realm() + "\n";
}

std::string SambaKerberos::write_unreachable_kdc_conf() const {
  const std::string path = dir_ + "/krb5-unreachable.conf";
  write_file(path, krb5_conf_text("127.0.0.1:9"));  // the discard port: nothing listens
  return path;
}

std::string SambaKerberos::add_user(const std::string& name, const std::string& password) const {
  // userAccountControl 66048: NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD, enabled.
  dc_.ldif("dn: CN=" + name + ",CN=Users," + dc_.base_dn() +
           "\nchangetype: add\nobjectClass: user\nsAMAccountName: " + name +
           "\nuserPrincipalName: " + name + "@" + dc_.domain() +
           "\nunicodePwd:: " + SambaDc::unicode_pwd(password) +
           "\nuserAccountControl: 66048\n");
  return name + "@" + realm();
}

void SambaKerberos::set_password(const std::string& name, const std::string& password) const {
  dc_.ldif("dn: CN=" + name + ",CN=Users," + dc_.base_dn() +
           "\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: " +
           SambaDc::unicode_pwd(password) + "\n-\n");
}

void SambaKerberos::export_keytab(const std::string& principal, const std::string& path) const {
  std::filesystem::remove(path);  // exportkeytab adds to an existing keytab
  run_checked({"samba-tool", "domain", "exportkeytab", path, "--principal=" + principal, "-s",
               dc_.dir() + "/etc/smb.conf"},
              {}, std::chrono::seconds(120), true);
  if (chmod(path.c_str(), 0600) != 0) throw std::runtime_error("chmod " + path);
}

}  // namespace dirfeed::testing
