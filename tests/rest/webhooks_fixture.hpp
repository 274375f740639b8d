#pragma once
// The webhook tests' fixture (webhooks_test.cpp: events and signatures;
// webhook_dispatcher_test.cpp: delivery): directories of a real store in a temp dir, and the
// events the feed gives them summarized as "event name" lines.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "core/guid.hpp"
#include "rest/json.hpp"
#include "rest/webhooks.hpp"
#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::rest::testing {

using Strings = std::vector<std::string>;

inline constexpr char kSecret[] = "my-secret";

class WebhooksTest : public changefeed::testing::StoreTest {
 protected:
  pb::Directory directory(const std::string& id = "d1") {
    pb::Directory result;
    result.set_id(id);
    result.set_name("App");
    result.set_tenant("acme");
    result.set_product("crm");
    result.set_type("active-directory");
    result.set_domain(changefeed::testing::kDomain);
    return result;
  }

  // One payload as "event name" or "event user>group" (names from the fixture's GUIDs); also
  // checks the envelope.
  std::string summarize(const std::string& payload, const pb::Directory& dir) {
    std::string error;
    std::optional<JsonValue> json = parse_json(payload, &error);
    EXPECT_TRUE(json) << error << ": " << payload;
    if (!json) return "?";
    EXPECT_EQ(json->object().size(), 5u) << payload;
    EXPECT_EQ(json->find("tenant")->text(), dir.tenant());
    EXPECT_EQ(json->find("product")->text(), dir.product());
    EXPECT_EQ(json->find("directory_id")->text(), dir.id());
    const JsonValue* data = json->find("data");
    std::string line = json->find("event")->text() + " " + name_of_id(data->find("id")->text());
    if (const JsonValue* group = data->find("group")) {
      line += ">" + name_of_id(group->find("id")->text());
      EXPECT_EQ(group->find("raw")->find("members"), nullptr) << "groups go without members";
      EXPECT_NE(data->find("email"), nullptr) << "the user's own fields are there too";
    }
    return line;
  }

  std::string name_of_id(const std::string& id) {
    for (const auto& [name, guid_bytes] : guids_) {
      if (guid_to_string(guid_bytes) == id) return name;
    }
    return "?" + id;
  }

  // The events of the feed after `after` for `dir`, summarized, through one builder.
  Strings events(const pb::Directory& dir, uint64_t after = 0) {
    EventBuilder builder(*store_);
    Strings lines;
    for (const pb::Change& change : changes_after(after)) {
      if (std::optional<std::string> payload = builder.event(dir, change)) {
        lines.push_back(summarize(*payload, dir));
      }
    }
    return lines;
  }

  pb::ObservedObject titled(const std::string& name, const std::string& title) {
    pb::ObservedObject observed = user(name);
    observed.mutable_object()->set_title(title);
    return observed;
  }
};

}  // namespace dirfeed::rest::testing
