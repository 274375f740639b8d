#pragma once
// A scripted, in-memory Active Directory domain behind ldap::Directory, so that the poller's
// decisions are unit-tested in milliseconds (tests/ldap/poller_test.cpp). It answers the
// searches a pass makes as AD does, as far as the pass can tell: the rootDSE
// (highestCommittedUSN, dsServiceName, configurationNamingContext, defaultNamingContext), the
// NTDS Settings object's invocationId, the domain head (objectSid, replUpToDateVector), the
// Partitions crossRef (nETBIOSName), users and groups with uSNChanged, tombstones (Show
// Deleted), paged searches, ranged `member` (MaxValRange), DirSync with cookies and the
// incremental-values flag, and change notifications.
//
// What it is not: an LDAP server. Filters are parsed (&, |, !, =, =*, >=, <=; anything else is
// a filter error, so a test notices), attribute values compare without regard to case, and a
// DirSync with a cookie returns every requested attribute of a changed object (AD returns only
// the changed ones; the pass must take both), with incremental values the current members as
// added (`member;range=1-1`), never removals; a cookie of another DC or invocationId starts
// from the beginning. The behaviour of a real DC is for the Samba
// tests (tests/integration/).
//
// Threading: every method may be called from any thread (the notifier reads from its own).
// A Directory opened on a FakeDc refers to it: the FakeDomain must outlive every poller and
// notifier given its opener().
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "ldap/directory.hpp"

namespace dirfeed::ldap::testing {

// One entry of a fake DC: its DN and attributes (lower-case names). `member` holds the GUIDs
// (16 bytes) of the members; they are written as DNs when read.
struct FakeEntry {
  std::string dn;
  std::map<std::string, std::vector<std::string>> attributes;
  const std::string& first(const std::string& name) const;
};

// One domain controller. Each write to an object takes the DC's next USN as its uSNChanged,
// as AD does.
class FakeDc {
 public:
  // `name` is the DC's host name ("dc1"), `first_usn` its highestCommittedUSN before any object.
  // `clock` times a wait for a notification (next_notification's timeout).
  FakeDc(std::string uri, std::string name, std::string domain, int64_t first_usn,
         const MonotonicClock& clock = steady_clock());

  const std::string& uri() const { return uri_; }
  const std::string& base_dn() const { return base_dn_; }
  std::string ds_service_name() const;
  std::string invocation_id() const;
  int64_t highest_usn() const;

  // What FakeDomain's opener does for this DC: a Directory onto it, or nullptr and `error`
  // when the DC is down or refuses binds.
  std::unique_ptr<Directory> open(const BindOptions& bind, Error& error);

  // ---- objects ------------------------------------------------------------------------------
  // A user CN=<name>,CN=Users,<base> (sAMAccountName <name>); returns its objectGUID.
  std::string add_user(const std::string& name);
  // A group CN=<name>,CN=Users,<base> with the given members (GUIDs); returns its objectGUID.
  std::string add_group(const std::string& name, const std::vector<std::string>& members = {});
  // Sets one attribute (lower-case name) of the object `guid` to `value`.
  void set(const std::string& guid, const std::string& attribute, const std::string& value);
  // Deletes the object as AD does: a tombstone under CN=Deleted Objects that keeps only
  // objectGUID, objectSid, objectClass, sAMAccountName, name and isDeleted=TRUE (no
  // objectCategory); it leaves the groups it was a member of (each one a change).
  void remove(const std::string& guid);
  // Replication from `source`: every object of `source` as it is there (same GUIDs and values,
  // tombstones too), each written here with a USN of this DC's; the up-to-dateness vector
  // then covers `source` (and what `source` had replicated).
  void replicate_from(const FakeDc& source);

  // ---- the DC's identity ---------------------------------------------------------------------
  // A restore from backup done right: a new invocationId, the USNs go on.
  void restore_from_backup();
  // A restore done wrong (a VM snapshot reverted): the DC forgets every write after `usn`
  // (objects created later vanish, no tombstone) and counts on from there, same invocationId.
  void roll_back_to(int64_t usn);

