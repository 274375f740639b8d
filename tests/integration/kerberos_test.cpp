// Kerberos (GSSAPI) binds against the Samba DC's own KDC, with a keytab exported by
// samba-tool as an AD admin would: sealed on plain ldap://, no SASL layer over TLS, the
// errors in words (each naming the DC) and how a refused keytab backs off, tickets renewed
// after half their lifetime, two principals side by side, and a sync pass with it.
#include <gtest/gtest.h>
#include <krb5.h>

#include <atomic>
#include <memory>
#include <thread>

#include "ldap/connection.hpp"
#include "ldap/controller_health.hpp"
#include "ldap/kerberos.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/kerberos_fixture.hpp"
#include "tests/support/manual_clock.hpp"

namespace dirfeed::testing {
namespace {

using namespace std::chrono_literals;

class KerberosTest : public KerberosFixture {
 protected:
  // Connects and binds to `uri` with the test's principal and keytab; fails the test with the
  // error when it does not bind.
  std::unique_ptr<ldap::Connection> open(const std::string& uri, const ldap::TlsOptions& tls,
                                         ldap::KerberosCredentials& credentials) {
    ldap::Error error;
    auto connection = ldap::Connection::open(uri, tls, gssapi_bind(), 30s, error, &credentials);
    EXPECT_TRUE(connection) << error.message;
    return connection;
  }
  // Opens, expecting a failure; returns it.
  ldap::Error refused(const std::string& uri, const ldap::BindOptions& bind,
                      const ldap::TlsOptions& tls = {}) {
    ldap::KerberosCredentials credentials(bind.principal, bind.keytab, clock_);
    ldap::Error error;
    auto connection = ldap::Connection::open(uri, tls, bind, 30s, error, &credentials);
    EXPECT_FALSE(connection);
    std::cout << "error: " << error.message << "\n";
    return error;
  }
  // The base DN entry over `connection`: proves the session works after the bind.
  void read_domain_head(ldap::Connection& connection) {
    std::optional<ldap::Entry> entry;
    ldap::SearchRequest request;
    request.base = dc().base_dn();
    request.attributes = {"objectClass"};
    ASSERT_FALSE(connection.read_entry(request, entry));
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->dn, dc().base_dn());
  }
  ldap::TlsOptions tls() const {
    ldap::TlsOptions tls;
    tls.ca_file = dc().ca_file();
    return tls;
  }

  ManualClock clock_;
};

// Samba's strictest setting ('ldap server require strong auth = yes', its default, like AD's
// "require signing") accepts the sealed Kerberos bind on plain ldap://, and says it is sealed.
class KerberosPlainTest : public KerberosTest {
  std::vector<std::string> dc_options() const override {
    return {"log level=1 auth_json_audit:5", "ldap server require strong auth=yes"};
  }
};

TEST_F(KerberosPlainTest, SealedBindOnPlainLdap) {
  ldap::KerberosCredentials credentials(principal_, keytab_, clock_);
  auto connection = open(kPlainUri, {}, credentials);
  ASSERT_TRUE(connection);
  read_domain_head(*connection);
  EXPECT_EQ(authorizations("svc-dirfeed"), std::vector<std::string>{"SEAL"});
  EXPECT_EQ(credentials.acquisitions(), 1);
}

// Over TLS there is no SASL layer on top: Samba in its strict mode refuses that (it wants
// sign or seal even there, which AD refuses over TLS), and the error says what to do.
TEST_F(KerberosPlainTest, StrictSambaRefusesKerberosOverTlsInWords) {
  ldap::Error error = refused("ldaps://dc1.example.test", gssapi_bind(), tls());
  EXPECT_NE(error.message.find("ldaps://dc1.example.test: Kerberos (GSSAPI) bind as "
                               "svc-dirfeed@EXAMPLE.TEST failed: Strong(er) authentication "
                               "required"),
            std::string::npos);
  EXPECT_NE(error.message.find("'ldap server require strong auth = allow_sasl_over_tls'"),
            std::string::npos);
  EXPECT_EQ(error.credential_problem, "");
}

class KerberosTlsTest : public KerberosTest {
  std::vector<std::string> dc_options() const override {
    return {"log level=1 auth_json_audit:5",
            "ldap server require strong auth=allow_sasl_over_tls"};
  }
};

TEST_F(KerberosTlsTest, BindOverLdapsAndStartTlsWithoutSecurityLayer) {
  ldap::KerberosCredentials credentials(principal_, keytab_, clock_);
  auto ldaps = open("ldaps://dc1.example.test", tls(), credentials);
  ASSERT_TRUE(ldaps);
  read_domain_head(*ldaps);
  ldap::TlsOptions start_tls = tls();
  start_tls.start_tls = true;
  auto upgraded = open(kPlainUri, start_tls, credentials);
  ASSERT_TRUE(upgraded);
  read_domain_head(*upgraded);
  EXPECT_EQ(authorizations("svc-dirfeed"), (std::vector<std::string>{"TLS", "TLS"}));
  EXPECT_EQ(credentials.acquisitions(), 1) << "one ticket-granting ticket for both";
}

// The account's password changed after the keytab was exported: the KDC refuses the key. In
// words, naming the DC, as a credential problem: the poller backs the DC off for 5 minutes and
// tries again at once when the keytab is exported anew.
TEST_F(KerberosTest, WrongKeytabIsSaidAndBacksOffUntilTheKeytabChanges) {
  kerberos_->set_password("svc-dirfeed", "Another!Passw0rd2");
  const std::string words = "wrong key for svc-dirfeed@EXAMPLE.TEST in keytab " + keytab_ +
                            " (the account's password changed after the keytab was made? "
                            "export it anew)";
  ldap::Error error = refused(kPlainUri, gssapi_bind());
  EXPECT_EQ(error.message, "ldap://dc1.example.test: Kerberos: " + words +
                               " (Preauthentication failed)");
  EXPECT_EQ(error.credential_problem, words);

  SyncHarness harness(dc(), ldap::Strategy::kUsn);
  harness.options().controllers = {kPlainUri};
  harness.options().bind = gssapi_bind();
  harness.options().sync.notifications = false;
  harness.reopen();
  std::atomic<bool> stop{false};
  ldap::PassResult failed = harness.poller().run_pass(stop);
  EXPECT_FALSE(failed.ok);
  std::vector<ldap::ControllerState> states = harness.poller().controllers();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].credential_problem, words);
  EXPECT_GE(states[0].retry_after_us - SystemClock().now_us(), (4min + 50s) / 1us);
  ldap::PassResult waiting = harness.poller().run_pass(stop);
  EXPECT_TRUE(waiting.waiting) << "not tried again before the backoff ends";
  EXPECT_NE(waiting.error.find(words), std::string::npos) << waiting.error;

  kerberos_->export_keytab(principal_, keytab_);
  ldap::PassResult fixed = harness.poller().run_pass(stop);
  EXPECT_TRUE(fixed.ok) << fixed.error;
  EXPECT_TRUE(fixed.full_sync);
  EXPECT_GT(fixed.objects, 0u);
}

