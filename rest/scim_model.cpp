#include "rest/scim_model.hpp"

#include <algorithm>
#include <utility>

#include "core/guid.hpp"
#include "core/text.hpp"
#include "rest/credentials.hpp"

namespace dirfeed::rest {
namespace {

constexpr uint32_t kAccountDisable = 0x2;

using Object = JsonValue::Object;

// The member `name` of an object, compared case-insensitively; nullptr when absent.
JsonValue* find_member(JsonValue& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  for (auto& [key, value] : object.object()) {
    if (iequals(key, name)) return &value;
  }
  return nullptr;
}
const JsonValue* find_member(const JsonValue& object, std::string_view name) {
  return find_member(const_cast<JsonValue&>(object), name);
}

void erase_member(JsonValue& object, std::string_view name) {
  if (!object.is_object()) return;
  Object& members = object.object();
  members.erase(std::remove_if(members.begin(), members.end(),
                               [&](const auto& member) { return iequals(member.first, name); }),
                members.end());
}

// Sets `name` (its existing spelling kept) to `value`.
void set_member(JsonValue& object, std::string_view name, JsonValue value) {
  if (JsonValue* existing = find_member(object, name)) {
    *existing = std::move(value);
  } else {
    object.object().emplace_back(std::string(name), std::move(value));
  }
}

// The member `name` as an object, created (or made one) when it is not.
JsonValue& object_member(JsonValue& object, std::string_view name) {
  JsonValue* existing = find_member(object, name);
  if (existing == nullptr || !existing->is_object()) {
    set_member(object, name, JsonValue::make_object());
    existing = find_member(object, name);
  }
  return *existing;
}

std::string string_member(const JsonValue& object, std::string_view name) {
  const JsonValue* value = find_member(object, name);
  return value != nullptr && value->is_string() ? value->text() : "";
}

// A boolean, or Entra ID's "True"/"False" strings.
std::optional<bool> scim_bool(const JsonValue& value) {
  if (value.is_bool()) return value.as_bool();
  if (value.is_string()) {
    if (iequals(value.text(), "true")) return true;
    if (iequals(value.text(), "false")) return false;
  }
  return std::nullopt;
}

// The JSON text of `resource` with "id" (first), without "meta".
std::string resource_text(JsonValue resource, const std::string& id) {
  erase_member(resource, "meta");
  erase_member(resource, "id");
  resource.object().insert(resource.object().begin(), {"id", JsonValue::make_string(id)});
  std::string text;
  JsonWriter json(text);
  json.value(resource);
  return text;
}

bool too_long(const std::string& text) { return text.size() > kMaxScimNameLength; }

// The GUIDs of [{"value": id}, ...]; false and *problem when one is not an id.
bool member_ids(const JsonValue& list, std::vector<std::string>* ids, std::string* problem) {
  const JsonValue::Array empty;
  const JsonValue::Array& elements = list.is_array() ? list.array() : empty;
  if (!list.is_array() && !list.is_null()) {
    *problem = "members must be an array of {\"value\": id}";
    return false;
  }
  if (elements.size() > kMaxScimMembersPerRequest) {
    *problem = "more than " + std::to_string(kMaxScimMembersPerRequest) + " members in one request";
    return false;
  }
  for (const JsonValue& element : elements) {
    const std::string value = string_member(element, "value");
    std::optional<std::string> guid = guid_from_text(value);
    if (!guid) {
      *problem = "members: \"" + value + "\" is not a user id";
      return false;
    }
    ids->push_back(std::move(*guid));
  }
  return true;
}

// ---- PATCH paths ---------------------------------------------------------------------------

// A parsed PATCH path: attribute, optional [filter_attribute eq "filter_value"], optional
// sub-attribute; `schema` for an extension attribute ("urn:...:User:department").
struct PatchPath {
  std::string schema;
  std::string attribute;
  std::optional<ScimFilter> filter;
  std::string sub;
};

// Whether a "urn:..." name is a schema URN itself (its last part names a resource type)
// rather than one of its attributes.
bool is_schema_urn(std::string_view name) {
  if (name.size() < 4 || !iequals(name.substr(0, 4), "urn:")) return false;
  const size_t colon = name.rfind(':');
  const std::string_view last = name.substr(colon + 1);
  return last == "User" || last == "Group";
}

std::optional<PatchPath> parse_path(std::string_view text, std::string* problem) {
  PatchPath path;
  std::string_view rest = trim(text);
  if (rest.size() >= 4 && iequals(rest.substr(0, 4), "urn:") && !is_schema_urn(rest)) {
    const size_t colon = rest.rfind(':');
    path.schema = std::string(rest.substr(0, colon));
    rest = rest.substr(colon + 1);
  } else if (is_schema_urn(rest)) {
    path.attribute = std::string(rest);
    return path;
  }
  const size_t bracket = rest.find('[');
  if (bracket != std::string_view::npos) {
    const size_t close = rest.find(']', bracket);
    if (close == std::string_view::npos) {
      *problem = "path \"" + std::string(text) + "\": '[' without ']'";
      return std::nullopt;
    }
    path.filter = parse_scim_filter(rest.substr(bracket + 1, close - bracket - 1), problem);
    if (!path.filter) return std::nullopt;
    path.attribute = std::string(rest.substr(0, bracket));
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != '.') {
        *problem = "path \"" + std::string(text) + "\": expected '.' after ']'";
        return std::nullopt;
      }
      path.sub = std::string(rest.substr(1));
    }
  } else {
    const size_t dot = rest.find('.');
    path.attribute = std::string(rest.substr(0, dot));
    if (dot != std::string_view::npos) path.sub = std::string(rest.substr(dot + 1));
  }
  if (path.attribute.empty()) {
    *problem = "path \"" + std::string(text) + "\" names no attribute";
    return std::nullopt;
  }
  return path;
}

