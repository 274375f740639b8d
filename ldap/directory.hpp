#pragma once
// The seam at the domain controller: what a poller and a change notifier ask of one bound
// session with one DC. ldap/connection.hpp is the real one (libldap); unit tests give the
// poller a scripted in-memory DC instead (tests/ldap/fake_directory.hpp).
//
// Threading: a Directory is used by one thread at a time. Failures come back as an Error
// naming the DC and the cause; a Directory that returned a transport error should be
// discarded.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ldap/options.hpp"

namespace dirfeed::ldap {

// A failed operation; empty message means success.
struct [[nodiscard]] Error {
  Error() = default;
  Error(int code, std::string message, std::string credential_problem = {})
      : code(code), message(std::move(message)), credential_problem(std::move(credential_problem)) {}

  int code = 0;         // LDAP result code (negative for client-side errors such as -1 server down)
  std::string message;  // human-readable, includes the server's diagnostic message when any
  // Set when the bind's credential itself is at fault and a retry cannot help until it changes
  // (a Kerberos bind: wrong key in the keytab, unknown principal...), in words; see
  // credential_problem() in controller_health.hpp, which reads AD's own codes for simple binds.
  std::string credential_problem;
  explicit operator bool() const { return !message.empty(); }
};

struct Attribute {
  std::string name;  // lower case, options included: "member;range=0-1499"
  std::vector<std::string> values;  // raw bytes
};

struct Entry {
  std::string dn;  // as returned (extended form when the extended DN control was sent)
  std::vector<Attribute> attributes;
  // The attribute whose name (lower case, options included) equals `name`, or nullptr.
  const Attribute* find(std::string_view name) const;
  // The first value of `name`, or empty.
  std::string_view first(std::string_view name) const;
};

enum class Scope { kBase, kOneLevel, kSubtree };

struct SearchRequest {
  std::string base;
  Scope scope = Scope::kSubtree;
  std::string filter = "(objectClass=*)";
  std::vector<std::string> attributes;  // empty: all user attributes
  bool extended_dn = false;   // DN values (entry DN, member) as "<GUID=hex>;<SID=hex>;dn"
  bool show_deleted = false;  // include tombstones (Show Deleted control)
};

// Called per entry; return false to stop the search early.
using EntryVisitor = std::function<bool(Entry&&)>;

class KerberosCredentials;  // ldap/kerberos.hpp

class Directory {
 public:
  virtual ~Directory() = default;

  // The DC's LDAP URI, as configured.
  virtual const std::string& uri() const = 0;

  // A paged search (RFC 2696) to the end. `on_page_end` runs after each page's entries (a
  // commit point); returning false from either callback stops the search (not an error).
  virtual Error paged_search(const SearchRequest& request, int page_size,
                             const EntryVisitor& on_entry,
                             const std::function<bool()>& on_page_end) = 0;

  // One round of a DirSync search (control 1.2.840.113556.1.4.841) from `cookie` (empty: from
  // the beginning). Fills the server's new cookie and whether more data is waiting.
  virtual Error dirsync_search(const SearchRequest& request, int flags, const std::string& cookie,
                               const EntryVisitor& on_entry, std::string& new_cookie,
                               bool& more) = 0;

  // Reads one entry with a base-scope search; `entry` stays empty when there is no such object.
  virtual Error read_entry(const SearchRequest& request, std::optional<Entry>& entry) = 0;

  // Starts the change notification search (control 1.2.840.113556.1.4.528) of `base` with
  // `scope`; returns at once. At most one per Directory; read it with next_notification().
  virtual Error start_notification(const std::string& base, Scope scope) = 0;

  // Waits up to `timeout` (zero: just looks) for the next message of the notification search.
  // `changed` is true when an entry came (something in scope changed), false when nothing
  // came in time. The end of the search and transport errors are Errors; the Directory should
  // then be discarded.
  virtual Error next_notification(std::chrono::milliseconds timeout, bool& changed) = 0;
};

// Opens a Directory to the DC at `uri`: connects, sets up TLS per `tls`, binds per `bind`
// (with `kerberos` for a GSSAPI bind), each round trip bounded by `timeout`. Returns nullptr
// and fills `error` on failure; a refused bind is an Error that credential_problem()
// (controller_health.hpp) recognises. Called from the poller's and the notifier's threads,
// possibly at once: an opener must be safe for that.
using DirectoryOpener = std::function<std::unique_ptr<Directory>(
    const std::string& uri, const TlsOptions& tls, const BindOptions& bind,
    std::chrono::milliseconds timeout, Error& error, KerberosCredentials* kerberos)>;

}  // namespace dirfeed::ldap