TEST_F(KerberosTest, UnknownPrincipalIsSaid) {
  const std::string gone = kerberos_->add_user("svc-gone", kPassword);
  const std::string keytab = dir_.path() + "/gone.keytab";
  kerberos_->export_keytab(gone, keytab);
  dc().ldif("dn: CN=svc-gone,CN=Users," + dc().base_dn() + "\nchangetype: delete\n");
  ldap::BindOptions bind = gssapi_bind();
  bind.principal = gone;
  bind.keytab = keytab;
  ldap::Error error = refused(kPlainUri, bind);
  EXPECT_EQ(error.credential_problem,
            "the KDC knows no principal svc-gone@EXAMPLE.TEST (no such account, or its "
            "userPrincipalName differs)");
  EXPECT_EQ(error.message.rfind("ldap://dc1.example.test: Kerberos: the KDC knows no", 0), 0u);
}

TEST_F(KerberosTest, KeytabWithoutThePrincipalsKeyIsSaid) {
  kerberos_->add_user("svc-other", kPassword);
  ldap::BindOptions bind = gssapi_bind();
  bind.principal = "svc-other@EXAMPLE.TEST";
  ldap::Error error = refused(kPlainUri, bind);
  EXPECT_EQ(error.credential_problem,
            "keytab " + keytab_ + " has no key for svc-other@EXAMPLE.TEST");
}

// Not the credential's fault: said in words, and backed off like a network failure.
TEST_F(KerberosTest, UnreachableKdcIsSaid) {
  setenv("KRB5_CONFIG", kerberos_->write_unreachable_kdc_conf().c_str(), 1);
  ldap::Error error = refused(kPlainUri, gssapi_bind());
  EXPECT_EQ(error.message,
            "ldap://dc1.example.test: Kerberos: no KDC of the realm of svc-dirfeed@EXAMPLE.TEST "
            "answered (Cannot contact any KDC for realm 'EXAMPLE.TEST')");
  EXPECT_EQ(error.credential_problem, "");
  ldap::ControllerHealth health({kPlainUri}, gssapi_bind(), clock_);
  ASSERT_TRUE(health.claim(kPlainUri));
  EXPECT_EQ(health.failed(kPlainUri, error), 5s);
  health.release(kPlainUri, false);
}

// A URI naming the DC by another name than its service principal's: the KDC says so first.
TEST_F(KerberosTest, HostWithoutServicePrincipalIsSaid) {
  ldap::Error error = refused("ldap://localhost", gssapi_bind());
  EXPECT_EQ(error.message.rfind("ldap://localhost: Kerberos: service ticket for ldap/localhost: "
                                "the KDC knows no service principal ldap/localhost (write the "
                                "DC's DNS host name in the URI",
                                0),
            0u);
  EXPECT_EQ(error.credential_problem, "");
}

