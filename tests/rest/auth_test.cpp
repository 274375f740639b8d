// Request authentication (rest/auth.hpp): parsing Basic and API key headers, and the access
// rule the router applies: 401 with WWW-Authenticate on writes always and on reads when
// anonymous_read is false; health checks never; unknown routes 404/405 either way.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include <string>

#include "core/base64.hpp"
#include "rest/api.hpp"
#include "rest/auth.hpp"
#include "tests/changefeed/store_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::rest {
namespace {

// The name of a checked key (nullopt: refused).
std::optional<std::string> key_name(const std::optional<KeyEntry>& entry) {
  return entry ? std::optional<std::string>(entry->name) : std::nullopt;
}


namespace http = boost::beast::http;
using changefeed::testing::kDomain;
using changefeed::testing::StoreTest;
using namespace std::chrono_literals;

constexpr char kBase[] = "/api/uid/v1.0";

std::string basic(const std::string& user, const std::string& password) {
  return "Basic " + base64_encode(user + ":" + password);
}

TEST(AuthTest, ParsesBasicAuthorization) {
  using Pair = std::pair<std::string, std::string>;
  EXPECT_EQ(parse_basic_authorization("Basic YWxpY2U6czNjcmV0"), Pair("alice", "s3cret"));
  EXPECT_EQ(parse_basic_authorization("basic  YWxpY2U6czNjcmV0 "), Pair("alice", "s3cret"));
  EXPECT_EQ(parse_basic_authorization(basic("alice", "a:b:c")), Pair("alice", "a:b:c"));
  EXPECT_EQ(parse_basic_authorization(basic("alice", "")), Pair("alice", ""));
  EXPECT_EQ(parse_basic_authorization("Bearer YWxpY2U6czNjcmV0"), std::nullopt);
  EXPECT_EQ(parse_basic_authorization("Basic"), std::nullopt);
  EXPECT_EQ(parse_basic_authorization("Basic !!!"), std::nullopt);
  EXPECT_EQ(parse_basic_authorization("Basic " + base64_encode("nocolon")), std::nullopt);
}

TEST(AuthTest, FindsApiKeys) {
  dirfeed::testing::TempDir dir;
  const std::string key = generate_api_key();
  write_file_atomically(dir.path() + "/keys", format_keys({{"proxy", api_key_hash(key)}}));
  CredentialStore store(dir.path() + "/users", dir.path() + "/keys");

  Request request(http::verb::get, "/", 11);
  EXPECT_EQ(request_api_key(request), std::nullopt);
  EXPECT_EQ(check_request_api_key(request, store), std::nullopt);
  request.set("x-api-key", key);
  EXPECT_EQ(request_api_key(request), key);
  EXPECT_EQ(key_name(check_request_api_key(request, store)), "proxy");

  Request sync(http::verb::get, "/", 11);
  sync.set(http::field::authorization, "Api-Key " + key);
  EXPECT_EQ(key_name(check_request_api_key(sync, store)), "proxy");
  sync.set(http::field::authorization, "api-key " + key);
  EXPECT_EQ(key_name(check_request_api_key(sync, store)), "proxy");
  sync.set(http::field::authorization, "Api-Key dfk_wrong");
  EXPECT_EQ(request_api_key(sync), "dfk_wrong");
  EXPECT_EQ(check_request_api_key(sync, store), std::nullopt);
  sync.set(http::field::authorization, basic("proxy", key));
  EXPECT_EQ(request_api_key(sync), std::nullopt);
}

TEST(AuthTest, RoutesDefaultToReadOrWriteByMethod) {
  const RouteHandler none = [](const Call&) { return Response(); };
  EXPECT_EQ(route_access({http::verb::get, "/", none}), Access::kRead);
  EXPECT_EQ(route_access({http::verb::head, "/", none}), Access::kRead);
  EXPECT_EQ(route_access({http::verb::post, "/", none}), Access::kWrite);
  EXPECT_EQ(route_access({http::verb::put, "/", none}), Access::kWrite);
  EXPECT_EQ(route_access({http::verb::delete_, "/", none}), Access::kWrite);
  EXPECT_EQ(route_access({http::verb::patch, "/", none}), Access::kWrite);
  EXPECT_EQ(route_access({http::verb::get, "/", none, Access::kPublic}), Access::kPublic);
  EXPECT_EQ(route_access({http::verb::post, "/", none, Access::kRead}), Access::kRead);
}

class ApiAuthTest : public StoreTest {
 protected:
  ApiAuthTest() {
    write_file_atomically(users_file_,
                          format_users({hash_password("alice", "s3cret", kMinPasswordIterations)}));
  }

  Response send(const Router& router, http::verb method, const std::string& target,
                const std::string& authorization = "") {
    Request request(method, target, 11);
    if (!authorization.empty()) request.set(http::field::authorization, authorization);
    return router.handle(request);
  }

  static void expect_401(const Response& response) {
    EXPECT_EQ(response.result(), http::status::unauthorized) << response.body();
    EXPECT_EQ(response[http::field::www_authenticate], "Basic realm=\"dirfeed\"");
    EXPECT_EQ(response[http::field::content_type], "application/json");
    EXPECT_TRUE(response.body().starts_with(R"({"error":)")) << response.body();
  }

