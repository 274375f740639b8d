#include "rest/uid_api.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/guid.hpp"
#include "core/text.hpp"
#include "rest/json.hpp"
#include "rest/response.hpp"
#include "rest/stored_shapes.hpp"
#include "rest/uid_model.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using boost::asio::ip::address;

// IP addresses are mapped to users through POST/PUT /user (expired ones are gone).
bool has_addresses(const pb::DirectoryObject& object) {
  return object.ipv4_addresses_size() > 0 || object.ipv6_addresses_size() > 0;
}

struct AddressRange {
  address first;
  address last;
  bool contains(const address& a) const {
    return a.is_v4() == first.is_v4() && !(a < first) && !(last < a);
  }
};

// Parses "a-b[,c-d...]"; on failure returns nullopt and sets *error.
std::optional<std::vector<AddressRange>> parse_networks(std::string_view text,
                                                        std::string* error) {
  std::vector<AddressRange> ranges;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view item = trim(text.substr(start, comma - start));
    start = comma + 1;
    const size_t dash = item.find('-');
    boost::system::error_code first_error, last_error;
    const address first =
        boost::asio::ip::make_address(std::string(trim(item.substr(0, dash))), first_error);
    const address last = dash == std::string_view::npos
                             ? address()
                             : boost::asio::ip::make_address(
                                   std::string(trim(item.substr(dash + 1))), last_error);
    if (dash == std::string_view::npos || first_error || last_error) {
      *error = "malformed network range \"" + std::string(item) +
               "\": expected first-last, e.g. 192.0.2.1-192.0.2.55";
      return std::nullopt;
    }
    if (first.is_v4() != last.is_v4()) {
      *error = "network range \"" + std::string(item) + "\" mixes IPv4 and IPv6";
      return std::nullopt;
    }
    if (last < first) {
      *error = "network range \"" + std::string(item) + "\" ends before it starts";
      return std::nullopt;
    }
    ranges.push_back({first, last});
  }
  return ranges;
}

bool in_networks(const pb::DirectoryObject& object, const std::vector<AddressRange>& ranges) {
  for (const auto* list : {&object.ipv4_addresses(), &object.ipv6_addresses()}) {
    for (const std::string& text : *list) {
      boost::system::error_code parse_error;
      const address a = boost::asio::ip::make_address(text, parse_error);
      if (parse_error) continue;
      for (const AddressRange& range : ranges) {
        if (range.contains(a)) return true;
      }
    }
  }
  return false;
}

// "Fri, 03 Nov 2017 16:22:08 GMT" (RFC 7231 IMF-fixdate)
std::string http_date(int64_t us) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t seconds = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return text;
}

// Writes objects as the User ID API shows them (rest/uid_model.hpp). Group DNs are looked
// up by GUID once per response and remembered (groups are few next to users). Immovable:
// group_dn_ refers to it.
class ObjectWriter {
 public:
  ObjectWriter(const ApiContext& context, JsonWriter& json) : context_(context), json_(json) {}
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  void user(const pb::DirectoryObject& object) {
    write_uid_user(json_, object, context_.domains, group_dn_);
  }
  void group(const pb::DirectoryObject& object) {
    write_uid_group(json_, object, context_.domains, group_dn_);
  }

 private:
  // The DN of the object with that GUID ("" when there is none).
  const std::string* dn_of(const std::string& guid) {
    auto [it, inserted] = group_dns_.try_emplace(guid);
    if (inserted) {
      if (auto group = context_.store.object_by_guid(guid)) it->second = group->dn();
    }
    return &it->second;
  }

  const ApiContext& context_;
  JsonWriter& json_;
  std::unordered_map<std::string, std::string> group_dns_;  // GUID -> DN ("" when not found)
  const GroupDn group_dn_ = [this](const std::string& guid) { return dn_of(guid); };
};

Response user_response(const ApiContext& context,
                       const std::optional<pb::DirectoryObject>& object) {
  // The User ID API serves the AD domains and its own users, never a SCIM directory's.
  if (!object || object->kind() != pb::USER || changefeed::is_source_domain(object->domain())) {
    return error_response(http::status::not_found, "no such user");
  }
  std::string body;
  JsonWriter json(body);
  ObjectWriter(context, json).user(*object);
  return json_response(http::status::ok, std::move(body));
}

