#pragma once
// Private to s3/: the XML request bodies sluice reads, parsed with expat.
//
//   <CompleteMultipartUpload [xmlns="http://s3.amazonaws.com/doc/2006-03-01/"]>
//     <Part><PartNumber>1</PartNumber><ETag>"9b2cf535f27731c974343645a3985328"</ETag>
//           [<ChecksumCRC32>f7XNdQ==</ChecksumCRC32> ...]</Part> ...
//   </CompleteMultipartUpload>
//
//   <Delete [xmlns=...]><Quiet>true</Quiet>
//     <Object><Key>orders/a.parquet</Key>[<VersionId>..</VersionId>]</Object> ...
//   </Delete>
//
//   <VersioningConfiguration [xmlns=...]>[<Status>Enabled</Status>]
//     [<MfaDelete>Disabled</MfaDelete>]</VersioningConfiguration>
//
// Tolerant as real clients need (../shared/s3-transcripts/CLIENTS.md §6): with or without the
// namespace (or any prefix), with or without an XML declaration, children in any order,
// unknown elements ignored, ETags unquoted, quoted, `&quot;`- or `&#34;`-escaped. Strict where
// it matters: one root of the right name, every Part with one PartNumber and one ETag, every
// Object with one Key, no DOCTYPE (no entity expansion at all), bounded sizes and counts, at
// most one checksum element per Part (CompletedPart::checksum).
// Errors: kMalformedXml (with what and where), kInvalidArgument (a part number out of range).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/core.h"
#include "sluice/s3/limits.h"
#include "sluice/s3/s3.h"

namespace sluice::s3 {

// A Complete body lists at most kMaxParts parts of a few hundred bytes each (ETag and up to
// one checksum per part); 4 MiB leaves room for whitespace and namespaces.
constexpr size_t kMaxCompleteXmlBytes = 4 * 1024 * 1024;
// 1,000 keys of up to 1,024 bytes, each byte at most 6 once XML-escaped, plus the markup.
constexpr size_t kMaxDeleteXmlBytes = 8 * 1024 * 1024;

// Parts in the order listed (ordering rules are the backend's: kInvalidPartOrder). A body
// with no Part is kMalformedXml, as S3 answers.
Result<std::vector<CompletedPart>> ParseCompleteMultipartUpload(std::string_view xml);

struct DeleteRequest {
  bool quiet = false;
  std::vector<std::string> keys;
  // Beside keys: each Object's <VersionId> (as sent, not trimmed), nullopt when it has none.
  std::vector<std::optional<std::string>> version_ids;
};
Result<DeleteRequest> ParseDeleteObjects(std::string_view xml);

// A PutBucketVersioning body is a few dozen bytes.
constexpr size_t kMaxVersioningXmlBytes = 64 * 1024;
// Status and MfaDelete as sent (trimmed); empty when absent.
struct VersioningRequest {
  std::string status;
  std::string mfa_delete;
};
Result<VersioningRequest> ParseVersioningConfiguration(std::string_view xml);

}  // namespace sluice::s3