  // The real rule with a write route as the User ID API writes will add it (no Access given).
  Router write_router(const ApiContext& context) {
    return Router({{http::verb::get, std::string(kBase) + "/user/{guid}",
                    [](const Call&) { return Response(http::status::ok, 11); }},
                   {http::verb::post, std::string(kBase) + "/user",
                    [](const Call&) { return Response(http::status::ok, 11); }}},
                  [&context](const Request& request, Access access,
                             const ClientAddress& client) {
                    return check_access(request, access, client, context.credentials,
                                        context.anonymous_read);
                  });
  }

  dirfeed::testing::TempDir files_;
  const std::string users_file_ = files_.path() + "/users";
  CredentialStore credentials_{users_file_, files_.path() + "/keys", 0ms};
};

TEST_F(ApiAuthTest, AnonymousReadsByDefault) {
  ApiContext context{*store_, {{kDomain, "DC=example,DC=test", "EXAMPLE"}}, &credentials_};
  const Router router = make_router(context);
  EXPECT_EQ(send(router, http::verb::get, std::string(kBase) + "/domains").result(),
            http::status::ok);
  // Wrong credentials on an anonymous read do not matter.
  EXPECT_EQ(send(router, http::verb::get, std::string(kBase) + "/domains",
                 basic("alice", "wrong")).result(),
            http::status::ok);
}

TEST_F(ApiAuthTest, ReadsNeedBasicAuthWithoutAnonymousRead) {
  ApiContext context{*store_, {{kDomain, "DC=example,DC=test", "EXAMPLE"}}, &credentials_, false};
  const Router router = make_router(context);
  const std::string domains = std::string(kBase) + "/domains";
  expect_401(send(router, http::verb::get, domains));
  expect_401(send(router, http::verb::get, domains, basic("alice", "wrong")));
  expect_401(send(router, http::verb::get, domains, basic("mallory", "s3cret")));
  expect_401(send(router, http::verb::get, domains, "Bearer xyz"));
  expect_401(send(router, http::verb::get, domains, "Basic %%%"));
  expect_401(send(router, http::verb::get, std::string(kBase) + "/users"));
  expect_401(send(router, http::verb::get, std::string(kBase) + "/user/dn/CN%3Dx"));
  expect_401(send(router, http::verb::get, std::string(kBase) + "/status"));
  EXPECT_EQ(send(router, http::verb::get, domains, basic("alice", "s3cret")).result(),
            http::status::ok);
  EXPECT_EQ(send(router, http::verb::get, domains, basic("alice", "s3cret")).body(),
            R"({"domains":["DC=example,DC=test"]})");
  // Health checks never need credentials.
  EXPECT_EQ(send(router, http::verb::get, "/healthz").result(), http::status::ok);
  EXPECT_EQ(send(router, http::verb::get, "/readyz").result(), http::status::service_unavailable);
  // Unknown paths and methods: 404/405 with or without credentials.
  EXPECT_EQ(send(router, http::verb::get, "/nope").result(), http::status::not_found);
  EXPECT_EQ(send(router, http::verb::delete_, domains).result(),
            http::status::method_not_allowed);
}

TEST_F(ApiAuthTest, WritesAlwaysNeedBasicAuth) {
  for (bool anonymous_read : {true, false}) {
    ApiContext context{*store_, {}, &credentials_, anonymous_read};
    const Router router = write_router(context);
    const std::string user = std::string(kBase) + "/user";
    expect_401(send(router, http::verb::post, user));
    expect_401(send(router, http::verb::post, user, basic("alice", "S3cret")));
    EXPECT_EQ(send(router, http::verb::post, user, basic("alice", "s3cret")).result(),
              http::status::ok);
    // A method no route has on that path: 405 before any authentication.
    EXPECT_EQ(send(router, http::verb::put, user).result(), http::status::method_not_allowed);
  }
}

TEST_F(ApiAuthTest, WithoutACredentialStoreNobodyGetsIn) {
  ApiContext context{*store_, {}, nullptr, false};
  const Router router = write_router(context);
  expect_401(send(router, http::verb::post, std::string(kBase) + "/user",
                  basic("alice", "s3cret")));
  expect_401(send(router, http::verb::get, std::string(kBase) + "/user/x",
                  basic("alice", "s3cret")));
}

TEST_F(ApiAuthTest, NoWriteReachesAHandlerWithoutCredentials) {
  // Whatever write routes the table has (the User ID API writes are being added), a write
  // without valid credentials is 401 when a route matches, else 404/405: never a handler.
  ApiContext context{*store_, {{kDomain, "DC=example,DC=test", "EXAMPLE"}}, &credentials_};
  const Router router = make_router(context);
  for (http::verb method : {http::verb::post, http::verb::put, http::verb::delete_}) {
    for (const std::string& path : {std::string("/user"), std::string("/user/x"),
                                    std::string("/user/ntlm-identity/EXAMPLE%5Cbob"),
                                    std::string("/users"), std::string("/nothing")}) {
      for (const std::string& authorization : {std::string(), basic("alice", "wrong")}) {
        const Response response = send(router, method, std::string(kBase) + path, authorization);
        const auto status = response.result();
        EXPECT_TRUE(status == http::status::unauthorized || status == http::status::not_found ||
                    status == http::status::method_not_allowed)
            << method << ' ' << path << ": " << response.result_int();
        if (status == http::status::unauthorized) expect_401(response);
      }
    }
  }
  // A write method on a read-only path is 405, not a call of the read handler.
  EXPECT_EQ(send(router, http::verb::post, std::string(kBase) + "/users").result(),
            http::status::method_not_allowed);
}

}  // namespace
}  // namespace dirfeed::rest
