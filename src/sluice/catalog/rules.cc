// The engine-independent rules of the catalog (rules_internal.h).
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "sluice/catalog/names_internal.h"
#include "sluice/catalog/rules_internal.h"

namespace sluice::catalog {
namespace {

// Operator input, but bounded anyway: a composite key wider than this is a mistake.
constexpr size_t kMaxPrimaryKeyColumns = 32;
// Access keys are 18 random characters from 36; a collision is astronomically unlikely, but
// the loop is cheap insurance against handing out a key twice.
constexpr int kAccessKeyAttempts = 4;

std::string StatusList(std::span<const FileStatus> statuses) {
  std::string out;
  for (FileStatus s : statuses) {
    if (!out.empty()) out += " or ";
    out += FileStatusName(s);
  }
  return out;
}

}  // namespace

std::string_view PolicyName(UnconfiguredPolicy p) {
  switch (p) {
    case UnconfiguredPolicy::kHold:
      return "hold";
    case UnconfiguredPolicy::kRefuse:
      return "refuse";
    case UnconfiguredPolicy::kStore:
      return "store";
  }
  return "hold";
}

Result<UnconfiguredPolicy> PolicyFromName(const std::string& s) {
  if (s == "hold") return UnconfiguredPolicy::kHold;
  if (s == "refuse") return UnconfiguredPolicy::kRefuse;
  if (s == "store") return UnconfiguredPolicy::kStore;
  return Err(ErrorCode::kInternal, "catalog: unknown unconfigured-table policy '" + s + "'");
}

std::string_view OnErrorName(OnError e) { return e == OnError::kSkip ? "skip" : "block"; }

Result<OnError> OnErrorFromName(const std::string& s) {
  if (s == "block") return OnError::kBlock;
  if (s == "skip") return OnError::kSkip;
  return Err(ErrorCode::kInternal, "catalog: unknown on_error value '" + s + "'");
}

std::string PrimaryKeyToJson(const std::vector<std::string>& columns) {
  return nlohmann::json(columns).dump();
}

Result<std::vector<std::string>> PrimaryKeyFromJson(const std::string& text,
                                                    const std::string& table) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> out;
  if (j.is_array()) {
    for (const auto& item : j) {
      if (!item.is_string()) break;
      out.push_back(item.get<std::string>());
    }
    if (out.size() == j.size()) return out;
  }
  return Err(ErrorCode::kInternal,
             "catalog: the stored primary key of table " + table + " is not a JSON string array");
}

bool IsHiddenKey(std::string_view key) {
  // The first segment names the table (table names may start with '_'), unless it is the
  // whole key: a `_SUCCESS` or `.keep` at the bucket's root is hidden too.
  const size_t first = key.find('/');
  if (first == std::string_view::npos) return key.starts_with('_') || key.starts_with('.');
  for (size_t at = first; at != std::string_view::npos; at = key.find('/', at + 1)) {
    if (at + 1 < key.size() && (key[at + 1] == '_' || key[at + 1] == '.')) return true;
  }
  return false;
}

std::string_view FileStatusName(FileStatus status) {
  switch (status) {
    case FileStatus::kQueued:
      return "queued";
    case FileStatus::kLoading:
      return "loading";
    case FileStatus::kLoaded:
      return "loaded";
    case FileStatus::kFailed:
      return "failed";
    case FileStatus::kSkipped:
      return "skipped";
  }
  return "unknown";
}

Result<FileStatus> FileStatusFromName(const std::string& s) {
  for (FileStatus st : {FileStatus::kQueued, FileStatus::kLoading, FileStatus::kLoaded,
                        FileStatus::kFailed, FileStatus::kSkipped}) {
    if (FileStatusName(st) == s) return st;
  }
  return Err(ErrorCode::kInternal, "catalog: unknown file status '" + s + "'");
}

Status ValidateFileRecord(const FileRecord& r) {
  if (r.connection_id.empty() || r.key.empty() || r.landed_id.empty()) {
    return Err(ErrorCode::kInvalidArgument,
               "catalog: a ledger entry needs a connection, a key and a landed object id");
  }
  if (r.size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Err(ErrorCode::kInvalidArgument,
               "catalog: file size " + std::to_string(r.size) + " of " + r.key + " is too large");
  }
  return Status::Ok();
}

