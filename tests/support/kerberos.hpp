#pragma once
// Kerberos for tests of GSSAPI binds (MIT Kerberos on our side): keytabs made without a KDC
// for unit tests, and the Samba DC's own KDC for integration tests.
#include <string>

#include "tests/support/samba_dc.hpp"

namespace dirfeed::testing {

// Writes a keytab at `path` (replacing the file) with one AES256 key for `principal`, derived
// from `password` with the realm's default salt, version `kvno`. No KDC is asked.
void write_keytab(const std::string& path, const std::string& principal,
                  const std::string& password, int kvno = 1);

// The KDC of a started SambaDc (realm EXAMPLE.TEST), set up as an AD admin would for a
// service account with a keytab.
class SambaKerberos {
 public:
  // Writes `dir`/krb5.conf naming the DC's KDC by its IP (no DNS lookups, no host name
  // canonicalisation) and points this process's MIT Kerberos at it with KRB5_CONFIG (child
  // processes inherit it). Registers the service principal ldap/dc1.example.test on the DC's
  // account: AD registers it for every DC, and a full Samba DC does so in samba_spnupdate,
  // which the test DC (services ldap, cldap, kdc only) does not run.
  SambaKerberos(const SambaDc& dc, std::string dir);

  // Creates the enabled user `name` with `password`; returns its principal
  // ("name@EXAMPLE.TEST").
  std::string add_user(const std::string& name, const std::string& password) const;
  // Exports the current keys of `principal` into the keytab `path` (replacing the file, mode
  // 0600) with `samba-tool domain exportkeytab`, as an AD admin would with ktpass.
  void export_keytab(const std::string& principal, const std::string& path) const;
  // Sets a new password for user `name`: keytabs exported before hold a wrong key from then.
  void set_password(const std::string& name, const std::string& password) const;

  // A krb5.conf like ours but with a KDC address where nothing listens.
  std::string write_unreachable_kdc_conf() const;
  const std::string& krb5_conf() const { return krb5_conf_; }
  static std::string realm() { return "EXAMPLE.TEST"; }

 private:
  std::string krb5_conf_text(const std::string& kdc) const;

  const SambaDc& dc_;
  std::string dir_;
  std::string krb5_conf_;
};

}  // namespace dirfeed::testing
