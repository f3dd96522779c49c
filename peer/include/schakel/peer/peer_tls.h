// The peer protocol's TLS as Asio sees it. The context itself (TLS 1.3 only,
// mutual, verification by SPKI pin only) is built by crypto/ (see
// schakel/crypto/tls_context.h for the whole design); this header names its
// pieces in peer:: and wraps the context for Asio.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp forgets it

#include <boost/asio/ssl/context.hpp>

#include "schakel/base/status.h"
#include "schakel/crypto/tls_context.h"
#include "schakel/crypto/tls_identity.h"

namespace schakel::peer {

using crypto::ExpectOnePin;
using crypto::PeerRole;
using crypto::PeerVerifier;
using crypto::PinHex;
using crypto::PinLookup;
using crypto::SpkiPin;
using crypto::SpkiPinOf;

// crypto::MakePeerSslCtx, owned by an Asio context.
Result<boost::asio::ssl::context> MakePeerTlsContext(PeerRole role, const crypto::TlsIdentity& identity);

}  // namespace schakel::peer
