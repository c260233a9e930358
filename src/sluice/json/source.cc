#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "sluice/json/source_internal.h"

namespace sluice::json {

ByteSource::ByteSource(const RandomAccessFile& file) : file_(file) {}

Result<std::unique_ptr<ByteSource>> ByteSource::Open(const RandomAccessFile& file) {
  std::unique_ptr<ByteSource> src(new ByteSource(file));
  if (file.size() >= 2) {
    std::vector<uint8_t> magic;
    SLUICE_RETURN_IF_ERROR(file.ReadAt(0, 2, &magic));
    if (magic[0] == 0x1f && magic[1] == 0x8b) {
      src->zs_ = std::make_unique<z_stream_s>();
      std::memset(src->zs_.get(), 0, sizeof(z_stream_s));
      // 16 + MAX_WBITS: a gzip wrapper, not zlib or raw deflate.
      if (inflateInit2(src->zs_.get(), 16 + MAX_WBITS) != Z_OK) {
        src->zs_.reset();
        return Err(ErrorCode::kInternal, "zlib: inflateInit2 failed");
      }
    }
  }
  return src;
}

ByteSource::~ByteSource() {
  if (zs_) inflateEnd(zs_.get());
}

Status ByteSource::Fill() {
  const uint64_t left = file_.size() - file_offset_;
  const size_t n = static_cast<size_t>(std::min<uint64_t>(left, kReadBytes));
  in_pos_ = 0;
  if (n == 0) {
    in_.clear();
    return Status::Ok();
  }
  SLUICE_RETURN_IF_ERROR(file_.ReadAt(file_offset_, n, &in_));
  file_offset_ += n;
  return Status::Ok();
}

Result<size_t> ByteSource::Read(char* dst, size_t n) {
  if (!zs_) {
    const uint64_t left = file_.size() - file_offset_;
    const size_t take = static_cast<size_t>(std::min<uint64_t>(left, n));
    if (take == 0) return size_t{0};
    SLUICE_RETURN_IF_ERROR(file_.ReadAt(file_offset_, take, &in_));
    std::memcpy(dst, in_.data(), take);
    file_offset_ += take;
    return take;
  }
  z_stream_s& z = *zs_;
  z.next_out = reinterpret_cast<Bytef*>(dst);
  z.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
  const uInt want = z.avail_out;
  while (z.avail_out == want) {
    if (in_pos_ == in_.size()) {
      SLUICE_RETURN_IF_ERROR(Fill());
      if (in_.empty()) {
        if (member_done_) return size_t{0};
        return Err(ErrorCode::kCorruptFile,
                   "gzip: the compressed data ends in the middle of a stream (truncated file)");
      }
    }
    if (member_done_) {
      // Another member follows the one that ended.
      if (inflateReset(&z) != Z_OK) return Err(ErrorCode::kInternal, "zlib: inflateReset failed");
      member_done_ = false;
    }
    z.next_in = in_.data() + in_pos_;
    z.avail_in = static_cast<uInt>(in_.size() - in_pos_);
    const int rc = inflate(&z, Z_NO_FLUSH);
    in_pos_ = in_.size() - z.avail_in;
    if (rc == Z_STREAM_END) {
      member_done_ = true;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      const uint64_t at = file_offset_ - (in_.size() - in_pos_);
      return Err(ErrorCode::kCorruptFile, "gzip: damaged compressed data near compressed byte " +
                                              std::to_string(at) + " (" +
                                              (z.msg ? z.msg : "inflate error") + ")");
    }
    if (member_done_ && z.avail_out != want) break;
  }
  const size_t produced = static_cast<size_t>(want - z.avail_out);
  const uint64_t consumed = file_offset_ - (in_.size() - in_pos_);
  SLUICE_RETURN_IF_ERROR(inflation_.Add(consumed - consumed_, produced));
  consumed_ = consumed;
  return produced;
}

}  // namespace sluice::json
