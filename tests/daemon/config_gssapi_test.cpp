// bind.method gssapi in the config: its keys, the errors (file, line, key), plain ldap://
// without StartTLS (sealed by Kerberos), and check_files() on the keytab.
#include <gtest/gtest.h>

#include <string>

#include "daemon/config.hpp"
#include "tests/support/kerberos.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::daemon {
namespace {

using dirfeed::testing::TempDir;

// Lines 1-3; the bind block follows from line 4.
std::string with_bind(const std::string& bind,
                      const std::string& controllers = "[ldap://dc1.example.test]") {
  return "domains:\n"
         "  - name: example.test\n"
         "    controllers: " + controllers + "\n" + bind;
}

constexpr char kGssapi[] = R"(    bind:
      method: gssapi
      principal: svc-dirfeed@EXAMPLE.TEST
      keytab: /etc/dirfeed/dirfeed.keytab
)";

std::string errors_of(const std::vector<ConfigError>& errors) {
  std::string text;
  for (const ConfigError& e : errors) text += e.to_string() + "\n";
  return text;
}

ConfigResult parse(const std::string& yaml) { return parse_config(yaml, "k.yaml"); }

TEST(ConfigGssapiTest, PrincipalAndKeytab) {
  const ConfigResult result = parse(with_bind(kGssapi));
  ASSERT_TRUE(result.ok()) << errors_of(result.errors);
  const ldap::BindOptions& bind = result.config->domains[0].bind;
  EXPECT_EQ(bind.method, ldap::BindMethod::kGssapi);
  EXPECT_EQ(bind.principal, "svc-dirfeed@EXAMPLE.TEST");
  EXPECT_EQ(bind.keytab, "/etc/dirfeed/dirfeed.keytab");
  EXPECT_EQ(ldap::secret_file(bind), "/etc/dirfeed/dirfeed.keytab");
  EXPECT_EQ(result.config->lines.at("domains[0].bind.keytab"), 7);
}

// Kerberos signs and seals a plain ldap:// session: no StartTLS or allow_plaintext needed, and
// no cleartext warning. A simple bind on the same URI stays an error.
TEST(ConfigGssapiTest, PlainLdapNeedsNoTlsWithGssapi) {
  const ConfigResult result = parse(with_bind(kGssapi));
  ASSERT_TRUE(result.ok()) << errors_of(result.errors);
  const ldap::DomainOptions& domain = result.config->domains[0];
  EXPECT_FALSE(ldap::sends_cleartext(domain.controllers[0], domain.tls, domain.bind));
  EXPECT_TRUE(config_warnings(*result.config).empty());

  const ConfigResult simple =
      parse(with_bind("    bind: {dn: svc@example.test, password_file: /etc/dirfeed/pw}\n"));
  ASSERT_EQ(simple.errors.size(), 1u) << errors_of(simple.errors);
  EXPECT_EQ(simple.errors[0].line, 3);
  EXPECT_NE(simple.errors[0].message.find("would send the bind password"), std::string::npos);
}

TEST(ConfigGssapiTest, PrincipalAndKeytabAreRequired) {
  const ConfigResult result = parse(with_bind("    bind:\n      method: gssapi\n"));
  EXPECT_EQ(errors_of(result.errors),
            "k.yaml:4: domains[0].bind.principal: required key is missing\n"
            "k.yaml:4: domains[0].bind.keytab: required key is missing\n");
}

// The keys of the other method are errors where they are written, with what to do instead.
TEST(ConfigGssapiTest, KeysOfTheOtherMethodAreErrors) {
  const ConfigResult gssapi = parse(with_bind(std::string(kGssapi) +
                                              "      dn: svc@example.test\n"
                                              "      password_file: /etc/dirfeed/pw\n"));
  EXPECT_EQ(errors_of(gssapi.errors),
            "k.yaml:8: domains[0].bind.dn: not used with method gssapi (it binds with "
            "principal and keytab)\n"
            "k.yaml:9: domains[0].bind.password_file: not used with method gssapi (it binds "
            "with principal and keytab)\n");

  const ConfigResult simple = parse(with_bind("    bind:\n"
                                              "      dn: svc@example.test\n"
                                              "      password_file: /etc/dirfeed/pw\n"
                                              "      keytab: /etc/dirfeed/dirfeed.keytab\n",
                                              "[ldaps://dc1.example.test]"));
  EXPECT_EQ(errors_of(simple.errors),
            "k.yaml:7: domains[0].bind.keytab: not used with method simple (for a Kerberos "
            "bind write method: gssapi)\n");
}

