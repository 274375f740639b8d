// The metrics registry and its text format, request counting in the router, and GET /metrics
// through the routing table over a real store.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include <string>
#include <thread>
#include <vector>

#include "rest/api.hpp"
#include "rest/metrics.hpp"
#include "rest/router.hpp"
#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using Type = Metrics::Type;

TEST(MetricsTest, RendersHelpTypeAndSeriesSortedByNameThenLabels) {
  Metrics metrics;
  metrics.describe("b_total", Type::kCounter, "B things.");
  metrics.describe("a_value", Type::kGauge, "An A.");
  metrics.add("b_total", {{"domain", "y.test"}, {"result", "ok"}}, 2);
  metrics.add("b_total", {{"domain", "x.test"}, {"result", "ok"}});
  metrics.add("b_total", {{"domain", "x.test"}, {"result", "ok"}});
  metrics.set("a_value", {}, 7);
  metrics.set("a_value", {}, 1.5);
  EXPECT_EQ(metrics.render(),
            "# HELP a_value An A.\n"
            "# TYPE a_value gauge\n"
            "a_value 1.5\n"
            "# HELP b_total B things.\n"
            "# TYPE b_total counter\n"
            "b_total{domain=\"x.test\",result=\"ok\"} 2\n"
            "b_total{domain=\"y.test\",result=\"ok\"} 2\n");
  // Stable between renders.
  EXPECT_EQ(metrics.render(), metrics.render());
  EXPECT_EQ(metrics.value("b_total", {{"domain", "x.test"}, {"result", "ok"}}), 2);
  EXPECT_EQ(metrics.value("b_total", {{"domain", "z.test"}, {"result", "ok"}}), 0);
}

