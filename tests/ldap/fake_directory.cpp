#include "tests/ldap/fake_directory.hpp"

#include <ldap.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>

#include "ldap/ad_object.hpp"
#include "tests/ldap/fake_filter.hpp"

namespace dirfeed::ldap::testing {
namespace {

constexpr char kCookiePrefix[] = "fake-dirsync:";
// LDAP_DIRSYNC_INCREMENTAL_VALUES: linked values as deltas (member;range=1-1 / 0-0).
constexpr unsigned kIncrementalValues = 0x80000000u;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

// A binary SID S-1-5-<sub_authorities...>.
std::string sid(const std::vector<uint32_t>& sub_authorities) {
  std::string out;
  out += '\x01';
  out += static_cast<char>(sub_authorities.size());
  out += std::string("\0\0\0\0\0\x05", 6);
  for (uint32_t sub : sub_authorities) put_le(out, sub, 4);
  return out;
}
const std::vector<uint32_t> kDomainSid = {21, 1111, 2222, 3333};

// 16 bytes that no other call returns: GUIDs and invocationIds.
std::string unique_id(char kind) {
  static std::atomic<uint64_t> next{1};
  std::string id(8, kind);
  put_le(id, next++, 8);
  return id;
}

int64_t number(const std::string& text) {
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// The DN one level up ("" for a top-level DN).
std::string parent_of(const std::string& dn) {
  for (size_t i = 0; i < dn.size(); ++i) {
    if (dn[i] == '\\') {
      ++i;
    } else if (dn[i] == ',') {
      return dn.substr(i + 1);
    }
  }
  return {};
}

bool in_scope(const std::string& dn, const std::string& base, Scope scope) {
  switch (scope) {
    case Scope::kBase:
      return lower(dn) == lower(base);
    case Scope::kOneLevel:
      return lower(parent_of(dn)) == lower(base);
    case Scope::kSubtree:
      return dn_is_under(dn, base);
  }
  return false;
}

bool is_deleted(const FakeEntry& entry) { return lower(entry.first("isdeleted")) == "true"; }

std::string lost_connection(const std::string& uri, const std::string& what) {
  return uri + ": " + what + " failed: Can't contact LDAP server";
}

}  // namespace

const std::string& FakeEntry::first(const std::string& name) const {
  static const std::string kNone;
  auto it = attributes.find(name);
  return it == attributes.end() || it->second.empty() ? kNone : it->second.front();
}

// A session with one FakeDc, opened at the DC's connection generation of the time.
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
      // A cookie of this DC's database carries its USN; any other (empty, another DC's, an
      // older invocationId's) starts from the beginning.
      const std::string own = kCookiePrefix + hex(dc_.invocation_id_) + ":";
      const bool from_start = cookie.rfind(own, 0) != 0;
      const int64_t since = from_start ? 0 : number(cookie.substr(own.size()));
      SearchRequest everything = request;
      everything.show_deleted = !from_start;
      Error error;
      std::vector<FakeEntry> changed;
      for (FakeEntry& entry : dc_.search(everything, error)) {
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
    dc_.notified_.wait_for(lock, timeout,
                           [&] { return gone() || dc_.notifications_ > notifications_seen_; });
    if (gone()) return {LDAP_SERVER_DOWN, lost_connection(uri(), "notification search")};
    if (dc_.notifications_ > notifications_seen_) {
      ++notifications_seen_;
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

FakeDc::FakeDc(std::string uri, std::string name, std::string domain, int64_t first_usn)
    : uri_(std::move(uri)),
      name_(std::move(name)),
      domain_(std::move(domain)),
      base_dn_(base_dn_from_domain(domain_)),
      invocation_id_(unique_id('I')),
      highest_usn_(first_usn) {}

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

void FakeDc::set_members(const std::string& guid, const std::vector<std::string>& members) {
  std::lock_guard lock(mutex_);
  FakeEntry* entry = find_object(guid);
  if (!entry) return;
  entry->attributes["member"] = members;
  entry->attributes["usnchanged"] = {std::to_string(next_usn())};
}

void FakeDc::remove(const std::string& guid) {
  std::lock_guard lock(mutex_);
  FakeEntry* entry = find_object(guid);
  if (!entry || is_deleted(*entry)) return;
  FakeEntry tombstone;
  const std::string& name = entry->first("name");
  tombstone.dn = "CN=" + name + "\\0ADEL:" + hex(guid) + ",CN=Deleted Objects," + base_dn_;
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
  std::string netbios = domain_.substr(0, domain_.find('.'));
  std::transform(netbios.begin(), netbios.end(), netbios.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
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
  const bool in_configuration = dn_is_under(request.base, configuration);
  std::vector<FakeEntry> found;
  for (const FakeEntry* entry : candidates) {
    if (!in_scope(entry->dn, request.base, request.scope)) continue;
    if (!in_configuration && dn_is_under(entry->dn, configuration)) continue;
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
    std::string value = "<GUID=" + hex(guid) + ">;";
    if (!entry.first("objectsid").empty()) value += "<SID=" + hex(entry.first("objectsid")) + ">;";
    return value + entry.dn;
  }
  return "<GUID=" + hex(guid) + ">;CN=unknown," + base_dn_;
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

FakeDc& FakeDomain::add_dc(const std::string& name) {
  const std::string uri = "ldaps://" + name + "." + domain_;
  const int64_t first_usn = 1000 + 4000 * static_cast<int64_t>(dcs_.size());
  dcs_.push_back(std::make_unique<FakeDc>(uri, name, domain_, first_usn));
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
