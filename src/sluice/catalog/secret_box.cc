#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "sluice/catalog/secret_box_internal.h"

namespace sluice::catalog {
namespace {

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

Status CryptoError(std::string_view what) {
  return Err(ErrorCode::kInternal, "catalog: " + std::string(what) + " failed");
}

Status CreateKeyFile(FileSystem& fs, const std::string& path) {
  std::array<uint8_t, kSecretKeyBytes> key;
  SLUICE_RETURN_IF_ERROR(RandomBytes(key.data(), key.size()));
  // Written under a temporary name and renamed, so that a crash never leaves a short key file
  // that would lock the operator out.
  const std::string tmp = path + ".tmp";
  Status st = [&]() -> Status {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs.NewWritableFile(tmp));
    SLUICE_RETURN_IF_ERROR(file->Append(ByteView(key.data(), key.size())));
    SLUICE_RETURN_IF_ERROR(file->Sync());
    SLUICE_RETURN_IF_ERROR(file->Close());
    SLUICE_RETURN_IF_ERROR(fs.Rename(tmp, path));
    return fs.SyncDir(DirName(path));
  }();
  OPENSSL_cleanse(key.data(), key.size());
  if (!st.ok()) {
    fs.Remove(tmp).IgnoreError();
    return st.WithContext("catalog: create " + path);
  }
  LogInfo("catalog", "created a new secret key " + path);
  return Status::Ok();
}

}  // namespace

Status RandomBytes(uint8_t* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) return CryptoError("the random generator");
  return Status::Ok();
}

Result<SecretBox> SecretBox::LoadOrCreate(FileSystem& fs, const std::string& path,
                                          bool create_if_missing) {
  if (!fs.Exists(path)) {
    if (!create_if_missing) {
      return Err(ErrorCode::kInternal,
                 "catalog: " + path +
                     " is missing but the catalog holds encrypted credentials; restore the "
                     "key file from a backup (or remove the credentials)");
    }
    SLUICE_RETURN_IF_ERROR(CreateKeyFile(fs, path));
  }
  // The seam has no stat; the permission bits are read directly. The key protects every
  // credential, so a file others can read is refused rather than silently used.
  std::error_code ec;
  const auto perms = std::filesystem::status(path, ec).permissions();
  if (ec) {
    return Err(ErrorCode::kIoError, "catalog: stat " + path + ": " + ec.message());
  }
  const auto mode = perms & std::filesystem::perms::mask;
  if (mode != (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)) {
    char octal[8];
    std::snprintf(octal, sizeof(octal), "%04o", static_cast<unsigned>(mode));
    return Err(ErrorCode::kInvalidArgument, "catalog: " + path + " has mode " + octal +
                                                "; it must be 0600 (chmod 600 " + path + ")");
  }
  SLUICE_ASSIGN_OR_RETURN(std::string bytes, fs.ReadSmallFile(path));
  if (bytes.size() != kSecretKeyBytes) {
    const size_t size = bytes.size();
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return Err(ErrorCode::kInvalidArgument, "catalog: " + path + " holds " + std::to_string(size) +
                                                " bytes; a key is " +
                                                std::to_string(kSecretKeyBytes) + " bytes");
  }
  std::array<uint8_t, kSecretKeyBytes> key;
  std::memcpy(key.data(), bytes.data(), key.size());
  OPENSSL_cleanse(bytes.data(), bytes.size());
  SecretBox box(key);
  OPENSSL_cleanse(key.data(), key.size());
  return box;
}

Result<Sealed> SecretBox::Seal(const Secret& plaintext, std::string_view aad) const {
  Sealed out;
  out.nonce.resize(kNonceBytes);
  SLUICE_RETURN_IF_ERROR(RandomBytes(reinterpret_cast<uint8_t*>(out.nonce.data()), kNonceBytes));
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return CryptoError("cipher allocation");
  const auto* nonce = reinterpret_cast<const unsigned char*>(out.nonce.data());
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), nonce) != 1) {
    return CryptoError("encryption set-up");
  }
  int len = 0;
  if (EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1) {
    return CryptoError("encryption");
  }
  const std::string& text = plaintext.reveal();
  out.ciphertext.resize(text.size() + kTagBytes);
  auto* ct = reinterpret_cast<unsigned char*>(out.ciphertext.data());
  if (EVP_EncryptUpdate(ctx.get(), ct, &len, reinterpret_cast<const unsigned char*>(text.data()),
                        static_cast<int>(text.size())) != 1) {
    return CryptoError("encryption");
  }
  int total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), ct + total, &len) != 1) return CryptoError("encryption");
  total += len;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, ct + total) != 1) {
    return CryptoError("encryption tag");
  }
  out.ciphertext.resize(static_cast<size_t>(total) + kTagBytes);
  return out;
}

Result<Secret> SecretBox::Open(const Sealed& sealed, std::string_view aad) const {
  const std::string failure =
      "credential for " + std::string(aad) + " cannot be decrypted: wrong secret.key?";
  if (sealed.nonce.size() != kNonceBytes || sealed.ciphertext.size() < kTagBytes) {
    return Err(ErrorCode::kInternal, failure + " (stored value is malformed)");
  }
  const size_t text_size = sealed.ciphertext.size() - kTagBytes;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return CryptoError("cipher allocation");
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.nonce.data());
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), nonce) != 1) {
    return CryptoError("decryption set-up");
  }
  int len = 0;
  if (EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1) {
    return CryptoError("decryption");
  }
  std::string text(text_size, '\0');
  const auto* ct = reinterpret_cast<const unsigned char*>(sealed.ciphertext.data());
  auto* pt = reinterpret_cast<unsigned char*>(text.data());
  if (EVP_DecryptUpdate(ctx.get(), pt, &len, ct, static_cast<int>(text_size)) != 1) {
    return CryptoError("decryption");
  }
  int total = len;
  std::array<unsigned char, kTagBytes> tag;
  std::memcpy(tag.data(), ct + text_size, kTagBytes);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), pt + total, &len) != 1) {
    OPENSSL_cleanse(text.data(), text.size());
    return Err(ErrorCode::kInternal, failure);
  }
  total += len;
  text.resize(static_cast<size_t>(total));
  return Secret(std::move(text));
}

}  // namespace sluice::catalog
