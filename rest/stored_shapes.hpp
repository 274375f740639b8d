#pragma once
// The records rest/ has the store keep of every user (changefeed/renderer.hpp), so that the
// big listings copy bytes instead of formatting each user (issue 17): the User ID API's
// /users, the Directory Sync API's users and the Directory Changes API's user snapshot.
// daemon/ opens the store with a StoredShapes over the configured domains (the same list as
// ApiContext::domains); a handler serves from records when the store has them
// (Store::has_rendered_records) and formats objects as before otherwise.
//
// A record is a header with what the listing filters on, then the JSON the handler would
// write for the object, byte for byte (the same writers make both):
//   flags (1 byte: from_directory, has IP addresses), domain (4-byte length, bytes),
//   kDsyncUser only: dn (4-byte length, bytes), member_of (4-byte count, 16 bytes each), the
//   offset of "directoryId" in the JSON (4 bytes); then the JSON. Numbers are little-endian.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "changefeed/renderer.hpp"
#include "rest/api.hpp"

namespace dirfeed::rest {

enum class StoredShape : size_t {
  kUidUser,      // users of the AD domains and the User ID API: write_uid_user
  kDsyncUser,    // every user: write_dsync_user without directoryId
  kChangesUser,  // every user: write_change_resource (the record's "resource")
  kCount,
};

// A piece of a listing served from records ends after the record that takes it past this.
inline constexpr size_t kStoredPieceBytes = 64 * 1024;

class StoredShapes final : public changefeed::Renderer {
 public:
  explicit StoredShapes(std::vector<DomainInfo> domains);

  size_t shape_count() const override { return static_cast<size_t>(StoredShape::kCount); }
  // The domains' NetBIOS names and each shape's rendering of a sample user: any change of
  // the writers changes it.
  std::string fingerprint() const override;
  bool render(size_t shape, const pb::DirectoryObject& object, const GroupDn& group_dn,
              std::string& out) const override;
  // Only kUidUser shows group names (DNs); the others name groups by GUID.
  bool names_groups(size_t shape) const override {
    return static_cast<StoredShape>(shape) == StoredShape::kUidUser;
  }

 private:
  std::vector<DomainInfo> domains_;
};

// A record read back.
struct StoredUser {
  bool from_directory = false;
  bool has_addresses = false;
  std::string_view domain;
  std::string_view dn;          // kDsyncUser only
  std::string_view member_of;   // kDsyncUser only: GUIDs, 16 bytes each
  size_t directory_id_at = 0;   // kDsyncUser only: where `,"directoryId":...` goes in json
  std::string_view json;
};

// nullopt when `record` is not one of `shape` (unreadable).
std::optional<StoredUser> read_stored_user(StoredShape shape, std::string_view record);

}  // namespace dirfeed::rest
