#pragma once
// Internal to changefeed/: the column families of the store and how their keys are built
// (DESIGN.md section 6). Keys are byte strings compared bytewise; GUIDs are the 16 wire
// bytes, so "prefix + GUID" keys split without separators. Numbers are big-endian so that
// bytewise order is numeric order.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dirfeed.pb.h"

namespace dirfeed::changefeed {

inline constexpr size_t kGuidSize = 16;

// One column family per purpose. Values are protobuf unless stated otherwise.
enum class Table : size_t {
  kObjects,         // guid -> pb::DirectoryObject (live objects only)
  kDnIndex,         // lower-cased DN -> guid
  kNtlmIndex,       // lower-cased NETBIOS\sam -> guid
  kSidIndex,        // objectSid -> guid
  kDomainIndex,     // lower-cased domain \0 kind byte \0 guid -> empty
  kGroupMembers,    // group guid + member guid -> empty (from the group's `member`)
  kMemberGroups,    // member guid + group guid -> empty (the same edges, reversed)
  kPrimaryMembers,  // primary group SID \0 user guid -> empty
  kUserPrimary,     // user guid -> primary group SID (to find the old entry on change)
  kFeedBySequence,  // big-endian u64 sequence -> pb::Change
  kFeedByTime,      // big-endian timestamp + big-endian sequence -> empty
  kState,           // "cursor/" + domain -> pb::Cursor; kFeedPositionKey -> FeedPosition;
                    // "directory/" + id -> pb::Directory; "webhook/" + id -> pb::WebhookState;
                    // "ipsource/" + name -> pb::IpSourceState; "consumer/" + name ->
                    // pb::FeedConsumerState; kStoreIdKey -> the store id; the webhook event
                    // log (below)
  kIpMappings,      // user guid + IP text -> big-endian expiry (microseconds since the epoch)
  kIpExpiry,        // big-endian expiry + user guid + IP text -> empty
  kApiGroupMembers, // group guid + user guid -> empty: exactly the api_groups of live users,
                    // reversed (entries of a deleted group stay while its users name it)
  kIpOwners,        // IP text -> guid of the user the IP was mapped to last (IP sources: one
                    // user per IP); kept exactly for the rows of kIpMappings
  kUpnIndex,        // lower-cased userPrincipalName -> guid
  kSourceNames,     // source \0 kind byte \0 lower-cased name -> guid: the unique names of the
                    // objects of sources other than AD (SCIM userName, group displayName)
  kRendered,        // shape byte + guid -> the object's rendered record in that shape (bytes
                    // of the Renderer, changefeed/renderer.hpp)
  kCount,
};
inline constexpr size_t kTableCount = static_cast<size_t>(Table::kCount);

// The RocksDB column family name of each table.
const char* table_name(Table table);

// Where the feed stands: the newest sequence and timestamp handed out (both 0 when empty).
struct FeedPosition {
  uint64_t sequence = 0;
  int64_t timestamp_us = 0;
};

namespace keys {

std::string dn(std::string_view dn);
std::string ntlm_identity(std::string_view identity);
// NETBIOS\sam of an object, nullopt when either part is empty.
std::optional<std::string> ntlm_of(const pb::DirectoryObject& object);
std::string upn(std::string_view upn);
// kSourceNames key of an object of a source (its source name index entry): users by
// user_principal_name, groups by display_name; nullopt when that name is empty.
std::optional<std::string> source_name_of(const pb::DirectoryObject& object);
std::string source_name(std::string_view source, pb::ObjectKind kind, std::string_view name);

std::string domain_prefix(std::string_view domain);
std::string domain_kind_prefix(std::string_view domain, pb::ObjectKind kind);
std::string domain_entry(std::string_view domain, pb::ObjectKind kind, std::string_view guid);

// Both edge tables and kApiGroupMembers: the first GUID is the prefix to scan.
std::string edge(std::string_view first_guid, std::string_view second_guid);

std::string primary_prefix(std::string_view group_sid);
std::string primary_entry(std::string_view group_sid, std::string_view user_guid);

std::string sequence(uint64_t sequence);
uint64_t decode_sequence(std::string_view key);

// Feed-by-time key; the smallest key with a timestamp >= timestamp_us is time(timestamp_us, 0).
std::string time(int64_t timestamp_us, uint64_t sequence);
int64_t decode_time(std::string_view key);
uint64_t decode_time_sequence(std::string_view key);

// IP mapping tables; expiry values and key prefixes are 8 bytes, sign bit flipped.
std::string ip_mapping(std::string_view user_guid, std::string_view ip);
std::string ip_expiry(int64_t expires_us, std::string_view user_guid, std::string_view ip);
std::string encode_time(int64_t us);
int64_t decode_time_value(std::string_view value);

std::string cursor(std::string_view domain);
inline constexpr std::string_view kDirectoryPrefix = "directory/";
std::string directory(std::string_view id);
std::string webhook_state(std::string_view id);
std::string ip_source_state(std::string_view name);
std::string consumer_state(std::string_view name);
inline constexpr std::string_view kConsumerStatePrefix = "consumer/";
// The webhook event log: "event/" + directory + '\0' + big-endian created_us + big-endian
// u64 log sequence (insertion order among equal times) + event id -> pb::WebhookEvent;
// "event-id/" + event id -> the first key; "event-count/" + directory -> big-endian u64 count
// of the directory's logged events; kEventSequenceKey -> the last log sequence.
std::string webhook_event_prefix(std::string_view directory_id);
std::string webhook_event(std::string_view directory_id, int64_t created_us, uint64_t sequence,
                          std::string_view id);
inline constexpr std::string_view kEventSequenceKey = "meta/event_sequence";
std::string webhook_event_id(std::string_view id);
std::string webhook_event_count(std::string_view directory_id);
inline constexpr std::string_view kFeedPositionKey = "meta/feed_position";
inline constexpr std::string_view kStoreIdKey = "meta/store_id";  // 32 hex digits, made once
// Present (empty value) once kApiGroupMembers has been built from the stored users.
inline constexpr std::string_view kApiGroupIndexKey = "meta/api_group_index";
// Present (empty value) once kIpOwners has been built from the stored IP mappings.
inline constexpr std::string_view kIpOwnerIndexKey = "meta/ip_owner_index";
// Present (empty value) once kUpnIndex has been built from the stored objects.
inline constexpr std::string_view kUpnIndexKey = "meta/upn_index";
// The fingerprint of the renderer that made the kRendered records (absent: none is valid).
inline constexpr std::string_view kRenderedKey = "meta/rendered";
std::string rendered(size_t shape, std::string_view guid);
// FeedPosition is stored as 16 bytes: big-endian sequence, big-endian timestamp.
std::string encode_position(const FeedPosition& position);
std::optional<FeedPosition> decode_position(std::string_view value);

}  // namespace keys
}  // namespace dirfeed::changefeed
