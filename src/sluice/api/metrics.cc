#include "sluice/api/metrics.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <tuple>
#include <vector>

#include "sluice/core/mutex.h"

namespace sluice::api {
namespace {

std::string TableLabels(const catalog::TableKey& t) {
  return "connection=\"" + PromEscape(t.connection_id) + "\",table=\"" + PromEscape(t.table) + "\"";
}

void Header(std::string* out, std::string_view name, std::string_view type, std::string_view help) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

// Shortest round-tripping form, as Prometheus clients print floats.
std::string Number(double v) {
  constexpr double kExactIntegers = 1e15;
  if (v == static_cast<double>(static_cast<int64_t>(v)) && v < kExactIntegers &&
      v > -kExactIntegers) {
    return std::to_string(static_cast<int64_t>(v));
  }
  char buf[32];
  double back = 0;
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    std::sscanf(buf, "%lf", &back);
    if (back == v) break;
  }
  return buf;
}

}  // namespace

std::string PromEscape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Metrics::OnFileFinished(const load::LoadEvent& event) {
  MutexLock lock(&mu_);
  if (event.status == catalog::FileStatus::kLoaded) {
    const double seconds = static_cast<double>(event.duration_micros) / 1e6;
    ++loads_;
    load_seconds_ += seconds;
    for (size_t i = 0; i < kLoadDurationBuckets.size(); ++i) {
      if (seconds <= kLoadDurationBuckets[i]) {
        ++buckets_[i];
        break;
      }
    }
  }
  ++finished_[{event.table, event.status, event.error_code}];
  Rows& r = rows_[event.table];
  r.inserted += event.counts.inserted;
  r.updated += event.counts.updated;
  r.deleted += event.counts.deleted;
  r.refused += event.counts.refused;
}

void Metrics::OnReceived(const std::string& connection, uint64_t bytes) {
  MutexLock lock(&mu_);
  Received& r = received_[connection];
  r.bytes += bytes;
  ++r.files;
}

void Metrics::OnRefused(const std::string& connection, std::string_view limit) {
  MutexLock lock(&mu_);
  ++refused_[{connection, std::string(limit)}];
}