// A piece of a streamed list (one Stream call) ends after the object that takes its text past
// kPieceBytes, or after kObjectsPerPiece objects read from the store (one snapshot per piece):
// this bounds the memory of a response and the time a call holds its thread.
constexpr size_t kPieceBytes = 32 * 1024;
constexpr size_t kObjectsPerPiece = 256;
constexpr size_t kGuidSize = 16;

class ListBody;
// Writes the next objects of a list into the body, up to a piece's bounds; returns whether
// more may follow.
using ListPiece = std::function<bool(ListBody&)>;

// A streamed {"<name>": [...]} body: the JSON writer's state between Stream calls, and the
// object writer (its group DN cache lasts for the whole response). Each piece is written
// straight into the buffer the server hands over, so a response holds one piece's buffer,
// not two. Immovable: the writers refer to text_.
class ListBody {
 public:
  // A piece ends after the object that takes it past piece_bytes.
  ListBody(const ApiContext& context, std::string name, size_t piece_bytes)
      : name_(std::move(name)), piece_bytes_(piece_bytes), json_(text_), writer_(context, json_) {}
  ListBody(const ListBody&) = delete;
  ListBody& operator=(const ListBody&) = delete;

  ObjectWriter& writer() { return writer_; }
  // For objects written as JSON text (stored records).
  JsonWriter& json() { return json_; }
  // The piece holds piece_bytes or more: end it.
  bool full() const { return text_.size() >= piece_bytes_; }

  // ResponseBody::Stream: appends the next piece (`next_piece`'s objects; the list's opening
  // first, its end last) to `out` and returns whether more follows.
  bool next(std::string& out, const ListPiece& next_piece) {
    text_.swap(out);  // the writers append to text_
    if (!started_) {
      started_ = true;
      text_.reserve(piece_bytes_ + piece_bytes_ / 4);
      json_.begin_object();
      json_.key(name_);
      json_.begin_array();
    }
    const bool more = next_piece(*this);
    if (!more) {
      json_.end_array();
      json_.end_object();
    }
    out.swap(text_);
    return more;
  }

 private:
  const std::string name_;
  const size_t piece_bytes_;
  std::string text_;  // between calls: empty, without a buffer
  JsonWriter json_;
  ObjectWriter writer_;
  bool started_ = false;
};

// 200 with a chunked JSON list that `next_piece` produces piece by piece, on the session's
// thread after this returns: whatever it captures must outlive the response (the context
// does: it outlives the server).
Response streamed_list(const ApiContext& context, std::string name, ListPiece next_piece,
                       size_t piece_bytes = kPieceBytes) {
  auto body = std::make_shared<ListBody>(context, std::move(name), piece_bytes);
  return streamed_response(http::status::ok, "application/json",
                           [body, next_piece = std::move(next_piece)](std::string& out) {
                             return body->next(out, next_piece);
                           });
}

// Live objects of `kind` in `domain` ("": all), in GUID order; those `keep` accepts (all
// without one) are written with `write`.
using Keep = std::function<bool(const pb::DirectoryObject&)>;
using Write = void (ObjectWriter::*)(const pb::DirectoryObject&);
ListPiece objects_in_pieces(const ApiContext& context, pb::ObjectKind kind, std::string domain,
                            Keep keep, Write write) {
  return [&context, kind, domain = std::move(domain), keep = std::move(keep), write,
          after = std::string()](ListBody& body) mutable {
    size_t visited = 0;
    bool more = false;
    context.store.objects_after(kind, domain, after, [&](const pb::DirectoryObject& object) {
      after = object.guid();
      if (!changefeed::is_source_domain(object.domain()) && (!keep || keep(object))) {
        (body.writer().*write)(object);
      }
      more = ++visited == kObjectsPerPiece || body.full();
      return !more;
    });
    return more;
  };
}

// The filters of GET /users, copied out of the request for the stream.
struct UserFilter {
  std::string domain;  // lower-case DNS name; "": every domain
  bool ip_only = true;
  std::optional<std::vector<AddressRange>> networks;

  bool matches(const pb::DirectoryObject& object) const {
    if (object.kind() != pb::USER) return false;
    if (!domain.empty() && object.domain() != domain) return false;
    if (ip_only && !has_addresses(object)) return false;
    return !networks || in_networks(object, *networks);
  }
};