Status ValidateTableFields(const TableConfig& table) {
  SLUICE_RETURN_IF_ERROR(ValidateTableName(table.name));
  if (table.primary_key.empty()) {
    return Err(ErrorCode::kInvalidArgument,
               "table " + table.name + ": at least one primary-key column is required");
  }
  if (table.primary_key.size() > kMaxPrimaryKeyColumns) {
    return Err(ErrorCode::kInvalidArgument,
               "table " + table.name + ": " + std::to_string(table.primary_key.size()) +
                   " primary-key columns; at most " + std::to_string(kMaxPrimaryKeyColumns));
  }
  std::set<std::string> seen;
  for (const std::string& column : table.primary_key) {
    if (column.empty()) {
      return Err(ErrorCode::kInvalidArgument,
                 "table " + table.name + ": a primary-key column name is empty");
    }
    if (!seen.insert(column).second) {
      return Err(ErrorCode::kInvalidArgument,
                 "table " + table.name + ": primary-key column '" + column + "' is listed twice");
    }
  }
  if (!table.delete_column.empty()) {
    // A key column cannot say "delete me", and the age column orders deletes.
    if (seen.count(table.delete_column) != 0) {
      return Err(ErrorCode::kInvalidArgument, "table " + table.name + ": delete column '" +
                                                  table.delete_column +
                                                  "' is a primary-key column");
    }
    if (table.delete_column == table.age_column) {
      return Err(ErrorCode::kInvalidArgument, "table " + table.name + ": delete column '" +
                                                  table.delete_column + "' is also the age column");
    }
  }
  if (!table.nested_json.empty()) {
    // The shape module owns the format; the catalog keeps garbage out.
    const nlohmann::json j =
        nlohmann::json::parse(table.nested_json, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
      return Err(ErrorCode::kInvalidArgument,
                 "table " + table.name + ": the nested configuration is not a JSON object");
    }
  }
  return Status::Ok();
}

Status CheckKeyExpiry(int64_t expires_at, int64_t now) {
  if (expires_at != 0 && expires_at <= now) {
    return Err(ErrorCode::kInvalidArgument, "the expiry " + FormatIsoMicros(expires_at) +
                                                " is not in the future (now " +
                                                FormatIsoMicros(now) + ")");
  }
  return Status::Ok();
}

Status ValidateUpload(const UploadRecord& u) {
  if (u.upload_id.empty() || u.connection_id.empty() || u.key.empty()) {
    return Err(ErrorCode::kInvalidArgument,
               "catalog: an upload needs an id, a connection and a key");
  }
  if (u.status != FileStatus::kQueued && u.status != FileStatus::kFailed &&
      u.status != FileStatus::kSkipped) {
    return Err(ErrorCode::kInvalidArgument,
               "catalog: an upload completes queued, failed or "
               "skipped, not " +
                   std::string(FileStatusName(u.status)));
  }
  return Status::Ok();
}

std::optional<std::string> PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

std::span<const FileStatus> OperatorStatuses(LoaderState loader, bool forced) {
  using S = FileStatus;
  static constexpr S kFailed[] = {S::kFailed};
  static constexpr S kForced[] = {S::kFailed, S::kSkipped};
  static constexpr S kStoppedFailed[] = {S::kFailed, S::kLoading};
  static constexpr S kStoppedForced[] = {S::kFailed, S::kSkipped, S::kLoading};
  if (loader == LoaderState::kStopped) {
    return forced ? std::span<const S>(kStoppedForced) : std::span<const S>(kStoppedFailed);
  }
  return forced ? std::span<const S>(kForced) : std::span<const S>(kFailed);
}

Status CheckStatus(int64_t seq, FileStatus status, std::span<const FileStatus> allowed,
                   std::string_view action) {
  for (FileStatus s : allowed) {
    if (s == status) return Status::Ok();
  }
  return Err(ErrorCode::kInvalidArgument,
             "file " + std::to_string(seq) + " is " + std::string(FileStatusName(status)) +
                 ": only a " + StatusList(allowed) + " file can be " + std::string(action));
}

Status NoConnection(const std::string& id) {
  return Err(ErrorCode::kNotFound, "no connection '" + id + "'");
}

Status NoFile(int64_t seq) {
  return Err(ErrorCode::kNotFound, "no file with sequence " + std::to_string(seq));
}

Status NoSuchUpload(const std::string& upload_id) {
  return Err(ErrorCode::kNoSuchUpload,
             "The specified upload does not exist. The upload ID may be invalid, or the upload "
             "may have been aborted, completed or expired: " +
                 upload_id);
}

Status ConnectionExistsError(const std::string& id) {
  return Err(ErrorCode::kAlreadyExists, "connection '" + id + "' already exists");
}

Status TableExistsError(const TableConfig& table) {
  return Err(ErrorCode::kAlreadyExists,
             "table " + table.name + " already exists in connection " + table.connection_id);
}

Status NoTable(const TableConfig& table) {
  return Err(ErrorCode::kNotFound,
             "no table " + table.name + " in connection " + table.connection_id);
}

Status TableBusy(const std::string& table, int64_t files) {
  return Err(ErrorCode::kInvalidArgument,
             "table " + table + " has " + std::to_string(files) +
                 " file(s) queued or loading; wait until they are loaded before removing it");
}

Status InvalidBucketName(const std::string& bucket) {
  return Err(ErrorCode::kInvalidArgument,
             "bucket name '" + bucket +
                 "' is not a valid connection id: use 3 to 63 characters from a-z, 0-9 and "
                 "'-', starting and ending with a letter or digit");
}

Status NotOkFailure(int64_t seq) {
  return Err(ErrorCode::kInvalidArgument,
             "file " + std::to_string(seq) + " cannot be marked failed with an OK status");
}

