#include "rest/stored_shapes.hpp"

#include <utility>

#include "changefeed/store.hpp"
#include "rest/change_resource.hpp"
#include "rest/dsync_model.hpp"
#include "rest/json.hpp"
#include "rest/uid_model.hpp"

namespace dirfeed::rest {
namespace {

constexpr unsigned char kFromDirectory = 1;
constexpr unsigned char kHasAddresses = 2;
constexpr size_t kGuidSize = 16;

void put_number(std::string& out, size_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void put_text(std::string& out, std::string_view text) {
  put_number(out, text.size(), 4);
  out.append(text);
}

// Reads the record front to back; any read past its end makes it unreadable.
class Reader {
 public:
  explicit Reader(std::string_view record) : rest_(record) {}
  bool ok() const { return ok_; }
  std::string_view rest() const { return rest_; }

  size_t number(size_t bytes) {
    std::string_view raw = take(bytes);
    size_t value = 0;
    for (size_t i = raw.size(); i-- > 0;) value = (value << 8) | static_cast<unsigned char>(raw[i]);
    return value;
  }
  std::string_view take(size_t size) {
    if (!ok_ || size > rest_.size()) {
      ok_ = false;
      return {};
    }
    std::string_view taken = rest_.substr(0, size);
    rest_.remove_prefix(size);
    return taken;
  }
  std::string_view text() { return take(number(4)); }

 private:
  std::string_view rest_;
  bool ok_ = true;
};

// A user with every field the shapes write, for the fingerprint.
pb::DirectoryObject sample_user() {
  pb::DirectoryObject user;
  user.set_guid(std::string(kGuidSize, '\x11'));
  user.set_kind(pb::USER);
  user.set_domain("sample.test");
  user.set_dn("CN=Sample \"User\",DC=sample,DC=test");
  user.set_sam_account_name("sample");
  user.set_sid("S-1-5-21-1-2-3-1000");
  user.set_display_name("Sample User");
  user.set_given_name("Sample");
  user.set_surname("User");
  user.set_mail("sample@sample.test");
  user.set_department("Department");
  user.set_title("Title");
  user.set_telephone_number("+1 555 0100");
  user.add_other_telephones("+1 555 0101");
  user.set_user_principal_name("sample@sample.test");
  user.set_user_account_control(0x200);
  user.set_when_created("2026-01-02T03:04:05Z");
  user.set_from_directory(true);
  user.add_member_of(std::string(kGuidSize, '\x22'));
  user.add_api_groups(std::string(kGuidSize, '\x33'));
  user.set_last_read_us(1'700'000'000'123'456);
  user.set_last_change(pb::MODIFY);
  user.set_last_change_us(1'700'000'000'654'321);
  user.add_ipv4_addresses("192.0.2.1");
  user.add_ipv6_addresses("2001:db8::1");
  return user;
}

}  // namespace

StoredShapes::StoredShapes(std::vector<DomainInfo> domains) : domains_(std::move(domains)) {}

std::string StoredShapes::fingerprint() const {
  std::string text = "dirfeed stored shapes 1\n";
  for (const DomainInfo& domain : domains_) text += domain.name + '\t' + domain.netbios_name + '\n';
  const pb::DirectoryObject user = sample_user();
  const std::string group_dn = "CN=Sample Group,DC=sample,DC=test";
  const GroupDn dn = [&](const std::string&) { return &group_dn; };
  for (size_t shape = 0; shape < shape_count(); ++shape) {
    render(shape, user, dn, text);
    text.push_back('\n');
  }
  return text;
}

bool StoredShapes::render(size_t shape, const pb::DirectoryObject& object,
                          const GroupDn& group_dn, std::string& out) const {
  if (object.kind() != pb::USER) return false;
  const auto which = static_cast<StoredShape>(shape);
  if (which == StoredShape::kUidUser && changefeed::is_source_domain(object.domain())) {
    return false;  // the User ID API never shows a SCIM directory's users
  }
  unsigned char flags = object.from_directory() ? kFromDirectory : 0;
  if (object.ipv4_addresses_size() > 0 || object.ipv6_addresses_size() > 0) flags |= kHasAddresses;
  out.push_back(static_cast<char>(flags));
  put_text(out, object.domain());
  JsonWriter json(out);
  switch (which) {
    case StoredShape::kUidUser:
      write_uid_user(json, object, domains_, group_dn);
      return true;
    case StoredShape::kDsyncUser: {
      put_text(out, object.dn());
      // The store's GUIDs are 16 bytes: member_of needs no separators.
      put_number(out, static_cast<size_t>(object.member_of_size()), 4);
      for (const std::string& group : object.member_of()) out.append(group);
      const size_t offset_at = out.size();
      put_number(out, 0, 4);
      const size_t json_at = out.size();
      size_t directory_id_at = json_at;
      write_dsync_user(json, object, "", &directory_id_at);
      const size_t offset = directory_id_at - json_at;
      for (size_t i = 0; i < 4; ++i) out[offset_at + i] = static_cast<char>((offset >> (8 * i)) & 0xff);
      return true;
    }
    case StoredShape::kChangesUser:
      write_change_resource(json, object, domains_);
      return true;
    default:
      return false;
  }
}

std::optional<StoredUser> read_stored_user(StoredShape shape, std::string_view record) {
  Reader reader(record);
  StoredUser user;
  const size_t flags = reader.number(1);
  user.from_directory = (flags & kFromDirectory) != 0;
  user.has_addresses = (flags & kHasAddresses) != 0;
  user.domain = reader.text();
  if (shape == StoredShape::kDsyncUser) {
    user.dn = reader.text();
    user.member_of = reader.take(reader.number(4) * kGuidSize);
    user.directory_id_at = reader.number(4);
  }
  user.json = reader.rest();
  if (!reader.ok() || user.directory_id_at > user.json.size()) return std::nullopt;
  return user;
}

}  // namespace dirfeed::rest
