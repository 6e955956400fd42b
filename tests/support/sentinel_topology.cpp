#include "support/sentinel_topology.hpp"

#include "support/process.hpp"

#include <signal.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace bulwark::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

RedisServerOptions data_node(const SentinelTopologyOptions& options,
                             std::vector<std::string> extra) {
  RedisServerOptions node;
  node.unix_socket = false;
  node.password = options.data_password;
  if (!options.data_password.empty()) {
    extra.insert(extra.end(), {"--masterauth", options.data_password});
  }
  node.extra_args = std::move(extra);
  return node;
}

}  // namespace

SentinelTopology::SentinelTopology(SentinelTopologyOptions options)
    : options_(std::move(options)), dir_(make_temp_dir("bulwark-sentinel")) {
  try {
    nodes_.push_back(std::make_unique<RedisServer>(data_node(options_, {})));
    const std::string master_port = std::to_string(nodes_[0]->port());
    nodes_.push_back(std::make_unique<RedisServer>(
        data_node(options_, {"--replicaof", "127.0.0.1", master_port})));
    // Replica first and in sync: the sentinels' first INFO of the master then lists it, instead
    // of their next one ten seconds later.
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (nodes_[1]->cli({"INFO", "replication"}).find("master_link_status:up") ==
           std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("the replica did not sync with the master within 20s");
      }
      std::this_thread::sleep_for(20ms);
    }
    for (std::size_t i = 0; i < sentinel_count; ++i) {
      sentinel_ports_.push_back(free_port());
      start_sentinel(i);
    }
    wait_until_ready();
  } catch (...) {
    for (pid_t pid : sentinel_pids_) stop_process(pid, SIGKILL, 1s);
    sentinel_pids_.clear();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

SentinelTopology::~SentinelTopology() {
  for (pid_t pid : sentinel_pids_) {
    if (pid > 0) stop_process(pid, SIGKILL, 1s);
  }
  nodes_.clear();  // stops the data nodes
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void SentinelTopology::start_sentinel(std::size_t i) {
  const std::filesystem::path dir = dir_ / ("sentinel-" + std::to_string(i));
  std::filesystem::create_directories(dir);
  const std::filesystem::path conf = dir / "sentinel.conf";
  {
    std::ofstream out(conf);
    const std::string& name = options_.master_name;
    out << "port " << sentinel_ports_[i] << "\n"
        << "bind 127.0.0.1\n"
        << "daemonize no\n"
        << "protected-mode no\n"
        << "dir " << dir.string() << "\n"
        << "sentinel monitor " << name << " 127.0.0.1 " << nodes_[0]->port() << " 2\n"
        << "sentinel down-after-milliseconds " << name << " " << options_.down_after.count() << "\n"
        << "sentinel failover-timeout " << name << " " << options_.failover_timeout.count() << "\n"
        << "sentinel parallel-syncs " << name << " 1\n";
    if (!options_.data_password.empty()) {
      out << "sentinel auth-pass " << name << " " << options_.data_password << "\n";
    }
    // Sentinels use their own password to reach each other as well.
    if (!options_.sentinel_password.empty()) {
      out << "requirepass " << options_.sentinel_password << "\n";
    }
  }
  sentinel_pids_.push_back(spawn({"redis-server", conf.string(), "--sentinel"}, dir / "log"));
}

std::string SentinelTopology::sentinel_cli(std::size_t i,
                                           const std::vector<std::string>& args) const {
  std::string command = "redis-cli -p " + std::to_string(sentinel_ports_.at(i));
  if (!options_.sentinel_password.empty()) {
    command += " --no-auth-warning -a '" + options_.sentinel_password + "'";
  }
  for (const std::string& arg : args) command += " '" + arg + "'";
  command += " 2>&1";
  return trim_line_ends(run_shell(command).output);
}

void SentinelTopology::wait_until_ready() {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    std::size_t ready = 0;
    for (std::size_t i = 0; i < sentinel_count; ++i) {
      const std::vector<std::string> reply =
          lines(sentinel_cli(i, {"SENTINEL", "MASTER", options_.master_name}));
      std::map<std::string, std::string> fields;
      for (std::size_t k = 0; k + 1 < reply.size(); k += 2) fields[reply[k]] = reply[k + 1];
      if (fields["num-slaves"] == "1" && fields["num-other-sentinels"] == "2") ++ready;
    }
    if (ready == sentinel_count) return;
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error(
          "the sentinels did not see each other and the replica within "
          "30s:\n" +
          logs());
    }
    std::this_thread::sleep_for(50ms);
  }
}

std::uint16_t SentinelTopology::master_port(std::size_t i) const {
  const std::vector<std::string> reply =
      lines(sentinel_cli(i, {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", options_.master_name}));
  if (reply.size() != 2) return 0;
  try {
    return static_cast<std::uint16_t>(std::stoi(reply[1]));
  } catch (const std::exception&) {
    return 0;
  }
}

std::uint16_t SentinelTopology::wait_for_new_master(std::uint16_t old_port,
                                                    std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    std::uint16_t agreed = 0;
    bool all = true;
    for (std::size_t i = 0; i < sentinel_count && all; ++i) {
      if (sentinel_pids_[i] <= 0) continue;
      const std::uint16_t port = master_port(i);
      if (port == 0 || port == old_port || (agreed != 0 && port != agreed)) all = false;
      agreed = port;
    }
    if (all && agreed != 0) return agreed;
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("no new master within the limit:\n" + logs());
    }
    std::this_thread::sleep_for(50ms);
  }
}

RedisServer& SentinelTopology::node_on(std::uint16_t port) {
  for (auto& node : nodes_) {
    if (node->port() == port) return *node;
  }
  throw std::runtime_error("no data node on port " + std::to_string(port));
}

redis::SentinelConfig SentinelTopology::client_config() const {
  redis::SentinelConfig config;
  config.master_name = options_.master_name;
  for (std::uint16_t port : sentinel_ports_) config.nodes.push_back({"127.0.0.1", port});
  config.password = Secret(options_.sentinel_password);
  return config;
}

void SentinelTopology::kill_sentinel(std::size_t i) {
  if (sentinel_pids_.at(i) <= 0) return;
  stop_process(sentinel_pids_[i], SIGKILL, 1s);
  sentinel_pids_[i] = -1;
}

std::string SentinelTopology::logs() const {
  std::string out;
  for (std::size_t i = 0; i < sentinel_pids_.size(); ++i) {
    out += "--- sentinel " + std::to_string(i) + "\n" +
           file_tail(dir_ / ("sentinel-" + std::to_string(i)) / "log", 1500);
  }
  return out;
}

}  // namespace bulwark::test
