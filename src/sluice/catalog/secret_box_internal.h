#pragma once
// Private to catalog: encryption of credentials at rest.
//
// The key is 32 random bytes in <data>/secret.key (mode 0600). Each secret is sealed with
// AES-256-GCM under a fresh random 12-byte nonce, with the access key as additional
// authenticated data, so a sealed secret cannot be moved to another access key's row.
// Sealed form: ciphertext || 16-byte tag (the nonce is stored beside it).

#include <array>
#include <cstdint>
#include <string>

#include "sluice/core/core.h"

namespace sluice::catalog {

constexpr size_t kSecretKeyBytes = 32;  // AES-256
constexpr size_t kNonceBytes = 12;      // the GCM standard nonce size
constexpr size_t kTagBytes = 16;        // full-length GCM tag

struct Sealed {
  std::string nonce;       // kNonceBytes
  std::string ciphertext;  // plaintext size + kTagBytes
};

class SecretBox {
 public:
  // Reads <path>, or creates it (0600, synced) when `create_if_missing`. Refuses a key file
  // that is not exactly kSecretKeyBytes long or whose mode is not 0600.
  static Result<SecretBox> LoadOrCreate(FileSystem& fs, const std::string& path,
                                        bool create_if_missing);

  Result<Sealed> Seal(const Secret& plaintext, std::string_view aad) const;
  // kInternal naming the access key (never the secret) when authentication fails.
  Result<Secret> Open(const Sealed& sealed, std::string_view aad) const;

 private:
  explicit SecretBox(const std::array<uint8_t, kSecretKeyBytes>& key) : key_(key) {}
  std::array<uint8_t, kSecretKeyBytes> key_;
};

// Cryptographically random bytes (OpenSSL's DRBG); kInternal if it fails.
Status RandomBytes(uint8_t* out, size_t n);

}  // namespace sluice::catalog
