#include "bulwark/manager/health.hpp"

#include <boost/json/object.hpp>

namespace bulwark {

boost::json::value HealthReport::to_json() const {
  boost::json::object clients_json;
  for (const ClientHealth& client : clients) {
    boost::json::object pool;
    pool["active"] = client.pool.active;
    pool["idle"] = client.pool.idle;
    pool["max"] = client.pool.max;
    pool["wait_timeouts"] = client.pool.wait_timeouts;
    boost::json::object entry;
    entry["state"] = to_string(client.state);
    entry["kind"] = client.kind;
    if (client.last_check == 0) {
      entry["last_check"] = nullptr;
    } else {
      entry["last_check"] = client.last_check;
    }
    entry["consecutive_failures"] = client.consecutive_failures;
    entry["circuit_breaker_state"] = client.circuit_breaker_state;
    if (client.last_error.empty()) {
      entry["last_error"] = nullptr;
    } else {
      entry["last_error"] = client.last_error;
    }
    entry["latency_ms"] = std::chrono::duration<double, std::milli>(client.latency).count();
    entry["available"] = client.available;
    entry["optional"] = client.optional;
    entry["recreations"] = client.recreations;
    entry["pool"] = std::move(pool);
    if (!client.coordination.empty()) entry["coordination"] = client.coordination;
    clients_json[client.name] = std::move(entry);
  }
  boost::json::object root;
  root["state"] = to_string(state);
  root["clients"] = std::move(clients_json);
  return root;
}

}  // namespace bulwark
