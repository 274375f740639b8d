// The fake DC's answers (fake_directory.hpp): the Directory a FakeDc opens, its searches,
// DirSync rounds, ranged reads and notifications.
#include <ldap.h>

#include "tests/ldap/fake_directory.hpp"
#include "tests/ldap/fake_filter.hpp"
#include "tests/ldap/fake_values.hpp"

namespace dirfeed::ldap::testing {

using namespace fake_detail;

// A session with one FakeDc, opened at the DC's connection generation of the time (a later
// close_connections() ends it).
class FakeDirectory final : public Directory {
 public:
  FakeDirectory(FakeDc& dc, uint64_t generation) : dc_(dc), generation_(generation) {}

  const std::string& uri() const override { return dc_.uri(); }

  Error paged_search(const SearchRequest& request, int page_size, const EntryVisitor& on_entry,
                     const std::function<bool()>& on_page_end) override {
    std::vector<Entry> entries;
    {
      std::lock_guard lock(dc_.mutex_);
      if (Error error = dc_.begin_operation(generation_, "search")) return error;
      Error error;
      for (const FakeEntry& entry : dc_.search(request, error)) {
        entries.push_back(dc_.render(entry, request, false));
      }
      if (error) return error;
    }
    const size_t size = static_cast<size_t>(std::max(page_size, 1));
    for (size_t at = 0;; at += size) {
      if (at > 0) {  // each further page is another round trip
        std::lock_guard lock(dc_.mutex_);
        if (Error error = dc_.begin_operation(generation_, "search")) return error;
      }
      for (size_t i = at; i < std::min(at + size, entries.size()); ++i) {
        if (!on_entry(std::move(entries[i]))) return {};
      }
      if (!on_page_end() || at + size >= entries.size()) return {};
    }
  }

  Error dirsync_search(const SearchRequest& request, int flags, const std::string& cookie,
                       const EntryVisitor& on_entry, std::string& new_cookie,
                       bool& more) override {
    more = false;
    std::vector<Entry> entries;
    {
      std::lock_guard lock(dc_.mutex_);
      if (Error error = dc_.begin_operation(generation_, "DirSync search")) return error;
      dc_.dirsync_cookies_.push_back(cookie);
      if (dc_.refuse_cookies_ && !cookie.empty()) {
        return {12, uri() + ": DirSync search: Unavailable Critical Extension (Unable to "
                            "unmarshall cookie as a ldapControlDirSyncCookie structure)"};
      }
      // A cookie of this DC's database carries its USN; any other (empty, another DC's, an
      // older invocationId's) starts from the beginning.
      const std::string own = kCookiePrefix + to_hex(dc_.invocation_id_) + ":";
      const bool from_start = cookie.rfind(own, 0) != 0;
      const int64_t since = from_start ? 0 : number(cookie.substr(own.size()));
      SearchRequest with_tombstones = request;
      with_tombstones.show_deleted = !from_start;
      Error error;
      std::vector<FakeEntry> changed;
      for (FakeEntry& entry : dc_.search(with_tombstones, error)) {
        if (number(entry.first("usnchanged")) > since) changed.push_back(std::move(entry));
      }
      if (error) return error;
      std::stable_sort(changed.begin(), changed.end(), [](const auto& a, const auto& b) {
        return number(a.first("usnchanged")) < number(b.first("usnchanged"));
      });
      int64_t reached = dc_.highest_usn_;
      if (dc_.dirsync_round_size_ > 0 && changed.size() > dc_.dirsync_round_size_) {
        changed.resize(dc_.dirsync_round_size_);
        reached = number(changed.back().first("usnchanged"));
        more = true;
      }
      new_cookie = own + std::to_string(reached);
      if (dc_.dirsync_stuck_) {
        more = true;
        if (!cookie.empty()) new_cookie = cookie;
      }
      const bool values = (static_cast<unsigned>(flags) & kIncrementalValues) != 0;
      for (const FakeEntry& entry : changed) entries.push_back(dc_.render(entry, request, values));
    }
    for (Entry& entry : entries) {
      if (!on_entry(std::move(entry))) return {};
    }
    return {};
  }

  Error read_entry(const SearchRequest& request, std::optional<Entry>& entry) override {
    entry.reset();
    std::lock_guard lock(dc_.mutex_);
    if (Error error = dc_.begin_operation(generation_, "read")) return error;
    if (request.base.empty()) {
      entry = dc_.render(dc_.root_dse(), request, false);
      return {};
    }
    SearchRequest base = request;
    base.scope = Scope::kBase;
    Error error;
    std::vector<FakeEntry> found = dc_.search(base, error);
    if (!found.empty()) entry = dc_.render(found.front(), request, false);
    return error;
  }

