#include "changefeed/keys.hpp"

#include <array>

#include "core/text.hpp"

namespace dirfeed::changefeed {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;

void append_big_endian(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

uint64_t read_big_endian(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

}  // namespace

const char* table_name(Table table) {
  static constexpr std::array<const char*, kTableCount> kNames = {
      "objects",         "dn_index",        "ntlm_index",       "sid_index",
      "domain_index",    "group_members",   "member_groups",    "primary_members",
      "user_primary",    "feed_by_sequence", "feed_by_time",    "state",
      "ip_mappings",     "ip_expiry",       "api_group_members", "ip_owners",
      "upn_index",       "source_names",    "rendered",
  };
  return kNames[static_cast<size_t>(table)];
}

namespace keys {

std::string dn(std::string_view dn) { return lower(dn); }

std::string ntlm_identity(std::string_view identity) { return lower(identity); }

std::optional<std::string> ntlm_of(const pb::DirectoryObject& object) {
  if (object.netbios_domain().empty() || object.sam_account_name().empty()) return std::nullopt;
  return ntlm_identity(object.netbios_domain() + "\\" + object.sam_account_name());
}

std::string upn(std::string_view upn) { return lower(upn); }

std::string source_name(std::string_view source, pb::ObjectKind kind, std::string_view name) {
  return domain_kind_prefix(source, kind).append(lower(name));
}

std::optional<std::string> source_name_of(const pb::DirectoryObject& object) {
  const std::string& name =
      object.kind() == pb::USER ? object.user_principal_name() : object.display_name();
  if (name.empty()) return std::nullopt;
  return source_name(object.domain(), object.kind(), name);
}

std::string domain_prefix(std::string_view domain) {
  std::string key = lower(domain);
  key.push_back('\0');
  return key;
}

std::string domain_kind_prefix(std::string_view domain, pb::ObjectKind kind) {
  std::string key = domain_prefix(domain);
  key.push_back(static_cast<char>(kind));
  key.push_back('\0');
  return key;
}

std::string domain_entry(std::string_view domain, pb::ObjectKind kind, std::string_view guid) {
  return domain_kind_prefix(domain, kind).append(guid);
}

std::string edge(std::string_view first_guid, std::string_view second_guid) {
  return std::string(first_guid).append(second_guid);
}

std::string primary_prefix(std::string_view group_sid) {
  std::string key(group_sid);
  key.push_back('\0');
  return key;
}

std::string primary_entry(std::string_view group_sid, std::string_view user_guid) {
  return primary_prefix(group_sid).append(user_guid);
}

std::string sequence(uint64_t sequence) {
  std::string key;
  append_big_endian(key, sequence);
  return key;
}

uint64_t decode_sequence(std::string_view key) { return read_big_endian(key); }

std::string time(int64_t timestamp_us, uint64_t sequence) {
  std::string key;
  append_big_endian(key, static_cast<uint64_t>(timestamp_us) ^ kSignBit);
  append_big_endian(key, sequence);
  return key;
}

int64_t decode_time(std::string_view key) {
  return static_cast<int64_t>(read_big_endian(key) ^ kSignBit);
}

uint64_t decode_time_sequence(std::string_view key) {
  return key.size() < 16 ? 0 : read_big_endian(key.substr(8));
}

std::string ip_mapping(std::string_view user_guid, std::string_view ip) {
  return std::string(user_guid).append(ip);
}

std::string encode_time(int64_t us) {
  std::string value;
  append_big_endian(value, static_cast<uint64_t>(us) ^ kSignBit);
  return value;
}

int64_t decode_time_value(std::string_view value) {
  return static_cast<int64_t>(read_big_endian(value) ^ kSignBit);
}

std::string ip_expiry(int64_t expires_us, std::string_view user_guid, std::string_view ip) {
  return encode_time(expires_us).append(user_guid).append(ip);
}

std::string cursor(std::string_view domain) { return "cursor/" + lower(domain); }

std::string directory(std::string_view id) { return std::string(kDirectoryPrefix).append(id); }

std::string webhook_state(std::string_view id) { return "webhook/" + std::string(id); }

std::string webhook_event_prefix(std::string_view directory_id) {
  std::string key = "event/";
  key.append(directory_id).push_back('\0');
  return key;
}

std::string webhook_event(std::string_view directory_id, int64_t created_us, uint64_t sequence,
                          std::string_view id) {
  std::string key = webhook_event_prefix(directory_id).append(encode_time(created_us));
  append_big_endian(key, sequence);
  return key.append(id);
}

std::string webhook_event_id(std::string_view id) { return std::string("event-id/").append(id); }

std::string webhook_event_count(std::string_view directory_id) {
  return std::string("event-count/").append(directory_id);
}

std::string ip_source_state(std::string_view name) { return "ipsource/" + std::string(name); }

std::string consumer_state(std::string_view name) {
  return std::string(kConsumerStatePrefix).append(name);
}

std::string rendered(size_t shape, std::string_view guid) {
  std::string key(1, static_cast<char>(shape));
  return key.append(guid);
}

std::string encode_position(const FeedPosition& position) {
  std::string value;
  append_big_endian(value, position.sequence);
  append_big_endian(value, static_cast<uint64_t>(position.timestamp_us));
  return value;
}

std::optional<FeedPosition> decode_position(std::string_view value) {
  if (value.size() != 16) return std::nullopt;
  return FeedPosition{read_big_endian(value),
                      static_cast<int64_t>(read_big_endian(value.substr(8)))};
}

}  // namespace keys
}  // namespace dirfeed::changefeed
