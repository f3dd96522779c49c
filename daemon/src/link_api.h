// Private to daemon/: the dossier-link routes of the local API (docs/api.md):
// GET/POST /v1/links, POST /v1/links/{id}/revoke, POST /v1/links/{id}/new-code.
#pragma once

#include "api_server.h"
#include "service_names.h"

namespace schakel::daemon {

// For ApiServer::AddRoute. `links` must outlive the server.
ExtraRoute LinkApiRoute(LinkService& links);

}  // namespace schakel::daemon
