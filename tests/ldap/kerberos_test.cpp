// Kerberos binds without a KDC: the words for each Kerberos error, the failures that need no
// KDC to show (missing keytab, no KDC answering, no GSSAPI plugin), and how a refused keytab
// feeds the controllers' credential backoff. The binds themselves run against Samba's KDC in
// tests/integration/kerberos_test.cpp.
#include "ldap/kerberos.hpp"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <krb5.h>
#include <ldap.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "ldap/controller_health.hpp"
#include "tests/support/kerberos.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::ldap {
namespace {

using namespace std::chrono_literals;

const std::string kPrincipal = "svc-dirfeed@EXAMPLE.TEST";
const std::string kKeytab = "/etc/dirfeed/dirfeed.keytab";

KerberosProblem problem(long code) {
  return kerberos_problem(static_cast<int32_t>(code), kPrincipal, kKeytab, "dc1.example.test");
}

TEST(KerberosProblemTest, CredentialFaultsInWords) {
  EXPECT_EQ(problem(KRB5KDC_ERR_PREAUTH_FAILED).words,
            "wrong key for svc-dirfeed@EXAMPLE.TEST in keytab /etc/dirfeed/dirfeed.keytab (the "
            "account's password changed after the keytab was made? export it anew)");
  EXPECT_EQ(problem(KRB5KRB_AP_ERR_BAD_INTEGRITY).words, problem(KRB5KDC_ERR_PREAUTH_FAILED).words);
  EXPECT_EQ(problem(KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN).words,
            "the KDC knows no principal svc-dirfeed@EXAMPLE.TEST (no such account, or its "
            "userPrincipalName differs)");
  EXPECT_EQ(problem(KRB5_KT_NOTFOUND).words,
            "keytab /etc/dirfeed/dirfeed.keytab has no key for svc-dirfeed@EXAMPLE.TEST");
  EXPECT_EQ(problem(KRB5KDC_ERR_CLIENT_REVOKED).words,
            "account svc-dirfeed@EXAMPLE.TEST disabled or locked");
  EXPECT_EQ(problem(ENOENT).words, "keytab /etc/dirfeed/dirfeed.keytab does not exist");
  for (long code : std::initializer_list<long>{
           KRB5KDC_ERR_PREAUTH_FAILED, KRB5KRB_AP_ERR_BAD_INTEGRITY,
           KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN, KRB5_KT_NOTFOUND, KRB5KDC_ERR_CLIENT_REVOKED,
           KRB5KDC_ERR_KEY_EXP, KRB5_KEYTAB_BADVNO, ENOENT, EACCES}) {
    EXPECT_TRUE(problem(code).credential) << code;
  }
}

// Not the credential's fault: retried with the network backoff, but said in words too.
TEST(KerberosProblemTest, OtherFaultsInWords) {
  EXPECT_EQ(problem(KRB5KRB_AP_ERR_SKEW).words,
            "the clocks of this host and of the KDC differ by more than the KDC allows (5 "
            "minutes in AD): synchronise them (NTP)");
  EXPECT_EQ(problem(KRB5_KDC_UNREACH).words,
            "no KDC of the realm of svc-dirfeed@EXAMPLE.TEST answered");
  EXPECT_EQ(problem(KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN).words,
            "the KDC knows no service principal ldap/dc1.example.test (write the DC's DNS host "
            "name in the URI, as in its servicePrincipalName ldap/...)");
  for (long code : {KRB5KRB_AP_ERR_SKEW, KRB5_KDC_UNREACH, KRB5_REALM_UNKNOWN,
                    KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN}) {
    EXPECT_FALSE(problem(code).credential) << code;
  }
  EXPECT_EQ(problem(KRB5_CC_NOMEM).words, "") << "no words of ours: the library's message";
}

class KerberosCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A realm whose only KDC is the discard port: nothing answers.
    const std::string conf = dir_.write("krb5.conf",
                                        "[libdefaults]\n  dns_lookup_kdc = false\n"
                                        "[realms]\n  EXAMPLE.TEST = {\n    kdc = 127.0.0.1:9\n  }\n");
    setenv("KRB5_CONFIG", conf.c_str(), 1);
  }
  void TearDown() override { unsetenv("KRB5_CONFIG"); }

  testing::TempDir dir_;
  SystemClock clock_;
};

TEST_F(KerberosCredentialsTest, MissingKeytabIsACredentialProblemNamingTheDc) {
  KerberosCredentials credentials(kPrincipal, dir_.path() + "/none.keytab", clock_);
  std::shared_ptr<const KerberosTicket> ticket;
  Error error = credentials.ticket_for("ldap://dc1.example.test", ticket);
  ASSERT_TRUE(error);
  EXPECT_FALSE(ticket);
  const std::string keytab = dir_.path() + "/none.keytab";
  EXPECT_EQ(error.message, "ldap://dc1.example.test: Kerberos: keytab " + keytab +
                               " does not exist (Key table file '" + keytab + "' not found)");
  EXPECT_EQ(error.credential_problem, "keytab " + keytab + " does not exist");
  EXPECT_EQ(credentials.acquisitions(), 0);
}

