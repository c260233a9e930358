// CRC-32C and CRC-64/NVME, the two x-amz-checksum-* CRCs zlib does not provide.
//
//   name          width  reflected poly        init / xorout        check("123456789")
//   CRC-32C       32     0x82f63b78            0xffffffff           0xe3069283
//   CRC-64/NVME   64     0x9a6c9329ac4bc9b5    0xffffffffffffffff   0xae8b14860a799888
//
// Both are reflected (LSB-first) CRCs, computed slicing-by-8: eight 256-entry tables built at
// compile time let one 8-byte word advance the register in one step (table k holds the effect
// of a byte followed by k zero bytes). CRC-32C also has an SSE4.2 instruction, used when the
// CPU reports it; it computes the same function, 8 bytes an instruction. S3 prints both
// big-endian in base64 (digest.cc).

#include <array>
#include <bit>
#include <cstring>

#include "sluice/auth/auth_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define SLUICE_HAVE_SSE42_CRC 1
#endif

namespace sluice::auth::internal {
namespace {

template <class T>
constexpr std::array<std::array<T, 256>, 8> MakeTables(T poly) {
  std::array<std::array<T, 256>, 8> t{};
  for (unsigned i = 0; i < 256; ++i) {
    T c = i;
    for (int b = 0; b < 8; ++b) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
    t[0][i] = c;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (unsigned i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
  }
  return t;
}

constexpr auto kCrc32cTables = MakeTables<uint32_t>(0x82f63b78u);
constexpr auto kCrc64NvmeTables = MakeTables<uint64_t>(0x9a6c9329ac4bc9b5ull);

// Advances the (already inverted) register `crc` over `data`.
template <class T>
T SliceBy8(const std::array<std::array<T, 256>, 8>& t, T crc, ByteView data) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  if constexpr (std::endian::native == std::endian::little) {
    for (; n >= 8; n -= 8, p += 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      word ^= static_cast<uint64_t>(crc);
      crc = t[7][word & 0xff] ^ t[6][(word >> 8) & 0xff] ^ t[5][(word >> 16) & 0xff] ^
            t[4][(word >> 24) & 0xff] ^ t[3][(word >> 32) & 0xff] ^ t[2][(word >> 40) & 0xff] ^
            t[1][(word >> 48) & 0xff] ^ t[0][word >> 56];
    }
  }
  for (; n > 0; --n, ++p) crc = t[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
  return crc;
}

#ifdef SLUICE_HAVE_SSE42_CRC
__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(uint32_t crc, ByteView data) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  uint64_t c = crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
  }
  auto c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = _mm_crc32_u8(c32, *p);
  return c32;
}

bool HaveSse42() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

}  // namespace

uint32_t Crc32cUpdatePortable(uint32_t crc, ByteView data) {
  return ~SliceBy8(kCrc32cTables, ~crc, data);
}

uint32_t Crc32cUpdate(uint32_t crc, ByteView data) {
#ifdef SLUICE_HAVE_SSE42_CRC
  if (HaveSse42()) return ~Crc32cSse42(~crc, data);
#endif
  return Crc32cUpdatePortable(crc, data);
}

uint64_t Crc64NvmeUpdate(uint64_t crc, ByteView data) {
  return ~SliceBy8(kCrc64NvmeTables, ~crc, data);
}

}  // namespace sluice::auth::internal