Result<std::string> Metrics::Render(catalog::Catalog& catalog, int64_t now_micros) {
  // The label vocabulary: configured connections and tables (a handful of small queries).
  std::set<std::string> connections;
  std::set<catalog::TableKey> tables;
  SLUICE_ASSIGN_OR_RETURN(auto conns, catalog.ListConnections());
  for (const auto& c : conns) {
    connections.insert(c.id);
    SLUICE_ASSIGN_OR_RETURN(auto configured, catalog.ListTables(c.id));
    for (const auto& t : configured) tables.insert({t.connection_id, t.name});
  }
  SLUICE_ASSIGN_OR_RETURN(auto backlog, catalog.BacklogByTable());
  SLUICE_ASSIGN_OR_RETURN(auto pending, catalog.CountPending());
  // Files under a prefix that names no configured table, per connection, status and code.
  std::map<std::tuple<std::string, catalog::FileStatus, std::string>, int64_t> unconfigured;
  for (const auto& c : pending) {
    if (!tables.count(c.table) && connections.count(c.table.connection_id)) {
      unconfigured[{c.table.connection_id, c.status, c.error_code}] += c.files;
    }
  }

  std::string out;
  Header(&out, "sluice_backlog_files", "gauge", "Files queued or loading, per table.");
  for (const auto& b : backlog) {
    if (!tables.count(b.table)) continue;
    out += "sluice_backlog_files{" + TableLabels(b.table) + "} " + std::to_string(b.files) + "\n";
  }
  Header(&out, "sluice_backlog_bytes", "gauge", "Bytes of the files queued or loading, per table.");
  for (const auto& b : backlog) {
    if (!tables.count(b.table)) continue;
    out += "sluice_backlog_bytes{" + TableLabels(b.table) + "} " + std::to_string(b.bytes) + "\n";
  }
  Header(&out, "sluice_oldest_queued_age_seconds", "gauge",
         "Seconds since the oldest queued file of the table was received.");
  for (const auto& b : backlog) {
    if (b.oldest_queued_at == 0 || !tables.count(b.table)) continue;
    const double age =
        static_cast<double>(std::max<int64_t>(0, now_micros - b.oldest_queued_at)) / 1e6;
    out += "sluice_oldest_queued_age_seconds{" + TableLabels(b.table) + "} " + Number(age) + "\n";
  }
  Header(&out, "sluice_files", "gauge",
         "Files that need attention (queued, loading, failed and not moved past) by table, "
         "status and error code (empty when none).");
  for (const auto& c : pending) {
    if (!tables.count(c.table)) continue;
    out += "sluice_files{" + TableLabels(c.table) + ",status=\"" +
           std::string(catalog::FileStatusName(c.status)) + "\",error_code=\"" +
           PromEscape(c.error_code) + "\"} " + std::to_string(c.files) + "\n";
  }
  Header(&out, "sluice_unconfigured_files", "gauge",
         "Files that need attention under a key prefix that names no configured table (held: "
         "TABLE_NOT_CONFIGURED), per connection, status and error code.");
  for (const auto& [key, n] : unconfigured) {
    const auto& [conn, status, code] = key;
    out += "sluice_unconfigured_files{connection=\"" + PromEscape(conn) + "\",status=\"" +
           std::string(catalog::FileStatusName(status)) + "\",error_code=\"" + PromEscape(code) +
           "\"} " + std::to_string(n) + "\n";
  }

  if (quota_ != nullptr) {
    SLUICE_ASSIGN_OR_RETURN(auto connections, catalog.ListConnections());
    Header(&out, "sluice_connection_disk_bytes", "gauge",
           "Bytes a connection keeps in the data directory (landed files not yet purged, "
           "multipart parts, uploads in flight): what its disk quota counts.");
    for (const auto& [conn, bytes] : quota_->Usage()) {
      out += "sluice_connection_disk_bytes{connection=\"" + PromEscape(conn) + "\"} " +
             std::to_string(bytes) + "\n";
    }
    Header(&out, "sluice_connection_disk_quota_bytes", "gauge",
           "A connection's disk quota (connections without one are left out).");
    for (const auto& c : connections) {
      const uint64_t q = quota_->QuotaOf(c);
      if (q == 0) continue;
      out += "sluice_connection_disk_quota_bytes{connection=\"" + PromEscape(c.id) + "\"} " +
             std::to_string(q) + "\n";
    }
  }

  MutexLock lock(&mu_);
  Header(&out, "sluice_load_duration_seconds", "histogram",
         "Time from the start of a file's load to its outcome.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kLoadDurationBuckets.size(); ++i) {
    cumulative += buckets_[i];
    out += "sluice_load_duration_seconds_bucket{le=\"" + Number(kLoadDurationBuckets[i]) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  out += "sluice_load_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(loads_) + "\n";
  out += "sluice_load_duration_seconds_sum " + Number(load_seconds_) + "\n";
  out += "sluice_load_duration_seconds_count " + std::to_string(loads_) + "\n";
  Header(&out, "sluice_files_finished_total", "counter",
         "Files whose load ended since the server started, by table, status and error code.");
  for (const auto& [key, n] : finished_) {
    const auto& [table, status, code] = key;
    if (!tables.count(table)) continue;
    out += "sluice_files_finished_total{" + TableLabels(table) + ",status=\"" +
           std::string(catalog::FileStatusName(status)) + "\",error_code=\"" + PromEscape(code) +
           "\"} " + std::to_string(n) + "\n";
  }
  Header(&out, "sluice_rows_total", "counter",
         "Rows applied by loads since the server started, by outcome.");
  for (const auto& [table, r] : rows_) {
    if (!tables.count(table)) continue;
    const std::string labels = TableLabels(table);
    const std::pair<const char*, int64_t> outcomes[] = {{"inserted", r.inserted},
                                                        {"updated", r.updated},
                                                        {"deleted", r.deleted},
                                                        {"refused", r.refused}};
    for (const auto& [outcome, n] : outcomes) {
      out += "sluice_rows_total{" + labels + ",outcome=\"" + outcome + "\"} " + std::to_string(n) +
             "\n";
    }
  }
  Header(&out, "sluice_received_bytes_total", "counter",
         "Bytes of files accepted through S3 since the server started.");
  for (const auto& [conn, r] : received_) {
    if (!connections.count(conn)) continue;
    out += "sluice_received_bytes_total{connection=\"" + PromEscape(conn) + "\"} " +
           std::to_string(r.bytes) + "\n";
  }
  Header(&out, "sluice_received_files_total", "counter",
         "Files accepted through S3 since the server started.");
  for (const auto& [conn, r] : received_) {
    if (!connections.count(conn)) continue;
    out += "sluice_received_files_total{connection=\"" + PromEscape(conn) + "\"} " +
           std::to_string(r.files) + "\n";
  }
  Header(&out, "sluice_backpressure_refusals_total", "counter",
         "Uploads refused with 503 SlowDown, by the limit that was reached.");
  for (const auto& [key, n] : refused_) {
    if (!connections.count(key.first)) continue;
    out += "sluice_backpressure_refusals_total{connection=\"" + PromEscape(key.first) +
           "\",limit=\"" + PromEscape(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  return out;
}

}  // namespace sluice::api
