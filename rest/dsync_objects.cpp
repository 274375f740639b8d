// The Directory Sync API's users and groups (rest/dsync_api.hpp): a directory's view of the
// store, listed in pages (streamed) or read one by one, and a group's members.
#include "rest/dsync_api.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/guid.hpp"
#include "rest/dsync_common.hpp"
#include "rest/dsync_model.hpp"
#include "rest/json.hpp"
#include "rest/response.hpp"
#include "rest/stored_shapes.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;

// A streamed list of the users or groups in a directory's view, between Stream calls:
// where the reading stands and the text written since the last piece went out.
// Immovable: json refers to text.
struct ObjectList {
  ObjectList(pb::Directory directory, pb::ObjectKind kind, Page page)
      : directory(std::move(directory)), kind(kind), page(page) {}
  ObjectList(const ObjectList&) = delete;
  ObjectList& operator=(const ObjectList&) = delete;

  const pb::Directory directory;
  const pb::ObjectKind kind;
  const Page page;
  std::string after;     // GUID of the last object read
  uint64_t matched = 0;  // objects in the view read so far (skipped ones included)
  std::string text;
  JsonWriter json{text};
  // Users from their stored records (rest/stored_shapes.hpp): every piece from this view.
  std::unique_ptr<changefeed::StoreView> stored;
};

// Writes the next users of a list from their stored records, up to a piece's bounds, and
// returns whether the end was reached.
bool next_stored_users(ObjectList& list) {
  std::string directory_id;
  append_json_string(directory_id, list.directory.id());
  constexpr size_t kRecordsPerPiece = 4096;
  size_t read = 0;
  bool stopped = false;  // by the piece's bounds, or at the page's end
  list.stored->rendered_after(
      static_cast<size_t>(StoredShape::kDsyncUser), list.after,
      [&](std::string_view guid, std::string_view record) {
        list.after.assign(guid);
        const std::optional<StoredUser> user = read_stored_user(StoredShape::kDsyncUser, record);
        if (user && in_directory(list.directory, guid, user->from_directory, user->domain, user->dn,
                                 user->member_of)) {
          if (list.matched >= list.page.offset) {
            // write_dsync_user with the directory's id: its text goes after "active".
            list.json.raw(user->json.substr(0, user->directory_id_at));
            list.text.append(R"(,"directoryId":)").append(directory_id);
            list.text.append(user->json.substr(user->directory_id_at));
          }
          ++list.matched;
        }
        stopped = list.matched >= list.page.end || ++read == kRecordsPerPiece ||
                  list.text.size() >= kStoredPieceBytes;
        return !stopped;
      });
  return !stopped || list.matched >= list.page.end;
}

Response object_list(const Call& call, const ApiContext& context, pb::ObjectKind kind) {
  Response refusal;
  const std::optional<KeyEntry> key = dsync_key(call, context, &refusal);
  if (!key) return refusal;
  std::string problem;
  const std::optional<Page> page = requested_page(call, &problem);
  if (!page) return bad_request(problem);
  std::optional<pb::Directory> directory = requested_directory(call, context, *key, &refusal);
  if (!directory) return refusal;

  auto list = std::make_shared<ObjectList>(std::move(*directory), kind, *page);
  if (kind == pb::USER && context.store.has_rendered_records()) list->stored = context.store.view();
  list->json.begin_object();
  list->json.key("data");
  list->json.begin_array();
  // The stream runs after this returns; the context outlives the server, so it may refer to it.
  return streamed_response(
      http::status::ok, "application/json", [list, &context](std::string& out) {
        bool last = list->matched >= list->page.end;
        if (!last && list->stored) {
          last = next_stored_users(*list);
        } else if (!last) {
          size_t read = 0;
          context.store.objects_after(
              list->kind, list->directory.domain(), list->after,
              [&](const pb::DirectoryObject& object) {
                list->after = object.guid();
                ++read;
                if (in_directory(list->directory, object)) {
                  if (list->matched >= list->page.offset) {
                    if (list->kind == pb::USER) {
                      write_dsync_user(list->json, object, list->directory.id());
                    } else {
                      write_dsync_group(list->json, object, list->directory.id(), &context.store,
                                        &list->directory);
                    }
                  }
                  ++list->matched;
                }
                return list->matched < list->page.end && read < kDsyncObjectsPerPiece;
              });
          last = list->matched >= list->page.end || read < kDsyncObjectsPerPiece;
        }
        if (last) {
          list->json.end_array();
          list->json.key("error");
          list->json.null();
          list->json.end_object();
        }
        out.swap(list->text);
        return !last;
      });
}