Status PurgedError(int64_t seq, const std::string& key, int64_t purged_at,
                   std::string_view action) {
  return Err(ErrorCode::kInvalidArgument,
             "file " + std::to_string(seq) + " (" + key + ") cannot be " + std::string(action) +
                 ": retention removed its bytes at " + FormatIsoMicros(purged_at) +
                 ", so there is nothing left to load; push the file again to load it");
}

Status TooManyActiveKeys(const std::string& connection_id, const std::vector<std::string>& active) {
  std::string keys;
  for (const std::string& k : active) keys += (keys.empty() ? "" : ", ") + k;
  return Err(ErrorCode::kLimitExceeded,
             "connection '" + connection_id + "' already has " + std::to_string(active.size()) +
                 " active keys (" + keys +
                 "), the most a rotation allows; revoke the old one first (sluice "
                 "credentials revoke " +
                 active.front() + ")");
}

Status AlreadyRevoked(const AccessKeyId& key, int64_t revoked_at) {
  return Err(ErrorCode::kInvalidArgument,
             "access key " + key.str() + " was already revoked at " + FormatIsoMicros(revoked_at));
}

Status AccountKeyRotation() {
  return Err(ErrorCode::kInvalidArgument,
             "rotation is per connection; an account key is created with `credentials create "
             "--account`");
}

Status NoAccessKey(const AccessKeyId& key) {
  return Err(ErrorCode::kNotFound, "no access key " + key.str());
}

Status BucketNotEmpty(const std::string& id, std::string_view why) {
  return Err(
      ErrorCode::kBucketNotEmpty,
      "The bucket you tried to delete is not empty: connection '" + id + "': " + std::string(why));
}

std::string InUseSql(const InUseCheck& check, std::string_view placeholder) {
  std::string sql = "SELECT 1 FROM " + std::string(check.table) +
                    " WHERE connection_id = " + std::string(placeholder);
  if (!check.where.empty()) sql += " AND " + std::string(check.where);
  return sql + " LIMIT 1";
}

Status CheckQuotaBytes(std::optional<uint64_t> bytes) {
  if (bytes && *bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Err(ErrorCode::kInvalidArgument, "catalog: a quota of " + std::to_string(*bytes) +
                                                " bytes is larger than the catalog can store");
  }
  return Status::Ok();
}

Status CheckPartSize(const PartRecord& part) {
  if (part.size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Err(ErrorCode::kInvalidArgument, "catalog: part size is too large");
  }
  return Status::Ok();
}

Result<NewKey> DrawKey(const SecretBox& box,
                       const std::function<Result<bool>(const std::string&)>& taken) {
  NewKey key;
  for (int attempt = 0; attempt < kAccessKeyAttempts && key.access_key.empty(); ++attempt) {
    SLUICE_ASSIGN_OR_RETURN(std::string candidate, NewAccessKey());
    SLUICE_ASSIGN_OR_RETURN(bool in_use, taken(candidate));
    if (!in_use) key.access_key = std::move(candidate);
  }
  if (key.access_key.empty()) {
    return Err(ErrorCode::kInternal, "catalog: could not draw an unused access key");
  }
  SLUICE_ASSIGN_OR_RETURN(key.secret, NewSecret());
  SLUICE_ASSIGN_OR_RETURN(key.sealed, box.Seal(key.secret, key.access_key));
  return key;
}

std::optional<FileRecord> IfVisible(std::optional<FileRecord> newest) {
  // Deleting marks every file of the key, so the newest file is visible exactly when it is not
  // deleted (and retention has not purged it).
  if (newest && (newest->deleted || newest->purged_at != 0)) return std::nullopt;
  return newest;
}

Status CheckWriteCondition(const WriteCondition& condition, const std::string& key,
                           std::optional<FileRecord> previous) {
  const std::optional<FileRecord> visible = IfVisible(std::move(previous));
  if (condition.if_none_match && visible) {
    return Err(ErrorCode::kPreconditionFailed,
               "At least one of the pre-conditions you specified did not hold: key '" + key +
                   "' already exists (If-None-Match: *)");
  }
  if (!condition.if_match.empty()) {
    if (!visible) return Err(ErrorCode::kNoSuchKey, "The specified key does not exist: " + key);
    const std::string etag = visible->etag.empty() ? visible->md5_hex : visible->etag;
    if (condition.if_match != "*" && condition.if_match != etag) {
      return Err(ErrorCode::kPreconditionFailed,
                 "At least one of the pre-conditions you specified did not hold: the ETag of '" +
                     key + "' is not the one given in If-Match");
    }
  }
  return Status::Ok();
}

KeyState KeyStateAt(int64_t revoked_at, int64_t expires_at, int64_t now) {
  return revoked_at != 0                        ? KeyState::kRevoked
         : expires_at != 0 && expires_at <= now ? KeyState::kExpired
                                                : KeyState::kActive;
}

}  // namespace sluice::catalog
