// Private to daemon/: the service library's names as the daemon's routes,
// pages, delivery worker and wiring use them (they are all about the one
// service, so its names are not spelled service:: at every use).
#pragma once

#include "schakel/service/consent_requests.h"
#include "schakel/service/link_service.h"
#include "schakel/service/node_core.h"
#include "schakel/service/reachability.h"
#include "schakel/service/service.h"

namespace schakel::daemon {

using service::AuditBestEffort;
using service::AuditOrFail;
using service::AuditWhat;
using service::Caller;
using service::GateRequest;
using service::GateResult;
using service::GlobalLinkCounters;
using service::kDefaultLinkDays;
using service::kMaxLinkDays;
using service::kMaxWrongCodes;
using service::LinkCounters;
using service::LinkCreateRequest;
using service::LinkOptions;
using service::LinkService;
using service::LinkVisit;
using service::NodeCore;
using service::PartnerContact;
using service::Reachability;
using service::RecheckShare;
using service::Service;
using service::ShareRequest;
using service::SystemEvent;

}  // namespace schakel::daemon