// The stored object `kind` GET .../users/{id} or .../groups/{id} names, when it is in the
// view of the request's directory; else nullopt and the 400/401/404 in *refusal.
std::optional<pb::DirectoryObject> requested_object(const Call& call, const ApiContext& context,
                                                    pb::ObjectKind kind,
                                                    std::optional<pb::Directory>* directory,
                                                    Response* refusal) {
  const std::optional<KeyEntry> key = dsync_key(call, context, refusal);
  if (!key) return std::nullopt;
  *directory = requested_directory(call, context, *key, refusal);
  if (!*directory) return std::nullopt;
  std::optional<pb::DirectoryObject> object;
  if (std::optional<std::string> guid = guid_from_text(call.path_param("id"))) {
    object = context.store.object_by_guid(*guid);
  }
  if (!object || object->kind() != kind || !in_directory(**directory, *object)) {
    *refusal =
        failure(http::status::not_found, kind == pb::USER ? "user not found" : "group not found");
    return std::nullopt;
  }
  return object;
}

// GET .../users/{id} or .../groups/{id}: the object in the document's shape (a group with its
// members as {"group_id", "user_id"} pairs).
Response one_object(const Call& call, const ApiContext& context, pb::ObjectKind kind) {
  std::optional<pb::Directory> directory;
  Response refusal;
  const std::optional<pb::DirectoryObject> object =
      requested_object(call, context, kind, &directory, &refusal);
  if (!object) return refusal;
  return success(http::status::ok, [&](JsonWriter& json) {
    if (kind == pb::USER) {
      write_dsync_user(json, *object, directory->id());
    } else {
      write_dsync_group(json, *object, directory->id(), &context.store, &*directory,
                        /*member_pairs=*/true);
    }
  });
}

}  // namespace

Response dsync_users(const Call& call, const ApiContext& context) {
  return object_list(call, context, pb::USER);
}

Response dsync_groups(const Call& call, const ApiContext& context) {
  return object_list(call, context, pb::GROUP);
}

Response dsync_user(const Call& call, const ApiContext& context) {
  return one_object(call, context, pb::USER);
}

Response dsync_group(const Call& call, const ApiContext& context) {
  return one_object(call, context, pb::GROUP);
}

Response dsync_group_members(const Call& call, const ApiContext& context) {
  std::string problem;
  const std::optional<Page> page = requested_page(call, &problem);
  if (!page) return bad_request(problem);
  std::optional<pb::Directory> directory;
  Response refusal;
  const std::optional<pb::DirectoryObject> group =
      requested_object(call, context, pb::GROUP, &directory, &refusal);
  if (!group) return refusal;
  return success(http::status::ok, [&](JsonWriter& json) {
    json.begin_array();
    uint64_t index = 0;
    context.store.members(group->guid(), [&](const pb::DirectoryObject& member) {
      if (member.kind() != pb::USER || !in_directory(*directory, member)) return true;
      if (index >= page->offset) {
        json.begin_object();
        json.member("user_id", guid_to_string(member.guid()));
        json.end_object();
      }
      return ++index < page->end;
    });
    json.end_array();
  });
}

}  // namespace dirfeed::rest
