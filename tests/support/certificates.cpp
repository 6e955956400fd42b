#include "support/certificates.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bulwark::test {
namespace {

// One shell script, so that a failure leaves its whole story in openssl.log.
std::string leaf(const std::string& name, const std::string& subject, const std::string& ext) {
  return "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
         name + ".key -out " + name + ".csr -subj " + subject + " && printf '" + ext + "\\n' > " +
         name + ".ext && openssl x509 -req -in " + name +
         ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -out " + name + ".crt -days 2 -extfile " +
         name + ".ext && ";
}

}  // namespace

Certificates make_certificates(const std::filesystem::path& dir) {
  const std::string d = dir.string();
  const std::string script =
      "set -e; cd '" + d +
      "'; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-keyout ca.key -out ca.crt -days 2 -subj /CN=bulwark-test-ca && " +
      leaf("server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1") +
      leaf("wrong", "/CN=wrong.example", "subjectAltName=DNS:wrong.example") +
      leaf("client", "/CN=bulwark-test-client", "extendedKeyUsage=clientAuth") + "true";
  const std::string log = d + "/openssl.log";
  const std::string command = "sh -c \"" + script + "\" > '" + log + "' 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    throw std::runtime_error("openssl could not make test certificates:\n" + text.str());
  }
  return Certificates{dir};
}

}  // namespace bulwark::test
