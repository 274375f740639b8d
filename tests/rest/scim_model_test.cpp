// SCIM resources, filters and PATCH operations (rest/scim_model.hpp), with the bodies Okta and
// Entra ID send.
#include <gtest/gtest.h>

#include <string>

#include "core/guid.hpp"
#include "rest/json.hpp"
#include "rest/scim_model.hpp"

namespace dirfeed::rest {
namespace {

JsonValue parse(const std::string& text) {
  std::string error;
  std::optional<JsonValue> value = parse_json(text, &error);
  EXPECT_TRUE(value) << error << ": " << text;
  return value.value_or(JsonValue());
}

std::string text_of(const JsonValue& value) {
  std::string out;
  JsonWriter json(out);
  json.value(value);
  return out;
}

// Patches `resource` with `body`; the resource after it.
std::string patched(const std::string& resource, const std::string& body,
                    ScimMemberChange* members = nullptr) {
  JsonValue value = parse(resource);
  ScimMemberChange ignored;
  std::string problem;
  EXPECT_TRUE(apply_scim_patch(parse(body), value, members ? members : &ignored, &problem))
      << problem;
  return text_of(value);
}

TEST(ScimModel, NewIdsAreVersion4Uuids) {
  const std::string id = guid_to_string(new_uuid_guid());
  ASSERT_EQ(id.size(), 36u) << id;
  EXPECT_EQ(id[14], '4') << id;
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
  EXPECT_NE(guid_to_string(new_uuid_guid()), id);
}

TEST(ScimModel, FiltersAsIdentityProvidersSendThem) {
  std::string problem;
  std::optional<ScimFilter> filter = parse_scim_filter(R"(userName eq "alice@corp.example")", &problem);
  ASSERT_TRUE(filter) << problem;
  EXPECT_EQ(filter->attribute, "username");
  EXPECT_EQ(filter->value, "alice@corp.example");
  filter = parse_scim_filter(R"(externalId EQ "a\"b")", &problem);
  ASSERT_TRUE(filter) << problem;
  EXPECT_EQ(filter->attribute, "externalid");
  EXPECT_EQ(filter->value, "a\"b");
  for (const char* bad : {"userName", R"(userName co "a")", R"(userName eq a)", R"(userName eq "a)", ""}) {
    EXPECT_FALSE(parse_scim_filter(bad, &problem)) << bad;
    EXPECT_FALSE(problem.empty());
  }
}

TEST(ScimModel, UserResourceIntoTheStoredObject) {
  pb::DirectoryObject user;
  user.set_guid(new_uuid_guid());
  std::string problem;
  ASSERT_TRUE(user_from_scim(parse(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
      "id":"client-chosen","meta":{"resourceType":"User"},"userName":"alice@corp.example",
      "externalId":"00u1","name":{"givenName":"Alice","familyName":"Able"},
      "emails":[{"value":"a2@corp.example","type":"home"},{"primary":"True","value":"alice@corp.example","type":"work"}],
      "displayName":"Alice Able","active":"False","title":"Engineer",
      "phoneNumbers":[{"value":"+1 555 0100"}],
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}})"),
                             &user, &problem))
      << problem;
  EXPECT_EQ(user.kind(), pb::USER);
  EXPECT_EQ(user.user_principal_name(), "alice@corp.example");
  EXPECT_EQ(user.external_id(), "00u1");
  EXPECT_EQ(user.given_name(), "Alice");
  EXPECT_EQ(user.surname(), "Able");
  EXPECT_EQ(user.mail(), "alice@corp.example") << "the primary email";
  EXPECT_EQ(user.display_name(), "Alice Able");
  EXPECT_EQ(user.title(), "Engineer");
  EXPECT_EQ(user.telephone_number(), "+1 555 0100");
  EXPECT_EQ(user.department(), "R&D");
  EXPECT_EQ(user.user_account_control(), 0x2u) << "Entra's \"False\" is false";
  // As pushed, with our id first, without meta, active a boolean.
  const std::string id = guid_to_string(user.guid());
  EXPECT_TRUE(user.source_resource().starts_with(R"({"id":")" + id + R"(","schemas":)"))
      << user.source_resource();
  EXPECT_EQ(user.source_resource().find("meta"), std::string::npos);
  EXPECT_NE(user.source_resource().find(R"("active":false)"), std::string::npos);

  for (const char* bad : {R"({"name":{}})", R"({"userName":""})", R"({"userName":"a","active":"maybe"})",
                          R"([1])"}) {
    pb::DirectoryObject other;
    EXPECT_FALSE(user_from_scim(parse(bad), &other, &problem)) << bad;
  }
}

