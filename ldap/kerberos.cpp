#include "ldap/kerberos.hpp"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <ldap.h>
#include <sasl/sasl.h>
#include <strings.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

namespace dirfeed::ldap {
namespace {

// A krb5 context for one task; the library's state (its configuration) is read anew.
class Context {
 public:
  Context() { code_ = krb5_init_context(&context_); }
  ~Context() {
    if (context_) krb5_free_context(context_);
  }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  krb5_error_code code() const { return code_; }  // of krb5_init_context (bad krb5.conf)
  krb5_context get() const { return context_; }
  // The library's message for `code`, with the details it recorded (file names, realms).
  std::string message(krb5_error_code code) const {
    if (!context_) return std::strerror(code > 0 ? code : EINVAL);
    const char* text = krb5_get_error_message(context_, code);
    std::string out = text ? text : "unknown Kerberos error";
    krb5_free_error_message(context_, text);
    return out;
  }

 private:
  krb5_context context_ = nullptr;
  krb5_error_code code_ = 0;
};

std::string gss_message(OM_uint32 status, int type) {
  std::string out;
  OM_uint32 context = 0;
  do {
    OM_uint32 minor = 0;
    gss_buffer_desc text{0, nullptr};
    if (GSS_ERROR(gss_display_status(&minor, status, type, GSS_C_NO_OID, &context, &text))) break;
    if (!out.empty()) out += "; ";
    out.append(static_cast<const char*>(text.value), text.length);
    gss_release_buffer(&minor, &text);
  } while (context != 0);
  return out;
}

// Process-wide numbering of the memory caches, so that no two tickets share one.
std::atomic<uint64_t> cache_counter{0};

// Answers libldap's SASL prompts: the GSSAPI plugin asks for the authorization identity only
// (empty: the principal itself). libldap creates the SASL context inside the bind, so the
// credential can only be handed over here, before the plugin's first GSSAPI call.
int sasl_interact(LDAP* handle, unsigned /*flags*/, void* defaults, void* prompts) {
  const auto* ticket = static_cast<const KerberosTicket*>(defaults);
  if (ldap_set_option(handle, LDAP_OPT_X_SASL_GSS_CREDS, ticket->credential()) !=
      LDAP_OPT_SUCCESS) {
    return LDAP_LOCAL_ERROR;
  }
  for (auto* prompt = static_cast<sasl_interact_t*>(prompts); prompt->id != SASL_CB_LIST_END;
       ++prompt) {
    prompt->result = "";
    prompt->len = 0;
  }
  return LDAP_SUCCESS;
}

}  // namespace

KerberosTicket::~KerberosTicket() {
  OM_uint32 minor = 0;
  gss_release_cred(&minor, &credential_);
  Context context;
  krb5_ccache cache = nullptr;
  if (context.get() && krb5_cc_resolve(context.get(), cache_name_.c_str(), &cache) == 0) {
    krb5_cc_destroy(context.get(), cache);
  }
}

KerberosProblem kerberos_problem(int32_t code, const std::string& principal,
                                 const std::string& keytab, const std::string& host) {
  switch (code) {
    case KRB5KDC_ERR_PREAUTH_FAILED:
    case KRB5KRB_AP_ERR_BAD_INTEGRITY:
      return {"wrong key for " + principal + " in keytab " + keytab +
                  " (the account's password changed after the keytab was made? export it anew)",
              true};
    case KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN:
      return {"the KDC knows no principal " + principal +
                  " (no such account, or its userPrincipalName differs)",
              true};
    case KRB5KDC_ERR_CLIENT_REVOKED:
      return {"account " + principal + " disabled or locked", true};
    case KRB5KDC_ERR_KEY_EXP:
      return {"password of " + principal + " expired", true};
    case KRB5KDC_ERR_ETYPE_NOSUPP:
      return {"keytab " + keytab + " has no key of an encryption type the KDC accepts for " +
                  principal + " (export it with AES keys)",
              true};
    case KRB5_KT_NOTFOUND:
    case KRB5_KT_KVNONOTFOUND:
      return {"keytab " + keytab + " has no key for " + principal, true};
    case KRB5_KEYTAB_BADVNO:
    case KRB5_KT_FORMAT:
      return {keytab + " is not a keytab", true};
    case ENOENT:
      return {"keytab " + keytab + " does not exist", true};
    case EACCES:
    case EPERM:
      return {"keytab " + keytab + " is not readable by this user", true};
    case KRB5KRB_AP_ERR_SKEW:
      return {"the clocks of this host and of the KDC differ by more than the KDC allows "
              "(5 minutes in AD): synchronise them (NTP)",
              false};
    case KRB5_KDC_UNREACH:
      return {"no KDC of the realm of " + principal + " answered", false};
    case KRB5_REALM_UNKNOWN:
    case KRB5_REALM_CANT_RESOLVE:
      return {"no KDC known for the realm of " + principal +
                  " (list it under [realms] in krb5.conf, or publish DNS SRV records)",
              false};
    case KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN:
      return {"the KDC knows no service principal ldap/" + host +
                  " (write the DC's DNS host name in the URI, as in its "
                  "servicePrincipalName ldap/...)",
              false};
    default: return {};
  }
}

std::string keytab_problem(const std::string& principal, const std::string& keytab) {
  Context context;
  if (context.code()) return "Kerberos configuration: " + context.message(context.code());
  krb5_principal client = nullptr;
  if (krb5_error_code code = krb5_parse_name(context.get(), principal.c_str(), &client)) {
    return "principal " + principal + ": " + context.message(code);
  }
  krb5_keytab table = nullptr;
  std::string problem;
  const std::string name = "FILE:" + keytab;
  krb5_error_code code = krb5_kt_resolve(context.get(), name.c_str(), &table);
  if (code) {
    problem = "keytab " + keytab + ": " + context.message(code);
  } else {
    krb5_keytab_entry entry;
    code = krb5_kt_get_entry(context.get(), table, client, 0, 0, &entry);
    if (code == 0) {
      krb5_free_keytab_entry_contents(context.get(), &entry);
    } else if (code == KRB5_KT_NOTFOUND || code == KRB5_KT_KVNONOTFOUND) {
      // Name what it does hold: usually the principal is just spelled differently.
      std::vector<std::string> held;
      krb5_kt_cursor cursor;
      if (krb5_kt_start_seq_get(context.get(), table, &cursor) == 0) {
        while (krb5_kt_next_entry(context.get(), table, &entry, &cursor) == 0) {
          char* text = nullptr;
          if (krb5_unparse_name(context.get(), entry.principal, &text) == 0) {
            if (held.empty() || held.back() != text) held.emplace_back(text);
            krb5_free_unparsed_name(context.get(), text);
          }
          krb5_free_keytab_entry_contents(context.get(), &entry);
        }
        krb5_kt_end_seq_get(context.get(), table, &cursor);
      }
      std::string list;
      for (const std::string& other : held) list += (list.empty() ? "" : ", ") + other;
      problem = "keytab " + keytab + " has no key for " + principal +
                (list.empty() ? " (it is empty)" : " (it has: " + list + ")");
    } else {
      KerberosProblem words = kerberos_problem(code, principal, keytab, "");
      problem = words.words.empty() ? "keytab " + keytab + ": " + context.message(code)
                                    : words.words;
    }
    krb5_kt_close(context.get(), table);
  }
  krb5_free_principal(context.get(), client);
  return problem;
}

KerberosCredentials::KerberosCredentials(std::string principal, std::string keytab,
                                         const Clock& clock)
    : principal_(std::move(principal)), keytab_(std::move(keytab)), clock_(clock) {}

int KerberosCredentials::acquisitions() const {
  std::lock_guard lock(mutex_);
  return acquisitions_;
}

Error KerberosCredentials::acquire(const std::string& uri) {
  auto failure = [&](const Context& context, krb5_error_code code) {
    KerberosProblem problem = kerberos_problem(code, principal_, keytab_, controller_host(uri).value_or(""));
    std::string message = uri + ": Kerberos: " +
                          (problem.words.empty() ? "" : problem.words + " (") +
                          context.message(code) + (problem.words.empty() ? "" : ")");
    return Error{LDAP_LOCAL_ERROR, message, problem.credential ? problem.words : ""};
  };
  Context context;
  if (context.code()) return failure(context, context.code());
  krb5_principal client = nullptr;
  if (krb5_error_code code = krb5_parse_name(context.get(), principal_.c_str(), &client)) {
    return failure(context, code);
  }
  krb5_keytab table = nullptr;
  const std::string table_name = "FILE:" + keytab_;
  krb5_creds creds;
  std::memset(&creds, 0, sizeof creds);
  krb5_error_code code = krb5_kt_resolve(context.get(), table_name.c_str(), &table);
  if (code == 0) {
    // The key from the file first: a keytab that cannot serve is then said to be the problem
    // (the exchange below asks a KDC before it reads the keytab).
    krb5_keytab_entry entry;
    code = krb5_kt_get_entry(context.get(), table, client, 0, 0, &entry);
    if (code == 0) {
      krb5_free_keytab_entry_contents(context.get(), &entry);
      code = krb5_get_init_creds_keytab(context.get(), &creds, client, table, 0, nullptr,
                                        nullptr);
    }
    krb5_kt_close(context.get(), table);
  }
  const std::string cache_name =
      "MEMORY:dirfeed-" + principal_ + "-" + std::to_string(++cache_counter);
  krb5_ccache cache = nullptr;
  if (code == 0) code = krb5_cc_resolve(context.get(), cache_name.c_str(), &cache);
  // (krb5_cc_initialize also records the KDC's clock offset, found by the exchange above.)
  if (code == 0) code = krb5_cc_initialize(context.get(), cache, client);
  if (code == 0) code = krb5_cc_store_cred(context.get(), cache, &creds);
  const int64_t lifetime_s = static_cast<int64_t>(creds.times.endtime) -
                             static_cast<int64_t>(creds.times.starttime ? creds.times.starttime
                                                                        : creds.times.authtime);
  krb5_free_cred_contents(context.get(), &creds);
  krb5_free_principal(context.get(), client);
  if (code) {
    if (cache) krb5_cc_destroy(context.get(), cache);
    return failure(context, code);
  }
  krb5_cc_close(context.get(), cache);

  // The GSSAPI credential on that cache alone (no client keytab: renewal is ours).
  OM_uint32 minor = 0;
  gss_buffer_desc name_text{principal_.size(), const_cast<char*>(principal_.data())};
  gss_name_t name = GSS_C_NO_NAME;
  OM_uint32 major = gss_import_name(&minor, &name_text, GSS_KRB5_NT_PRINCIPAL_NAME, &name);
  gss_key_value_element_desc element{"ccache", cache_name.c_str()};
  gss_key_value_set_desc store{1, &element};
  gss_cred_id_t credential = GSS_C_NO_CREDENTIAL;
  if (!GSS_ERROR(major)) {
    major = gss_acquire_cred_from(&minor, name, GSS_C_INDEFINITE, GSS_C_NO_OID_SET,
                                  GSS_C_INITIATE, &store, &credential, nullptr, nullptr);
  }
  OM_uint32 ignored = 0;
  gss_release_name(&ignored, &name);
  auto ticket = std::make_shared<const KerberosTicket>(principal_, cache_name, credential);
  if (GSS_ERROR(major)) {
    return {LDAP_LOCAL_ERROR, uri + ": Kerberos: GSSAPI credential from " + cache_name + ": " +
                                  gss_message(major, GSS_C_GSS_CODE) + " (" +
                                  gss_message(minor, GSS_C_MECH_CODE) + ")"};
  }
  current_ = std::move(ticket);
  renew_at_us_ = clock_.now_us() + std::max<int64_t>(lifetime_s, 0) * 1'000'000 / 2;
  ++acquisitions_;
  return {};
}

Error KerberosCredentials::ticket_for(const std::string& uri,
                                      std::shared_ptr<const KerberosTicket>& ticket) {
  std::lock_guard lock(mutex_);
  ticket.reset();
  if (!current_ || clock_.now_us() >= renew_at_us_) {
    if (Error error = acquire(uri)) return error;
  }
  // The service ticket: a first security context to ldap/<host>, thrown away. Its ticket
  // stays in the cache, where the SASL plugin finds it.
  const std::string host = controller_host(uri).value_or("");
  const std::string service = "ldap@" + host;
  OM_uint32 minor = 0;
  gss_buffer_desc service_text{service.size(), const_cast<char*>(service.data())};
  gss_name_t target = GSS_C_NO_NAME;
  OM_uint32 major = gss_import_name(&minor, &service_text, GSS_C_NT_HOSTBASED_SERVICE, &target);
  gss_ctx_id_t context = GSS_C_NO_CONTEXT;
  gss_buffer_desc token{0, nullptr};
  if (!GSS_ERROR(major)) {
    major = gss_init_sec_context(&minor, current_->credential(), &context, target,
                                 const_cast<gss_OID>(gss_mech_krb5), GSS_C_MUTUAL_FLAG, 0,
                                 GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, nullptr, &token,
                                 nullptr, nullptr);
  }
  OM_uint32 ignored = 0;
  gss_release_buffer(&ignored, &token);
  gss_delete_sec_context(&ignored, &context, GSS_C_NO_BUFFER);
  gss_release_name(&ignored, &target);
  if (GSS_ERROR(major)) {
    KerberosProblem problem =
        kerberos_problem(static_cast<int32_t>(minor), principal_, keytab_, host);
    std::string detail = gss_message(minor, GSS_C_MECH_CODE);
    if (detail.empty()) detail = gss_message(major, GSS_C_GSS_CODE);
    std::string message = uri + ": Kerberos: service ticket for ldap/" + host + ": " +
                          (problem.words.empty() ? detail : problem.words + " (" + detail + ")");
    if (problem.credential) current_.reset();
    return {LDAP_LOCAL_ERROR, message, problem.credential ? problem.words : ""};
  }
  ticket = current_;
  return {};
}

int gssapi_bind(LDAP* handle, bool tls, const KerberosTicket& ticket) {
  // The service principal is ldap/<the URI's host>, not a name found by reverse DNS.
  ldap_set_option(handle, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON);
  // Over TLS no security layer (AD refuses one: "Cannot bind using sign/seal on a connection on
  // which TLS or SSL is in effect"); without TLS, confidentiality (56: the minimum strength of
  // a sealing layer, integrity alone is 1).
  const char* properties = tls ? "maxssf=0" : "minssf=56";
  if (int rc = ldap_set_option(handle, LDAP_OPT_X_SASL_SECPROPS, properties);
      rc != LDAP_OPT_SUCCESS) {
    return rc;
  }
  int rc = ldap_sasl_interactive_bind_s(handle, nullptr, "GSSAPI", nullptr, nullptr,
                                        LDAP_SASL_QUIET, sasl_interact,
                                        const_cast<KerberosTicket*>(&ticket));
  std::string hint;
  if (rc == LDAP_SUCCESS) {
    // The plugin would fall back to the process's default credentials had the ticket not
    // reached it: make sure it was this principal that logged on.
    char* user = nullptr;
    ldap_get_option(handle, LDAP_OPT_X_SASL_USERNAME, &user);
    const std::string authenticated = user ? user : "";
    if (user) ldap_memfree(user);
    if (strcasecmp(authenticated.c_str(), ticket.principal().c_str()) == 0) return rc;
    rc = LDAP_LOCAL_ERROR;
    hint = "authenticated as \"" + authenticated + "\", not as " + ticket.principal();
  } else if (rc == LDAP_AUTH_UNKNOWN) {
    hint = "no SASL GSSAPI mechanism: install the package libsasl2-modules-gssapi-mit";
  } else if (rc == LDAP_STRONG_AUTH_REQUIRED && tls) {
    hint = "the DC wants SASL signing or sealing on top of TLS, which AD refuses: on Samba set "
           "'ldap server require strong auth = allow_sasl_over_tls', or use ldap:// without "
           "StartTLS (dirfeed then seals the connection with Kerberos)";
  }
  if (!hint.empty()) {
    char* diagnostic = nullptr;
    ldap_get_option(handle, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic);
    std::string text = diagnostic ? diagnostic : "";
    if (diagnostic) ldap_memfree(diagnostic);
    text += (text.empty() ? "" : "; ") + hint;
    ldap_set_option(handle, LDAP_OPT_DIAGNOSTIC_MESSAGE, text.c_str());
  }
  return rc;
}

}  // namespace dirfeed::ldap