// Samba's tickets last 10 hours: the same ticket serves for 5, then a new one is obtained
// into a new cache, and the old cache is gone once its last holder lets go.
TEST_F(KerberosTest, TicketIsRenewedAfterHalfItsLifetime) {
  ldap::KerberosCredentials credentials(principal_, keytab_, clock_);
  std::shared_ptr<const ldap::KerberosTicket> first;
  ASSERT_FALSE(credentials.ticket_for(kPlainUri, first));
  clock_.advance(4h + 59min);
  std::shared_ptr<const ldap::KerberosTicket> same;
  ASSERT_FALSE(credentials.ticket_for(kPlainUri, same));
  EXPECT_EQ(same, first);
  EXPECT_EQ(credentials.acquisitions(), 1);
  clock_.advance(1min);
  std::shared_ptr<const ldap::KerberosTicket> renewed;
  ASSERT_FALSE(credentials.ticket_for(kPlainUri, renewed));
  EXPECT_NE(renewed, first);
  EXPECT_NE(renewed->cache_name(), first->cache_name());
  EXPECT_EQ(credentials.acquisitions(), 2);
  auto connection = open(kPlainUri, {}, credentials);
  ASSERT_TRUE(connection);
  read_domain_head(*connection);

  const std::string old_cache = first->cache_name();
  same.reset();
  first.reset();
  krb5_context context = nullptr;
  ASSERT_EQ(krb5_init_context(&context), 0);
  krb5_ccache cache = nullptr;
  ASSERT_EQ(krb5_cc_resolve(context, old_cache.c_str(), &cache), 0);
  krb5_principal owner = nullptr;
  EXPECT_NE(krb5_cc_get_principal(context, cache, &owner), 0) << old_cache << " still exists";
  if (owner) krb5_free_principal(context, owner);
  krb5_cc_close(context, cache);
  krb5_free_context(context);
}

// Two domains' principals in one process: each binds with its own tickets, concurrently. (A
// bind that authenticated as anyone but its ticket's principal fails: gssapi_bind checks.)
TEST_F(KerberosTest, TwoPrincipalsBindSideBySide) {
  const std::string other = kerberos_->add_user("svc-second", kPassword);
  const std::string other_keytab = dir_.path() + "/second.keytab";
  kerberos_->export_keytab(other, other_keytab);
  ldap::BindOptions second = gssapi_bind();
  second.principal = other;
  second.keytab = other_keytab;
  ldap::ControllerHealth first_domain({kPlainUri}, gssapi_bind(), clock_);
  ldap::ControllerHealth second_domain({kPlainUri}, second, clock_);
  constexpr int kBinds = 10;
  std::atomic<int> bound{0};
  auto bind_often = [&](const ldap::BindOptions& bind, ldap::KerberosCredentials* credentials) {
    for (int i = 0; i < kBinds; ++i) {
      ldap::Error error;
      auto connection = ldap::Connection::open(kPlainUri, {}, bind, 30s, error, credentials);
      EXPECT_TRUE(connection) << error.message;
      if (connection) ++bound;
    }
  };
  std::thread a(bind_often, gssapi_bind(), first_domain.kerberos());
  std::thread b(bind_often, second, second_domain.kerberos());
  a.join();
  b.join();
  EXPECT_EQ(bound.load(), 2 * kBinds);
  EXPECT_EQ(authorizations("svc-dirfeed").size(), static_cast<size_t>(kBinds));
  EXPECT_EQ(authorizations("svc-second").size(), static_cast<size_t>(kBinds));
  EXPECT_EQ(first_domain.kerberos()->acquisitions(), 1);
  EXPECT_EQ(second_domain.kerberos()->acquisitions(), 1);
}

// A sync pass over sealed ldap:// with the keytab, then a change read incrementally.
TEST_F(KerberosTest, PollerSyncsWithTheKeytab) {
  SyncHarness harness(dc(), ldap::Strategy::kUsn);
  harness.options().controllers = {kPlainUri};
  harness.options().bind = gssapi_bind();
  harness.reopen();
  std::vector<pb::Change> first = harness.pass();
  EXPECT_FALSE(first.empty());
  kerberos_->add_user("alice", kPassword);
  std::vector<pb::Change> second = harness.pass();
  ASSERT_FALSE(second.empty());
  bool alice = false;
  for (const pb::Change& change : second) {
    alice = alice || (change.kind() == pb::USER && change.type() == pb::ADD &&
                      change.object().dn().find("CN=alice,") != std::string::npos);
  }
  EXPECT_TRUE(alice);
}

}  // namespace
}  // namespace dirfeed::testing