bool element_matches(const JsonValue& element, const ScimFilter& filter) {
  const JsonValue* value = find_member(element, filter.attribute);
  if (value == nullptr) return false;
  if (value->is_string()) return iequals(value->text(), filter.value);
  if (std::optional<bool> flag = scim_bool(*value)) return (*flag ? "true" : "false") == filter.value;
  return value->is_number() && value->text() == filter.value;
}

enum class Op { kAdd, kReplace, kRemove };

// Applies one operation on a parsed path (not "members") to the resource.
void apply_at(JsonValue& resource, const PatchPath& path, Op op, const JsonValue& value) {
  JsonValue& holder = path.schema.empty() ? resource : object_member(resource, path.schema);
  if (path.filter) {
    JsonValue* list = find_member(holder, path.attribute);
    if (op == Op::kRemove) {
      if (list == nullptr || !list->is_array()) return;
      auto& elements = list->array();
      if (path.sub.empty()) {
        elements.erase(std::remove_if(elements.begin(), elements.end(),
                                      [&](const JsonValue& e) { return element_matches(e, *path.filter); }),
                       elements.end());
      } else {
        for (JsonValue& element : elements) {
          if (element_matches(element, *path.filter)) erase_member(element, path.sub);
        }
      }
      return;
    }
    if (list == nullptr || !list->is_array()) {
      set_member(holder, path.attribute, JsonValue::make_array());
      list = find_member(holder, path.attribute);
    }
    bool found = false;
    for (JsonValue& element : list->array()) {
      if (!element_matches(element, *path.filter) || !element.is_object()) continue;
      found = true;
      if (path.sub.empty()) {
        element = value;
      } else {
        set_member(element, path.sub, value);
      }
    }
    if (!found) {
      JsonValue element = path.sub.empty() && value.is_object() ? value : JsonValue::make_object();
      set_member(element, path.filter->attribute, JsonValue::make_string(path.filter->value));
      if (!path.sub.empty()) set_member(element, path.sub, value);
      list->array().push_back(std::move(element));
    }
    return;
  }
  if (!path.sub.empty()) {
    if (op == Op::kRemove) {
      if (JsonValue* parent = find_member(holder, path.attribute)) erase_member(*parent, path.sub);
      return;
    }
    set_member(object_member(holder, path.attribute), path.sub, value);
    return;
  }
  if (op == Op::kRemove) {
    erase_member(holder, path.attribute);
    return;
  }
  JsonValue* existing = find_member(holder, path.attribute);
  if (op == Op::kAdd && existing != nullptr && existing->is_array() && value.is_array()) {
    for (const JsonValue& element : value.array()) existing->array().push_back(element);
    return;
  }
  if (op == Op::kAdd && existing != nullptr && existing->is_object() && value.is_object()) {
    for (const auto& [name, member] : value.object()) set_member(*existing, name, member);
    return;
  }
  set_member(holder, path.attribute, value);
}

bool is_members(const PatchPath& path) {
  return path.schema.empty() && iequals(path.attribute, "members");
}