// The members of a group that `filter` accepts: those in it through AD (Store::members) and
// those the API put in it (Store::api_members), each once, in GUID order. The first piece reads
// both once and keeps the GUIDs of those that match (16 bytes each: a 100,000-member group
// costs 1.6 MB for the response's duration, twice that while they are sorted); each piece then
// reads the next of them as they are at that moment (gone or no longer matching: left out).
ListPiece members_in_pieces(const ApiContext& context, std::string group_guid,
                            UserFilter filter) {
  return [&context, group_guid = std::move(group_guid), filter = std::move(filter),
          guids = std::optional<std::string>(), next = size_t{0}](ListBody& body) mutable {
    if (!guids) {
      // unsigned: GUID order is bytewise, as the store's.
      std::vector<std::array<unsigned char, kGuidSize>> found;
      auto keep = [&](const pb::DirectoryObject& object) {
        if (object.guid().size() == kGuidSize && filter.matches(object)) {
          std::copy(object.guid().begin(), object.guid().end(), found.emplace_back().begin());
        }
        return true;
      };
      context.store.members(group_guid, keep);
      context.store.api_members(group_guid, keep);
      std::sort(found.begin(), found.end());
      found.erase(std::unique(found.begin(), found.end()), found.end());
      guids.emplace();
      guids->reserve(found.size() * kGuidSize);
      for (const auto& guid : found) guids->append(guid.begin(), guid.end());
    }
    for (size_t read = 0; next < guids->size() && read < kObjectsPerPiece && !body.full();
         ++read, next += kGuidSize) {
      std::optional<pb::DirectoryObject> object =
          context.store.object_by_guid(guids->substr(next, kGuidSize));
      if (object && filter.matches(*object)) body.writer().user(*object);
    }
    return next < guids->size();
  };
}

// The users `filter` accepts (without networks) from their stored records
// (rest/stored_shapes.hpp), in GUID order, every piece read from one StoreView taken now: the
// list is one state of the store. A piece reads at most kRecordsPerPiece records.
ListPiece stored_users_in_pieces(const ApiContext& context, UserFilter filter) {
  constexpr size_t kRecordsPerPiece = 4096;
  std::shared_ptr<const changefeed::StoreView> view = context.store.view();
  return [view, filter = std::move(filter), after = std::string()](ListBody& body) mutable {
    size_t read = 0;
    bool more = false;
    view->rendered_after(static_cast<size_t>(StoredShape::kUidUser), after,
                         [&](std::string_view guid, std::string_view record) {
                           after.assign(guid);
                           const std::optional<StoredUser> user =
                               read_stored_user(StoredShape::kUidUser, record);
                           if (user && (filter.domain.empty() || user->domain == filter.domain) &&
                               (!filter.ip_only || user->has_addresses)) {
                             body.json().raw(user->json);
                           }
                           more = ++read == kRecordsPerPiece || body.full();
                           return !more;
                         });
    return more;
  };
}

}  // namespace

Response uid_domains(const Call&, const ApiContext& context) {
  std::string body;
  JsonWriter json(body);
  json.begin_object();
  json.key("domains");
  json.begin_array();
  for (const DomainInfo& domain : context.domains) json.string(domain.base_dn);
  json.end_array();
  json.end_object();
  return json_response(http::status::ok, std::move(body));
}

