#pragma once
// Private to http/: the server-side TLS context of a listener.

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "sluice/core/core.h"

namespace sluice::http::internal {

// A TLS server context: TLS 1.2 and 1.3 only; for TLS 1.2 the ECDHE AEAD suites only (the
// Mozilla "intermediate" list), no compression, no renegotiation, no session tickets (one
// process, no ticket key rotation to manage: session IDs in the internal cache instead).
// `cert_file` is PEM and may hold the chain, leaf first; `key_file` is a PEM private key without
// a passphrase that matches the leaf. Errors are kInvalidArgument and name the file.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const std::string& cert_file, const std::string& key_file);

}  // namespace sluice::http::internal
