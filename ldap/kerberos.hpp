#pragma once
// Kerberos for GSSAPI binds (bind.method gssapi), with MIT Kerberos: the service principal's
// tickets, obtained from its keytab, and the SASL GSSAPI bind that presents them (Cyrus SASL's
// GSSAPI plugin, libsasl2-modules-gssapi-mit, through libldap).
//
// Realms and their KDCs come from the system's Kerberos configuration: /etc/krb5.conf, or the
// file $KRB5_CONFIG names. MIT Kerberos reads it for the whole process, the GSSAPI plugin
// inside libldap included, so one file serves every domain (it may list several realms).
//
// The DC's service principal is ldap/<host> with <host> exactly as the controller's URI
// writes it (no reverse DNS, no canonicalisation by libldap), so URIs must name DCs by their
// DNS host names, not by IP address.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "core/clock.hpp"
#include "ldap/connection.hpp"

typedef struct gss_cred_id_struct* gss_cred_id_t;

namespace dirfeed::ldap {

// One ticket-granting ticket of a principal, in a memory credential cache of its own, and the
// GSSAPI credential on it. Immutable; the cache is destroyed with the last holder.
class KerberosTicket {
 public:
  KerberosTicket(std::string principal, std::string cache_name, gss_cred_id_t credential)
      : principal_(std::move(principal)),
        cache_name_(std::move(cache_name)),
        credential_(credential) {}
  ~KerberosTicket();
  KerberosTicket(const KerberosTicket&) = delete;
  KerberosTicket& operator=(const KerberosTicket&) = delete;

  const std::string& principal() const { return principal_; }
  const std::string& cache_name() const { return cache_name_; }  // "MEMORY:dirfeed-..."
  gss_cred_id_t credential() const { return credential_; }

 private:
  std::string principal_;
  std::string cache_name_;
  gss_cred_id_t credential_;
};

// The Kerberos credentials of one domain's service principal. ControllerHealth owns them, so
// the domain's poller and notifier bind with the same tickets.
//
// Tickets live in memory credential caches named "MEMORY:dirfeed-<principal>-<n>", one per
// ticket-granting ticket, never in the process's default cache or $KRB5CCNAME: two domains
// (even with one principal) never see or replace each other's tickets, and nothing
// process-wide is changed. A new ticket-granting ticket is obtained from the keytab once half
// of the current one's lifetime has passed by `clock` (MIT's own rule for keytab
// credentials; with AD's default of 10 hours, every 5 hours), so a connection bound with
// it has at least half a lifetime ahead; a bind under way keeps the ticket it started with.
//
// Threading: every method may be called from any thread; the KDC is asked by one at a time.
class KerberosCredentials {
 public:
  KerberosCredentials(std::string principal, std::string keytab, const Clock& clock);
  KerberosCredentials(const KerberosCredentials&) = delete;
  KerberosCredentials& operator=(const KerberosCredentials&) = delete;

  // The ticket to bind to the DC at `uri` with: the current one, or a new one from the keytab
  // when there is none or half of its lifetime has passed. Its cache then also holds the
  // service ticket for ldap/<host of uri>, so the failures of that step are reported here in
  // words too and the bind itself needs no KDC. A failure's message starts with `uri` and says
  // what is wrong (wrong key in the keytab, unknown principal, clock skew, no KDC reachable,
  // no service principal for the host); Error::credential_problem is set when the credential
  // itself is at fault (retrying it cannot help until the keytab changes). A credential
  // problem also drops the current ticket, so the next call asks the KDC again.
  Error ticket_for(const std::string& uri, std::shared_ptr<const KerberosTicket>& ticket);

  // Ticket-granting tickets obtained so far.
  int acquisitions() const;

 private:
  // Obtains a new ticket-granting ticket into a new cache (mutex_ held).
  Error acquire(const std::string& uri);

  const std::string principal_;
  const std::string keytab_;
  const Clock& clock_;
  mutable std::mutex mutex_;  // guards the members below
  std::shared_ptr<const KerberosTicket> current_;
  int64_t renew_at_us_ = 0;  // by clock_: when current_ is to be replaced
  int acquisitions_ = 0;
};

// libldap's SASL GSSAPI bind on `handle` (connected, TLS set up) with `ticket`, to the service
// principal ldap/<host of the handle's URI>. `tls`: the connection is protected by TLS already
// (ldaps:// or StartTLS): no SASL security layer is negotiated on top (AD refuses one there).
// Otherwise signing and sealing are required: a DC that does not offer them fails the bind.
// A bind that authenticated as anyone but the ticket's principal fails too. Returns the LDAP
// result code; on failure the handle's diagnostic message says why (with a hint for a missing
// GSSAPI plugin and for a DC that wants a security layer over TLS).
int gssapi_bind(LDAP* handle, bool tls, const KerberosTicket& ticket);

// A Kerberos error in words, for the bind of `principal` with `keytab`.
struct KerberosProblem {
  std::string words;        // "wrong key for svc-dirfeed@EXAMPLE.TEST in keytab /etc/..."
  bool credential = false;  // the credential itself is at fault: retrying it cannot help
};
// `code`: a krb5_error_code (also a GSSAPI minor status of the krb5 mechanism); `host`: the
// DC, for a missing service principal. Empty words for a code without a known meaning (the
// library's own message then has to do).
KerberosProblem kerberos_problem(int32_t code, const std::string& principal,
                                 const std::string& keytab, const std::string& host);

// Why `keytab` cannot serve `principal` (unreadable, not a keytab, no key for the principal:
// then the principals it has), or empty. Reads only the file; contacts no KDC.
std::string keytab_problem(const std::string& principal, const std::string& keytab);

}  // namespace dirfeed::ldap