Response uid_users(const Call& call, const ApiContext& context) {
  UserFilter filter;
  if (auto value = call.query_param("ip_only")) {
    const std::string text = lower(*value);
    if (text != "true" && text != "false") {
      return error_response(http::status::bad_request, "ip_only must be true or false");
    }
    filter.ip_only = text == "true";
  }
  if (auto value = call.query_param("networks")) {
    std::string error;
    filter.networks = parse_networks(*value, &error);
    if (!filter.networks) return error_response(http::status::bad_request, error);
  }
  bool empty = false;  // a filter names nothing that exists: no users
  if (auto value = call.query_param("domain")) {
    const DomainInfo* domain = find_domain(context, *value);
    if (domain != nullptr) filter.domain = domain->name;
    empty = domain == nullptr;
  }
  std::optional<pb::DirectoryObject> group;
  if (auto value = call.query_param("group")) {
    group = context.store.object_by_dn(std::string(*value));
    empty = empty || !group || group->kind() != pb::GROUP;
  }

  if (empty) return streamed_list(context, "users", [](ListBody&) { return false; });
  if (group) {
    return streamed_list(context, "users",
                         members_in_pieces(context, group->guid(), std::move(filter)));
  }
  if (!filter.networks && context.store.has_rendered_records()) {
    return streamed_list(context, "users", stored_users_in_pieces(context, std::move(filter)),
                         kStoredPieceBytes);
  }
  const std::string domain = filter.domain;
  Keep keep = [filter = std::move(filter)](const pb::DirectoryObject& object) {
    return filter.matches(object);
  };
  return streamed_list(context, "users", objects_in_pieces(context, pb::USER, domain,
                                                           std::move(keep), &ObjectWriter::user));
}

Response uid_user_by_guid(const Call& call, const ApiContext& context) {
  std::optional<std::string> guid = guid_from_text(call.path_param("guid"));
  if (!guid) {
    return error_response(http::status::bad_request,
                          "not an object GUID (string form or base64 of 16 bytes)");
  }
  if (context.store.has_rendered_records()) {
    // Its stored record: exactly what user_response writes, and kept only for the users it
    // shows.
    const std::optional<std::string> record =
        context.store.rendered(static_cast<size_t>(StoredShape::kUidUser), *guid);
    const std::optional<StoredUser> user =
        record ? read_stored_user(StoredShape::kUidUser, *record) : std::nullopt;
    if (!user) return error_response(http::status::not_found, "no such user");
    return json_response(http::status::ok, std::string(user->json));
  }
  return user_response(context, context.store.object_by_guid(*guid));
}

Response uid_user_by_dn(const Call& call, const ApiContext& context) {
  return user_response(context, context.store.object_by_dn(call.path_param("dn")));
}

Response uid_user_by_ntlm(const Call& call, const ApiContext& context) {
  return user_response(context, context.store.object_by_ntlm(call.path_param("identity")));
}

Response uid_groups(const Call& call, const ApiContext& context) {
  std::string domain;
  if (auto value = call.query_param("domain")) {
    const DomainInfo* found = find_domain(context, *value);
    if (found == nullptr) {
      return streamed_list(context, "groups", [](ListBody&) { return false; });
    }
    domain = found->name;
  }
  return streamed_list(context, "groups",
                       objects_in_pieces(context, pb::GROUP, std::move(domain), nullptr,
                                         &ObjectWriter::group));
}

Response uid_status(const Call&, const ApiContext& context) {
  int64_t last_update_us = 0;
  if (const uint64_t last = context.store.last_sequence(); last > 0) {
    changefeed::FeedQuery newest;
    newest.limit = 1;
    context.store.changes_after_sequence(last - 1, newest, [&](const pb::Change& change) {
      last_update_us = change.timestamp_us();
      return false;
    });
  }
  if (last_update_us == 0) {
    for (const DomainInfo& domain : context.domains) {
      if (auto cursor = context.store.cursor(domain.name)) {
        last_update_us = std::max(last_update_us, cursor->last_pass_us());
      }
    }
  }

  std::vector<std::pair<std::string, int64_t>> counts;
  int64_t total = 0;
  for (const DomainInfo& domain : context.domains) {
    int64_t count = 0;
    context.store.objects(pb::USER, domain.name, [&](const pb::DirectoryObject&) {
      ++count;
      return true;
    });
    counts.emplace_back(domain.name, count);
    total += count;
  }

  std::string body;
  JsonWriter json(body);
  json.begin_object();
  json.key("status");
  json.begin_object();
  json.key("Last update");
  if (last_update_us > 0) {
    json.string(http_date(last_update_us));
  } else {
    json.null();
  }
  json.key("Total domains count");
  json.number(static_cast<int64_t>(context.domains.size()));
  json.key("Total users count");
  json.number(total);
  json.key("Users count per domain");
  json.begin_object();
  for (const auto& [name, count] : counts) {
    json.key(name);
    json.number(count);
  }
  json.end_object();
  json.end_object();
  json.end_object();
  return json_response(http::status::ok, std::move(body));
}

}  // namespace dirfeed::rest