  // ---- scripted failures ---------------------------------------------------------------------
  // Opening a Directory fails as for an unreachable DC; open ones fail their next operation.
  void set_down(bool down);
  // Binds are refused as AD refuses a wrong password (LDAP 49, "data 52e").
  void set_refuse_bind(bool refuse);
  // The `n`th operation from now (1: the next) fails as a lost connection; with `stay_down`
  // the DC is down from then on. An operation is one read_entry, one page of a paged search,
  // one DirSync round or one start_notification.
  void fail_operation(int n, bool stay_down = true);
  // Every open Directory fails its next operation, as a connection the DC closed while idle;
  // new ones work.
  void close_connections();
  // DirSync always says "more data" and answers with the cookie it was sent (a new one when
  // sent none).
  void set_dirsync_stuck(bool stuck);
  // A DirSync from any cookie fails as Samba answers a cookie it cannot parse
  // (unavailableCriticalExtension); from none it works.
  void set_refuse_cookies(bool refuse);
  // Objects per DirSync round (0: every change in one round, as Samba does).
  void set_dirsync_round_size(size_t objects);
  // A ranged read of `member` always answers the first range again (values 0 to step - 1).
  void set_member_range_stuck(bool stuck);
  // Values of `member` returned at once when plain `member` is asked for (AD's MaxValRange).
  void set_max_val_range(size_t values);

  // ---- change notifications --------------------------------------------------------------------
  // Every started notification search gets one entry.
  void notify();
  // How many notifications the notification searches on this DC have read.
  uint64_t notifications_read() const;

  // ---- what the DC saw -------------------------------------------------------------------------
  int opens() const;       // Directories opened (binds that succeeded)
  int operations() const;  // operations answered or failed
  // The cookies of the DirSync rounds it was asked for, in order.
  std::vector<std::string> dirsync_cookies() const;

 private:
  friend class FakeDirectory;

  // Runs under mutex_.
  int64_t next_usn() { return ++highest_usn_; }
  FakeEntry* find_object(const std::string& guid);
  std::vector<FakeEntry> search(const SearchRequest& request, Error& error) const;
  Entry render(const FakeEntry& entry, const SearchRequest& request, bool dirsync_values) const;
  std::string dn_value(const std::string& guid, bool extended) const;
  FakeEntry root_dse() const;
  FakeEntry domain_head() const;
  std::string up_to_date_vector() const;
  // Starts one operation of a Directory opened at `generation`: the scripted failure, if due.
  Error begin_operation(uint64_t generation, const std::string& what);

  const std::string uri_;
  const std::string name_;
  const std::string domain_;
  const std::string base_dn_;
  const MonotonicClock& clock_;
  mutable std::mutex mutex_;  // guards the members below
  std::condition_variable notified_;
  std::string invocation_id_;
  int64_t highest_usn_;
  std::deque<FakeEntry> objects_;  // users, groups and tombstones, in creation order
  std::map<std::string, int64_t> up_to_date_;  // invocationId -> USN replicated from it
  bool down_ = false;
  bool refuse_bind_ = false;
  int fail_countdown_ = 0;
  bool fail_stays_down_ = true;
  uint64_t generation_ = 0;  // close_connections() moves it on
  bool dirsync_stuck_ = false;
  bool refuse_cookies_ = false;
  size_t dirsync_round_size_ = 0;
  bool member_range_stuck_ = false;
  size_t max_val_range_ = 1500;
  uint64_t notifications_ = 0;
  uint64_t notifications_read_ = 0;
  int opens_ = 0;
  int operations_ = 0;
  std::vector<std::string> dirsync_cookies_;
};

// The DCs of one domain, by URI, and the DirectoryOpener onto them.
class FakeDomain {
 public:
  // `clock`: its DCs' (FakeDc), which must outlive them.
  explicit FakeDomain(std::string domain = "example.test",
                      const MonotonicClock& clock = steady_clock())
      : domain_(std::move(domain)), clock_(clock) {}

  // A DC ldaps://<name>.<domain>; each one's USNs start elsewhere (1000, 5000, 9000...).
  FakeDc& add_dc(const std::string& name);
  const std::string& domain() const { return domain_; }

  // Opens Directories onto these DCs; a URI of none is unreachable. Records each URI asked for.
  // Add every DC before handing the opener out.
  DirectoryOpener opener();
  // The URIs open was asked for, in order; cleared by take_opened().
  std::vector<std::string> take_opened();

 private:
  const std::string domain_;
  const MonotonicClock& clock_;
  std::deque<std::unique_ptr<FakeDc>> dcs_;
  std::mutex mutex_;  // guards opened_
  std::vector<std::string> opened_;
};

}  // namespace dirfeed::ldap::testing
