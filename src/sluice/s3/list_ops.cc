// ListObjectsV2, ListObjects (v1), ListMultipartUploads and ListParts. The backend pages keys
// (and uploads) in byte order after an exclusive start key; delimiter roll-ups, markers and
// continuation tokens are computed here.
//
// Roll-ups: with a delimiter, a key whose remainder after the prefix contains it is reported
// once as the common prefix up to and including the delimiter. Keys are sorted, so the keys of
// one roll-up are contiguous; once a roll-up is reported the walk jumps past all of its keys by
// restarting after `<common prefix>\xff` (0xFF never occurs in UTF-8, so no key under the prefix
// sorts after it). A marker or continuation token that names a roll-up resumes the same way.
//
// Bounded work: a page makes at most one backend call per entry it returns (plus one), each
// asking at most 1,001 keys (64 with a delimiter); a backend that stops at its own read bound
// (hidden keys) makes a call that returns nothing, and kMaxIdleListCalls of those end the page
// early with a marker past the keys read.

#include <algorithm>
#include <tuple>
#include <utility>

#include "sluice/s3/limits.h"
#include "sluice/s3/multipart_checksum.h"
#include "sluice/s3/ops_internal.h"

namespace sluice::s3 {

std::optional<std::string> RollUp(const std::string& key, const std::string& prefix,
                                  const std::string& delimiter) {
  if (delimiter.empty() || !key.starts_with(prefix)) return std::nullopt;
  const size_t pos = key.find(delimiter, prefix.size());
  if (pos == std::string::npos) return std::nullopt;
  return key.substr(0, pos + delimiter.size());
}

std::string Element(std::string_view name, std::string_view text) {
  std::string out;
  out.reserve(name.size() * 2 + text.size() + 5);
  out += '<';
  out += name;
  out += '>';
  out += text;
  out += "</";
  out += name;
  out += '>';
  return out;
}

std::string Owner(const std::string& id) {
  const std::string e = XmlEscape(id);
  return "<Owner><ID>" + e + "</ID><DisplayName>" + e + "</DisplayName></Owner>";
}

Result<bool> UrlEncoding(const Route& route) {
  const std::string* type = route.Param("encoding-type");
  if (type == nullptr) return false;
  if (*type != "url") {
    return Status(ErrorCode::kInvalidArgument,
                  "invalid encoding-type '" + *type + "': the only value is 'url'");
  }
  return true;
}

std::string Opening(std::string_view root) {
  std::string body(kXmlDeclaration);
  body += '<';
  body += root;
  body += " xmlns=\"";
  body += kS3Namespace;
  body += "\">";
  return body;
}

namespace {

struct Listing {
  std::vector<ObjectInfo> contents;
  std::vector<std::string> prefixes;
  bool truncated = false;
  std::string last;  // the last key or common prefix returned: the next marker
};

Result<Listing> Walk(const Call& c, const std::string& prefix, const std::string& delimiter,
                     const std::string& marker, int64_t max_keys) {
  Listing out;
  if (max_keys == 0) return out;
  std::string cursor = marker;
  if (const auto up = RollUp(marker, prefix, delimiter); up.has_value() && *up == marker) {
    cursor = marker + '\xff';
  }
  int64_t entries = 0;
  int idle_calls = 0;
  std::string skip;  // the common prefix being skipped
  while (true) {
    ListQuery query;
    query.prefix = prefix;
    query.start_after = cursor;
    query.max_keys = static_cast<size_t>(
        std::min(delimiter.empty() ? kMaxListEntries : kDelimiterPageKeys, max_keys - entries + 1));
    SLUICE_ASSIGN_OR_RETURN(ListPage page, c.backend.ListObjects(c.who, c.route.bucket, query));
    const int64_t entries_before = entries;
    for (ObjectInfo& obj : page.objects) {
      if (!skip.empty() && obj.key.starts_with(skip)) continue;
      cursor = obj.key;
      if (auto up = RollUp(obj.key, prefix, delimiter); up.has_value()) {
        if (entries == max_keys) {
          out.truncated = true;
          return out;
        }
        ++entries;
        out.last = *up;
        cursor = *up + '\xff';
        skip = *up;
        out.prefixes.push_back(std::move(*up));
        continue;
      }
      if (entries == max_keys) {
        out.truncated = true;
        return out;
      }
      ++entries;
      out.last = obj.key;
      out.contents.push_back(std::move(obj));
    }
    if (!page.truncated) return out;
    if (page.resume_after.empty()) {
      if (page.objects.empty()) {
        return Status(ErrorCode::kInternal, "the backend reported more keys but returned none");
      }
      continue;
    }
    // The backend stopped at its read bound, past keys it did not return (deleted or purged).
    const std::string& read_to = page.resume_after;
    if (!skip.empty() && read_to.starts_with(skip)) continue;  // already past it
    cursor = std::max(cursor, read_to);
    // A page that keeps finding nothing ends early, with a marker after the keys read: the
    // client's next request goes on from there. A key that reads as a common prefix (it ends
    // with the delimiter) cannot be such a marker (it would skip the keys under it), so the
    // walk goes on past it.
    if (entries == entries_before && ++idle_calls >= kMaxIdleListCalls &&
        RollUp(read_to, prefix, delimiter) != read_to) {
      out.truncated = true;
      out.last = read_to;
      return out;
    }
  }
}

struct UploadListing {
  std::vector<UploadInfo> uploads;
  std::vector<std::string> prefixes;
  bool truncated = false;
  // The last upload or common prefix returned: the next markers (the upload id is empty after
  // a common prefix).
  std::string last_key;
  std::string last_upload_id;
};

// ListMultipartUploads' walk: the backend seeks past the markers and returns at most one more
// upload than asked; with a delimiter, uploads roll up as keys do in Walk, and after a roll-up
// the next call seeks past every key under it (`<common prefix>\xff`), asking
// kDelimiterPageKeys at a time.
Result<UploadListing> WalkUploads(const Call& c, const std::string& prefix,
                                  const std::string& delimiter, const std::string& key_marker,
                                  const std::string& id_marker, int64_t max_uploads) {
  UploadListing out;
  UploadQuery query{prefix, key_marker, key_marker.empty() ? std::string() : id_marker, 0};
  if (const auto up = RollUp(key_marker, prefix, delimiter); up.has_value() && *up == key_marker) {
    query.key_marker = key_marker + '\xff';
    query.upload_id_marker.clear();
  }
  int64_t entries = 0;
  std::string skip;
  while (true) {
    query.max_uploads = static_cast<size_t>(std::min(
        delimiter.empty() ? kMaxListEntries + 1 : kDelimiterPageKeys, max_uploads - entries + 1));
    SLUICE_ASSIGN_OR_RETURN(auto page,
                            c.backend.ListMultipartUploads(c.who, c.route.bucket, query));
    for (UploadInfo& u : page) {
      if (!skip.empty() && u.key.starts_with(skip)) continue;
      if (entries == max_uploads) {
        out.truncated = true;
        return out;
      }
      ++entries;
      if (auto up = RollUp(u.key, prefix, delimiter); up.has_value()) {
        out.last_key = *up;
        out.last_upload_id.clear();
        skip = *up;
        query.key_marker = *up + '\xff';
        query.upload_id_marker.clear();
        out.prefixes.push_back(std::move(*up));
        continue;
      }
      out.last_key = u.key;
      out.last_upload_id = u.upload_id;
      query.key_marker = u.key;
      query.upload_id_marker = u.upload_id;
      out.uploads.push_back(std::move(u));
    }
    // A page shorter than asked holds every upload after the markers: the end. A full one goes
    // on after its last upload, or past the last common prefix (then the rest of the page,
    // under it, was dropped).
    if (page.size() < query.max_uploads) return out;
  }
}

}  // namespace

Started ListObjects(const Call& c, bool v2) {
  const Status bucket = c.backend.CheckBucket(c.who, c.route.bucket);
  if (!bucket.ok()) return Reply(c, bucket);
  auto url = UrlEncoding(c.route);
  if (!url.ok()) return Reply(c, url.status());
  const auto enc = [&](const std::string& s) { return *url ? UrlEncode(s) : XmlEscape(s); };
  auto max_keys = IntParam(c.route, "max-keys", 0, INT64_MAX, kMaxListEntries);
  if (!max_keys.ok()) return Reply(c, max_keys.status());
  const int64_t limit = std::min(*max_keys, kMaxListEntries);
  const std::string prefix = c.route.ParamOrEmpty("prefix");
  const std::string delimiter = c.route.ParamOrEmpty("delimiter");
  std::string marker = v2 ? c.route.ParamOrEmpty("start-after") : c.route.ParamOrEmpty("marker");
  const std::string* token = v2 ? c.route.Param("continuation-token") : nullptr;
  // An empty token (`continuation-token=`, which some SDKs send for the first page) is none, as
  // S3 takes it; so are an empty start-after and marker (from the first key).
  if (token != nullptr && token->empty()) token = nullptr;
  if (token != nullptr) {
    auto decoded = auth::Base64Decode(*token);
    if (!decoded.ok()) {
      return Reply(
          c, Status(ErrorCode::kInvalidArgument, "the continuation token provided is incorrect"));
    }
    marker = std::max(marker, std::move(decoded).value());
  }
  auto listing = Walk(c, prefix, delimiter, marker, limit);
  if (!listing.ok()) return Reply(c, listing.status());

  std::string body = Opening("ListBucketResult");
  body += Element("Name", XmlEscape(c.route.bucket));
  body += Element("Prefix", enc(prefix));
  if (v2) {
    if (c.route.Param("start-after") != nullptr) {
      body += Element("StartAfter", enc(c.route.ParamOrEmpty("start-after")));
    }
    if (token != nullptr) body += Element("ContinuationToken", XmlEscape(*token));
    body +=
        Element("KeyCount", std::to_string(listing->contents.size() + listing->prefixes.size()));
  } else {
    body += Element("Marker", enc(c.route.ParamOrEmpty("marker")));
  }
  body += Element("MaxKeys", std::to_string(limit));
  // An empty delimiter (rclone sends `delimiter=`) means none and is not echoed.
  if (!delimiter.empty()) body += Element("Delimiter", enc(delimiter));
  if (*url) body += Element("EncodingType", "url");
  body += Element("IsTruncated", listing->truncated ? "true" : "false");
  if (listing->truncated) {
    if (v2) {
      body += Element("NextContinuationToken", auth::Base64Encode(listing->last));
    } else if (!delimiter.empty() || listing->contents.empty() ||
               listing->contents.back().key != listing->last) {
      // S3 sends NextMarker only with a delimiter. Without one, sluice sends it too when the
      // page ended past its last key (after hidden ones, see Walk): clients (boto3, the aws
      // CLI, rclone) take NextMarker before the last key.
      body += Element("NextMarker", enc(listing->last));
    }
  }
  const bool owner = !v2 || c.route.ParamOrEmpty("fetch-owner") == "true";
  for (const ObjectInfo& o : listing->contents) {
    body += "<Contents>";
    body += Element("Key", enc(o.key));
    body += Element("LastModified", FormatIsoMillis(o.last_modified));
    body += Element("ETag", "&quot;" + XmlEscape(o.etag) + "&quot;");
    body += Element("Size", std::to_string(o.size));
    if (owner) body += Owner(c.route.bucket);
    body += Element("StorageClass", "STANDARD");
    body += "</Contents>";
  }
  for (const std::string& p : listing->prefixes) {
    body += "<CommonPrefixes>" + Element("Prefix", enc(p)) + "</CommonPrefixes>";
  }
  body += "</ListBucketResult>";
  return Reply(c, XmlResponse(c.ctx, c.clock, 200, std::move(body)));
}

Started ListMultipartUploads(const Call& c) {
  const Status bucket = c.backend.CheckBucket(c.who, c.route.bucket);
  if (!bucket.ok()) return Reply(c, bucket);
  auto url = UrlEncoding(c.route);
  if (!url.ok()) return Reply(c, url.status());
  const auto enc = [&](const std::string& s) { return *url ? UrlEncode(s) : XmlEscape(s); };
  auto max_uploads = IntParam(c.route, "max-uploads", 0, INT64_MAX, kMaxListEntries);
  if (!max_uploads.ok()) return Reply(c, max_uploads.status());
  const int64_t limit = std::min(*max_uploads, kMaxListEntries);
  const std::string prefix = c.route.ParamOrEmpty("prefix");
  const std::string key_marker = c.route.ParamOrEmpty("key-marker");
  const std::string id_marker = c.route.ParamOrEmpty("upload-id-marker");
  const std::string delimiter = c.route.ParamOrEmpty("delimiter");
  auto listing = WalkUploads(c, prefix, delimiter, key_marker, id_marker, limit);
  if (!listing.ok()) return Reply(c, listing.status());
  const bool truncated = listing->truncated;
  std::vector<UploadInfo>& all = listing->uploads;

  std::string body = Opening("ListMultipartUploadsResult");
  body += Element("Bucket", XmlEscape(c.route.bucket));
  body += Element("KeyMarker", enc(key_marker));
  body += Element("UploadIdMarker", XmlEscape(id_marker));
  if (truncated && !listing->last_key.empty()) {
    body += Element("NextKeyMarker", enc(listing->last_key));
    body += Element("NextUploadIdMarker", XmlEscape(listing->last_upload_id));
  }
  if (c.route.Param("prefix") != nullptr) body += Element("Prefix", enc(prefix));
  if (!delimiter.empty()) body += Element("Delimiter", enc(delimiter));
  if (*url) body += Element("EncodingType", "url");
  body += Element("MaxUploads", std::to_string(limit));
  body += Element("IsTruncated", truncated ? "true" : "false");
  for (const UploadInfo& u : all) {
    body += "<Upload>";
    body += Element("Key", enc(u.key));
    body += Element("UploadId", XmlEscape(u.upload_id));
    body += "<Initiator><ID>" + XmlEscape(c.route.bucket) + "</ID><DisplayName>" +
            XmlEscape(c.route.bucket) + "</DisplayName></Initiator>";
    body += Owner(c.route.bucket);
    body += Element("StorageClass", "STANDARD");
    body += Element("Initiated", FormatIsoMillis(u.initiated));
    body += "</Upload>";
  }
  for (const std::string& p : listing->prefixes) {
    body += "<CommonPrefixes>" + Element("Prefix", enc(p)) + "</CommonPrefixes>";
  }
  body += "</ListMultipartUploadsResult>";
  return Reply(c, XmlResponse(c.ctx, c.clock, 200, std::move(body)));
}

Started ListParts(const Call& c) {
  const Status bucket = c.backend.CheckBucket(c.who, c.route.bucket);
  if (!bucket.ok()) return Reply(c, bucket);
  const std::string* upload_id = c.route.Param("uploadId");
  if (upload_id == nullptr || upload_id->empty()) {
    return Reply(c, Status(ErrorCode::kInvalidArgument, "uploadId must not be empty"));
  }
  auto max_parts = IntParam(c.route, "max-parts", 0, INT64_MAX, kMaxListEntries);
  if (!max_parts.ok()) return Reply(c, max_parts.status());
  auto marker = IntParam(c.route, "part-number-marker", 0, kMaxParts, 0);
  if (!marker.ok()) return Reply(c, marker.status());
  const int64_t limit = std::min(*max_parts, kMaxListEntries);
  auto parts =
      c.backend.ListParts(c.who, c.route.bucket, c.route.key, *upload_id,
                          PartQuery{static_cast<int>(*marker), static_cast<size_t>(limit) + 1});
  if (!parts.ok()) return Reply(c, parts.status());
  std::vector<PartInfo>& all = *parts;
  const bool truncated = all.size() > static_cast<size_t>(limit);
  if (truncated) all.resize(static_cast<size_t>(limit));

  std::string body = Opening("ListPartsResult");
  body += Element("Bucket", XmlEscape(c.route.bucket));
  body += Element("Key", XmlEscape(c.route.key));
  body += Element("UploadId", XmlEscape(*upload_id));
  body += "<Initiator><ID>" + XmlEscape(c.route.bucket) + "</ID><DisplayName>" +
          XmlEscape(c.route.bucket) + "</DisplayName></Initiator>";
  body += Owner(c.route.bucket);
  body += Element("StorageClass", "STANDARD");
  body += Element("PartNumberMarker", std::to_string(*marker));
  if (!all.empty()) {
    body += Element("NextPartNumberMarker", std::to_string(all.back().part_number));
  }
  body += Element("MaxParts", std::to_string(limit));
  body += Element("IsTruncated", truncated ? "true" : "false");
  for (const PartInfo& p : all) {
    body += "<Part>";
    body += Element("PartNumber", std::to_string(p.part_number));
    body += Element("LastModified", FormatIsoMillis(p.last_modified));
    body += Element("ETag", "&quot;" + XmlEscape(p.etag) + "&quot;");
    body += Element("Size", std::to_string(p.size));
    if (!p.checksum.algorithm.empty()) {
      body += Element("Checksum" + ChecksumAlgorithmName(p.checksum.algorithm),
                      XmlEscape(p.checksum.value));
    }
    body += "</Part>";
  }
  body += "</ListPartsResult>";
  return Reply(c, XmlResponse(c.ctx, c.clock, 200, std::move(body)));
}

}  // namespace sluice::s3