bool apply_members(const PatchPath& path, Op op, const JsonValue* value, ScimMemberChange* members,
                   std::string* problem) {
  std::vector<std::string> ids;
  if (path.filter) {
    if (!iequals(path.filter->attribute, "value")) {
      *problem = "members filters name value: members[value eq \"id\"]";
      return false;
    }
    std::optional<std::string> guid = guid_from_text(path.filter->value);
    if (!guid) {
      *problem = "members: \"" + path.filter->value + "\" is not a user id";
      return false;
    }
    ids.push_back(std::move(*guid));
  } else if (value != nullptr && !member_ids(*value, &ids, problem)) {
    return false;
  }
  auto erase_from = [](std::vector<std::string>& list, const std::string& id) {
    list.erase(std::remove(list.begin(), list.end(), id), list.end());
  };
  if (op == Op::kReplace || (op == Op::kRemove && !path.filter && value == nullptr)) {
    members->replaced = op == Op::kReplace ? ids : std::vector<std::string>();
    members->added.clear();
    members->removed.clear();
    return true;
  }
  for (const std::string& id : ids) {
    if (op == Op::kAdd) {
      erase_from(members->removed, id);
      if (members->replaced) {
        members->replaced->push_back(id);
      } else {
        members->added.push_back(id);
      }
    } else {
      erase_from(members->added, id);
      if (members->replaced) {
        erase_from(*members->replaced, id);
      } else {
        members->removed.push_back(id);
      }
    }
  }
  return true;
}

}  // namespace

std::optional<ScimFilter> parse_scim_filter(std::string_view text, std::string* problem) {
  const std::string_view whole = trim(text);
  const size_t space = whole.find(' ');
  const auto fail = [&](std::string_view why) -> std::optional<ScimFilter> {
    *problem = "filter \"" + std::string(whole) + "\": " + std::string(why);
    return std::nullopt;
  };
  if (space == std::string_view::npos) return fail("expected <attribute> eq \"<value>\"");
  ScimFilter filter;
  filter.attribute = lower(whole.substr(0, space));
  std::string_view rest = trim(whole.substr(space + 1));
  if (rest.size() < 3 || !iequals(rest.substr(0, 2), "eq") || rest[2] != ' ') {
    return fail("only the eq operator is supported");
  }
  rest = trim(rest.substr(3));
  std::string error;
  std::optional<JsonValue> value = parse_json(rest, &error);
  if (!value || !(value->is_string() || value->is_bool() || value->is_number())) {
    return fail("the value must be a quoted string");
  }
  filter.value = value->is_bool() ? (value->as_bool() ? "true" : "false") : value->text();
  return filter;
}

bool user_from_scim(JsonValue resource, pb::DirectoryObject* user, std::string* problem) {
  if (!resource.is_object()) {
    *problem = "the User resource must be a JSON object";
    return false;
  }
  user->set_kind(pb::USER);
  user->set_user_principal_name(string_member(resource, "userName"));
  if (user->user_principal_name().empty()) {
    *problem = "userName is required";
    return false;
  }
  user->set_external_id(string_member(resource, "externalId"));
  user->set_display_name(string_member(resource, "displayName"));
  user->set_title(string_member(resource, "title"));
  if (too_long(user->user_principal_name()) || too_long(user->external_id()) ||
      too_long(user->display_name())) {
    *problem = "userName, externalId and displayName are limited to " +
               std::to_string(kMaxScimNameLength) + " bytes";
    return false;
  }
  if (const JsonValue* name = find_member(resource, "name")) {
    user->set_given_name(string_member(*name, "givenName"));
    user->set_surname(string_member(*name, "familyName"));
  }
  bool active = true;
  if (JsonValue* value = find_member(resource, "active"); value != nullptr && !value->is_null()) {
    std::optional<bool> flag = scim_bool(*value);
    if (!flag) {
      *problem = "active must be true or false";
      return false;
    }
    active = *flag;
    *value = JsonValue::make_bool(active);
  }
  user->set_user_account_control(active ? 0 : kAccountDisable);
  if (const JsonValue* emails = find_member(resource, "emails"); emails && emails->is_array()) {
    const JsonValue* chosen = nullptr;
    for (const JsonValue& email : emails->array()) {
      const JsonValue* primary = find_member(email, "primary");
      if (primary != nullptr && scim_bool(*primary).value_or(false)) {
        chosen = &email;
        break;
      }
      if (chosen == nullptr) chosen = &email;
    }
    if (chosen != nullptr) user->set_mail(string_member(*chosen, "value"));
  }
  if (const JsonValue* phones = find_member(resource, "phoneNumbers");
      phones && phones->is_array() && !phones->array().empty()) {
    user->set_telephone_number(string_member(phones->array().front(), "value"));
  }
  if (const JsonValue* enterprise = find_member(resource, kScimEnterpriseSchema)) {
    user->set_department(string_member(*enterprise, "department"));
  }
  user->set_source_resource(resource_text(std::move(resource), guid_to_string(user->guid())));
  return true;
}

