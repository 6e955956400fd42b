#include "support/nginx_server.hpp"

#include "support/certificates.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"  // free_port()

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <thread>

namespace bulwark::test {
namespace {

using namespace std::chrono_literals;

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

NginxServer::NginxServer(NginxOptions options)
    : options_(options), dir_(make_temp_dir("bulwark-nginx")), port_(free_port()) {
  try {
    if (options_.tls) {
      tls_port_ = free_port();
      make_certificates(dir_);
    }
    std::filesystem::create_directories(dir_ / "www" / "status");
    std::filesystem::create_directories(dir_ / "tmp");
    write_file(dir_ / "www" / "hello", "hello\n");
    write_file(dir_ / "www" / "1k", std::string(1024, 'k'));
    write_file(dir_ / "www" / "64k", std::string(64 * 1024, 'k'));
    write_file(dir_ / "www" / "1m", std::string(1024 * 1024, 'm'));
    write_config();
    start();
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

NginxServer::~NginxServer() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string NginxServer::ca_file() const { return (dir_ / "ca.crt").string(); }

std::string NginxServer::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string NginxServer::tls_base_url() const {
  return "https://localhost:" + std::to_string(tls_port_);
}

void NginxServer::write_config() const {
  const std::string d = dir_.string();
  std::string tls;
  if (options_.tls) {
    tls = "    listen 127.0.0.1:" + std::to_string(tls_port_) +
          " ssl;\n"
          "    ssl_certificate " +
          d + "/server.crt;\n    ssl_certificate_key " + d + "/server.key;\n";
  }
  // Workers of a root master switch to `user`; root keeps them able to read the private
  // (0700) temporary directory.
  const std::string user = ::geteuid() == 0 ? "user root;\n" : "";
  const std::string config =
      user + "daemon off;\nmaster_process on;\nworker_processes " +
      std::to_string(options_.worker_processes) + ";\npid " + d + "/nginx.pid;\nerror_log " + d +
      "/error.log warn;\nevents { worker_connections 4096; }\n"
      "http {\n"
      "  access_log off;\n"
      "  default_type application/octet-stream;\n"
      "  client_body_temp_path " +
      d + "/tmp/body;\n  proxy_temp_path " + d + "/tmp/proxy;\n  fastcgi_temp_path " + d +
      "/tmp/fastcgi;\n  uwsgi_temp_path " + d + "/tmp/uwsgi;\n  scgi_temp_path " + d +
      "/tmp/scgi;\n"
      "  keepalive_timeout " +
      std::to_string(options_.keepalive_timeout.count()) +
      "ms;\n"
      "  keepalive_requests " +
      std::to_string(options_.keepalive_requests) +
      ";\n"
      "  server {\n"
      "    listen 127.0.0.1:" +
      std::to_string(port_) + ";\n" + tls + "    root " + d +
      "/www;\n"
      "    location = /hello { }\n"
      "    location = /1k { }\n"
      "    location = /64k { }\n"
      "    location = /1m { }\n"
      "    location = /status/200 { return 200 \"ok\"; }\n"
      "    location = /status/503 { return 503; }\n"
      // `return` discards the request body (reading it off the connection), so the connection
      // stays usable for keep-alive; static files would answer 405 to a POST.
      "    location = /echo-post { client_max_body_size 64m; return 200 \"ok\"; }\n"
      "  }\n"
      "}\n";
  write_file(dir_ / "nginx.conf", config);
}

void NginxServer::start() {
  if (pid_ > 0) return;
  const std::string d = dir_.string();
  pid_ = spawn({"/usr/sbin/nginx", "-p", d + "/", "-c", d + "/nginx.conf", "-e", d + "/error.log"},
               dir_ / "nginx.log");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("nginx exited at start:\n" + log_tail());
    }
    if (port_accepts(port_) && (!options_.tls || port_accepts(tls_port_))) return;
    std::this_thread::sleep_for(5ms);
  }
  stop();
  throw std::runtime_error("nginx did not accept connections within 10s:\n" + log_tail());
}

void NginxServer::stop() {
  if (pid_ <= 0) return;
  stop_process(pid_, SIGQUIT, 5s);
  pid_ = -1;
}

std::string NginxServer::log_tail() const {
  return file_tail(dir_ / "nginx.log") + file_tail(dir_ / "error.log");
}

}  // namespace bulwark::test
