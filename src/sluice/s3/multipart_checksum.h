#pragma once
// S3's checksums of multipart uploads ("Checking object integrity" in the S3 user guide): the
// algorithm and type CreateMultipartUpload chooses, the checksum each part must carry, the part
// checksums CompleteMultipartUpload lists, and the object's checksum made from the parts'. One
// home for the rules: the s3 layer, the store and the tests' in-memory fake all call these.
//
//   x-amz-checksum-algorithm   FULL_OBJECT   COMPOSITE   type when none is asked for
//   CRC32                      yes           yes         COMPOSITE
//   CRC32C                     yes           yes         COMPOSITE
//   CRC64NVME                  yes           no          FULL_OBJECT
//   SHA1                       no            yes         COMPOSITE
//   SHA256                     no            yes         COMPOSITE
//
// COMPOSITE: the algorithm over the concatenated raw (base64-decoded) part checksums, in part
// order, base64, then "-N" for N parts. S3's own answer for three SHA256 parts (5, 5 and 1 MiB):
//   lcKa6Boe7a167tUCN5C4OaFygGSYD8MBnBARTrdL+1w=  gHjhbUT4oo2tSCtSZJdlKi+jeNXJT+VImqdPXsXvkOc=
//   4l9PQ3zOPZ0oGFvknFX+J4zZwE4WMzO+l3r8XrbWOeM=  -> rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc=-3
// FULL_OBJECT: the CRC of the whole object, no suffix: the value a client computes over its
// file. It is combined from the parts' CRCs and sizes (auth::Crc32Combine and kin), never by
// reading the object again.
//
// Parts: a COMPOSITE upload's part must carry a checksum of the upload's algorithm (S3 refuses
// one without); a FULL_OBJECT upload's part may come without one, and then its CRC is computed
// as it arrives (S3 does the same), so that every part of such an upload has one.
//
// Pure functions; safe from any thread.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/core.h"
#include "sluice/s3/s3.h"

namespace sluice::s3 {

inline constexpr std::string_view kComposite = "COMPOSITE";
inline constexpr std::string_view kFullObject = "FULL_OBJECT";

// CreateMultipartUpload's x-amz-checksum-algorithm and x-amz-checksum-type (null: not sent)
// as the upload's spec; neither sent: an empty spec. Both are read in any case. kInvalidRequest,
// worded as S3 words it, for an unknown algorithm or type, a type without an algorithm, and a
// type the algorithm does not have (FULL_OBJECT with SHA256, COMPOSITE with CRC64NVME).
Result<ChecksumSpec> ParseUploadChecksum(const std::string* algorithm, const std::string* type);

// Whether `algorithm` (lower-case, "crc32c") is one S3 serves as a checksum.
bool IsChecksumAlgorithm(std::string_view algorithm);

// "crc32c" -> "CRC32C": the spelling of x-amz-checksum-algorithm and of the XML elements
// (ChecksumCRC32C).
std::string ChecksumAlgorithmName(std::string_view algorithm);

// UploadPart, before the body: may a part carrying a checksum of `part_algorithm` (lower-case;
// empty: none) join an upload of `upload`? OK when the upload has no algorithm, when the part's
// is the upload's, and for a FULL_OBJECT upload's part without one (the caller computes it).
// kInvalidRequest (S3's "Checksum Type mismatch") for another algorithm, or none in a COMPOSITE
// upload.
Status CheckPartChecksum(const ChecksumSpec& upload, std::string_view part_algorithm);

// A part as the backend recorded it.
struct PartChecksum {
  uint64_t size = 0;
  std::string_view algorithm;  // lower-case; empty: the part has no checksum
  std::string_view value;      // base64, as verified at UploadPart
};
// The recorded part numbered `part_number`, or null. The views must stay valid until
// CompleteChecksum returns.
using FindPartChecksum = std::function<const PartChecksum*(int part_number)>;

// The object checksum of a Complete whose part list passed CheckCompleteParts (so every listed
// part was uploaded), after these checks, in this order:
//   - a part listed with a checksum that is not the one recorded for it: kInvalidPart;
//   - a part listed without one in a COMPOSITE upload: kInvalidRequest (S3 requires them);
//   - `sent` (the client's x-amz-checksum-<algorithm> and x-amz-checksum-type on Complete):
//     another type than the upload's is kBadDigest (as S3); a value of another algorithm, or
//     any for an upload without one, kInvalidRequest; a value that is not the computed one
//     (a COMPOSITE value may leave out its "-N"), kBadDigest.
// An upload without an algorithm has no object checksum: the result's algorithm is empty.
Result<Checksum> CompleteChecksum(const ChecksumSpec& upload,
                                  const std::vector<CompletedPart>& parts,
                                  const FindPartChecksum& find, const Checksum& sent);

}  // namespace sluice::s3