TEST_F(KerberosCredentialsTest, UnreachableKdcIsNotACredentialProblem) {
  const std::string keytab = dir_.path() + "/dirfeed.keytab";
  testing::write_keytab(keytab, kPrincipal, "Secret!1");
  KerberosCredentials credentials(kPrincipal, keytab, clock_);
  std::shared_ptr<const KerberosTicket> ticket;
  Error error = credentials.ticket_for("ldap://dc1.example.test", ticket);
  ASSERT_TRUE(error);
  EXPECT_EQ(error.message,
            "ldap://dc1.example.test: Kerberos: no KDC of the realm of "
            "svc-dirfeed@EXAMPLE.TEST answered (Cannot contact any KDC for realm "
            "'EXAMPLE.TEST')");
  EXPECT_EQ(error.credential_problem, "");
}

// A refused keytab backs the DC off like a wrong password (5 minutes, in words), and a new
// keytab ends that backoff at once.
TEST_F(KerberosCredentialsTest, ARefusedKeytabBacksOffUntilTheKeytabChanges) {
  const std::string keytab = dir_.path() + "/dirfeed.keytab";
  testing::write_keytab(keytab, kPrincipal, "Old!pass1");
  BindOptions bind;
  bind.method = BindMethod::kGssapi;
  bind.principal = kPrincipal;
  bind.keytab = keytab;
  ControllerHealth health({"ldap://dc1.example.test"}, bind, clock_);
  ASSERT_NE(health.kerberos(), nullptr);
  const KerberosProblem words =
      kerberos_problem(KRB5KDC_ERR_PREAUTH_FAILED, kPrincipal, keytab, "dc1.example.test");
  const Error refused{LDAP_LOCAL_ERROR,
                      "ldap://dc1.example.test: Kerberos: " + words.words + " (Preauthentication "
                      "failed)",
                      words.words};
  ASSERT_TRUE(health.claim("ldap://dc1.example.test"));
  EXPECT_EQ(health.failed("ldap://dc1.example.test", refused), 5min);
  health.release("ldap://dc1.example.test", false);
  EXPECT_EQ(health.snapshot()[0].credential_problem, words.words);
  EXPECT_FALSE(health.refresh()) << "the same keytab";
  EXPECT_FALSE(health.claim("ldap://dc1.example.test"));
  testing::write_keytab(keytab, kPrincipal, "New!pass1", 2);
  EXPECT_TRUE(health.refresh());
  EXPECT_TRUE(health.claim("ldap://dc1.example.test"));
  health.release("ldap://dc1.example.test", false);
}

// Without Cyrus SASL's GSSAPI plugin (libsasl2-modules-gssapi-mit) libldap finds no mechanism:
// the error says which package to install. SASL_PATH (an empty plugin directory) is read when
// libldap first initialises SASL in this process: no earlier test here binds.
TEST(GssapiBindTest, MissingPluginNamesThePackage) {
  testing::TempDir plugins;
  setenv("SASL_PATH", plugins.path().c_str(), 1);
  // An LDAP server that accepts the connection and says nothing: the mechanism is chosen
  // before the first message.
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string uri = "ldap://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  LDAP* handle = nullptr;
  ASSERT_EQ(ldap_initialize(&handle, uri.c_str()), LDAP_SUCCESS);
  int version = LDAP_VERSION3;
  ldap_set_option(handle, LDAP_OPT_PROTOCOL_VERSION, &version);
  KerberosTicket ticket(kPrincipal, "MEMORY:dirfeed-test-no-plugin", nullptr);
  EXPECT_EQ(gssapi_bind(handle, false, ticket), LDAP_AUTH_UNKNOWN);
  char* diagnostic = nullptr;
  ldap_get_option(handle, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic);
  const std::string text = diagnostic ? diagnostic : "";
  if (diagnostic) ldap_memfree(diagnostic);
  EXPECT_EQ(text,
            "SASL(-4): no mechanism available: No worthy mechs found; no SASL GSSAPI mechanism: "
            "install the package libsasl2-modules-gssapi-mit");
  ldap_unbind_ext_s(handle, nullptr, nullptr);
  close(listener);
  unsetenv("SASL_PATH");
}

TEST(ControllerHealthKerberos, SimpleBindsHaveNoKerberosCredentials) {
  BindOptions bind;
  bind.dn = "svc@example.test";
  bind.password_file = "/nonexistent";
  SystemClock clock;
  ControllerHealth health({"ldaps://dc1"}, bind, clock);
  EXPECT_EQ(health.kerberos(), nullptr);
}

}  // namespace
}  // namespace dirfeed::ldap
