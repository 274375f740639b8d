#pragma once
// A real store in a temp dir with AD users alice, bob and the machine account WS1$ of domain
// example.test (NetBIOS EXAMPLE), for the ipsource tests.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "changefeed/store.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::ipsource::testing {

class IpSourceStoreTest : public ::testing::Test {
 protected:
  IpSourceStoreTest() {
    std::string error;
    store_ = changefeed::Store::open({temp_.path() + "/db"}, clock_, &error);
    EXPECT_NE(store_, nullptr) << error;
    std::vector<pb::ObservedObject> page;
    for (const char* name : {"alice", "bob", "WS1$"}) {
      pb::ObservedObject observed;
      pb::DirectoryObject& user = *observed.mutable_object();
      user.set_guid(guid(name));
      user.set_kind(pb::USER);
      user.set_dn(std::string("CN=") + name + ",CN=Users,DC=example,DC=test");
      user.set_sam_account_name(name);
      user.set_netbios_domain("EXAMPLE");
      user.set_user_principal_name(std::string(name) + "@example.test");
      page.push_back(observed);
    }
    pb::Cursor cursor;
    cursor.set_domain("example.test");
    cursor.set_netbios_name("EXAMPLE");
    EXPECT_TRUE(store_->apply_page("example.test", page, cursor).is_ok());
  }

  static std::string guid(const std::string& name) {
    std::string bytes(16, '\x11');
    for (size_t i = 0; i < name.size() && i < 16; ++i) bytes[i] = name[i];
    return bytes;
  }

  // The user's mapped IPv4 and IPv6 addresses.
  std::vector<std::string> ips(const std::string& name) {
    std::vector<std::string> result;
    if (auto user = store_->object_by_guid(guid(name))) {
      result.assign(user->ipv4_addresses().begin(), user->ipv4_addresses().end());
      result.insert(result.end(), user->ipv6_addresses().begin(), user->ipv6_addresses().end());
    }
    return result;
  }

  dirfeed::testing::TempDir temp_;
  SystemClock clock_;
  std::unique_ptr<changefeed::Store> store_;
};

}  // namespace dirfeed::ipsource::testing
