#include "schakel/peer/peer_tls.h"

namespace schakel::peer {

Result<boost::asio::ssl::context> MakePeerTlsContext(PeerRole role, const crypto::TlsIdentity& identity) {
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SslCtxPtr ctx, crypto::MakePeerSslCtx(role, identity));
  // The Asio context takes ownership of the handle (it frees it).
  return boost::asio::ssl::context(ctx.release());
}

}  // namespace schakel::peer
