// `dirfeed status` and `dirfeed deletes`: what the store under state_dir says, read-only, so
// they work next to the running daemon (which holds the database open for writing).
#include <map>
#include <stdexcept>

#include "core/dn.hpp"
#include "core/guid.hpp"
#include "daemon/cli.hpp"
#include "daemon/cli_support.hpp"
#include "daemon/delete_allowance.hpp"
#include "ldap/values.hpp"
#include "rest/webhook_client.hpp"

namespace dirfeed::daemon::cli {
namespace {

// The --domain value, which must be a configured domain; nullptr after printing why not.
const ldap::DomainOptions* configured_domain(const Config& config, const po::variables_map& args,
                                             std::string_view command, std::ostream& err) {
  const std::string name = args.count("domain") != 0 ? args["domain"].as<std::string>() : "";
  for (const ldap::DomainOptions& domain : config.domains) {
    if (domain.name == name) return &domain;
  }
  err << kProgram << " " << command << ": "
      << (name.empty() ? std::string("--domain is required")
                       : "no domain \"" + name + "\" in the configuration")
      << '\n';
  return nullptr;
}

// "last success" and "last error" of a delivery state (a webhook's or a feed consumer's).
template <typename State>
void print_delivery(std::ostream& out, const State& state) {
  print_field(out, "last success", format_time(state.last_success_us()));
  if (state.last_error_us() == 0) {
    print_field(out, "last error", "none");
    return;
  }
  print_field(out, "last error",
              format_time(state.last_error_us()) + " " + state.last_error() +
                  (state.failures() > 0
                       ? " (failing: " + std::to_string(state.failures()) + " attempts in a row)"
                       : ""));
}

}  // namespace

void add_domain_option(po::options_description& options) {
  add_config_option(options);
  options.add_options()("domain,d", po::value<std::string>()->value_name("NAME"),
                        "A configured domain (its DNS name).");
}

int run_status(const po::variables_map& args, std::istream&, std::ostream& out,
               std::ostream& err) {
  std::optional<Config> config = load_parsed(config_path(args), err);
  if (!config) return kExitFailure;
  std::unique_ptr<changefeed::Store> store = open_store_read_only(*config);

  const uint64_t last = store->last_sequence();
  out << "feed: " << last << (last == 1 ? " change" : " changes") << " so far\n";
  for (const ldap::DomainOptions& domain : config->domains) {
    out << "domain " << domain.name << '\n';
    std::optional<pb::Cursor> cursor = store->cursor(domain.name);
    if (!cursor) {
      out << "  no pass yet\n";
      continue;
    }
    for (const pb::ControllerProblem& problem : cursor->controller_problems()) {
      if (problem.bind_refused()) {
        print_field(out, "bind refused",
                    problem.uri() + ": " + problem.problem() + " (next try " +
                        format_time(problem.retry_after_us()) +
                        ", or at once when the " + ldap::secret_file_kind(domain.bind) +
                        " changes)");
      } else {
        print_field(out, "DC out", problem.uri() + ": " + problem.problem() + " (next try " +
                                       format_time(problem.retry_after_us()) + ")");
      }
    }
    if (cursor->strategy().empty()) {  // only problems were ever stored
      out << "  no pass yet\n";
      continue;
    }
    print_field(out, "strategy", cursor->strategy());
    print_field(out, "controller", cursor->controller());
    print_field(out, "last pass", format_time(cursor->last_pass_us()));
    print_field(out, "full sync done", cursor->full_sync_done() ? "yes" : "no");
    if (cursor->held_deletes() > 0) {
      print_field(out, "held",
                  std::to_string(cursor->held_deletes()) + " deletes since " +
                      format_time(cursor->held_since_us()) + ": " + cursor->held_reason() +
                      " (dirfeed deletes show --domain " + domain.name + ")");
    }
    if (!cursor->unconfirmed().empty()) {
      print_field(out, "unconfirmed",
                  std::to_string(cursor->unconfirmed_size()) +
                      " objects missing on a DC that was behind, neither deleted nor kept "
                      "for sure, since " + format_time(cursor->unconfirmed_since_us()) + ": " +
                      cursor->unconfirmed_reason() + " (dirfeed deletes show --domain " +
                      domain.name + ")");
    }
  }
  for (const ipsource::SourceOptions& source : config->ip_sources) {
    out << "ip source " << source.name << '\n';
    std::optional<pb::IpSourceState> state = store->ip_source_state(source.name);
    if (!state) {
      out << "  not run yet\n";
      continue;
    }
    print_field(out, "listen", state->listen());
    print_field(out, "counts since", format_time(state->started_us()) + " (as of " +
                                         format_time(state->updated_us()) + ")");
    print_field(out, "received", std::to_string(state->received()));
    print_field(out, "parsed", std::to_string(state->parsed()));
    print_field(out, "mapped", std::to_string(state->mapped()));
    print_field(out, "unknown user", std::to_string(state->unknown_user()));
    print_field(out, "ignored", std::to_string(state->ignored()));
    print_field(out, "dropped", std::to_string(state->dropped()));
  }
  std::map<std::string, pb::FeedConsumerState> consumers;
  if (config->publish.nats) consumers["nats"].set_name("nats");
  store->consumer_states([&](const pb::FeedConsumerState& state) {
    consumers[state.name()] = state;
    return true;
  });
  for (const auto& [name, state] : consumers) {
    out << "feed consumer " << name << '\n';
    if (name == "nats" && config->publish.nats) {
      print_field(out, "stream", config->publish.nats->stream + " (subjects " +
                                     config->publish.nats->subject_prefix + ".>)");
    } else {
      print_field(out, "configured", "no (its state is kept)");
    }
    const uint64_t backlog = last > state.after_sequence() ? last - state.after_sequence() : 0;
    print_field(out, "delivered up to",
                "change " + std::to_string(state.after_sequence()) + " (" +
                    (backlog == 0 ? "no backlog" : "backlog " + std::to_string(backlog)) + ")");
    if (state.lost() > 0) {
      print_field(out, "lost", std::to_string(state.lost()) +
                                   " entries pruned (feed.retention) before they were delivered");
    }
    print_delivery(out, state);
  }
  store->directories([&](const pb::Directory& directory) {
    out << "directory " << directory.id() << ' ' << directory.name() << '\n';
    print_field(out, "tenant/product", directory.tenant() + "/" + directory.product());
    print_field(out, "domain", directory.domain());
    print_field(out, "webhook", directory.webhook_url().empty()
                                    ? "none"
                                    : rest::redact_url(directory.webhook_url()));
    const pb::WebhookState state =
        store->webhook_state(directory.id()).value_or(pb::WebhookState());
    const uint64_t backlog = last > state.after_sequence() ? last - state.after_sequence() : 0;
    // Not every feed entry is an event for the directory: the backlog is an upper bound.
    print_field(out, "delivered up to",
                "change " + std::to_string(state.after_sequence()) + " (" +
                    (backlog == 0 ? "no backlog" : "backlog <= " + std::to_string(backlog)) + ")");
    print_delivery(out, state);
    return true;
  });
  return kExitOk;
}
int run_deletes_show(const po::variables_map& args, std::istream&, std::ostream& out,
                     std::ostream& err) {
  std::optional<Config> config = load_parsed(config_path(args), err);
  if (!config) return kExitFailure;
  const ldap::DomainOptions* domain = configured_domain(*config, args, "deletes show", err);
  if (domain == nullptr) return kExitUsage;
  std::unique_ptr<changefeed::Store> store = open_store_read_only(*config);
  std::optional<pb::Cursor> cursor = store->cursor(domain->name);
  const size_t allowed = DeleteAllowance(config->state_dir).allowed(domain->name);
  if (!cursor || (cursor->unconfirmed().empty() && cursor->held_deletes() == 0)) {
    out << "domain " << domain->name << ": no deletes held back\n";
    return kExitOk;
  }
  const bool held = cursor->held_deletes() > 0;
  if (held) {
    out << "domain " << domain->name << ": held since " << format_time(cursor->held_since_us())
        << ": " << cursor->held_deletes() << " deletes\n"
        << "  why: " << cursor->held_reason() << '\n'
        << "  Nothing of that pass was committed; the domain's cursor stays where it was and\n"
        << "  every pass is held again until `" << kProgram << " deletes allow --domain "
        << domain->name << "` or a higher sync.max_deletes lets it through.\n";
  }
  if (!cursor->unconfirmed().empty()) {
    out << "domain " << domain->name << ": " << cursor->unconfirmed_size()
        << " unconfirmed objects since " << format_time(cursor->unconfirmed_since_us()) << '\n'
        << "  why: " << cursor->unconfirmed_reason() << '\n'
        << "  They are missing on the DC that served the last resync, which had not replicated\n"
        << "  everything the store holds: they may only not have reached it yet. A full sync\n"
        << "  on an up-to-date DC keeps or deletes them; `" << kProgram
        << " deletes allow --domain " << domain->name << "` deletes them.\n";
  }
  if (allowed > 0) out << "  allowed: " << allowed << " deletes, at the next pass\n";
  std::map<std::string, size_t> by_parent;
  for (const std::string& guid : held ? cursor->held_guids() : cursor->unconfirmed()) {
    std::optional<pb::DirectoryObject> object = store->object_by_guid(guid);
    if (!object) continue;  // deleted since (by a later pass)
    out << "  " << object->dn() << " (" << guid_to_string(guid) << ")\n";
    ++by_parent[parent_dn(object->dn())];
  }
  out << "by container:\n";
  for (const auto& [parent, count] : by_parent) out << "  " << count << "  " << parent << '\n';
  return kExitOk;
}

int run_deletes_allow(const po::variables_map& args, std::istream&, std::ostream& out,
                      std::ostream& err) {
  std::optional<Config> config = load_parsed(config_path(args), err);
  if (!config) return kExitFailure;
  const ldap::DomainOptions* domain = configured_domain(*config, args, "deletes allow", err);
  if (domain == nullptr) return kExitUsage;
  std::unique_ptr<changefeed::Store> store = open_store_read_only(*config);
  std::optional<pb::Cursor> cursor = store->cursor(domain->name);
  // The allowance covers what is shown: a larger wave is held again.
  const size_t count =
      cursor ? static_cast<size_t>(cursor->unconfirmed_size() + cursor->held_deletes()) : 0;
  if (count == 0) {
    err << kProgram << " deletes allow: domain " << domain->name
        << " holds back no deletes\n";
    return kExitFailure;
  }
  DeleteAllowance(config->state_dir).allow(domain->name, count);
  out << "domain " << domain->name << ": the next pass may delete up to " << count
      << " objects (the daemon decides at its next pass)\n";
  return kExitOk;
}

}  // namespace dirfeed::daemon::cli
