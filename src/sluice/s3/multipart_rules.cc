#include "sluice/s3/multipart_rules.h"

#include "sluice/auth/auth.h"

namespace sluice::s3 {
namespace {

constexpr size_t kMd5Bytes = 16;

bool IsHexMd5(std::string_view s) {
  if (s.size() != kMd5Bytes * 2) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

uint8_t HexValue(char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); }

}  // namespace

Status CheckPartNumber(int part_number) {
  if (part_number >= 1 && part_number <= kMaxParts) return Status::Ok();
  return Err(ErrorCode::kInvalidArgument, "Part number must be an integer between 1 and " +
                                              std::to_string(kMaxParts) + ", inclusive (got " +
                                              std::to_string(part_number) + ")");
}

std::string NormalizeEtag(std::string_view etag) {
  while (!etag.empty() && etag.front() == '"') etag.remove_prefix(1);
  while (!etag.empty() && etag.back() == '"') etag.remove_suffix(1);
  std::string out(etag);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status CheckCompleteParts(const std::vector<CompletedPart>& parts, const FindUploadedPart& find) {
  if (parts.empty()) {
    return Err(ErrorCode::kMalformedXml,
               "The XML you provided was not well-formed or did not validate against our "
               "published schema: CompleteMultipartUpload lists no part");
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    const CompletedPart& p = parts[i];
    if (i > 0 && p.part_number <= parts[i - 1].part_number) {
      return Err(ErrorCode::kInvalidPartOrder,
                 "The list of parts was not in ascending order: part " +
                     std::to_string(p.part_number) + " follows part " +
                     std::to_string(parts[i - 1].part_number));
    }
    const UploadedPart* uploaded = find(p.part_number);
    if (uploaded == nullptr) {
      return Err(ErrorCode::kInvalidPart,
                 "One or more of the specified parts could not be found: part " +
                     std::to_string(p.part_number) + " was never uploaded");
    }
    const std::string etag = NormalizeEtag(p.etag);
    if (!IsHexMd5(uploaded->md5_hex) || etag != uploaded->md5_hex) {
      return Err(ErrorCode::kInvalidPart,
                 "One or more of the specified parts could not be found: part " +
                     std::to_string(p.part_number) + " has ETag \"" +
                     std::string(uploaded->md5_hex) + "\", not \"" + HeaderSafe(etag, 64) + "\"");
    }
    if (i + 1 < parts.size() && uploaded->size < kMinPartBytes) {
      return Err(ErrorCode::kEntityTooSmall,
                 "Your proposed upload is smaller than the minimum allowed object size: part " +
                     std::to_string(p.part_number) + " has " + std::to_string(uploaded->size) +
                     " bytes; every part but the last needs at least 5 MiB");
    }
  }
  return Status::Ok();
}

std::string MultipartEtag(const std::vector<std::string>& part_md5_hex) {
  auth::Digest md5(auth::Digest::Kind::kMd5);
  for (const std::string& hex : part_md5_hex) {
    uint8_t bin[kMd5Bytes];
    for (size_t i = 0; i < kMd5Bytes; ++i) {
      bin[i] = static_cast<uint8_t>(HexValue(hex[2 * i]) << 4 | HexValue(hex[2 * i + 1]));
    }
    md5.Update(ByteView(bin, kMd5Bytes));
  }
  return ToHex(AsBytes(md5.Finish())) + "-" + std::to_string(part_md5_hex.size());
}

}  // namespace sluice::s3
