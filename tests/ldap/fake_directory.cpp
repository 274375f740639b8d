// The fake domain's state and its scripting (fake_directory.hpp); its answers are in
// fake_session.cpp.
#include "tests/ldap/fake_directory.hpp"

#include <ldap.h>

#include <algorithm>

#include "tests/ldap/fake_values.hpp"

namespace dirfeed::ldap::testing {

using namespace fake_detail;

const std::string& FakeEntry::first(const std::string& name) const {
  static const std::string kNone;
  auto it = attributes.find(name);
  return it == attributes.end() || it->second.empty() ? kNone : it->second.front();
}

// A session with one FakeDc, opened at the DC's connection generation of the time.

std::string FakeDc::ds_service_name() const {
  return "CN=NTDS Settings,CN=" + name_ + ",CN=Servers,CN=Default-First-Site-Name,CN=Sites," +
         "CN=Configuration," + base_dn_;
}

std::string FakeDc::invocation_id() const {
  std::lock_guard lock(mutex_);
  return invocation_id_;
}

int64_t FakeDc::highest_usn() const {
  std::lock_guard lock(mutex_);
  return highest_usn_;
}

std::string FakeDc::add_user(const std::string& name) {
  std::lock_guard lock(mutex_);
  FakeEntry user;
  std::string guid = unique_id('U');
  user.dn = "CN=" + name + ",CN=Users," + base_dn_;
  std::vector<uint32_t> user_sid = kDomainSid;
  user_sid.push_back(static_cast<uint32_t>(1000 + objects_.size()));
  user.attributes = {
      {"objectguid", {guid}},
      {"objectsid", {sid(user_sid)}},
      {"objectclass", {"top", "person", "organizationalPerson", "user"}},
      {"objectcategory", {"CN=Person,CN=Schema,CN=Configuration," + base_dn_}},
      {"samaccountname", {name}},
      {"name", {name}},
      {"useraccountcontrol", {"512"}},
      {"primarygroupid", {"513"}},
      {"usnchanged", {std::to_string(next_usn())}},
  };
  objects_.push_back(std::move(user));
  return guid;
}

std::string FakeDc::add_group(const std::string& name, const std::vector<std::string>& members) {
  std::lock_guard lock(mutex_);
  FakeEntry group;
  std::string guid = unique_id('G');
  group.dn = "CN=" + name + ",CN=Users," + base_dn_;
  std::vector<uint32_t> group_sid = kDomainSid;
  group_sid.push_back(static_cast<uint32_t>(1000 + objects_.size()));
  group.attributes = {
      {"objectguid", {guid}},
      {"objectsid", {sid(group_sid)}},
      {"objectclass", {"top", "group"}},
      {"objectcategory", {"CN=Group,CN=Schema,CN=Configuration," + base_dn_}},
      {"samaccountname", {name}},
      {"name", {name}},
      {"grouptype", {"-2147483646"}},
      {"usnchanged", {std::to_string(next_usn())}},
  };
  if (!members.empty()) group.attributes["member"] = members;
  objects_.push_back(std::move(group));
  return guid;
}

FakeEntry* FakeDc::find_object(const std::string& guid) {
  for (FakeEntry& entry : objects_) {
    if (entry.first("objectguid") == guid) return &entry;
  }
  return nullptr;
}

void FakeDc::set(const std::string& guid, const std::string& attribute, const std::string& value) {
  std::lock_guard lock(mutex_);
  FakeEntry* entry = find_object(guid);
  if (!entry) return;
  entry->attributes[attribute] = {value};
  entry->attributes["usnchanged"] = {std::to_string(next_usn())};
}

void FakeDc::remove(const std::string& guid) {
  std::lock_guard lock(mutex_);
  FakeEntry* entry = find_object(guid);
  if (!entry || is_deleted(*entry)) return;
  FakeEntry tombstone;
  const std::string& name = entry->first("name");
  tombstone.dn = "CN=" + name + "\\0ADEL:" + to_hex(guid) + ",CN=Deleted Objects," + base_dn_;
  for (const char* kept : {"objectguid", "objectsid", "objectclass", "samaccountname", "name"}) {
    if (auto it = entry->attributes.find(kept); it != entry->attributes.end()) {
      tombstone.attributes.insert(*it);
    }
  }
  tombstone.attributes["isdeleted"] = {"TRUE"};
  tombstone.attributes["usnchanged"] = {std::to_string(next_usn())};
  *entry = std::move(tombstone);
  for (FakeEntry& group : objects_) {
    auto it = group.attributes.find("member");
    if (it == group.attributes.end()) continue;
    if (std::erase(it->second, guid) > 0) {
      group.attributes["usnchanged"] = {std::to_string(next_usn())};
    }
  }
}

void FakeDc::replicate_from(const FakeDc& source) {
  std::scoped_lock lock(mutex_, source.mutex_);
  auto without_usn = [](FakeEntry entry) {
    entry.attributes.erase("usnchanged");
    return entry.attributes;
  };
  for (const FakeEntry& theirs : source.objects_) {
    FakeEntry* ours = find_object(theirs.first("objectguid"));
    if (ours && ours->dn == theirs.dn && without_usn(*ours) == without_usn(theirs)) continue;
    FakeEntry copy = theirs;
    copy.attributes["usnchanged"] = {std::to_string(next_usn())};
    if (ours) {
      *ours = std::move(copy);
    } else {
      objects_.push_back(std::move(copy));
    }
  }
  auto raise = [&](const std::string& invocation, int64_t usn) {
    if (invocation == invocation_id_) return;
    int64_t& have = up_to_date_[invocation];
    have = std::max(have, usn);
  };
  raise(source.invocation_id_, source.highest_usn_);
  for (const auto& [invocation, usn] : source.up_to_date_) raise(invocation, usn);
}

void FakeDc::restore_from_backup() {
  std::lock_guard lock(mutex_);
  // AD keeps the retired invocationId in the vector: its changes are not replicated again.
  up_to_date_[invocation_id_] = highest_usn_;
  invocation_id_ = unique_id('I');
}

void FakeDc::roll_back_to(int64_t usn) {
  std::lock_guard lock(mutex_);
  std::erase_if(objects_, [&](const FakeEntry& entry) {
    return number(entry.first("usnchanged")) > usn;
  });
  highest_usn_ = usn;
}

void FakeDc::set_down(bool down) {
  std::lock_guard lock(mutex_);
  down_ = down;
  notified_.notify_all();
}

void FakeDc::set_refuse_bind(bool refuse) {
  std::lock_guard lock(mutex_);
  refuse_bind_ = refuse;
}

void FakeDc::fail_operation(int n, bool stay_down) {
  std::lock_guard lock(mutex_);
  fail_countdown_ = n;
  fail_stays_down_ = stay_down;
}

void FakeDc::close_connections() {
  std::lock_guard lock(mutex_);
  ++generation_;
  notified_.notify_all();
}

void FakeDc::set_dirsync_stuck(bool stuck) {
  std::lock_guard lock(mutex_);
  dirsync_stuck_ = stuck;
}

void FakeDc::set_refuse_cookies(bool refuse) {
  std::lock_guard lock(mutex_);
  refuse_cookies_ = refuse;
}

void FakeDc::set_dirsync_round_size(size_t objects) {
  std::lock_guard lock(mutex_);
  dirsync_round_size_ = objects;
}

void FakeDc::set_member_range_stuck(bool stuck) {
  std::lock_guard lock(mutex_);
  member_range_stuck_ = stuck;
}

void FakeDc::set_max_val_range(size_t values) {
  std::lock_guard lock(mutex_);
  max_val_range_ = values;
}

void FakeDc::notify() {
  std::lock_guard lock(mutex_);
  ++notifications_;
  notified_.notify_all();
}

uint64_t FakeDc::notifications_read() const {
  std::lock_guard lock(mutex_);
  return notifications_read_;
}

int FakeDc::opens() const {
  std::lock_guard lock(mutex_);
  return opens_;
}

int FakeDc::operations() const {
  std::lock_guard lock(mutex_);
  return operations_;
}

std::vector<std::string> FakeDc::dirsync_cookies() const {
  std::lock_guard lock(mutex_);
  return dirsync_cookies_;
}

FakeDc& FakeDomain::add_dc(const std::string& name) {
  const std::string uri = "ldaps://" + name + "." + domain_;
  const int64_t first_usn = 1000 + 4000 * static_cast<int64_t>(dcs_.size());
  dcs_.push_back(std::make_unique<FakeDc>(uri, name, domain_, first_usn, clock_));
  return *dcs_.back();
}

DirectoryOpener FakeDomain::opener() {
  return [this](const std::string& uri, const TlsOptions&, const BindOptions& bind,
                std::chrono::milliseconds, Error& error,
                KerberosCredentials*) -> std::unique_ptr<Directory> {
    {
      std::lock_guard lock(mutex_);
      opened_.push_back(uri);
    }
    for (const auto& dc : dcs_) {
      if (dc->uri() == uri) return dc->open(bind, error);
    }
    error = {LDAP_SERVER_DOWN, lost_connection(uri, "connect")};
    return nullptr;
  };
}

std::vector<std::string> FakeDomain::take_opened() {
  std::lock_guard lock(mutex_);
  return std::exchange(opened_, {});
}

}  // namespace dirfeed::ldap::testing
