#pragma once
// Typed settings of one monitored domain. daemon/ fills these from the YAML; ldap/ never
// reads configuration files.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dirfeed::ldap {

struct TlsOptions {
  std::string ca_file;     // PEM bundle to verify DC certificates; empty: system default CAs
  bool verify = true;      // false only when the admin wrote `verify: false`
  bool start_tls = false;  // StartTLS on ldap:// URIs
  // ldap:// without StartTLS may be used with a simple bind (`allow_plaintext: true`, for
  // this domain only): otherwise such a controller is a config error, and Connection::open
  // refuses it. (A GSSAPI bind needs no such permission: see sends_cleartext.)
  bool allow_plaintext = false;
};

// How the connection to a controller is protected. The URI's scheme is compared without
// regard to case (the config stores it in lower case).
enum class Transport {
  kLdaps,     // ldaps://: TLS from the first byte
  kStartTls,  // ldap:// upgraded with StartTLS before the bind
  kPlain,     // ldap:// without StartTLS, or any other scheme: nothing protects it
};
Transport transport_of(std::string_view uri, const TlsOptions& tls);

enum class BindMethod { kSimple, kGssapi };

struct BindOptions {
  BindMethod method = BindMethod::kSimple;
  // kSimple:
  std::string dn;             // bind DN or user@domain
  std::string password_file;  // read at every connect; trailing newline stripped
  // kGssapi (Kerberos, ldap/kerberos.hpp):
  std::string principal;  // the service account's principal, "svc-dirfeed@EXAMPLE.TEST"
  std::string keytab;     // keytab file holding the principal's keys
};

// The file that holds the bind's secret: password_file or keytab. A DC that refused it is
// tried again at once when its content changes (ControllerHealth::refresh).
const std::string& secret_file(const BindOptions& bind);
// What that file is, for messages: "password file" or "keytab".
const char* secret_file_kind(const BindOptions& bind);
// The account the bind authenticates as, for messages: dn or principal.
const std::string& bind_account(const BindOptions& bind);

// The host of a controller URI as libldap reads it (ldap_url_parse): "dc1.example.test", an
// IPv6 literal without brackets. nullopt unless the URI is ldap:// or ldaps:// (any case) with
// a host, an optional port (1..65535) and nothing else: no DN, attributes, scope, filter or
// extensions (a trailing "/" is allowed), no white space.
std::optional<std::string> controller_host(std::string_view uri);

// Whether a session with the controller at `uri` would cross the network readable: the bind
// password (a simple bind) and every object read. The one rule that the config check, the
// start-up warning and Connection::open share: a kPlain transport with a simple bind. A
// GSSAPI bind on a plain transport signs and seals the session with Kerberos (a SASL security
// layer, required by Connection::open), so it protects a plain ldap:// connection too.
bool sends_cleartext(std::string_view uri, const TlsOptions& tls, const BindOptions& bind);

enum class Strategy { kUsn, kDirSync };

struct SyncOptions {
  Strategy strategy = Strategy::kDirSync;
  std::chrono::milliseconds interval{std::chrono::seconds(60)};
  bool notifications = true;
  int page_size = 1000;
  std::vector<std::string> search_bases;  // empty: the whole domain
  std::string user_filter = "(&(objectCategory=person)(objectClass=user))";
  std::string group_filter = "(objectClass=group)";
  // The delete guard: a pass that would delete more objects than this commits nothing and is
  // held until an admin allows it (`dirfeed deletes allow`) or the limit is raised.
  size_t max_deletes = 500;
  // > 0: also hold a pass that would delete more than this percentage of the domain's objects.
  double max_delete_percent = 0;
  // 0 (the default): ask for plain `member` and follow the ranges the server chooses (AD
  // answers a large group with `member;range=0-1499` by itself, per its MaxValRange; Samba
  // returns every value at once). > 0: ask for ranges of this many values ourselves.
  int member_range_step = 0;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // per LDAP operation
};

struct DomainOptions {
  std::string name;          // DNS name, lower case
  std::string base_dn;       // derived from name when empty
  std::string netbios_name;  // read from the Partitions container when empty
  std::vector<std::string> controllers;  // LDAP URIs, tried in order
  TlsOptions tls;
  BindOptions bind;
  SyncOptions sync;
};

// "example.test" -> "DC=example,DC=test".
std::string base_dn_from_domain(const std::string& domain);

}  // namespace dirfeed::ldap
