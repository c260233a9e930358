#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "sluice/http/tls_internal.h"

namespace sluice::http::internal {
namespace {

namespace ssl = boost::asio::ssl;

// Mozilla's "intermediate" TLS 1.2 suites (forward secrecy, AEAD); TLS 1.3 suites are
// OpenSSL's defaults, all of which are AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// OpenSSL's most recent error as text ("PEM routines::no start line"), clearing the queue.
std::string LastOpenSslError() {
  unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  // "error:0480006C:PEM routines::no start line" -> "PEM routines::no start line"
  std::string s(text);
  size_t skip = s.find(':', s.find(':') + 1);
  return skip == std::string::npos ? s : s.substr(skip + 1);
}

Status CheckReadable(const std::string& what, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Err(ErrorCode::kInvalidArgument,
               "http: cannot read the TLS " + what + " file '" + path + "'");
  }
  std::fclose(f);
  return Status::Ok();
}

// PKCS#8 "BEGIN ENCRYPTED PRIVATE KEY" or a traditional key's "Proc-Type: 4,ENCRYPTED". Only
// to explain a failure: OpenSSL's own error for these is a generic decrypt error.
bool LooksEncrypted(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  char buffer[4096];  // the marker is in the first lines of the key's PEM block
  const size_t n = std::fread(buffer, 1, sizeof buffer, f);
  std::fclose(f);
  return std::string_view(buffer, n).find("ENCRYPTED") != std::string_view::npos;
}

// A passphrase-protected key would make OpenSSL prompt on the terminal: refuse instead.
int NoPassphrase(char*, int, int, void*) { return 0; }

}  // namespace

Result<std::shared_ptr<ssl::context>> MakeServerTlsContext(const std::string& cert_file,
                                                           const std::string& key_file) {
  SLUICE_RETURN_IF_ERROR(CheckReadable("certificate", cert_file));
  SLUICE_RETURN_IF_ERROR(CheckReadable("key", key_file));
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_default_passwd_cb(ctx, NoPassphrase);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return Err(ErrorCode::kInternal, "http: TLS cipher list refused: " + LastOpenSslError());
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return Err(ErrorCode::kInvalidArgument,
               "http: TLS certificate file '" + cert_file +
                   "' is not a usable PEM certificate chain: " + LastOpenSslError());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const int reason = ERR_GET_REASON(ERR_peek_last_error());
    std::string why = LastOpenSslError();
    if (reason == X509_R_KEY_VALUES_MISMATCH) {
      return Err(ErrorCode::kInvalidArgument, "http: TLS key file '" + key_file +
                                                  "' does not match the certificate in '" +
                                                  cert_file + "'");
    }
    if (LooksEncrypted(key_file)) why = "it is passphrase-protected, which is not supported";
    return Err(ErrorCode::kInvalidArgument,
               "http: TLS key file '" + key_file + "' is not a usable PEM private key: " + why);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Err(ErrorCode::kInvalidArgument, "http: TLS key file '" + key_file +
                                                "' does not match the certificate in '" +
                                                cert_file + "': " + LastOpenSslError());
  }
  // Session IDs let a reconnecting client skip the full handshake.
  static constexpr unsigned char kSessionContext[] = "sluice";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  return context;
}

}  // namespace sluice::http::internal
