#include "ldap/controller_info.hpp"

#include <optional>

#include "ldap/values.hpp"

namespace dirfeed::ldap {

Error read_highest_usn(Directory& connection, int64_t& highest_usn) {
  std::optional<Entry> root;
  SearchRequest request{"", Scope::kBase, "(objectClass=*)", {"highestCommittedUSN"}};
  if (Error error = connection.read_entry(request, root)) return error;
  std::string usn = root ? std::string(root->first("highestcommittedusn")) : std::string();
  try {
    highest_usn = std::stoll(usn);
  } catch (const std::exception&) {
    return {-1, connection.uri() + ": rootDSE highestCommittedUSN \"" + usn + "\" is not a number"};
  }
  return {};
}

Error read_controller_info(Directory& connection, ControllerInfo& info) {
  std::optional<Entry> root;
  SearchRequest request{"", Scope::kBase, "(objectClass=*)",
                        {"dsServiceName", "highestCommittedUSN", "configurationNamingContext"}};
  if (Error error = connection.read_entry(request, root)) return error;
  if (!root) return {-1, connection.uri() + ": rootDSE not readable"};
  info.ds_service_name = root->first("dsservicename");
  info.configuration_nc = root->first("configurationnamingcontext");
  std::string usn(root->first("highestcommittedusn"));
  try {
    info.highest_usn = std::stoll(usn);
  } catch (const std::exception&) {
    return {-1, connection.uri() + ": rootDSE highestCommittedUSN \"" + usn + "\" is not a number"};
  }
  std::optional<Entry> settings;
  request = {info.ds_service_name, Scope::kBase, "(objectClass=*)", {"invocationId"}};
  if (Error error = connection.read_entry(request, settings)) return error;
  if (settings) info.invocation_id = settings->first("invocationid");
  if (info.invocation_id.size() != 16) {
    return {-1, connection.uri() + ": invocationId of " + info.ds_service_name + " not readable"};
  }
  return {};
}

Error read_domain_context(Directory& connection, const DomainOptions& options,
                          ControllerInfo& info, DomainContext& context) {
  context.domain = options.name;
  context.base_dn = options.base_dn.empty() ? base_dn_from_domain(options.name) : options.base_dn;
  context.search_bases = options.sync.search_bases;
  std::optional<Entry> domain;
  if (Error error = connection.read_entry(
          {context.base_dn, Scope::kBase, "(objectClass=*)", {"objectSid", "replUpToDateVector"}},
          domain)) {
    return error;
  }
  if (!domain) return {-1, connection.uri() + ": domain object " + context.base_dn + " not found"};
  context.domain_sid = sid_to_string(domain->first("objectsid"));
  if (std::string problem =
          parse_up_to_date_vector(domain->first("repluptodatevector"), info.up_to_date);
      !problem.empty()) {
    return {-1, connection.uri() + ": " + context.base_dn + ": " + problem};
  }
  context.netbios_name = options.netbios_name;
  if (context.netbios_name.empty()) {
    SearchRequest partitions{"CN=Partitions," + info.configuration_nc, Scope::kOneLevel,
                             "(&(objectClass=crossRef)(nCName=" +
                                 escape_filter_value(context.base_dn) + "))",
                             {"nETBIOSName"}};
    Error error = connection.paged_search(
        partitions, 10,
        [&](Entry&& entry) {
          context.netbios_name = entry.first("netbiosname");
          return true;
        },
        [] { return true; });
    if (error) return error;
    if (context.netbios_name.empty()) {
      return {-1, connection.uri() + ": no nETBIOSName for " + context.base_dn +
                      " in the Partitions container; set netbios_name in the config"};
    }
  }
  return {};
}

}  // namespace dirfeed::ldap
