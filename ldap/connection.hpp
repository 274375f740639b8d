#pragma once
// One bound LDAP connection to one domain controller (OpenLDAP libldap underneath): the
// Directory (ldap/directory.hpp) that the daemon's pollers and notifiers talk to.
//
// Threading: a Connection is used by one thread at a time. Every call blocks for at most the
// timeout given to open() per LDAP round trip. Failures come back as an Error naming the DC
// and the cause; a Connection that returned a transport error should be discarded.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ldap/directory.hpp"
#include "ldap/options.hpp"

typedef struct ldap LDAP;
typedef struct ldapcontrol LDAPControl;

namespace dirfeed::ldap {

struct ResponseControls;  // defined in connection.cpp

class Connection final : public Directory {
 public:
  // Connects to `uri` (ldap:// or ldaps://, the scheme in any case), sets up TLS per `tls` (CA
  // verification on unless tls.verify is false; StartTLS for ldap:// when tls.start_tls), and
  // binds per `bind`: a simple bind with the password read from bind.password_file now, or a
  // GSSAPI bind with a ticket from `kerberos` (required for it; see gssapi_bind() for the
  // security layer). A URI that sends_cleartext() is refused before anything is sent unless
  // tls.allow_plaintext. Returns nullptr and fills `error` on failure.
  static std::unique_ptr<Connection> open(const std::string& uri, const TlsOptions& tls,
                                          const BindOptions& bind,
                                          std::chrono::milliseconds timeout, Error& error,
                                          KerberosCredentials* kerberos = nullptr);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const std::string& uri() const override { return uri_; }

  // A paged search (RFC 2696) to the end. `on_page_end` runs after each page's entries (a
  // commit point); returning false from either callback stops the search (not an error).
  Error paged_search(const SearchRequest& request, int page_size, const EntryVisitor& on_entry,
                     const std::function<bool()>& on_page_end) override;

  // One round of a DirSync search (control 1.2.840.113556.1.4.841) from `cookie` (empty: from
  // the beginning). Fills the server's new cookie and whether more data is waiting.
  Error dirsync_search(const SearchRequest& request, int flags, const std::string& cookie,
                       const EntryVisitor& on_entry, std::string& new_cookie, bool& more) override;

  // Reads one entry with a base-scope search; `entry` stays empty when there is no such object.
  Error read_entry(const SearchRequest& request, std::optional<Entry>& entry) override;

  // Starts the change notification search (control 1.2.840.113556.1.4.528, critical) of
  // `base` with `scope` and the only filter AD accepts, (objectClass=*). Show Deleted is sent
  // too (not critical), so that a delete (a move into CN=Deleted Objects) notifies a subtree
  // search of the naming context. Returns at once; the search runs until the server ends it or this
  // Connection is destroyed. At most one per Connection; read it with next_notification().
  Error start_notification(const std::string& base, Scope scope) override;

  // Waits up to `timeout` (zero: just looks) for the next message of the notification search.
  // `changed` is true when an entry came (something in scope changed), false when nothing
  // came in time. The end of the search (the server's result, even a success) and transport
  // errors are Errors; the Connection should then be discarded.
  Error next_notification(std::chrono::milliseconds timeout, bool& changed) override;

 private:
  Connection(LDAP* handle, std::string uri, std::chrono::milliseconds timeout)
      : handle_(handle), uri_(std::move(uri)), timeout_(timeout) {}
  Error error_from(int code, std::string_view operation) const;
  // One search operation with the controls `request` asks for plus `extra` (ownership taken);
  // visits the entries and fills the response controls. `stopped`: a visitor returned false.
  Error search_once(const SearchRequest& request, LDAPControl* extra,
                    const EntryVisitor& on_entry, ResponseControls& response,
                    bool& stopped);

  LDAP* handle_;
  std::string uri_;
  std::chrono::milliseconds timeout_;
  int notification_id_ = -1;  // message id of the notification search; -1: none started
};

// Connection::open as a DirectoryOpener: the real, libldap one that DomainPoller and
// ChangeNotifier use unless a test gives them another.
std::unique_ptr<Directory> open_ldap_directory(const std::string& uri, const TlsOptions& tls,
                                               const BindOptions& bind,
                                               std::chrono::milliseconds timeout, Error& error,
                                               KerberosCredentials* kerberos);

}  // namespace dirfeed::ldap
