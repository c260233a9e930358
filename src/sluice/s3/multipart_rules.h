#pragma once
// S3's multipart rules, checked once for every backend: the store (store/multipart.cc) and
// the tests' in-memory fake (s3_testing.h) call these, so both refuse the same part lists with
// the same errors. The limits themselves are in limits.h.
//
// Pure functions; safe from any thread.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/core.h"
#include "sluice/s3/limits.h"
#include "sluice/s3/s3.h"

namespace sluice::s3 {

// OK when 1 <= part_number <= kMaxParts; kInvalidArgument, as S3 words it, otherwise.
Status CheckPartNumber(int part_number);

// An ETag as a client sends it back, in the form parts are recorded: surrounding quotes
// dropped, hex digits lower-case.
std::string NormalizeEtag(std::string_view etag);

// A part as the backend recorded it.
struct UploadedPart {
  uint64_t size = 0;
  std::string_view md5_hex;  // lower-case hex MD5 of the part's bytes (its ETag)
};
// The uploaded part numbered `part_number`, or null when it was never uploaded. The view must
// stay valid until CheckCompleteParts returns.
using FindUploadedPart = std::function<const UploadedPart*(int part_number)>;

// Checks the part list of a CompleteMultipartUpload against the parts uploaded, in the order
// S3 does for each listed part in turn: a list naming no part is kMalformedXml; part numbers
// not strictly ascending are kInvalidPartOrder; a part never uploaded, or listed with another
// ETag (compared after NormalizeEtag), is kInvalidPart; a part but the last under
// kMinPartBytes is kEntityTooSmall. The messages start with S3's own wording.
Status CheckCompleteParts(const std::vector<CompletedPart>& parts, const FindUploadedPart& find);

// S3's ETag of a multipart object: the hex MD5 of the concatenated binary MD5s of its parts,
// then "-" and the number of parts. `part_md5_hex`: the parts' lower-case hex MD5s, in order.
std::string MultipartEtag(const std::vector<std::string>& part_md5_hex);

}  // namespace sluice::s3
