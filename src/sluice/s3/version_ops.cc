// ListObjectVersions, GetBucketVersioning and PutBucketVersioning. Versioning is how sluice
// works, not a setting: every pushed file of a key is a version of it (the backend names
// them), so GetBucketVersioning answers Enabled, and PutBucketVersioning takes Enabled as a
// no-op and refuses to suspend it or to turn on MFA delete.
//
// ListObjectVersions pages as ListObjects does (list_ops.cc): the backend returns entries in
// S3's order after a (key, version id) position; roll-ups, markers and the page bound are
// computed here. A position is the last entry returned, or a common prefix with no version id
// (the walk then goes on after `<common prefix>\xff`). Bounded work as in list_ops.cc: each
// backend call asks at most 1,001 entries (64 with a delimiter), and kMaxIdleListCalls calls in
// a row that return nothing end the page early with the markers the backend read up to.

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sluice/s3/multipart_xml_internal.h"
#include "sluice/s3/ops_internal.h"
#include "sluice/s3/payload_internal.h"
#include "sluice/s3/put_object_internal.h"

namespace sluice::s3 {
namespace {

struct VersionListing {
  std::vector<VersionEntry> entries;
  std::vector<std::string> prefixes;
  bool truncated = false;
  // The last entry or common prefix returned: the next markers (no version id after a common
  // prefix).
  std::string last_key;
  std::string last_version_id;
};

Result<VersionListing> WalkVersions(const Call& c, const std::string& prefix,
                                    const std::string& delimiter, const std::string& key_marker,
                                    const std::string& version_marker, int64_t max_entries) {
  VersionListing out;
  if (max_entries == 0) return out;
  VersionQuery query{prefix, key_marker, version_marker, 0};
  if (const auto up = RollUp(key_marker, prefix, delimiter); up.has_value() && *up == key_marker) {
    query.key_marker = key_marker + '\xff';
    query.version_id_marker.clear();
  }
  int64_t entries = 0;
  int idle_calls = 0;
  std::string skip;  // the common prefix being skipped
  while (true) {
    query.max_entries = static_cast<size_t>(std::min(
        delimiter.empty() ? kMaxListEntries : kDelimiterPageKeys, max_entries - entries + 1));
    SLUICE_ASSIGN_OR_RETURN(VersionPage page,
                            c.backend.ListObjectVersions(c.who, c.route.bucket, query));
    const int64_t entries_before = entries;
    for (VersionEntry& e : page.entries) {
      if (!skip.empty() && e.info.key.starts_with(skip)) continue;
      if (entries == max_entries) {
        out.truncated = true;
        return out;
      }
      ++entries;
      if (auto up = RollUp(e.info.key, prefix, delimiter); up.has_value()) {
        out.last_key = *up;
        out.last_version_id.clear();
        query.key_marker = *up + '\xff';
        query.version_id_marker.clear();
        skip = *up;
        out.prefixes.push_back(std::move(*up));
        continue;
      }
      out.last_key = e.info.key;
      out.last_version_id = e.info.version_id;
      query.key_marker = e.info.key;
      query.version_id_marker = e.info.version_id;
      out.entries.push_back(std::move(e));
    }
    if (!page.truncated) return out;
    if (page.next_key_marker.empty()) {
      return Status(ErrorCode::kInternal, "the backend reported more versions but no marker");
    }
    // The backend stopped at or after the last entry it returned; under the common prefix
    // being skipped, the walk is past it already.
    if (skip.empty() || !page.next_key_marker.starts_with(skip)) {
      query.key_marker = page.next_key_marker;
      query.version_id_marker = page.next_version_id_marker;
    }
    // A page that keeps finding nothing ends early, with markers after what was read. A key
    // that reads as a common prefix cannot be such a marker (it would skip the keys under it).
    if (entries == entries_before && ++idle_calls >= kMaxIdleListCalls &&
        RollUp(page.next_key_marker, prefix, delimiter) != page.next_key_marker) {
      out.truncated = true;
      out.last_key = page.next_key_marker;
      out.last_version_id = page.next_version_id_marker;
      return out;
    }
  }
}

std::string VersionXml(const VersionEntry& e, const std::string& owner,
                       const std::function<std::string(const std::string&)>& enc) {
  const ObjectInfo& o = e.info;
  std::string out = e.delete_marker ? "<DeleteMarker>" : "<Version>";
  out += Element("Key", enc(o.key));
  out += Element("VersionId", XmlEscape(o.version_id));
  out += Element("IsLatest", e.is_latest ? "true" : "false");
  out += Element("LastModified", FormatIsoMillis(o.last_modified));
  if (e.delete_marker) return out + owner + "</DeleteMarker>";
  out += Element("ETag", "&quot;" + XmlEscape(o.etag) + "&quot;");
  out += Element("Size", std::to_string(o.size));
  out += Element("StorageClass", "STANDARD");
  return out + owner + "</Version>";
}

}  // namespace

Started ListObjectVersions(const Call& c) {
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
  const std::string key_marker = c.route.ParamOrEmpty("key-marker");
  const std::string version_marker = c.route.ParamOrEmpty("version-id-marker");
  if (key_marker.empty() && !version_marker.empty()) {
    return Reply(c, Status(ErrorCode::kInvalidArgument,
                           "A version-id marker cannot be specified without a key marker."));
  }
  auto listing = WalkVersions(c, prefix, delimiter, key_marker, version_marker, limit);
  if (!listing.ok()) return Reply(c, listing.status());

  std::string body = Opening("ListVersionsResult");
  body += Element("Name", XmlEscape(c.route.bucket));
  body += Element("Prefix", enc(prefix));
  body += Element("KeyMarker", enc(key_marker));
  body += Element("VersionIdMarker", XmlEscape(version_marker));
  if (listing->truncated) {
    body += Element("NextKeyMarker", enc(listing->last_key));
    if (!listing->last_version_id.empty()) {
      body += Element("NextVersionIdMarker", XmlEscape(listing->last_version_id));
    }
  }
  body += Element("MaxKeys", std::to_string(limit));
  if (!delimiter.empty()) body += Element("Delimiter", enc(delimiter));
  if (*url) body += Element("EncodingType", "url");
  body += Element("IsTruncated", listing->truncated ? "true" : "false");
  const std::string owner = Owner(c.route.bucket);
  for (const VersionEntry& e : listing->entries) body += VersionXml(e, owner, enc);
  for (const std::string& p : listing->prefixes) {
    body += "<CommonPrefixes>" + Element("Prefix", enc(p)) + "</CommonPrefixes>";
  }
  body += "</ListVersionsResult>";
  return Reply(c, XmlResponse(c.ctx, c.clock, 200, std::move(body)));
}

Started GetBucketVersioning(const Call& c) {
  const Status bucket = c.backend.CheckBucket(c.who, c.route.bucket);
  if (!bucket.ok()) return Reply(c, bucket);
  std::string body = Opening("VersioningConfiguration");
  body += Element("Status", "Enabled");
  body += "</VersioningConfiguration>";
  return Reply(c, XmlResponse(c.ctx, c.clock, 200, std::move(body)));
}

Started PutBucketVersioning(const Call& c) {
  const Status bucket = c.backend.CheckBucket(c.who, c.route.bucket);
  if (!bucket.ok()) return Reply(c, bucket);
  const Status no_mfa(ErrorCode::kNotImplemented,
                      "MFA delete is not implemented by sluice: versions are deleted with the "
                      "bucket's own keys");
  if (FindHeader(c.head.headers, "x-amz-mfa") != nullptr) return Reply(c, no_mfa);
  auto plan = PlanPayload(c.head, c.auth, c.secret, kMaxVersioningXmlBytes);
  if (!plan.ok()) return Reply(c, plan.status());
  ResponseContext ctx = BodyContext(c);
  const Clock& clock = c.clock;
  return Continue(MakeBufferedExchange(
      ctx, clock, std::move(plan).value(), [ctx, &clock, no_mfa](const std::string& body) {
        auto config = ParseVersioningConfiguration(body);
        if (!config.ok()) return ErrorResponse(ctx, clock, config.status());
        if (!config->status.empty() && config->status != "Enabled" &&
            config->status != "Suspended") {
          return ErrorResponse(ctx, clock,
                               Status(ErrorCode::kMalformedXml,
                                      "the versioning Status must be Enabled or Suspended, not '" +
                                          config->status + "'"));
        }
        if (!config->mfa_delete.empty() && config->mfa_delete != "Enabled" &&
            config->mfa_delete != "Disabled") {
          return ErrorResponse(
              ctx, clock,
              Status(ErrorCode::kMalformedXml,
                     "MfaDelete must be Enabled or Disabled, not '" + config->mfa_delete + "'"));
        }
        if (config->mfa_delete == "Enabled") return ErrorResponse(ctx, clock, no_mfa);
        if (config->status == "Suspended") {
          return ErrorResponse(
              ctx, clock,
              Status(ErrorCode::kInvalidBucketState,
                     "versioning cannot be suspended: sluice keeps every pushed file of a key as "
                     "a version of it (the ledger's history), so versioning is always Enabled"));
        }
        return BaseResponse(ctx, clock, 200);  // Enabled already
      }));
}

}  // namespace sluice::s3
