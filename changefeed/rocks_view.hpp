#pragma once
// Internal to changefeed/: the reads of the store, each over one RocksDB snapshot taken when
// the view is made. Store::view() hands one out for a response that reads several times; the
// store's own queries make one per call.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "changefeed/database.hpp"
#include "changefeed/keys.hpp"
#include "changefeed/store.hpp"

namespace dirfeed::changefeed {

class RocksView final : public StoreView {
 public:
  explicit RocksView(const Database& database) : reader_(database) {}

  void objects_after(pb::ObjectKind kind, const std::string& domain,
                     const std::string& after_guid,
                     const Visitor<pb::DirectoryObject>& visit) const override;
  void changes_after_time(int64_t after_us, const FeedQuery& query,
                          const Visitor<pb::Change>& visit) const override;
  FeedBounds feed_bounds() const override;
  void rendered_after(size_t shape, std::string_view after_guid,
                      const RecordVisitor& visit) const override;

  // As the Store queries of the same names.
  std::optional<pb::DirectoryObject> object_by_guid(const std::string& guid) const {
    return reader_.object(guid);
  }
  std::optional<pb::DirectoryObject> object_by_dn(const std::string& dn) const {
    return reader_.object_by_index(Table::kDnIndex, keys::dn(dn));
  }
  std::optional<pb::DirectoryObject> object_by_ntlm(const std::string& identity) const {
    return reader_.object_by_index(Table::kNtlmIndex, keys::ntlm_identity(identity));
  }
  std::optional<pb::DirectoryObject> object_by_upn(const std::string& upn) const {
    return reader_.object_by_index(Table::kUpnIndex, keys::upn(upn));
  }
  std::optional<pb::DirectoryObject> group_by_sid(const std::string& sid) const;
  void members(const std::string& group_guid, const Visitor<pb::DirectoryObject>& visit) const;
  void api_members(const std::string& group_guid,
                   const Visitor<pb::DirectoryObject>& visit) const;
  void changes_after_sequence(uint64_t after_sequence, const FeedQuery& query,
                              const Visitor<pb::Change>& visit) const;

 private:
  SnapshotReader reader_;
  // The iterator of the last rendered_after call, on the record it stopped at.
  mutable std::mutex listing_mutex_;
  mutable std::unique_ptr<rocksdb::Iterator> listing_;
};

}  // namespace dirfeed::changefeed
