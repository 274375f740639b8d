// Routing: patterns, percent-decoding, 404/405/400 with JSON error bodies.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include <string>

#include "rest/router.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;

TEST(PercentDecodeTest, DecodesEscapesAndRejectsMalformedOnes) {
  EXPECT_EQ(percent_decode("CN%3DSmith%5C%2C%20John", false), "CN=Smith\\, John");
  EXPECT_EQ(percent_decode("%e2%82%ac", false), "\xE2\x82\xAC");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("", true), "");
  EXPECT_EQ(percent_decode("%", false), std::nullopt);
  EXPECT_EQ(percent_decode("%4", false), std::nullopt);
  EXPECT_EQ(percent_decode("ab%4", false), std::nullopt);
  EXPECT_EQ(percent_decode("%zz", false), std::nullopt);
  EXPECT_EQ(percent_decode("%4g", false), std::nullopt);
}

class RouterTest : public ::testing::Test {
 protected:
  // Each route answers with its name and what it saw.
  static RouteHandler echo(std::string name) {
    return [name](const Call& call) {
      std::string text = name;
      for (const auto& [key, value] : call.path) text += " " + key + "=" + value;
      for (const auto& [key, value] : call.query) text += " ?" + key + "=" + value;
      Response response(http::status::ok, 11);
      response.body() = text;
      return response;
    };
  }

  Response get(const std::string& target, http::verb method = http::verb::get) {
    Request request(method, target, 11);
    return router_.handle(request);
  }

  Router router_{{
      {http::verb::get, "/a/items", echo("items")},
      {http::verb::post, "/a/items", echo("post-items")},
      {http::verb::get, "/a/item/dn/{dn...}", echo("by-dn")},
      {http::verb::get, "/a/item/{id}", echo("by-id")},
  }};
};

TEST_F(RouterTest, MatchesLiteralsAndParameters) {
  EXPECT_EQ(get("/a/items").body(), "items");
  EXPECT_EQ(get("/a/items", http::verb::post).body(), "post-items");
  EXPECT_EQ(get("/a/item/42").body(), "by-id id=42");
  EXPECT_EQ(get("/a/item/dn/CN%3Dx%2FY%2CDC%3Dz").body(), "by-dn dn=CN=x/Y,DC=z");
  // The rest parameter takes raw '/' too.
  EXPECT_EQ(get("/a/item/dn/CN=a/b,DC=z").body(), "by-dn dn=CN=a/b,DC=z");
}

TEST_F(RouterTest, DecodesQueryParameters) {
  EXPECT_EQ(get("/a/items?x=1&flag&y=a+b%2Bc&&z=%C3%AB").body(),
            "items ?x=1 ?flag= ?y=a b+c ?z=\xC3\xAB");
}

TEST_F(RouterTest, UnknownPathIs404) {
  for (const char* target : {"/", "/a", "/a/items/", "/a/item", "/a/item/", "/a/item/dn/",
                             "/b/items", "/a/item/1/2"}) {
    Response response = get(target);
    EXPECT_EQ(response.result(), http::status::not_found) << target;
    EXPECT_EQ(response.body(), R"({"error":"no such resource"})") << target;
    EXPECT_EQ(response[http::field::content_type], "application/json");
  }
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  Response response = get("/a/items", http::verb::delete_);
  EXPECT_EQ(response.result(), http::status::method_not_allowed);
  EXPECT_EQ(response[http::field::allow], "GET, POST");
  EXPECT_EQ(get("/a/item/1", http::verb::put)[http::field::allow], "GET");
}

TEST_F(RouterTest, MalformedPercentEncodingIs400) {
  Response in_path = get("/a/item/%zz");
  EXPECT_EQ(in_path.result(), http::status::bad_request);
  EXPECT_EQ(in_path.body(), R"({"error":"malformed percent-encoding in the path"})");
  EXPECT_EQ(get("/a/item/dn/CN%3").result(), http::status::bad_request);
  EXPECT_EQ(get("/a/items?x=%G1").result(), http::status::bad_request);
  EXPECT_EQ(get("/a/items?%=1").result(), http::status::bad_request);
}

}  // namespace
}  // namespace dirfeed::rest
