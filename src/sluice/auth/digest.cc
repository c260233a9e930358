// Digests over streamed bodies and the base64 form S3 uses for Content-MD5 and
// x-amz-checksum-* values.

#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <cassert>
#include <limits>

#include "sluice/auth/auth.h"
#include "sluice/auth/auth_internal.h"

namespace sluice::auth {

struct Digest::Impl {
  Kind kind;
  EVP_MD_CTX* ctx = nullptr;  // null for the CRCs
  uLong crc = 0;              // kCrc32 (zlib)
  uint32_t crc32c = 0;        // kCrc32c
  uint64_t crc64 = 0;         // kCrc64Nvme
  bool finished = false;
};

Digest::Digest(Kind kind) : impl_(std::make_unique<Impl>()) {
  impl_->kind = kind;
  const EVP_MD* md = nullptr;
  switch (kind) {
    case Kind::kMd5:
      md = EVP_md5();
      break;
    case Kind::kSha1:
      md = EVP_sha1();
      break;
    case Kind::kSha256:
      md = EVP_sha256();
      break;
    case Kind::kCrc32:
      impl_->crc = crc32(0L, Z_NULL, 0);
      return;
    case Kind::kCrc32c:
    case Kind::kCrc64Nvme:
      return;
  }
  impl_->ctx = EVP_MD_CTX_new();
  // Allocation or initialisation failure of a built-in digest is not a client-input error;
  // it means the process cannot hash at all.
  if (impl_->ctx == nullptr || EVP_DigestInit_ex(impl_->ctx, md, nullptr) != 1) std::abort();
}

Digest::~Digest() {
  if (impl_->ctx != nullptr) EVP_MD_CTX_free(impl_->ctx);
}

void Digest::Update(ByteView data) {
  assert(!impl_->finished);
  if (impl_->kind == Kind::kCrc32c) {
    impl_->crc32c = internal::Crc32cUpdate(impl_->crc32c, data);
    return;
  }
  if (impl_->kind == Kind::kCrc64Nvme) {
    impl_->crc64 = internal::Crc64NvmeUpdate(impl_->crc64, data);
    return;
  }
  if (impl_->kind == Kind::kCrc32) {
    // zlib takes a uInt length: feed pieces that fit.
    constexpr size_t kMaxPiece = std::numeric_limits<uInt>::max();
    while (!data.empty()) {
      const size_t n = std::min(data.size(), kMaxPiece);
      impl_->crc = crc32(impl_->crc, data.data(), static_cast<uInt>(n));
      data = data.subspan(n);
    }
    return;
  }
  if (!data.empty() && EVP_DigestUpdate(impl_->ctx, data.data(), data.size()) != 1) std::abort();
}

std::string Digest::Finish() {
  assert(!impl_->finished);
  impl_->finished = true;
  // The CRCs big-endian, as S3 prints them in x-amz-checksum-*.
  auto big_endian = [](uint64_t v, size_t bytes) {
    std::string out(bytes, '\0');
    for (size_t i = 0; i < bytes; ++i) out[i] = static_cast<char>(v >> (8 * (bytes - 1 - i)));
    return out;
  };
  switch (impl_->kind) {
    case Kind::kCrc32:
      return big_endian(static_cast<uint32_t>(impl_->crc), 4);
    case Kind::kCrc32c:
      return big_endian(impl_->crc32c, 4);
    case Kind::kCrc64Nvme:
      return big_endian(impl_->crc64, 8);
    case Kind::kMd5:
    case Kind::kSha1:
    case Kind::kSha256:
      break;
  }
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx, buf, &len) != 1) std::abort();
  return std::string(reinterpret_cast<const char*>(buf), len);
}

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string Base64Encode(std::string_view raw) {
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= raw.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<uint8_t>(raw[i])} << 16) |
                       (uint32_t{static_cast<uint8_t>(raw[i + 1])} << 8) |
                       uint32_t{static_cast<uint8_t>(raw[i + 2])};
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const size_t rest = raw.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{static_cast<uint8_t>(raw[i])} << 16;
    if (rest == 2) v |= uint32_t{static_cast<uint8_t>(raw[i + 1])} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Strict RFC 4648: padded to a multiple of 4, '=' only at the end, no whitespace, and the
// unused low bits of the last symbol zero (so that every byte string has one encoding).
Result<std::string> Base64Decode(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status(ErrorCode::kInvalidArgument, "malformed base64 (" + std::string(why) + ")");
  };
  if (text.size() % 4 != 0) return bad("length is not a multiple of 4");
  size_t pad = 0;
  if (!text.empty() && text.back() == '=')
    pad = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    for (int j = 0; j < 4; ++j) {
      const char c = text[i + j];
      if (last && c == '=' && j >= 4 - static_cast<int>(pad)) {
        v[j] = 0;
        continue;
      }
      v[j] = DecodeChar(c);
      if (v[j] < 0) return bad("unexpected character at offset " + std::to_string(i + j));
    }
    const uint32_t w =
        (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
    out += static_cast<char>(w >> 16);
    if (last && pad == 2) {
      if ((w & 0xffff) != 0) return bad("non-zero padding bits");
      break;
    }
    out += static_cast<char>(w >> 8);
    if (last && pad == 1) {
      if ((w & 0xff) != 0) return bad("non-zero padding bits");
      break;
    }
    out += static_cast<char>(w);
  }
  return out;
}

}  // namespace sluice::auth
