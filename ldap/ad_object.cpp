#include "ldap/ad_object.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "core/dn.hpp"
#include "core/text.hpp"
#include "ldap/values.hpp"

namespace dirfeed::ldap {
namespace {

using pb::DirectoryObject;

enum class ValueType { kString, kUnsigned, kTime, kSid };

// One AD attribute and the DirectoryObject field it fills.
struct Mapping {
  std::string_view ldap_name;  // lower case
  std::string_view field;      // DirectoryObject field name
  ValueType type;
};

constexpr std::array<Mapping, 16> kMappings = {{
    {"samaccountname", "sam_account_name", ValueType::kString},
    {"objectsid", "sid", ValueType::kSid},
    {"displayname", "display_name", ValueType::kString},
    {"givenname", "given_name", ValueType::kString},
    {"sn", "surname", ValueType::kString},
    {"mail", "mail", ValueType::kString},
    {"department", "department", ValueType::kString},
    {"title", "title", ValueType::kString},
    {"userprincipalname", "user_principal_name", ValueType::kString},
    {"description", "description", ValueType::kString},
    {"mailnickname", "mail_nickname", ValueType::kString},
    {"useraccountcontrol", "user_account_control", ValueType::kUnsigned},
    {"primarygroupid", "primary_group_id", ValueType::kUnsigned},
    {"whencreated", "when_created", ValueType::kTime},
    {"grouptype", "group_type", ValueType::kUnsigned},
    {"telephonenumber", "telephone_number", ValueType::kString},
}};

void set_field(DirectoryObject& object, std::string_view field, const std::string& value) {
  if (field == "sam_account_name") object.set_sam_account_name(value);
  else if (field == "sid") object.set_sid(value);
  else if (field == "display_name") object.set_display_name(value);
  else if (field == "given_name") object.set_given_name(value);
  else if (field == "surname") object.set_surname(value);
  else if (field == "mail") object.set_mail(value);
  else if (field == "department") object.set_department(value);
  else if (field == "title") object.set_title(value);
  else if (field == "user_principal_name") object.set_user_principal_name(value);
  else if (field == "description") object.set_description(value);
  else if (field == "mail_nickname") object.set_mail_nickname(value);
  else if (field == "when_created") object.set_when_created(value);
  else if (field == "telephone_number") object.set_telephone_number(value);
}

void set_unsigned(DirectoryObject& object, std::string_view field, uint32_t value) {
  if (field == "user_account_control") object.set_user_account_control(value);
  else if (field == "primary_group_id") object.set_primary_group_id(value);
  else if (field == "group_type") object.set_group_type(value);
}

bool has_value(const Entry& entry, std::string_view name, std::string_view value) {
  const Attribute* attribute = entry.find(name);
  if (!attribute) return false;
  for (const auto& v : attribute->values) {
    if (lower(v) == value) return true;
  }
  return false;
}

// The `member` values of an entry: plain, ranged (`member;range=0-1499`, `member;range=0-*`),
// or, from DirSync with incremental values, `member;range=1-1` (present) and
// `member;range=0-0` (removed).
struct MemberValues {
  const Attribute* values = nullptr;   // plain or ranged or DirSync present values
  const Attribute* removed = nullptr;  // DirSync removed values
  std::string_view range;              // "START-END" of a ranged read; empty: not ranged
  bool dirsync_values = false;         // values came as DirSync incremental values
  bool any() const { return values || removed; }
};

MemberValues member_values(const Entry& entry) {
  MemberValues result;
  constexpr std::string_view kRanged = "member;range=";
  for (const auto& attribute : entry.attributes) {
    std::string_view name = attribute.name;
    if (name == "member") {
      result.values = &attribute;
    } else if (name == "member;range=1-1") {
      result.values = &attribute;
      result.dirsync_values = true;
    } else if (name == "member;range=0-0") {
      result.removed = &attribute;
      result.dirsync_values = true;
    } else if (name.substr(0, kRanged.size()) == kRanged) {
      result.range = name.substr(kRanged.size());
      result.values = &attribute;
    }
  }
  return result;
}

void append_guids(const Attribute* attribute,
                  google::protobuf::RepeatedPtrField<std::string>& guids) {
  if (!attribute) return;
  for (const auto& value : attribute->values) {
    ExtendedDn parsed = parse_extended_dn(value);
    if (!parsed.guid.empty()) guids.Add(std::move(parsed.guid));
  }
}

}  // namespace

std::vector<std::string> object_attributes(int member_range_step) {
  // `name` is not stored, but asking for it makes DirSync report renames and moves.
  std::vector<std::string> names = {"objectGUID", "objectClass", "isDeleted", "name",
                                    "otherTelephone"};
  for (const auto& mapping : kMappings) names.emplace_back(mapping.ldap_name);
  if (member_range_step > 0) {
    names.push_back("member;range=0-" + std::to_string(member_range_step - 1));
  } else {
    names.emplace_back("member");
  }
  return names;
}

MemberRange take_members(const Entry& entry, pb::ObservedObject& observed) {
  MemberValues members = member_values(entry);
  append_guids(members.values, *observed.mutable_members());
  MemberRange range;
  if (members.range.empty()) return range;
  range.ranged = true;
  range.text = std::string(members.range);
  const size_t dash = members.range.find('-');
  const auto start = parse_u32(members.range.substr(0, dash));
  const std::string_view end =
      dash == std::string_view::npos ? std::string_view() : members.range.substr(dash + 1);
  range.start = start.value_or(0);
  if (end == "*") {
    range.valid = start.has_value();
    return range;
  }
  const auto last = parse_u32(end);
  range.valid = start.has_value() && last.has_value();
  range.complete = !range.valid;  // nothing to continue from (MemberRangeGuard says why)
  if (range.valid) range.next_start = static_cast<int64_t>(*last) + 1;
  return range;
}

std::optional<pb::ObservedObject> decode_object(const Entry& entry, const DomainContext& context,
                                                ReadMode mode, MemberRange* range) {
  bool partial = mode == ReadMode::kDirSyncIncremental;
  ExtendedDn extended = parse_extended_dn(entry.dn);
  std::string guid(entry.first("objectguid"));
  if (guid.size() != 16) guid = extended.guid;
  if (guid.size() != 16) return std::nullopt;

  pb::ObservedObject observed;
  DirectoryObject& object = *observed.mutable_object();
  object.set_guid(guid);
  object.set_dn(extended.dn);
  object.set_domain(context.domain);
  object.set_netbios_domain(context.netbios_name);
  object.set_from_directory(true);
  if (has_value(entry, "objectclass", "group")) {
    object.set_kind(pb::GROUP);
  } else if (has_value(entry, "objectclass", "user")) {
    object.set_kind(pb::USER);
  }
  if (has_value(entry, "isdeleted", "true")) {
    observed.set_deleted(true);
    return observed;
  }


  bool in_scope = context.search_bases.empty();
  for (const auto& base : context.search_bases) in_scope = in_scope || dn_within(extended.dn, base);
  if (!in_scope) {
    observed.set_deleted(true);
    return observed;
  }


  observed.set_partial(partial);
  if (partial) {
    for (std::string_view always : {"dn", "domain", "netbios_domain"}) {
      observed.add_present_fields(std::string(always));
    }
  }
  for (const auto& mapping : kMappings) {
    const Attribute* attribute = entry.find(mapping.ldap_name);
    if (!attribute) continue;
    if (partial) observed.add_present_fields(std::string(mapping.field));
    if (attribute->values.empty()) continue;
    const std::string& value = attribute->values.front();
    switch (mapping.type) {
      case ValueType::kString:
        set_field(object, mapping.field, value);
        break;
      case ValueType::kUnsigned:
        if (auto number = parse_u32(value)) set_unsigned(object, mapping.field, *number);
        break;
      case ValueType::kTime:
        if (auto iso = generalized_time_to_iso(value)) set_field(object, mapping.field, *iso);
        break;
      case ValueType::kSid:
        set_field(object, mapping.field, sid_to_string(value));
        break;
    }
  }

  if (const Attribute* other_phones = entry.find("othertelephone")) {
    if (partial) observed.add_present_fields("other_telephones");
    for (const auto& value : other_phones->values) object.add_other_telephones(value);
  }

  if (object.primary_group_id() != 0 && !context.domain_sid.empty()) {
    observed.set_primary_group_sid(context.domain_sid + "-" +
                                   std::to_string(object.primary_group_id()));
  }

  MemberValues members = member_values(entry);
  if (partial) {
    // DirSync with incremental values names what was added and removed; nothing named means
    // membership did not change (not that it is empty).
    if (members.any()) {
      observed.set_members_delta(true);
      append_guids(members.values, *observed.mutable_members());
      append_guids(members.removed, *observed.mutable_members_removed());
    }
  } else if (object.kind() == pb::GROUP) {
    // A complete read names every member: no `member` means no members. A DirSync full read
    // lists removed links too (range 0-0); they are not members.
    observed.set_members_known(true);
    MemberRange taken = take_members(entry, observed);
    if (range) *range = taken;
  }
  return observed;
}

}  // namespace dirfeed::ldap
