#pragma once
// The Samba DC with its KDC set up for a Kerberos service account: user svc-dirfeed, its
// keytab, a krb5.conf naming the DC's KDC (this process's KRB5_CONFIG, inherited by the
// daemons it starts) and the DC's service principal ldap/dc1.example.test. KRB5CCNAME points
// at a file in the test's directory that nothing may create: dirfeed keeps its tickets in
// memory caches of its own.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "ldap/options.hpp"
#include "tests/support/process.hpp"
#include "tests/support/kerberos.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::testing {

class KerberosFixture : public ::testing::Test {
 protected:
  static constexpr char kPassword[] = "Svc!dirfeed-Passw0rd1";
  static constexpr char kPlainUri[] = "ldap://dc1.example.test";

  // smb.conf settings for this test's DC (with the authentication audit that
  // authorizations() reads).
  virtual std::vector<std::string> dc_options() const {
    return {"log level=1 auth_json_audit:5"};
  }

  void SetUp() override {
    dc().set_options(dc_options());
    dc().reset();
    kerberos_ = std::make_unique<SambaKerberos>(dc(), dir_.path());
    default_cache_ = dir_.path() + "/default-ccache";
    setenv("KRB5CCNAME", ("FILE:" + default_cache_).c_str(), 1);
    principal_ = kerberos_->add_user("svc-dirfeed", kPassword);
    keytab_ = dir_.path() + "/dirfeed.keytab";
    kerberos_->export_keytab(principal_, keytab_);
  }
  void TearDown() override {
    EXPECT_FALSE(std::filesystem::exists(default_cache_))
        << "something used the process's default credential cache";
    dc().set_options({});
    unsetenv("KRB5CCNAME");
    unsetenv("KRB5_CONFIG");
  }

  static SambaDc& dc() { return shared_dc(); }

  ldap::BindOptions gssapi_bind() const {
    ldap::BindOptions bind;
    bind.method = ldap::BindMethod::kGssapi;
    bind.principal = principal_;
    bind.keytab = keytab_;
    return bind;
  }

  // The DC's record of the Kerberos logons of `account` to its LDAP server: the
  // "transportProtection" of each (SEAL, SIGN, TLS or NONE), from its JSON authorization
  // audit.
  std::vector<std::string> authorizations(const std::string& account) const {
    std::vector<std::string> out;
    const std::regex protection("\"transportProtection\":\\s*\"([A-Z]+)\"");
    std::istringstream in(read_text(dc().dir() + "/samba.out"));
    for (std::string line; std::getline(in, line);) {
      if (line.find("\"Authorization\"") == std::string::npos ||
          line.find("\"account\": \"" + account + "\"") == std::string::npos ||
          line.find("\"authType\": \"krb5\"") == std::string::npos) {
        continue;
      }
      std::smatch match;
      if (std::regex_search(line, match, protection)) out.push_back(match[1]);
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<SambaKerberos> kerberos_;
  std::string principal_;
  std::string keytab_;
  std::string default_cache_;
};

}  // namespace dirfeed::testing
