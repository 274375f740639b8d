#include "ldap/connection.hpp"

#include <ldap.h>

#include "core/secret_file.hpp"
#include "core/text.hpp"
#include "ldap/kerberos.hpp"
#include "ldap/loop_guard.hpp"

namespace dirfeed::ldap {
namespace {

timeval to_timeval(std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  return tv;
}

int to_ldap_scope(Scope scope) {
  switch (scope) {
    case Scope::kBase: return LDAP_SCOPE_BASE;
    case Scope::kOneLevel: return LDAP_SCOPE_ONELEVEL;
    case Scope::kSubtree: return LDAP_SCOPE_SUBTREE;
  }
  return LDAP_SCOPE_SUBTREE;
}

// Owns the controls of one request; frees them at scope exit.
class Controls {
 public:
  ~Controls() {
    for (LDAPControl* control : controls_) ldap_control_free(control);
  }
  void add(LDAPControl* control) { controls_.push_back(control); }
  // NULL-terminated array for libldap.
  LDAPControl** array() {
    view_ = controls_;
    view_.push_back(nullptr);
    return view_.data();
  }

 private:
  std::vector<LDAPControl*> controls_;
  std::vector<LDAPControl*> view_;
};

// Owns a search result chain.
struct MessageDeleter {
  void operator()(LDAPMessage* message) const { ldap_msgfree(message); }
};
using MessagePtr = std::unique_ptr<LDAPMessage, MessageDeleter>;

}  // namespace

// Frees a NULL-terminated array of response controls.
struct ResponseControls {
  LDAPControl** controls = nullptr;
  ~ResponseControls() {
    if (controls) ldap_controls_free(controls);
  }
  LDAPControl* find(const char* oid) const {
    for (LDAPControl** c = controls; c && *c; ++c) {
      if (std::string_view((*c)->ldctl_oid) == oid) return *c;
    }
    return nullptr;
  }
};

namespace {

// The bytes of a berval that libldap allocated for the caller, freeing it.
std::string take_berval(berval& value) {
  std::string bytes(value.bv_val ? value.bv_val : "", value.bv_len);
  ber_memfree(value.bv_val);
  return bytes;
}

Entry decode_entry(LDAP* handle, LDAPMessage* message) {
  Entry entry;
  if (char* dn = ldap_get_dn(handle, message)) {
    entry.dn = dn;
    ldap_memfree(dn);
  }
  BerElement* ber = nullptr;
  for (char* name = ldap_first_attribute(handle, message, &ber); name != nullptr;
       name = ldap_next_attribute(handle, message, ber)) {
    Attribute attribute;
    attribute.name = lower(name);
    if (berval** values = ldap_get_values_len(handle, message, name)) {
      for (berval** v = values; *v; ++v) attribute.values.emplace_back((*v)->bv_val, (*v)->bv_len);
      ldap_value_free_len(values);
    }
    ldap_memfree(name);
    entry.attributes.push_back(std::move(attribute));
  }
  if (ber) ber_free(ber, 0);
  return entry;
}

std::vector<char*> attribute_array(const std::vector<std::string>& attributes) {
  std::vector<char*> out;
  for (const auto& name : attributes) out.push_back(const_cast<char*>(name.c_str()));
  out.push_back(nullptr);
  return out;
}

// libldap with GnuTLS reports a DC certificate it cannot verify as "Can't contact LDAP server"
// with the diagnostic "(unknown error code)": no word of certificates. When TLS was in play and
// the TLS layer said something (a refused or timed-out TCP connection leaves no diagnostic),
// a second handshake without verification tells whether the certificate was the cause. That
// connection sends nothing (no bind) and is closed at once.
bool tls_works_unverified(const std::string& uri, Transport transport,
                          std::chrono::milliseconds timeout) {
  LDAP* probe = nullptr;
  if (ldap_initialize(&probe, uri.c_str()) != LDAP_SUCCESS) return false;
  int version = LDAP_VERSION3;
  ldap_set_option(probe, LDAP_OPT_PROTOCOL_VERSION, &version);
  timeval tv = to_timeval(timeout);
  ldap_set_option(probe, LDAP_OPT_NETWORK_TIMEOUT, &tv);
  ldap_set_option(probe, LDAP_OPT_TIMEOUT, &tv);
  int never = LDAP_OPT_X_TLS_NEVER;
  ldap_set_option(probe, LDAP_OPT_X_TLS_REQUIRE_CERT, &never);
  int min_protocol = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
  ldap_set_option(probe, LDAP_OPT_X_TLS_PROTOCOL_MIN, &min_protocol);
  int is_server = 0;
  int rc = ldap_set_option(probe, LDAP_OPT_X_TLS_NEWCTX, &is_server);
  if (rc == LDAP_SUCCESS) {
    rc = transport == Transport::kLdaps ? ldap_connect(probe)
                                        : ldap_start_tls_s(probe, nullptr, nullptr);
  }
  ldap_unbind_ext_s(probe, nullptr, nullptr);
  return rc == LDAP_SUCCESS;
}

// Adds to `error` (of connecting `handle` to `uri`) that certificate verification failed,
// when tls_works_unverified() says so.
void explain_tls_failure(LDAP* handle, const std::string& uri, const TlsOptions& tls,
                         std::chrono::milliseconds timeout, Error& error) {
  const Transport transport = transport_of(uri, tls);
  if (transport == Transport::kPlain || !tls.verify) return;
  if (error.code != LDAP_SERVER_DOWN && error.code != LDAP_CONNECT_ERROR) return;
  char* diagnostic = nullptr;
  ldap_get_option(handle, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic);
  bool tls_said_something = diagnostic && *diagnostic;
  if (diagnostic) ldap_memfree(diagnostic);
  if (!tls_said_something || !tls_works_unverified(uri, transport, timeout)) return;
  error.message += "; TLS: the DC's certificate could not be verified with " +
                   (tls.ca_file.empty() ? std::string("the system CAs")
                                        : "ca_file " + tls.ca_file) +
                   " (signed by another CA, expired, or not issued for this host name)";
}

}  // namespace

std::unique_ptr<Connection> Connection::open(const std::string& uri, const TlsOptions& tls,
                                             const BindOptions& bind,
                                             std::chrono::milliseconds timeout, Error& error,
                                             KerberosCredentials* kerberos) {
  error = {};
  // Checked before anything is sent: the password must not cross the network in cleartext
  // unless the admin allowed it for this domain (the config refuses it too).
  const Transport transport = transport_of(uri, tls);
  if (sends_cleartext(uri, tls, bind) && !tls.allow_plaintext) {
    error = {LDAP_CONFIDENTIALITY_REQUIRED,
             uri + ": refusing to bind without TLS (use ldaps://, tls.start_tls, or "
                   "tls.allow_plaintext)"};
    return nullptr;
  }
  // The secret first: a simple bind's password, or a Kerberos ticket (from the KDC, before the
  // DC is contacted).
  std::string password;
  std::shared_ptr<const KerberosTicket> ticket;
  if (bind.method == BindMethod::kGssapi) {
    if (!kerberos) {
      error = {LDAP_PARAM_ERROR, uri + ": a gssapi bind needs Kerberos credentials"};
      return nullptr;
    }
    if (Error failed = kerberos->ticket_for(uri, ticket)) {
      error = std::move(failed);
      return nullptr;
    }
  } else {
    Result<std::string> secret = read_secret_file(bind.password_file);
    if (!secret.is_ok()) {
      error = {LDAP_PARAM_ERROR, uri + ": " + secret.status().message()};
      return nullptr;
    }
    password = std::move(*secret);
  }

  LDAP* handle = nullptr;
  if (int rc = ldap_initialize(&handle, uri.c_str()); rc != LDAP_SUCCESS) {
    error = {rc, uri + ": invalid LDAP URI: " + ldap_err2string(rc)};
    return nullptr;
  }
  std::unique_ptr<Connection> connection(new Connection(handle, uri, timeout));

  int version = LDAP_VERSION3;
  ldap_set_option(handle, LDAP_OPT_PROTOCOL_VERSION, &version);
  ldap_set_option(handle, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
  timeval tv = to_timeval(timeout);
  ldap_set_option(handle, LDAP_OPT_NETWORK_TIMEOUT, &tv);
  ldap_set_option(handle, LDAP_OPT_TIMEOUT, &tv);
  // TCP keepalive (idle 60 s, 3 probes 20 s apart): a connection that waits on the server for
  // hours (the change notification search) notices a vanished DC within about 2 minutes, and
  // firewalls do not drop it as idle.
  int keepalive_idle = 60, keepalive_probes = 3, keepalive_interval = 20;
  ldap_set_option(handle, LDAP_OPT_X_KEEPALIVE_IDLE, &keepalive_idle);
  ldap_set_option(handle, LDAP_OPT_X_KEEPALIVE_PROBES, &keepalive_probes);
  ldap_set_option(handle, LDAP_OPT_X_KEEPALIVE_INTERVAL, &keepalive_interval);

  // TLS settings are per handle; LDAP_OPT_X_TLS_NEWCTX makes them take effect.
  if (!tls.ca_file.empty()) ldap_set_option(handle, LDAP_OPT_X_TLS_CACERTFILE, tls.ca_file.c_str());
  int require_cert = tls.verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
  ldap_set_option(handle, LDAP_OPT_X_TLS_REQUIRE_CERT, &require_cert);
  int min_protocol = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
  ldap_set_option(handle, LDAP_OPT_X_TLS_PROTOCOL_MIN, &min_protocol);
  int is_server = 0;
  if (int rc = ldap_set_option(handle, LDAP_OPT_X_TLS_NEWCTX, &is_server); rc != LDAP_SUCCESS) {
    error = connection->error_from(rc, "TLS setup (ca_file " + tls.ca_file + ")");
    return nullptr;
  }

  if (transport == Transport::kStartTls) {
    if (int rc = ldap_start_tls_s(handle, nullptr, nullptr); rc != LDAP_SUCCESS) {
      error = connection->error_from(rc, "StartTLS");
      explain_tls_failure(handle, uri, tls, timeout, error);
      return nullptr;
    }
  }

  int rc = LDAP_SUCCESS;
  if (ticket) {
    rc = gssapi_bind(handle, transport != Transport::kPlain, *ticket);
  } else {
    berval credentials{static_cast<ber_len_t>(password.size()), password.data()};
    rc = ldap_sasl_bind_s(handle, bind.dn.c_str(), LDAP_SASL_SIMPLE, &credentials, nullptr,
                          nullptr, nullptr);
  }
  if (rc != LDAP_SUCCESS) {
    error = connection->error_from(
        rc, ticket ? "Kerberos (GSSAPI) bind as " + bind.principal : "bind as " + bind.dn);
    explain_tls_failure(handle, uri, tls, timeout, error);
    return nullptr;
  }
  return connection;
}

Connection::~Connection() { ldap_unbind_ext_s(handle_, nullptr, nullptr); }

std::unique_ptr<Directory> open_ldap_directory(const std::string& uri, const TlsOptions& tls,
                                               const BindOptions& bind,
                                               std::chrono::milliseconds timeout, Error& error,
                                               KerberosCredentials* kerberos) {
  return Connection::open(uri, tls, bind, timeout, error, kerberos);
}

Error Connection::error_from(int code, std::string_view operation) const {
  std::string message = uri_ + ": " + std::string(operation) + " failed: " + ldap_err2string(code);
  char* diagnostic = nullptr;
  ldap_get_option(handle_, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic);
  if (diagnostic) {
    std::string_view text(diagnostic);
    bool wrapped = text.size() >= 2 && text.front() == '(' && text.back() == ')';
    if (!text.empty()) {
      message += wrapped ? " " + std::string(text) : " (" + std::string(text) + ")";
    }
    ldap_memfree(diagnostic);
  }
  return {code, message};
}

Error Connection::search_once(const SearchRequest& request, LDAPControl* extra,
                              const EntryVisitor& on_entry, ResponseControls& response,
                              bool& stopped) {
  stopped = false;
  Controls controls;
  if (extra) controls.add(extra);
  LDAPControl* control = nullptr;
  if (request.extended_dn) {
    if (int rc = ldap_create_extended_dn_control(handle_, 0, &control); rc != LDAP_SUCCESS) {
      return error_from(rc, "extended DN control");
    }
    controls.add(control);
  }
  if (request.show_deleted) {
    if (int rc = ldap_create_show_deleted_control(handle_, &control); rc != LDAP_SUCCESS) {
      return error_from(rc, "show deleted control");
    }
    controls.add(control);
  }
  auto attributes = attribute_array(request.attributes);
  std::string what = "search of " + request.base + " for " + request.filter;
  int message_id = 0;
  int rc = ldap_search_ext(handle_, request.base.c_str(), to_ldap_scope(request.scope),
                           request.filter.c_str(), attributes.data(), 0, controls.array(),
                           nullptr, nullptr, 0, &message_id);
  if (rc != LDAP_SUCCESS) return error_from(rc, what);

  // Entries are decoded and freed one at a time as they arrive, so memory stays bounded
  // however many entries one response holds (Samba answers a DirSync in one response).
  while (true) {
    timeval tv = to_timeval(timeout_);  // the longest wait for the next message
    LDAPMessage* raw = nullptr;
    rc = ldap_result(handle_, message_id, LDAP_MSG_ONE, &tv, &raw);
    MessagePtr message(raw);
    if (rc == 0) {
      ldap_abandon_ext(handle_, message_id, nullptr, nullptr);
      return error_from(LDAP_TIMEOUT, what);
    }
    if (rc < 0) {
      int code = LDAP_OTHER;
      ldap_get_option(handle_, LDAP_OPT_RESULT_CODE, &code);
      return error_from(code, what);
    }
    if (rc == LDAP_RES_SEARCH_ENTRY) {
      if (!on_entry(decode_entry(handle_, message.get()))) {
        ldap_abandon_ext(handle_, message_id, nullptr, nullptr);
        stopped = true;
        return {};
      }
      continue;
    }
    if (rc != LDAP_RES_SEARCH_RESULT) continue;  // a search reference: not followed
    int result_code = LDAP_SUCCESS;
    rc = ldap_parse_result(handle_, message.get(), &result_code, nullptr, nullptr, nullptr,
                           &response.controls, 0);
    if (rc != LDAP_SUCCESS) return error_from(rc, "reading the result of " + what);
    if (result_code == LDAP_NO_SUCH_OBJECT && request.scope == Scope::kBase) return {};
    if (result_code != LDAP_SUCCESS && result_code != LDAP_REFERRAL) {
      return error_from(result_code, what);
    }
    return {};
  }
}

Error Connection::paged_search(const SearchRequest& request, int page_size,
                               const EntryVisitor& on_entry,
                               const std::function<bool()>& on_page_end) {
  std::string cookie;
  for (uint64_t pages = 1;; ++pages) {
    LDAPControl* control = nullptr;
    berval cookie_value{static_cast<ber_len_t>(cookie.size()), cookie.data()};
    if (int rc = ldap_create_page_control(handle_, page_size, &cookie_value, 1, &control);
        rc != LDAP_SUCCESS) {
      return error_from(rc, "paged results control");
    }
    ResponseControls response;
    bool stopped = false;
    if (Error error = search_once(request, control, on_entry, response, stopped)) return error;
    if (stopped || !on_page_end()) return {};
    LDAPControl* page = response.find(LDAP_CONTROL_PAGEDRESULTS);
    if (!page) return {};  // the server did not page: everything came at once
    berval next{};
    ber_int_t estimate = 0;
    if (int rc = ldap_parse_pageresponse_control(handle_, page, &estimate, &next);
        rc != LDAP_SUCCESS) {
      return error_from(rc, "paged results response");
    }
    cookie = take_berval(next);
    if (cookie.empty()) return {};
    if (std::string problem = search_pages_problem(pages, page_size); !problem.empty()) {
      return {-1, uri_ + ": search of " + request.base + " for " + request.filter + ": " +
                      problem};
    }
  }
}

Error Connection::dirsync_search(const SearchRequest& request, int flags,
                                 const std::string& cookie, const EntryVisitor& on_entry,
                                 std::string& new_cookie, bool& more) {
  more = false;
  LDAPControl* control = nullptr;
  std::string cookie_copy = cookie;
  berval cookie_value{static_cast<ber_len_t>(cookie_copy.size()), cookie_copy.data()};
  // maxAttrCount is really maxBytes: 0 lets the server choose.
  if (int rc = ldap_create_dirsync_control(handle_, flags, 0, &cookie_value, &control);
      rc != LDAP_SUCCESS) {
    return error_from(rc, "DirSync control");
  }
  ResponseControls response;
  bool stopped = false;
  if (Error error = search_once(request, control, on_entry, response, stopped)) return error;
  if (stopped) return {};
  LDAPControl* dirsync = response.find(LDAP_CONTROL_X_DIRSYNC);
  if (!dirsync) return {LDAP_CONTROL_NOT_FOUND, uri_ + ": DirSync response control missing"};
  berval next{};
  int continue_flag = 0;
  if (int rc = ldap_parse_dirsync_control(handle_, dirsync, &continue_flag, &next);
      rc != LDAP_SUCCESS) {
    return error_from(rc, "DirSync response control");
  }
  new_cookie = take_berval(next);
  more = continue_flag != 0;
  return {};
}

Error Connection::read_entry(const SearchRequest& request, std::optional<Entry>& entry) {
  entry.reset();
  SearchRequest base_request = request;
  base_request.scope = Scope::kBase;
  ResponseControls response;
  bool stopped = false;
  return search_once(
      base_request, nullptr,
      [&](Entry&& found) {
        entry = std::move(found);
        return true;
      },
      response, stopped);
}

Error Connection::start_notification(const std::string& base, Scope scope) {
  if (notification_id_ >= 0) {
    return {LDAP_PARAM_ERROR, uri_ + ": a notification search is already running"};
  }
  Controls controls;
  LDAPControl* control = nullptr;
  // Critical: a server that does not know the control must refuse, not answer a plain search.
  if (int rc = ldap_control_create(LDAP_CONTROL_X_SERVER_NOTIFICATION, 1, nullptr, 0, &control);
      rc != LDAP_SUCCESS) {
    return error_from(rc, "change notification control");
  }
  controls.add(control);
  if (int rc = ldap_create_show_deleted_control(handle_, &control); rc != LDAP_SUCCESS) {
    return error_from(rc, "show deleted control");
  }
  controls.add(control);
  // Entries only say "something changed": ask for no attributes.
  const std::vector<std::string> no_attributes{LDAP_NO_ATTRS};
  auto attributes = attribute_array(no_attributes);
  int id = -1;
  int rc = ldap_search_ext(handle_, base.c_str(), to_ldap_scope(scope), "(objectClass=*)",
                           attributes.data(), 0, controls.array(), nullptr, nullptr, 0, &id);
  if (rc != LDAP_SUCCESS) return error_from(rc, "change notification search of " + base);
  notification_id_ = id;
  return {};
}

Error Connection::next_notification(std::chrono::milliseconds timeout, bool& changed) {
  changed = false;
  if (notification_id_ < 0) return {LDAP_PARAM_ERROR, uri_ + ": no notification search started"};
  timeval tv = to_timeval(timeout);
  LDAPMessage* raw = nullptr;
  int type = ldap_result(handle_, notification_id_, LDAP_MSG_ONE, &tv, &raw);
  MessagePtr message(raw);
  switch (type) {
    case 0: return {};  // nothing in time
    case -1: {
      int code = LDAP_OTHER;
      ldap_get_option(handle_, LDAP_OPT_RESULT_CODE, &code);
      return error_from(code, "waiting for change notifications");
    }
    case LDAP_RES_SEARCH_ENTRY:
      changed = true;
      return {};
    case LDAP_RES_SEARCH_RESULT: {
      int result_code = LDAP_OTHER;
      int rc = ldap_parse_result(handle_, message.get(), &result_code, nullptr, nullptr, nullptr,
                                 nullptr, 0);
      if (rc != LDAP_SUCCESS) {
        return error_from(rc, "reading the end of the change notification search");
      }
      if (result_code != LDAP_SUCCESS) {
        return error_from(result_code, "change notification search");
      }
      return {LDAP_OTHER, uri_ + ": the server ended the change notification search"};
    }
    default: return {};  // a search reference: says nothing about changes
  }
}

}  // namespace dirfeed::ldap
