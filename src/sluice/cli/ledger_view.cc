#include "sluice/cli/ledger_view_internal.h"

namespace sluice::cli {
namespace {

std::optional<std::string> NonEmpty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

nlohmann::ordered_json Time(int64_t micros) {
  return micros == 0 ? nlohmann::ordered_json(nullptr)
                     : nlohmann::ordered_json(FormatIsoMicros(micros));
}

nlohmann::ordered_json Text(const std::string& s) {
  return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s);
}

// A JSON object stored as text; an unreadable one is kept as its text.
nlohmann::ordered_json Object(const std::string& text) {
  auto parsed = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return text;
  return parsed;
}

}  // namespace

Table FilesTable(const std::vector<catalog::FileRecord>& files) {
  Table t{{"seq", "table", "key", "size", "status", "inserted", "updated", "deleted", "refused",
           "error_code", "error_message", "duplicate_of", "received_at"},
          {}};
  for (const auto& f : files) {
    t.rows.push_back(
        {std::to_string(f.seq), f.table, f.key, std::to_string(f.size),
         std::string(catalog::FileStatusName(f.status)), std::to_string(f.rows_inserted),
         std::to_string(f.rows_updated), std::to_string(f.rows_deleted),
         std::to_string(f.rows_refused), NonEmpty(f.error_code), NonEmpty(f.error_message),
         f.duplicate_of == 0 ? std::nullopt : std::optional(std::to_string(f.duplicate_of)),
         FormatIsoMicros(f.received_at)});
  }
  return t;
}

nlohmann::ordered_json FileJson(const catalog::FileRecord& f) {
  nlohmann::ordered_json j;
  j["seq"] = f.seq;
  j["connection"] = f.connection_id;
  j["table"] = f.table;
  j["key"] = f.key;
  j["size"] = f.size;
  j["md5"] = Text(f.md5_hex);
  j["sha256"] = Text(f.sha256_hex);
  j["etag"] = f.etag.empty() ? f.md5_hex : f.etag;
  j["checksums"] = Object(f.checksums_json);
  j["content_type"] = Text(f.content_type);
  j["metadata"] = Object(f.metadata_json.empty() ? "{}" : f.metadata_json);
  j["status"] = std::string(catalog::FileStatusName(f.status));
  j["received_at"] = Time(f.received_at);
  j["started_at"] = Time(f.started_at);
  j["finished_at"] = Time(f.finished_at);
  j["rows_inserted"] = f.rows_inserted;
  j["rows_updated"] = f.rows_updated;
  j["rows_deleted"] = f.rows_deleted;
  j["rows_refused"] = f.rows_refused;
  j["error_code"] = Text(f.error_code);
  j["error_message"] = Text(f.error_message);
  j["duplicate_of"] = f.duplicate_of == 0 ? nlohmann::ordered_json(nullptr)
                                          : nlohmann::ordered_json(f.duplicate_of);
  j["passed"] = f.passed;
  j["forced"] = f.forced;
  j["load_attempts"] = f.load_attempts;
  j["deleted"] = f.deleted;
  j["purged_at"] = Time(f.purged_at);
  return j;
}

std::string FileText(const catalog::FileRecord& f) {
  const nlohmann::ordered_json j = FileJson(f);
  size_t width = 0;
  for (const auto& [name, value] : j.items()) width = std::max(width, name.size());
  std::string out;
  for (const auto& [name, value] : j.items()) {
    std::string text;
    if (value.is_null()) {
      text = "-";
    } else if (value.is_string()) {
      text = value.get<std::string>();
    } else {
      text = value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    }
    out += name + ":" + std::string(width + 2 - name.size(), ' ') + text + "\n";
  }
  return out;
}

}  // namespace sluice::cli
