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
//
// Combining (Crc32Combine and kin, for a multipart upload's FULL_OBJECT checksum): a reflected
// register is a polynomial over GF(2), bit 0 the highest power. Appending n zero bytes to A
// multiplies its register by x^(8n) modulo P, and because init and xorout are both all ones
// (for all three CRCs) their effects cancel in
//
//   crc(A·B) = crc(A) · x^(8·|B|) mod P  xor  crc(B)
//
// x^(8n) mod P is the product of x^(2^k) mod P over the set bits k of 8n: a table of those
// powers (67 entries cover any 64-bit n) and at most 64 multiplications, so a combine costs
// the same for a 5 GiB part as for a 5-byte one. This is zlib's crc32_combine method (its
// multmodp / x2nmodp), made generic over the register width; CRC-32 itself uses zlib's.

#include <zlib.h>

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

constexpr uint32_t kCrc32cPoly = 0x82f63b78u;
constexpr uint64_t kCrc64NvmePoly = 0x9a6c9329ac4bc9b5ull;
constexpr auto kCrc32cTables = MakeTables<uint32_t>(kCrc32cPoly);
constexpr auto kCrc64NvmeTables = MakeTables<uint64_t>(kCrc64NvmePoly);

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

// a · b mod P, both reflected polynomials of the register's width W (bit W-1 is x^0).
template <class T>
constexpr T MultModP(T a, T b, T poly) {
  constexpr T kOne = T{1} << (sizeof(T) * 8 - 1);  // x^0
  T product = 0;
  for (T m = kOne; m != 0; m >>= 1) {
    if ((a & m) != 0) {
      product ^= b;
      if ((a & (m - 1)) == 0) break;  // no lower powers of x left in a
    }
    b = (b & 1) != 0 ? (b >> 1) ^ poly : b >> 1;  // b · x mod P
  }
  return product;
}

// x^(2^k) mod P for k = 0..66: enough for x^(8n) with any 64-bit n (8n = n << 3).
constexpr size_t kPowers = 67;
template <class T>
constexpr std::array<T, kPowers> MakePowers(T poly) {
  std::array<T, kPowers> t{};
  T p = T{1} << (sizeof(T) * 8 - 2);  // x^1
  for (size_t k = 0; k < kPowers; ++k) {
    t[k] = p;
    p = MultModP(p, p, poly);  // x^(2^(k+1)) = (x^(2^k))^2
  }
  return t;
}

constexpr auto kCrc32cPowers = MakePowers<uint32_t>(kCrc32cPoly);
constexpr auto kCrc64NvmePowers = MakePowers<uint64_t>(kCrc64NvmePoly);

template <class T>
T Combine(const std::array<T, kPowers>& powers, T poly, T crc_a, T crc_b, uint64_t length_b) {
  T shift = T{1} << (sizeof(T) * 8 - 1);  // x^0
  for (size_t k = 3; length_b != 0; length_b >>= 1, ++k) {
    if ((length_b & 1) != 0) shift = MultModP(powers[k], shift, poly);
  }
  return MultModP(shift, crc_a, poly) ^ crc_b;
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

namespace sluice::auth {

uint32_t Crc32Combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b) {
  static_assert(sizeof(z_off_t) == 8, "zlib's crc32_combine must take 64-bit lengths");
  return static_cast<uint32_t>(crc32_combine(crc_a, crc_b, static_cast<z_off_t>(length_b)));
}

uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b) {
  return internal::Combine(internal::kCrc32cPowers, internal::kCrc32cPoly, crc_a, crc_b, length_b);
}

uint64_t Crc64NvmeCombine(uint64_t crc_a, uint64_t crc_b, uint64_t length_b) {
  return internal::Combine(internal::kCrc64NvmePowers, internal::kCrc64NvmePoly, crc_a, crc_b,
                           length_b);
}

}  // namespace sluice::auth
