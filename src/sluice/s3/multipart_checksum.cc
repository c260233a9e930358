#include "sluice/s3/multipart_checksum.h"

#include <utility>

#include "sluice/auth/auth.h"
#include "sluice/core/text.h"

namespace sluice::s3 {
namespace {

struct Algorithm {
  std::string_view name;  // lower-case, as in the header name
  auth::Digest::Kind kind;
  size_t bytes;      // the raw digest's size
  bool full_object;  // may be FULL_OBJECT (a CRC: it combines)
  bool composite;    // may be COMPOSITE; the default type when it may
};
constexpr Algorithm kAlgorithms[] = {
    {"crc32", auth::Digest::Kind::kCrc32, 4, true, true},
    {"crc32c", auth::Digest::Kind::kCrc32c, 4, true, true},
    {"crc64nvme", auth::Digest::Kind::kCrc64Nvme, 8, true, false},
    {"sha1", auth::Digest::Kind::kSha1, 20, false, true},
    {"sha256", auth::Digest::Kind::kSha256, 32, false, true},
};

const Algorithm* FindAlgorithm(std::string_view name) {
  for (const Algorithm& a : kAlgorithms) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// S3's words for a part (or a Complete) whose checksum is of another algorithm than the
// upload's, or missing ("null").
Status TypeMismatch(std::string_view expected, std::string_view actual) {
  return Status(
      ErrorCode::kInvalidRequest,
      "Checksum Type mismatch occurred, expected checksum Type: " + std::string(expected) +
          ", actual checksum Type: " + (actual.empty() ? "null" : std::string(actual)));
}

uint64_t FromBigEndian(std::string_view raw) {
  uint64_t v = 0;
  for (const char c : raw) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

std::string ToBigEndian(uint64_t v, size_t bytes) {
  std::string out(bytes, '\0');
  for (size_t i = bytes; i-- > 0; v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

uint64_t Combine(auth::Digest::Kind kind, uint64_t a, uint64_t b, uint64_t length_b) {
  switch (kind) {
    case auth::Digest::Kind::kCrc32:
      return auth::Crc32Combine(static_cast<uint32_t>(a), static_cast<uint32_t>(b), length_b);
    case auth::Digest::Kind::kCrc32c:
      return auth::Crc32cCombine(static_cast<uint32_t>(a), static_cast<uint32_t>(b), length_b);
    default:
      return auth::Crc64NvmeCombine(a, b, length_b);
  }
}

// The part checksums of the listed parts, raw, and their sizes, in list order.
struct RawPart {
  std::string digest;
  uint64_t size = 0;
};

std::string ObjectValue(const Algorithm& alg, std::string_view type,
                        const std::vector<RawPart>& parts) {
  if (type == kComposite) {
    auth::Digest d(alg.kind);
    for (const RawPart& p : parts) d.Update(AsBytes(p.digest));
    return auth::Base64Encode(d.Finish()) + "-" + std::to_string(parts.size());
  }
  uint64_t crc = 0;  // the CRC of nothing
  for (const RawPart& p : parts) crc = Combine(alg.kind, crc, FromBigEndian(p.digest), p.size);
  return auth::Base64Encode(ToBigEndian(crc, alg.bytes));
}

Status CheckSent(const ChecksumSpec& upload, const Checksum& computed, const Checksum& sent) {
  if (!sent.type.empty()) {
    if (upload.algorithm.empty()) {
      return Status(ErrorCode::kInvalidRequest,
                    "x-amz-checksum-type " + sent.type +
                        " was sent, but the upload was created without a checksum algorithm");
    }
    if (!EqualsIgnoreCase(sent.type, upload.type)) {
      return Status(ErrorCode::kBadDigest, "The checksum type you specified (" + sent.type +
                                               ") does not match the upload's (" + upload.type +
                                               "), chosen by CreateMultipartUpload");
    }
  }
  if (sent.algorithm.empty()) return Status::Ok();
  if (upload.algorithm.empty()) {
    return Status(ErrorCode::kInvalidRequest,
                  "x-amz-checksum-" + sent.algorithm +
                      " cannot be checked: the upload was created without a checksum algorithm "
                      "(x-amz-checksum-algorithm on CreateMultipartUpload)");
  }
  if (sent.algorithm != upload.algorithm) return TypeMismatch(upload.algorithm, sent.algorithm);
  const std::string_view value = TrimAscii(sent.value);
  const std::string_view whole = computed.value;
  // A COMPOSITE value's "-N" may be left out.
  const std::string_view bare = whole.substr(0, std::min(whole.find('-'), whole.size()));
  if (value == whole || (upload.type == kComposite && value == bare)) return Status::Ok();
  return Status(ErrorCode::kBadDigest,
                "The " + sent.algorithm + " you specified (" + std::string(value) +
                    ") did not match the calculated checksum (" + computed.value + ")");
}

}  // namespace

bool IsChecksumAlgorithm(std::string_view algorithm) { return FindAlgorithm(algorithm) != nullptr; }

std::string ChecksumAlgorithmName(std::string_view algorithm) { return AsciiUppered(algorithm); }

Result<ChecksumSpec> ParseUploadChecksum(const std::string* algorithm, const std::string* type) {
  if (algorithm == nullptr) {
    if (type == nullptr) return ChecksumSpec{};
    return Status(ErrorCode::kInvalidRequest,
                  "The x-amz-checksum-type header can only be used with the "
                  "x-amz-checksum-algorithm header");
  }
  const std::string name = AsciiLowered(TrimAscii(*algorithm));
  const Algorithm* alg = FindAlgorithm(name);
  if (alg == nullptr) {
    return Status(ErrorCode::kInvalidRequest,
                  "Checksum algorithm provided is unsupported ('" + *algorithm +
                      "'). Please try again with any of the valid types: [CRC32, CRC32C, "
                      "CRC64NVME, SHA1, SHA256]");
  }
  ChecksumSpec spec{name, std::string(alg->composite ? kComposite : kFullObject)};
  if (type == nullptr) return spec;
  const std::string_view asked = TrimAscii(*type);
  if (EqualsIgnoreCase(asked, kComposite)) {
    spec.type = std::string(kComposite);
  } else if (EqualsIgnoreCase(asked, kFullObject)) {
    spec.type = std::string(kFullObject);
  } else {
    return Status(ErrorCode::kInvalidRequest, "Value for x-amz-checksum-type header is invalid ('" +
                                                  std::string(asked) +
                                                  "'): use COMPOSITE or FULL_OBJECT");
  }
  if ((spec.type == kFullObject && !alg->full_object) ||
      (spec.type == kComposite && !alg->composite)) {
    return Status(ErrorCode::kInvalidRequest, "The " + spec.type +
                                                  " checksum type cannot be used with the " + name +
                                                  " checksum algorithm.");
  }
  return spec;
}

Status CheckPartChecksum(const ChecksumSpec& upload, std::string_view part_algorithm) {
  if (upload.algorithm.empty() || part_algorithm == upload.algorithm) return Status::Ok();
  if (part_algorithm.empty() && upload.type == kFullObject) return Status::Ok();
  return TypeMismatch(upload.algorithm, part_algorithm);
}

Result<Checksum> CompleteChecksum(const ChecksumSpec& upload,
                                  const std::vector<CompletedPart>& parts,
                                  const FindPartChecksum& find, const Checksum& sent) {
  const Algorithm* alg = nullptr;
  if (!upload.algorithm.empty()) {
    alg = FindAlgorithm(upload.algorithm);
    if (alg == nullptr) {
      return Status(ErrorCode::kInternal, "the upload's recorded checksum algorithm '" +
                                              upload.algorithm + "' is unknown");
    }
  }
  std::vector<RawPart> raw;
  raw.reserve(alg != nullptr ? parts.size() : 0);
  for (const CompletedPart& p : parts) {
    const std::string number = std::to_string(p.part_number);
    const PartChecksum* stored = find(p.part_number);
    if (stored == nullptr) {
      return Status(ErrorCode::kInvalidPart,
                    "One or more of the specified parts could not be found: part " + number);
    }
    if (!p.checksum.algorithm.empty()) {
      if (p.checksum.algorithm != stored->algorithm || p.checksum.value != stored->value) {
        const std::string recorded = stored->algorithm.empty()
                                         ? std::string("it was uploaded without one")
                                         : "it was uploaded with " +
                                               ChecksumAlgorithmName(stored->algorithm) + " " +
                                               std::string(stored->value);
        return Status(ErrorCode::kInvalidPart,
                      "One or more of the specified parts could not be found. The part may not "
                      "have been uploaded, or the specified checksum may not match the part's: "
                      "part " +
                          number + " is listed with Checksum" +
                          ChecksumAlgorithmName(p.checksum.algorithm) + " " + p.checksum.value +
                          ", " + recorded);
      }
    } else if (alg != nullptr && upload.type == kComposite) {
      return Status(ErrorCode::kInvalidRequest,
                    "The upload was created using a " + upload.algorithm +
                        " checksum. The complete request must include the checksum for each "
                        "part. It was missing for part " +
                        number + " in the request.");
    }
    if (alg == nullptr) continue;
    // UploadPart saw to it that every part of the upload has one (CheckPartChecksum).
    Result<std::string> digest = Status(ErrorCode::kInternal, "another algorithm");
    if (stored->algorithm == upload.algorithm) digest = auth::Base64Decode(stored->value);
    if (!digest.ok() || digest->size() != alg->bytes) {
      return Status(ErrorCode::kInternal, "part " + number + " of the upload has no " +
                                              upload.algorithm + " checksum recorded");
    }
    raw.push_back({std::move(digest).value(), stored->size});
  }
  Checksum out;
  if (alg != nullptr) {
    out.algorithm = upload.algorithm;
    out.type = upload.type;
    out.value = ObjectValue(*alg, upload.type, raw);
  }
  SLUICE_RETURN_IF_ERROR(CheckSent(upload, out, sent));
  return out;
}

}  // namespace sluice::s3