TEST(MetricsTest, LabelsKeepTheGivenOrder) {
  Metrics metrics;
  metrics.add("c_total", {{"route", "/x"}, {"method", "GET"}, {"status", "200"}});
  EXPECT_EQ(metrics.render(),
            "# TYPE c_total counter\nc_total{route=\"/x\",method=\"GET\",status=\"200\"} 1\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  Metrics metrics;
  metrics.describe("e", Type::kGauge, "back\\slash and\nnewline \"quoted\"");
  metrics.set("e", {{"dc", "ldaps://dc1\"\\\n"}}, 1);
  EXPECT_EQ(metrics.render(),
            "# HELP e back\\\\slash and\\nnewline \"quoted\"\n"
            "# TYPE e gauge\n"
            "e{dc=\"ldaps://dc1\\\"\\\\\\n\"} 1\n");
}

TEST(MetricsTest, SummaryHasSumAndCount) {
  Metrics metrics;
  metrics.describe("d_seconds", Type::kSummary, "Durations.");
  metrics.observe("d_seconds", {{"domain", "x"}}, 0.25);
  metrics.observe("d_seconds", {{"domain", "x"}}, 1);
  EXPECT_EQ(metrics.render(),
            "# HELP d_seconds Durations.\n"
            "# TYPE d_seconds summary\n"
            "d_seconds_sum{domain=\"x\"} 1.25\n"
            "d_seconds_count{domain=\"x\"} 2\n");
}

TEST(MetricsTest, FormatsValues) {
  Metrics metrics;
  metrics.set("g", {{"k", "big"}}, 12345678901.0);
  metrics.set("g", {{"k", "frac"}}, 0.1);
  metrics.set("g", {{"k", "neg"}}, -3);
  EXPECT_EQ(metrics.render(),
            "# TYPE g gauge\ng{k=\"big\"} 12345678901\ng{k=\"frac\"} 0.1\ng{k=\"neg\"} -3\n");
}

TEST(MetricsTest, RemoveDropsSeriesWithMatchingLabels) {
  Metrics metrics;
  metrics.set("dc", {{"domain", "a"}, {"dc", "ldap://1"}}, 1);
  metrics.set("dc", {{"domain", "b"}, {"dc", "ldap://1"}}, 1);
  metrics.remove("dc", {{"domain", "a"}});
  metrics.set("dc", {{"domain", "a"}, {"dc", "ldap://2"}}, 1);
  metrics.remove("unknown", {{"domain", "a"}});
  EXPECT_EQ(metrics.render(),
            "# TYPE dc gauge\n"
            "dc{domain=\"a\",dc=\"ldap://2\"} 1\n"
            "dc{domain=\"b\",dc=\"ldap://1\"} 1\n");
}

TEST(MetricsTest, ConcurrentAddsAllCount) {
  Metrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&metrics] {
      for (int i = 0; i < 1000; ++i) {
        metrics.add("n_total", {{"k", "v"}});
        (void)metrics.render();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(metrics.value("n_total", {{"k", "v"}}), 4000);
}

// ---- the router counts requests ------------------------------------------------------------

Response ok(const Call&) { return Response(http::status::ok, 11); }

double requests(const Metrics& metrics, const std::string& route, const std::string& method,
                const std::string& status) {
  return metrics.value("dirfeed_http_requests_total",
                       {{"route", route}, {"method", method}, {"status", status}});
}

TEST(RouterMetricsTest, CountsByRoutePatternMethodAndStatus) {
  Metrics metrics;
  Router router({{http::verb::get, "/a/item/{id}", ok},
                 {http::verb::delete_, "/a/item/{id}", ok},
                 {http::verb::get, "/a/secret", ok}},
                [](const Request& request, Access, const ClientAddress&) -> std::optional<Response> {
                  if (request.target() == "/a/secret") {
                    return Response(http::status::unauthorized, 11);
                  }
                  return std::nullopt;
                },
                &metrics);
  auto send = [&router](http::verb method, const std::string& target) {
    return router.handle(Request(method, target, 11)).result_int();
  };
  EXPECT_EQ(send(http::verb::get, "/a/item/1"), 200u);
  EXPECT_EQ(send(http::verb::get, "/a/item/2?x=y"), 200u);
  EXPECT_EQ(send(http::verb::delete_, "/a/item/3"), 200u);
  EXPECT_EQ(send(http::verb::post, "/a/item/3"), 405u);
  EXPECT_EQ(send(http::verb::get, "/a/item/%zz"), 400u);
  EXPECT_EQ(send(http::verb::get, "/a/secret"), 401u);
  EXPECT_EQ(send(http::verb::get, "/nothing/here"), 404u);
  EXPECT_EQ(send(http::verb::get, "/other"), 404u);

  EXPECT_EQ(requests(metrics, "/a/item/{id}", "GET", "200"), 2);
  EXPECT_EQ(requests(metrics, "/a/item/{id}", "DELETE", "200"), 1);
  EXPECT_EQ(requests(metrics, "/a/item/{id}", "POST", "405"), 1);
  EXPECT_EQ(requests(metrics, "/a/item/{id}", "GET", "400"), 1);
  EXPECT_EQ(requests(metrics, "/a/secret", "GET", "401"), 1);
  EXPECT_EQ(requests(metrics, "unmatched", "GET", "404"), 2);
  const std::string text = metrics.render();
  EXPECT_NE(text.find("# TYPE dirfeed_http_requests_total counter\n"), std::string::npos);
  EXPECT_EQ(text.find("/a/item/1"), std::string::npos) << text;  // raw paths never show
}

TEST(RouterMetricsTest, WithoutRegistryNothingIsCounted) {
  Router router({{http::verb::get, "/x", ok}});
  EXPECT_EQ(router.handle(Request(http::verb::get, "/x", 11)).result_int(), 200u);
}

// ---- GET /metrics ----------------------------------------------------------------------------

class MetricsApiTest : public changefeed::testing::StoreTest {};

TEST_F(MetricsApiTest, ServesTheRegistryPubliclyInTextFormat) {
  Metrics metrics;
  metrics.describe("dirfeed_passes_total", Type::kCounter, "Passes.");
  metrics.add("dirfeed_passes_total", {{"domain", "example.test"}, {"result", "ok"}});
  ApiContext context{*store_, {{changefeed::testing::kDomain, "DC=example,DC=test", "EXAMPLE"}}};
  context.anonymous_read = false;  // /metrics is public all the same
  context.metrics = &metrics;
  Router router = make_router(context);

  Response first = router.handle(Request(http::verb::get, "/metrics", 11));
  ASSERT_EQ(first.result(), http::status::ok) << first.body();
  EXPECT_EQ(first[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(first.body().find("dirfeed_passes_total{domain=\"example.test\",result=\"ok\"} 1\n"),
            std::string::npos)
      << first.body();
  EXPECT_NE(first.body().find("# TYPE dirfeed_feed_last_sequence gauge\n"
                              "dirfeed_feed_last_sequence 0\n"),
            std::string::npos)
      << first.body();

  // The first scrape and a refused read are counted, by route pattern.
  EXPECT_EQ(router.handle(Request(http::verb::get, "/api/uid/v1.0/users", 11)).result_int(),
            401u);
  const std::string second = router.handle(Request(http::verb::get, "/metrics", 11)).body();
  EXPECT_NE(second.find("dirfeed_http_requests_total{route=\"/metrics\",method=\"GET\","
                        "status=\"200\"} 1\n"),
            std::string::npos)
      << second;
  EXPECT_NE(second.find("dirfeed_http_requests_total{route=\"/api/uid/v1.0/users\","
                        "method=\"GET\",status=\"401\"} 1\n"),
            std::string::npos)
      << second;
}

TEST_F(MetricsApiTest, WithoutRegistryServesStoreGauges) {
  ApiContext context{*store_, {}};
  const Response response = make_router(context).handle(Request(http::verb::get, "/metrics", 11));
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_NE(response.body().find("dirfeed_feed_last_sequence 0\n"), std::string::npos)
      << response.body();
}

}  // namespace
}  // namespace dirfeed::rest
