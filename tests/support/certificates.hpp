#pragma once
// Throwaway TLS material for integration tests, made with the openssl command: a CA, a server
// certificate for localhost/127.0.0.1, one for a host name the tests never connect to (to check
// host-name verification) and a client certificate, all signed by the CA. EC P-256 keys, because
// they are generated in milliseconds where RSA keys take a noticeable part of a second.

#include <filesystem>
#include <string>

namespace bulwark::test {

struct Certificates {
  std::filesystem::path dir;

  [[nodiscard]] std::string ca_file() const { return (dir / "ca.crt").string(); }
  [[nodiscard]] std::string ca_key() const { return (dir / "ca.key").string(); }
  /// For DNS:localhost and IP:127.0.0.1.
  [[nodiscard]] std::string server_cert() const { return (dir / "server.crt").string(); }
  [[nodiscard]] std::string server_key() const { return (dir / "server.key").string(); }
  /// For DNS:wrong.example only: valid chain, wrong name for localhost.
  [[nodiscard]] std::string wrong_host_cert() const { return (dir / "wrong.crt").string(); }
  [[nodiscard]] std::string wrong_host_key() const { return (dir / "wrong.key").string(); }
  /// For client authentication (CN=bulwark-test-client).
  [[nodiscard]] std::string client_cert() const { return (dir / "client.crt").string(); }
  [[nodiscard]] std::string client_key() const { return (dir / "client.key").string(); }
};

/// Writes the files of `Certificates` into `dir` (which must exist). Throws with openssl's output
/// when it fails.
Certificates make_certificates(const std::filesystem::path& dir);

}  // namespace bulwark::test
