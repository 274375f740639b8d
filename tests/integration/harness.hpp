#pragma once
// Shared pieces of the integration tests: a store in a temp dir fed by a DomainPoller that
// talks to the Samba DC fixture.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "changefeed/store.hpp"
#include "core/base64.hpp"
#include "core/guid.hpp"
#include "daemon/store_sink.hpp"
#include "ldap/poller.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::testing {

// `unicodePwd:: ...` line setting `password` (AD wants UTF-16LE of the quoted password).
inline std::string unicode_pwd_line(const std::string& password) {
  std::string quoted = "\"" + password + "\"";
  std::string utf16;
  for (char c : quoted) {
    utf16.push_back(c);
    utf16.push_back('\0');
  }
  return "unicodePwd:: " + base64_encode(utf16) + "\n";
}

inline ldap::DomainOptions domain_options(const SambaDc& dc, ldap::Strategy strategy) {
  ldap::DomainOptions options;
  options.name = dc.domain();
  options.base_dn = dc.base_dn();
  options.controllers = {dc.uri()};
  options.tls.ca_file = dc.ca_file();
  options.bind.dn = dc.admin_dn();
  options.bind.password_file = dc.password_file();
  options.sync.strategy = strategy;
  options.sync.page_size = 200;
  options.sync.member_range_step = 100;
  return options;
}

// A store in a temp dir and a poller for the domain, wired as the daemon wires them
// (daemon::StoreSink); reopen() simulates a restart.
class SyncHarness {
 public:
  SyncHarness(const SambaDc& dc, ldap::Strategy strategy)
      : SyncHarness(domain_options(dc, strategy)) {}
  explicit SyncHarness(ldap::DomainOptions options) : options_(std::move(options)) { reopen(); }

  void reopen() {
    poller_.reset();
    sink_.reset();
    store_.reset();
    std::string error;
    store_ = changefeed::Store::open({dir_.path() + "/feed"}, clock_, &error);
    ASSERT_TRUE(store_) << error;
    sink_ = std::make_unique<daemon::StoreSink>(*store_, false,
                                                daemon::DeleteAllowance(dir_.path()));
    poller_ = std::make_unique<ldap::DomainPoller>(options_, *sink_, clock_);
  }

  // The poller writes through `sink` from now on (a wrapper of sink(), say); it must outlive
  // the harness or the next set_sink / reopen.
  void set_sink(ldap::PassSink& sink) {
    poller_ = std::make_unique<ldap::DomainPoller>(options_, sink, clock_);
  }

  // Runs one pass and fails the test unless it succeeded.
  ldap::PassResult run_pass() {
    std::atomic<bool> stop{false};
    ldap::PassResult result = poller_->run_pass(stop);
    EXPECT_TRUE(result.ok) << result.error;
    return result;
  }

  // run_pass(), returning the changes it recorded.
  std::vector<pb::Change> pass() {
    const uint64_t before = store_->last_sequence();
    (void)run_pass();
    return changes_after(before);
  }

  std::vector<pb::Change> changes_after(uint64_t sequence) const {
    std::vector<pb::Change> changes;
    store_->changes_after_sequence(sequence, {}, [&](const pb::Change& change) {
      changes.push_back(change);
      return true;
    });
    return changes;
  }

  changefeed::Store& store() { return *store_; }
  daemon::StoreSink& sink() { return *sink_; }
  ldap::DomainPoller& poller() { return *poller_; }
  ldap::DomainOptions& options() { return options_; }
  const std::string& state_dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  SystemClock clock_;
  ldap::DomainOptions options_;
  std::unique_ptr<changefeed::Store> store_;
  std::unique_ptr<daemon::StoreSink> sink_;
  std::unique_ptr<ldap::DomainPoller> poller_;
};

// A change in a form tests can compare: "modify user CN=...", "add membership alice>Engineers".
// `names` maps GUIDs to short names for membership lines.
inline std::string summarize(const pb::Change& change,
                             const std::map<std::string, std::string>& names) {
  auto name_of = [&](const std::string& guid) {
    auto it = names.find(guid);
    return it == names.end() ? guid_to_string(guid) : it->second;
  };
  std::string type = change.type() == pb::ADD      ? "add"
                     : change.type() == pb::MODIFY ? "modify"
                     : change.type() == pb::DELETE ? "delete"
                                                   : "other";
  switch (change.kind()) {
    case pb::USER: return type + " user " + name_of(change.object().guid());
    case pb::GROUP: return type + " group " + name_of(change.object().guid());
    case pb::MEMBERSHIP:
      return type + " membership " + name_of(change.membership().user_guid()) + ">" +
             name_of(change.membership().group_guid());
    default: return type + " ?";
  }
}

// `text` as a double-quoted YAML scalar.
inline std::string yaml_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

inline std::vector<std::string> sorted(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  return lines;
}

}  // namespace dirfeed::testing