TEST(ConfigGssapiTest, PrincipalMustBeNameAtUpperCaseRealm) {
  for (const char* bad : {"svc-dirfeed", "svc-dirfeed@example.test", "@EXAMPLE.TEST",
                          "svc-dirfeed@", "svc dirfeed@EXAMPLE.TEST"}) {
    const ConfigResult result = parse(with_bind(std::string("    bind:\n"
                                                            "      method: gssapi\n"
                                                            "      principal: \"") +
                                                bad +
                                                "\"\n"
                                                "      keytab: /etc/dirfeed/dirfeed.keytab\n"));
    ASSERT_EQ(result.errors.size(), 1u) << bad << "\n" << errors_of(result.errors);
    EXPECT_EQ(result.errors[0].to_string(),
              "k.yaml:6: domains[0].bind.principal: \"" + std::string(bad) +
                  "\" is not a Kerberos principal (NAME@REALM, the realm in upper case, e.g. "
                  "svc-dirfeed@EXAMPLE.TEST)");
  }
  // An instance part is allowed (service principals such as HTTP/host@REALM).
  const ConfigResult instance = parse(with_bind(std::string("    bind:\n"
                                                            "      method: gssapi\n"
                                                            "      principal: dirfeed/"
                                                            "host1.example.test@EXAMPLE.TEST\n"
                                                            "      keytab: /k\n")));
  EXPECT_TRUE(instance.ok()) << errors_of(instance.errors);
}

TEST(ConfigGssapiTest, KeytabMustBeAbsolute) {
  const ConfigResult result = parse(with_bind(std::string("    bind:\n"
                                                          "      method: gssapi\n"
                                                          "      principal: svc@EXAMPLE.TEST\n"
                                                          "      keytab: dirfeed.keytab\n")));
  EXPECT_EQ(errors_of(result.errors),
            "k.yaml:7: domains[0].bind.keytab: \"dirfeed.keytab\" is not an absolute path\n");
}

// The service principal is ldap/<host as written in the URI>: an address cannot be one.
TEST(ConfigGssapiTest, ControllersNeedHostNames) {
  const ConfigResult result = parse(
      with_bind(kGssapi, "\n      - ldap://10.0.0.5\n      - ldaps://[2001:db8::1]:636\n"
                         "      - ldap://dc2.example.test:389"));
  EXPECT_EQ(errors_of(result.errors),
            "k.yaml:4: domains[0].controllers[0]: \"ldap://10.0.0.5\": a Kerberos bind needs "
            "the DC's DNS host name in the URI (its service principal is ldap/<host name>), "
            "not an address\n"
            "k.yaml:5: domains[0].controllers[1]: \"ldaps://[2001:db8::1]:636\": a Kerberos "
            "bind needs the DC's DNS host name in the URI (its service principal is ldap/<host "
            "name>), not an address\n");
}

// check_files(): the keytab is read and must hold a key for the principal.
class CheckKeytabTest : public ::testing::Test {
 protected:
  // The keytab is on line 8.
  std::vector<ConfigError> check(const std::string& keytab) {
    const std::string yaml = "state_dir: " + dir_.path() + "/state\n" +
                             with_bind("    bind:\n"
                                       "      method: gssapi\n"
                                       "      principal: svc-dirfeed@EXAMPLE.TEST\n"
                                       "      keytab: " + keytab + "\n") +
                             "api: {users_file: " + dir_.path() + "/u, keys_file: " +
                             dir_.path() + "/k}\n";
    ConfigResult result = parse_config(yaml, "c.yaml");
    EXPECT_TRUE(result.ok()) << errors_of(result.errors);
    return result.ok() ? check_files(*result.config) : std::vector<ConfigError>{};
  }
  TempDir dir_;
};

TEST_F(CheckKeytabTest, KeytabWithTheKey) {
  const std::string keytab = dir_.path() + "/dirfeed.keytab";
  testing::write_keytab(keytab, "svc-dirfeed@EXAMPLE.TEST", "Secret!1");
  EXPECT_EQ(errors_of(check(keytab)), "");
}

TEST_F(CheckKeytabTest, MissingKeytab) {
  const std::string keytab = dir_.path() + "/none.keytab";
  EXPECT_EQ(errors_of(check(keytab)), "c.yaml:8: domains[0].bind.keytab: cannot read " + keytab +
                                          ": No such file or directory\n");
}

// The principals it does hold are named: usually the principal is just spelled differently.
TEST_F(CheckKeytabTest, KeytabWithoutTheKeyNamesWhatItHolds) {
  const std::string keytab = dir_.path() + "/other.keytab";
  testing::write_keytab(keytab, "svc-other@EXAMPLE.TEST", "Secret!1");
  EXPECT_EQ(errors_of(check(keytab)), "c.yaml:8: domains[0].bind.keytab: keytab " + keytab +
                                          " has no key for svc-dirfeed@EXAMPLE.TEST (it has: "
                                          "svc-other@EXAMPLE.TEST)\n");
}

TEST_F(CheckKeytabTest, NotAKeytab) {
  const std::string keytab = dir_.write("dirfeed.keytab", "a password, not a keytab\n");
  EXPECT_EQ(errors_of(check(keytab)),
            "c.yaml:8: domains[0].bind.keytab: " + keytab + " is not a keytab\n");
}

}  // namespace
}  // namespace dirfeed::daemon
