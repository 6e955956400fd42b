#include "bulwark/http/sync_client.hpp"

namespace bulwark::http {

SyncClient::SyncClient(Runtime& runtime, ClientConfig config)
    : runtime_(runtime), client_(std::make_shared<Client>(runtime.executor(), std::move(config))) {}

SyncClient::SyncClient(Runtime& runtime, std::shared_ptr<Client> client)
    : runtime_(runtime), client_(std::move(client)) {}

Response SyncClient::send(Request request) {
  return runtime_.block_on(client_->send(std::move(request)));
}

Result<Response> SyncClient::execute(Request request) {
  return runtime_.block_on(client_->execute(std::move(request)));
}

boost::json::value SyncClient::json(Request request) {
  return runtime_.block_on(client_->json(std::move(request)));
}

}  // namespace bulwark::http
