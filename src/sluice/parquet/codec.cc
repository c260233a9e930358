#include "sluice/parquet/codec.h"

#include <brotli/decode.h>
#include <lz4.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

namespace sluice::parquet {
namespace {

Status Corrupt(int32_t codec, const std::string& what) {
  return Err(ErrorCode::kCorruptFile, CodecName(codec) + " page: " + what);
}

Status Gunzip(ByteView in, std::vector<uint8_t>* out) {
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  // 15 window bits + 32: accept gzip or zlib headers.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Corrupt(2, "cannot initialise zlib");
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out->data();
  zs.avail_out = static_cast<uInt>(out->size());
  int rc = Z_OK;
  while (true) {
    rc = inflate(&zs, Z_FINISH);
    // Concatenated gzip members: restart after each member while input remains.
    if (rc == Z_STREAM_END && zs.avail_in > 0 && zs.avail_out > 0) {
      if (inflateReset(&zs) != Z_OK) break;
      continue;
    }
    break;
  }
  const size_t produced = out->size() - zs.avail_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return Corrupt(2, "inflate failed (" + std::to_string(rc) + ")");
  if (produced != out->size()) {
    return Corrupt(2, "inflated to " + std::to_string(produced) + " bytes, header says " +
                          std::to_string(out->size()));
  }
  return Status::Ok();
}

uint32_t ReadBigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Hadoop's LZ4 framing: blocks of [decompressed size BE32][compressed size BE32][lz4 block].
bool TryHadoopLz4(ByteView in, std::vector<uint8_t>* out) {
  size_t in_pos = 0, out_pos = 0;
  while (in.size() - in_pos >= 8) {
    const uint32_t raw = ReadBigEndian32(in.data() + in_pos);
    const uint32_t compressed = ReadBigEndian32(in.data() + in_pos + 4);
    in_pos += 8;
    if (compressed > in.size() - in_pos || raw > out->size() - out_pos) return false;
    const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data() + in_pos),
                                      reinterpret_cast<char*>(out->data() + out_pos),
                                      static_cast<int>(compressed), static_cast<int>(raw));
    if (n < 0 || static_cast<uint32_t>(n) != raw) return false;
    in_pos += compressed;
    out_pos += raw;
  }
  return in_pos == in.size() && out_pos == out->size();
}

bool Lz4Block(ByteView in, std::vector<uint8_t>* out) {
  const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data()),
                                    reinterpret_cast<char*>(out->data()),
                                    static_cast<int>(in.size()), static_cast<int>(out->size()));
  return n >= 0 && static_cast<size_t>(n) == out->size();
}

}  // namespace

bool CodecSupported(int32_t codec) {
  switch (static_cast<Codec>(codec)) {
    case Codec::kUncompressed:
    case Codec::kSnappy:
    case Codec::kGzip:
    case Codec::kBrotli:
    case Codec::kLz4:
    case Codec::kZstd:
    case Codec::kLz4Raw:
      return true;
    default:
      return false;
  }
}

Status Decompress(int32_t codec, ByteView in, size_t uncompressed_size, std::vector<uint8_t>* out) {
  out->resize(uncompressed_size);
  if (uncompressed_size == 0 && in.empty()) return Status::Ok();  // empty v2 value sections
  switch (static_cast<Codec>(codec)) {
    case Codec::kUncompressed:
      if (in.size() != uncompressed_size) {
        return Corrupt(codec, "compressed and uncompressed sizes differ (" +
                                  std::to_string(in.size()) + " vs " +
                                  std::to_string(uncompressed_size) + ")");
      }
      if (!in.empty()) std::memcpy(out->data(), in.data(), in.size());
      return Status::Ok();
    case Codec::kSnappy: {
      size_t length = 0;
      const char* src = reinterpret_cast<const char*>(in.data());
      if (!snappy::GetUncompressedLength(src, in.size(), &length) || length != uncompressed_size) {
        return Corrupt(codec, "bad snappy length header");
      }
      if (!snappy::RawUncompress(src, in.size(), reinterpret_cast<char*>(out->data()))) {
        return Corrupt(codec, "snappy data is damaged");
      }
      return Status::Ok();
    }
    case Codec::kGzip:
      return Gunzip(in, out);
    case Codec::kZstd: {
      const size_t n = ZSTD_decompress(out->data(), out->size(), in.data(), in.size());
      if (ZSTD_isError(n)) return Corrupt(codec, ZSTD_getErrorName(n));
      if (n != uncompressed_size) return Corrupt(codec, "decompressed size differs from header");
      return Status::Ok();
    }
    case Codec::kBrotli: {
      size_t n = out->size();
      if (BrotliDecoderDecompress(in.size(), in.data(), &n, out->data()) !=
              BROTLI_DECODER_RESULT_SUCCESS ||
          n != uncompressed_size) {
        return Corrupt(codec, "brotli data is damaged or of the wrong size");
      }
      return Status::Ok();
    }
    case Codec::kLz4Raw:
      if (!Lz4Block(in, out)) return Corrupt(codec, "lz4 block is damaged or of the wrong size");
      return Status::Ok();
    case Codec::kLz4:
      if (TryHadoopLz4(in, out) || Lz4Block(in, out)) return Status::Ok();
      return Corrupt(codec, "neither Hadoop-framed nor raw lz4");
    default:
      return Err(ErrorCode::kUnsupportedFormat, "compression codec " + CodecName(codec));
  }
}

uint32_t Crc32(ByteView bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const uint8_t* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {  // zlib takes uInt lengths
    const uInt n = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
    crc = crc32(crc, p, n);
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace sluice::parquet