bool group_from_scim(JsonValue resource, pb::DirectoryObject* group,
                     std::optional<std::vector<std::string>>* members, std::string* problem) {
  if (!resource.is_object()) {
    *problem = "the Group resource must be a JSON object";
    return false;
  }
  group->set_kind(pb::GROUP);
  group->set_display_name(string_member(resource, "displayName"));
  group->set_external_id(string_member(resource, "externalId"));
  if (group->display_name().empty()) {
    *problem = "displayName is required";
    return false;
  }
  if (too_long(group->display_name()) || too_long(group->external_id())) {
    *problem = "displayName and externalId are limited to " +
               std::to_string(kMaxScimNameLength) + " bytes";
    return false;
  }
  members->reset();
  if (const JsonValue* list = find_member(resource, "members")) {
    members->emplace();
    if (!member_ids(*list, &**members, problem)) return false;
  }
  erase_member(resource, "members");
  group->set_source_resource(resource_text(std::move(resource), guid_to_string(group->guid())));
  return true;
}

bool apply_scim_patch(const JsonValue& body, JsonValue& resource, ScimMemberChange* members,
                      std::string* problem) {
  const JsonValue* operations = find_member(body, "Operations");
  if (!body.is_object() || operations == nullptr || !operations->is_array()) {
    *problem = "a PatchOp body needs an \"Operations\" array";
    return false;
  }
  for (const JsonValue& operation : operations->array()) {
    const std::string name = lower(string_member(operation, "op"));
    Op op;
    if (name == "add") {
      op = Op::kAdd;
    } else if (name == "replace") {
      op = Op::kReplace;
    } else if (name == "remove") {
      op = Op::kRemove;
    } else {
      *problem = "op must be add, replace or remove";
      return false;
    }
    const JsonValue* value = find_member(operation, "value");
    const JsonValue* path_text = find_member(operation, "path");
    if (path_text != nullptr && !path_text->is_null()) {
      if (!path_text->is_string()) {
        *problem = "path must be a string";
        return false;
      }
      std::optional<PatchPath> path = parse_path(path_text->text(), problem);
      if (!path) return false;
      if (is_members(*path)) {
        if (!apply_members(*path, op, value, members, problem)) return false;
        continue;
      }
      if (op != Op::kRemove && value == nullptr) {
        *problem = "op " + name + " needs a value";
        return false;
      }
      apply_at(resource, *path, op, value != nullptr ? *value : JsonValue());
      continue;
    }
    // No path: the value's members are the attributes to set.
    if (op == Op::kRemove || value == nullptr || !value->is_object()) {
      *problem = "op " + name + " without a path needs an object value";
      return false;
    }
    for (const auto& [attribute, member] : value->object()) {
      std::optional<PatchPath> path = parse_path(attribute, problem);
      if (!path) return false;
      if (is_members(*path)) {
        if (!apply_members(*path, op, &member, members, problem)) return false;
      } else if (!iequals(attribute, "id")) {  // Okta repeats the id; it never changes
        apply_at(resource, *path, op, member);
      }
    }
  }
  return true;
}

namespace {

// The stored resource, its closing brace left open for the caller's members.
void open_resource(JsonWriter& json, const pb::DirectoryObject& object) {
  const std::string& text = object.source_resource();
  if (text.size() >= 2 && text.back() == '}') {
    json.raw(std::string_view(text).substr(0, text.size() - 1));
    if (text.size() > 2) json.out().push_back(',');
  } else {
    json.raw("{");
  }
}

void close_resource(JsonWriter& json, std::string_view type, std::string_view location) {
  json.out().append("\"meta\":");
  JsonWriter meta(json.out());
  meta.begin_object();
  meta.member("resourceType", type);
  if (!location.empty()) meta.member("location", location);
  meta.end_object();
  json.out().push_back('}');
}

}  // namespace

void write_scim_user(JsonWriter& json, const pb::DirectoryObject& user, std::string_view location) {
  open_resource(json, user);
  close_resource(json, "User", location);
}

void write_scim_group(JsonWriter& json, const pb::DirectoryObject& group,
                      const changefeed::Store& store, std::string_view location) {
  open_resource(json, group);
  std::string& out = json.out();
  out.append("\"members\":");
  JsonWriter list(out);
  list.begin_array();
  store.members(group.guid(), [&](const pb::DirectoryObject& member) {
    list.begin_object();
    list.member("value", guid_to_string(member.guid()));
    list.member("display", member.kind() == pb::USER ? member.user_principal_name()
                                                     : member.display_name());
    list.end_object();
    return true;
  });
  list.end_array();
  out.push_back(',');
  close_resource(json, "Group", location);
}

}  // namespace dirfeed::rest
