#include "bulwark/http/sync_client.hpp"

namespace bulwark::http {

SyncClient::SyncClient(Runtime& runtime, ClientConfig config)
    : runtime_(runtime), client_(runtime.executor(), std::move(config)) {}

Response SyncClient::send(Request request) {
  return runtime_.block_on(client_.send(std::move(request)));
}

Result<Response> SyncClient::execute(Request request) {
  return runtime_.block_on(client_.execute(std::move(request)));
}

boost::json::value SyncClient::json(Request request) {
  return runtime_.block_on(client_.json(std::move(request)));
}

}  // namespace bulwark::http
