#include "support/redis_cluster.hpp"

#include "support/process.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace bulwark::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

void expect_ok(const std::string& reply, const std::string& what) {
  if (reply != "OK") throw std::runtime_error(what + " failed: " + reply);
}

}  // namespace

RedisCluster::RedisCluster(std::size_t masters) {
  RedisServerOptions options;
  options.unix_socket = false;
  options.extra_args = {
      "--cluster-enabled",      "yes",  "--cluster-config-file",           "nodes.conf",
      "--cluster-node-timeout", "5000", "--cluster-require-full-coverage", "yes"};
  for (std::size_t i = 0; i < masters; ++i) {
    // The bus port defaults to the port + 10000, which does not exist for ports above 55535:
    // name a free one.
    RedisServerOptions node = options;
    node.extra_args.insert(node.extra_args.end(), {"--cluster-port", std::to_string(free_port())});
    nodes_.push_back(std::make_unique<RedisServer>(node));
  }
  std::string create = "redis-cli --cluster create";
  for (const std::string& address : addresses()) create += " " + address;
  create += " --cluster-replicas 0 --cluster-yes";
  const std::string output = run_shell(create + " 2>&1").output;
  if (output.find("[OK] All 16384 slots covered") == std::string::npos) {
    throw std::runtime_error("redis-cli --cluster create failed:\n" + output + logs());
  }
  for (std::size_t i = 0; i < masters; ++i) ids_.push_back(nodes_[i]->cli({"CLUSTER", "MYID"}));
  wait_until_ready();
}

RedisCluster::~RedisCluster() = default;  // each RedisServer stops its process

std::vector<std::string> RedisCluster::addresses() const {
  std::vector<std::string> out;
  for (const auto& node : nodes_) out.push_back("127.0.0.1:" + std::to_string(node->port()));
  return out;
}

void RedisCluster::wait_until_ready() {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    bool ready = true;
    for (std::size_t i = 0; i < nodes_.size() && ready; ++i) {
      ready = nodes_[i]->cli({"CLUSTER", "INFO"}).find("cluster_state:ok") != std::string::npos;
      // Every node knows every other one, and who serves the last slot.
      ready = ready && lines_of(nodes_[i]->cli({"CLUSTER", "NODES"})).size() == nodes_.size();
    }
    for (std::size_t i = 0; i < nodes_.size() && ready; ++i) {
      ready = owner(0, i) == owner(0, 0) && owner(16383, i) == owner(16383, 0) &&
              owner(8000, i) == owner(8000, 0);
    }
    if (ready) return;
    std::this_thread::sleep_for(50ms);
  }
  throw std::runtime_error("the cluster did not reach cluster_state:ok within 30s\n" + logs());
}

std::size_t RedisCluster::owner(std::uint16_t slot, std::size_t asked) const {
  const std::size_t node = owners(asked).at(slot);
  if (node == nodes_.size())
    throw std::runtime_error("no node serves slot " + std::to_string(slot));
  return node;
}

std::vector<std::size_t> RedisCluster::owners(std::size_t asked) const {
  // CLUSTER NODES: "<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slots>..."
  std::vector<std::size_t> out(16384, nodes_.size());
  for (const std::string& line : lines_of(nodes_.at(asked)->cli({"CLUSTER", "NODES"}))) {
    std::istringstream in(line);
    std::vector<std::string> fields;
    for (std::string field; in >> field;) fields.push_back(field);
    if (fields.size() < 9 || fields[2].find("master") == std::string::npos) continue;
    std::size_t node = nodes_.size();
    for (std::size_t i = 0; i < ids_.size(); ++i) {
      if (ids_[i] == fields[0]) node = i;
    }
    for (std::size_t k = 8; k < fields.size(); ++k) {
      const std::string& range = fields[k];
      if (range.starts_with("[")) continue;  // a migration in progress, not ownership
      const std::size_t dash = range.find('-');
      const std::size_t first = std::stoul(range.substr(0, dash));
      const std::size_t last =
          dash == std::string::npos ? first : std::stoul(range.substr(dash + 1));
      for (std::size_t slot = first; slot <= last && slot < out.size(); ++slot) out[slot] = node;
    }
  }
  return out;
}

std::size_t RedisCluster::key_count(std::size_t index) const {
  return std::stoul(nodes_.at(index)->cli({"DBSIZE"}));
}

void RedisCluster::begin_migration(std::uint16_t slot, std::size_t from, std::size_t to) {
  const std::string s = std::to_string(slot);
  expect_ok(nodes_.at(to)->cli({"CLUSTER", "SETSLOT", s, "IMPORTING", ids_.at(from)}),
            "SETSLOT IMPORTING");
  expect_ok(nodes_.at(from)->cli({"CLUSTER", "SETSLOT", s, "MIGRATING", ids_.at(to)}),
            "SETSLOT MIGRATING");
}

std::size_t RedisCluster::migrate_keys(std::uint16_t slot, std::size_t from, std::size_t to,
                                       std::size_t limit) {
  std::size_t moved = 0;
  for (;;) {
    const std::size_t batch = limit == 0 ? 100 : std::min<std::size_t>(100, limit - moved);
    if (batch == 0) return moved;
    const std::vector<std::string> keys = lines_of(nodes_.at(from)->cli(
        {"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), std::to_string(batch)}));
    if (keys.empty()) return moved;
    std::vector<std::string> migrate = {
        "MIGRATE", "127.0.0.1", std::to_string(nodes_.at(to)->port()), "", "0", "5000", "KEYS"};
    migrate.insert(migrate.end(), keys.begin(), keys.end());
    expect_ok(nodes_.at(from)->cli(migrate), "MIGRATE");
    moved += keys.size();
  }
}

void RedisCluster::finish_migration(std::uint16_t slot, std::size_t to) {
  const std::string s = std::to_string(slot);
  expect_ok(nodes_.at(to)->cli({"CLUSTER", "SETSLOT", s, "NODE", ids_.at(to)}), "SETSLOT NODE");
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (i == to) continue;
    expect_ok(nodes_[i]->cli({"CLUSTER", "SETSLOT", s, "NODE", ids_.at(to)}), "SETSLOT NODE");
  }
}

std::size_t RedisCluster::move_slot(std::uint16_t slot, std::size_t to) {
  const std::size_t from = owner(slot, to);
  if (from == to) return from;
  begin_migration(slot, from, to);
  migrate_keys(slot, from, to);
  finish_migration(slot, to);
  return from;
}

std::string RedisCluster::logs() const {
  std::string out;
  for (const auto& node : nodes_) {
    out += "--- node " + std::to_string(node->port()) + " (" + node->dir().string() + ")\n";
  }
  return out;
}

}  // namespace bulwark::test