  Error start_notification(const std::string&, Scope) override {
    std::lock_guard lock(dc_.mutex_);
    if (Error error = dc_.begin_operation(generation_, "notification search")) return error;
    notifications_seen_ = dc_.notifications_;
    notifying_ = true;
    return {};
  }

  Error next_notification(std::chrono::milliseconds timeout, bool& changed) override {
    changed = false;
    std::unique_lock lock(dc_.mutex_);
    if (!notifying_) return {LDAP_OTHER, uri() + ": no notification search started"};
    auto gone = [&] { return dc_.down_ || dc_.generation_ != generation_; };
    dc_.clock_.wait_for(lock, dc_.notified_, timeout,
                        [&] { return gone() || dc_.notifications_ > notifications_seen_; });
    if (gone()) return {LDAP_SERVER_DOWN, lost_connection(uri(), "notification search")};
    if (dc_.notifications_ > notifications_seen_) {
      ++notifications_seen_;
      ++dc_.notifications_read_;
      changed = true;
    }
    return {};
  }

 private:
  FakeDc& dc_;
  const uint64_t generation_;
  bool notifying_ = false;
  uint64_t notifications_seen_ = 0;
};

FakeDc::FakeDc(std::string uri, std::string name, std::string domain, int64_t first_usn,
               const MonotonicClock& clock)
    : uri_(std::move(uri)),
      name_(std::move(name)),
      domain_(std::move(domain)),
      base_dn_(base_dn_from_domain(domain_)),
      clock_(clock),
      invocation_id_(unique_id('I')),
      highest_usn_(first_usn) {}

std::unique_ptr<Directory> FakeDc::open(const BindOptions& bind, Error& error) {
  std::lock_guard lock(mutex_);
  if (down_) {
    error = {LDAP_SERVER_DOWN, lost_connection(uri_, "connect")};
    return nullptr;
  }
  if (refuse_bind_) {
    error = {LDAP_INVALID_CREDENTIALS,
             uri_ + ": bind as " + bind.dn + " failed: Invalid credentials (80090308: LdapErr: " +
                 "DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1)"};
    return nullptr;
  }
  ++opens_;
  return std::make_unique<FakeDirectory>(*this, generation_);
}

Error FakeDc::begin_operation(uint64_t generation, const std::string& what) {
  ++operations_;
  if (down_ || generation != generation_) {
    return {LDAP_SERVER_DOWN, lost_connection(uri_, what)};
  }
  if (fail_countdown_ > 0 && --fail_countdown_ == 0) {
    down_ = fail_stays_down_;
    ++generation_;
    notified_.notify_all();
    return {LDAP_SERVER_DOWN, lost_connection(uri_, what)};
  }
  return {};
}

std::vector<FakeEntry> FakeDc::search(const SearchRequest& request, Error& error) const {
  std::string problem;
  std::optional<FakeFilter> filter = parse_filter(request.filter, problem);
  if (!filter) {
    error = {LDAP_FILTER_ERROR, uri_ + ": search failed: Bad search filter (" + problem + ")"};
    return {};
  }
  const std::string configuration = "CN=Configuration," + base_dn_;
  FakeEntry settings{ds_service_name(), {{"objectclass", {"nTDSDSA"}},
                                         {"invocationid", {invocation_id_}}}};
  const std::string netbios = upper(domain_.substr(0, domain_.find('.')));
  FakeEntry cross_ref{"CN=" + netbios + ",CN=Partitions," + configuration,
                      {{"objectclass", {"top", "crossRef"}},
                       {"ncname", {base_dn_}},
                       {"netbiosname", {netbios}}}};
  std::vector<const FakeEntry*> candidates;
  FakeEntry head = domain_head();
  candidates = {&head, &settings, &cross_ref};
  for (const FakeEntry& entry : objects_) candidates.push_back(&entry);
  // The configuration NC is a naming context of its own: a search of the domain does not
  // descend into it.
  const bool in_configuration = dn_within(request.base, configuration);
  std::vector<FakeEntry> found;
  for (const FakeEntry* entry : candidates) {
    if (!in_scope(entry->dn, request.base, request.scope)) continue;
    if (!in_configuration && dn_within(entry->dn, configuration)) continue;
    if (is_deleted(*entry) && !request.show_deleted) continue;
    if (!matches(*filter, entry->attributes)) continue;
    found.push_back(*entry);
  }
  return found;
}

std::string FakeDc::dn_value(const std::string& guid, bool extended) const {
  for (const FakeEntry& entry : objects_) {
    if (entry.first("objectguid") != guid) continue;
    if (!extended) return entry.dn;
    std::string value = "<GUID=" + to_hex(guid) + ">;";
    const std::string& sid = entry.first("objectsid");
    if (!sid.empty()) value += "<SID=" + to_hex(sid) + ">;";
    return value + entry.dn;
  }
  return "<GUID=" + to_hex(guid) + ">;CN=unknown," + base_dn_;
}

Entry FakeDc::render(const FakeEntry& entry, const SearchRequest& request,
                     bool dirsync_values) const {
  Entry out;
  out.dn = entry.dn;
  if (request.extended_dn && !entry.first("objectguid").empty()) {
    out.dn = dn_value(entry.first("objectguid"), true);
  }
  std::vector<std::string> wanted;
  for (const std::string& name : request.attributes) wanted.push_back(lower(name));
  auto asked = [&](const std::string& name) {
    return wanted.empty() || std::find(wanted.begin(), wanted.end(), name) != wanted.end();
  };
  for (const auto& [name, values] : entry.attributes) {
    if (name != "member" && asked(name)) out.attributes.push_back({name, values});
  }
  auto members = entry.attributes.find("member");
  if (members == entry.attributes.end() || members->second.empty()) return out;
  const size_t count = members->second.size();
  // Which member values go out, under which attribute name.
  std::string name;
  size_t start = 0;
  size_t end = count;  // one past the last
  for (const std::string& want : wanted) {
    constexpr std::string_view kRanged = "member;range=";
    if (want.rfind(kRanged, 0) != 0) continue;
    std::string_view range = std::string_view(want).substr(kRanged.size());
    size_t dash = range.find('-');
    start = static_cast<size_t>(number(std::string(range.substr(0, dash))));
    std::string last(dash == std::string_view::npos ? "*" : range.substr(dash + 1));
    size_t step = last == "*" ? max_val_range_ : static_cast<size_t>(number(last)) - start + 1;
    step = std::min(step, max_val_range_);
    if (member_range_stuck_) start = 0;
    end = std::min(count, start + step);
    name = "member;range=" + std::to_string(start) + "-" +
           (end >= count && !member_range_stuck_ ? std::string("*") : std::to_string(end - 1));
  }
  if (name.empty()) {
    if (!asked("member")) return out;
    if (dirsync_values) {
      name = "member;range=1-1";
    } else if (count > max_val_range_) {
      end = max_val_range_;
      name = "member;range=0-" + std::to_string(end - 1);
    } else {
      name = "member";
    }
  }
  Attribute attribute{name, {}};
  for (size_t i = start; i < end; ++i) {
    attribute.values.push_back(dn_value(members->second[i], request.extended_dn));
  }
  out.attributes.push_back(std::move(attribute));
  return out;
}

FakeEntry FakeDc::root_dse() const {
  return {"",
          {{"highestcommittedusn", {std::to_string(highest_usn_)}},
           {"dsservicename", {ds_service_name()}},
           {"configurationnamingcontext", {"CN=Configuration," + base_dn_}},
           {"defaultnamingcontext", {base_dn_}}}};
}

FakeEntry FakeDc::domain_head() const {
  FakeEntry head{base_dn_,
                 {{"objectclass", {"top", "domain", "domainDNS"}},
                  {"objectsid", {sid(kDomainSid)}}}};
  if (!up_to_date_.empty()) head.attributes["repluptodatevector"] = {up_to_date_vector()};
  return head;
}

// UPTODATE_VECTOR_V2_EXT: version 2, reserved, count, reserved; per cursor the invocationId,
// the USN and a sync time.
std::string FakeDc::up_to_date_vector() const {
  std::string out;
  put_le(out, 2, 4);
  put_le(out, 0, 4);
  put_le(out, up_to_date_.size(), 4);
  put_le(out, 0, 4);
  for (const auto& [invocation, usn] : up_to_date_) {
    out += invocation;
    put_le(out, static_cast<uint64_t>(usn), 8);
    put_le(out, 0, 8);
  }
  return out;
}

}  // namespace dirfeed::ldap::testing