TEST(ScimModel, GroupResourceKeepsMembersApart) {
  pb::DirectoryObject group;
  group.set_guid(new_uuid_guid());
  const std::string member = new_uuid_guid();
  std::optional<std::vector<std::string>> members;
  std::string problem;
  ASSERT_TRUE(group_from_scim(parse(R"({"displayName":"Staff","externalId":"g1","members":[{"value":")" +
                                    guid_to_string(member) + R"("}]})"),
                              &group, &members, &problem))
      << problem;
  EXPECT_EQ(group.display_name(), "Staff");
  ASSERT_TRUE(members);
  EXPECT_EQ(*members, std::vector<std::string>{member});
  EXPECT_EQ(group.source_resource().find("members"), std::string::npos) << group.source_resource();
  ASSERT_TRUE(group_from_scim(parse(R"({"displayName":"Staff"})"), &group, &members, &problem));
  EXPECT_FALSE(members) << "no members named: PUT keeps them";
  EXPECT_FALSE(group_from_scim(parse(R"({"displayName":"S","members":[{"value":"x"}]})"), &group,
                               &members, &problem));
}

TEST(ScimModel, OktaPatchesReplaceWithoutPath) {
  EXPECT_EQ(patched(R"({"userName":"a","active":true})",
                    R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations":[{"op":"replace","value":{"active":false}}]})"),
            R"({"userName":"a","active":false})");
  // Okta renames a group with its id repeated; the id never changes.
  EXPECT_EQ(patched(R"({"id":"g","displayName":"Old"})",
                    R"({"Operations":[{"op":"replace","value":{"id":"other","displayName":"New"}}]})"),
            R"({"id":"g","displayName":"New"})");
}

TEST(ScimModel, EntraPatchesWithPathsAndStringBooleans) {
  EXPECT_EQ(patched(R"({"userName":"a","active":true})",
                    R"({"Operations":[{"op":"Replace","path":"active","value":"False"}]})"),
            R"({"userName":"a","active":"False"})")
      << "kept as sent; user_from_scim makes it a boolean";
  EXPECT_EQ(patched(R"({"userName":"a","name":{"givenName":"A"},"emails":[{"type":"work","value":"old@x"}]})",
                    R"({"Operations":[
                        {"op":"Replace","path":"name.familyName","value":"Able"},
                        {"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@x"},
                        {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"R&D"},
                        {"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1"},
                        {"op":"Remove","path":"name.givenName"}]})"),
            R"({"userName":"a","name":{"familyName":"Able"},"emails":[{"type":"work","value":"new@x"}],)"
            R"("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"},)"
            R"("phoneNumbers":[{"type":"mobile","value":"+1"}]})");
  // Entra also sends dotted names in a path-less value.
  EXPECT_EQ(patched(R"({"userName":"a"})",
                    R"({"Operations":[{"op":"Add","value":{"name.givenName":"B","title":"T"}}]})"),
            R"({"userName":"a","name":{"givenName":"B"},"title":"T"})");
}

TEST(ScimModel, MemberOperationsAreDeltas) {
  const std::string a = new_uuid_guid();
  const std::string b = new_uuid_guid();
  ScimMemberChange members;
  EXPECT_EQ(patched(R"({"displayName":"S"})",
                    R"({"Operations":[{"op":"Add","path":"members","value":[{"value":")" +
                        guid_to_string(a) + R"("},{"value":")" + guid_to_string(b) + R"("}]},
                        {"op":"remove","path":"members[value eq \")" + guid_to_string(b) + R"(\"]"}]})",
                    &members),
            R"({"displayName":"S"})");
  EXPECT_EQ(members.added, std::vector<std::string>{a});
  EXPECT_EQ(members.removed, std::vector<std::string>{b});
  EXPECT_FALSE(members.replaced);

  ScimMemberChange replaced;
  patched(R"({"displayName":"S"})",
          R"({"Operations":[{"op":"replace","path":"members","value":[{"value":")" +
              guid_to_string(a) + R"("}]}]})",
          &replaced);
  ASSERT_TRUE(replaced.replaced);
  EXPECT_EQ(*replaced.replaced, std::vector<std::string>{a});
}

TEST(ScimModel, MalformedPatchesAreRefused) {
  for (const char* body : {R"({})", R"({"Operations":{}})", R"({"Operations":[{"op":"move","path":"a","value":1}]})",
                           R"({"Operations":[{"op":"replace","path":"a"}]})",
                           R"({"Operations":[{"op":"replace","value":5}]})",
                           R"({"Operations":[{"op":"add","path":"emails[type eq \"work\"","value":1}]})",
                           R"({"Operations":[{"op":"add","path":"members","value":[{"value":"nope"}]}]})"}) {
    JsonValue resource = parse(R"({"userName":"a"})");
    ScimMemberChange members;
    std::string problem;
    EXPECT_FALSE(apply_scim_patch(parse(body), resource, &members, &problem)) << body;
    EXPECT_FALSE(problem.empty()) << body;
  }
}

}  // namespace
}  // namespace dirfeed::rest
