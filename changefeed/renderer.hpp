#pragma once
// Rendered records: what the store keeps, next to each live object, so that a listing copies
// bytes instead of parsing and formatting every object (issue 17). The store's owner injects a
// Renderer (StoreOptions::renderer; daemon/ passes rest/'s): the store never knows what the
// bytes mean, only when they must be made again.
//
// The store's contract, for a store opened read-write with a renderer:
// - Every object a write stores gets, in the same WriteBatch, one record per shape that
//   render() gives it (and loses the records it no longer gets); a deleted object loses all.
// - A group whose `dn` changes, or that is added or deleted, has its members' records of the
//   shapes that name groups (Renderer::names_groups) made again in that same batch: the objects its `member` edges name, the users whose primary group it is,
//   and the users the User ID API put in it (api_groups). So every snapshot of the store holds
//   records that agree with its objects: a rename is in every member's record at once.
// - At open, when the fingerprint stored with the records is not renderer.fingerprint() (a
//   new dirfeed, other configuration, a database written without a renderer), every record
//   is made again from the objects before open returns.
// A store opened read-write without a renderer drops the stored fingerprint, so the records it
// cannot keep up to date are made again the next time a renderer opens it.
#include <cstddef>
#include <functional>
#include <string>

#include "dirfeed.pb.h"

namespace dirfeed::changefeed {

class Renderer {
 public:
  virtual ~Renderer() = default;

  // Shapes are numbered 0 .. shape_count() - 1; at most 256.
  virtual size_t shape_count() const = 0;

  // Changes whenever render() could give other bytes for the same input (another format,
  // other configuration).
  virtual std::string fingerprint() const = 0;

  // The `dn` of the live object with that GUID as the write that renders sees it (its own
  // changes included); nullptr when there is none.
  using GroupDn = std::function<const std::string*(const std::string& guid)>;

  // Appends the record of `object` (a live user or group) in `shape` to `out` and returns
  // true, or returns false when the object has no record in that shape. The bytes may depend
  // only on `object`, on group_dn() of GUIDs in its member_of and api_groups, and on what
  // fingerprint() covers: nothing else is re-rendered when it changes. Called with the store's
  // write lock held (from any thread); must not call the store.
  virtual bool render(size_t shape, const pb::DirectoryObject& object, const GroupDn& group_dn,
                      std::string& out) const = 0;

  // Whether render(shape, ...) may call group_dn: only those shapes of a group's members are
  // made again when the group is renamed, added or deleted.
  virtual bool names_groups(size_t shape) const {
    (void)shape;
    return true;
  }
};

}  // namespace dirfeed::changefeed
