#pragma once
// S3's limits on objects, multipart uploads and request lists, named in one place with the
// reason for each. The S3 layer, the store behind it and the tests' fake backend all read them
// from here (multipart_rules.h holds the checks that use them).

#include <cstddef>
#include <cstdint>

namespace sluice::s3 {

// The largest PutObject or UploadPart body: S3's single-PUT and part limit (5 GiB). The
// default of ServiceOptions::max_object_bytes (the server may lower it).
inline constexpr uint64_t kMaxObjectBytes = uint64_t{5} << 30;
// Every part of a multipart upload but the last is at least 5 MiB (EntityTooSmall at
// Complete otherwise): S3's rule, which clients size their parts by.
inline constexpr uint64_t kMinPartBytes = uint64_t{5} << 20;
// Part numbers run 1..kMaxParts, and a Complete lists at most kMaxParts parts: S3 allows
// 10,000 parts per upload.
inline constexpr int kMaxParts = 10000;
// S3 deletes at most 1,000 keys per DeleteObjects request.
inline constexpr size_t kMaxDeleteKeys = 1000;

}  // namespace sluice::s3
