#include "sluice/cli/cli.h"

#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "sluice/app/app.h"
#include "sluice/batch/batch.h"
#include "sluice/batch/limits.h"
#include "sluice/catalog/catalog.h"
#include "sluice/cli/ledger_view_internal.h"
#include "sluice/cli/output.h"
#include "sluice/cli/table_config.h"
#include "sluice/landing/landing.h"
#include "sluice/parquet/parquet.h"
#include "sluice/pool/pool.h"
#include "sluice/service/admins.h"
#include "sluice/service/files.h"
#include "sluice/service/tables.h"
#include "sluice/store/store.h"

namespace sluice::cli {
namespace {

struct Options {
  std::string data_dir = "./data";
  bool json = false;
  bool csv = false;
  // connection / table
  std::string connection;
  std::string table;
  std::string name;
  std::vector<std::string> pk;
  std::string age_column;
  std::string delete_column;
  std::string on_error;
  std::string hidden_keys;
  bool nested = false;
  std::string example;
  std::vector<std::string> child_pk;
  std::vector<std::string> child_mode;
  std::vector<std::string> keep_json;
  std::string config;
  std::string policy;
  bool force = false;
  std::string output;
  int64_t seq = 0;
  std::string sql;
  std::string file;
  std::string endpoint;
  bool account = false;
  std::string expires;
  std::string access_key;
  int64_t after = 0;  // files: sequences after this one
  int64_t limit = 0;  // files: at most this many; 0: all
  std::string quota;
  std::string role = "admin";  // admin user add
  bool password_stdin = false;
};

int Fail(const Status& status) {
  std::fprintf(stderr, "sluice: %s\n", status.ToString().c_str());
  return 1;
}

void Print(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

Format OutputFormat(const Options& o) {
  if (o.json) return Format::kJson;
  if (o.csv) return Format::kCsv;
  return Format::kAligned;
}

Result<std::unique_ptr<catalog::Catalog>> OpenCatalog(const Options& o) {
  SLUICE_RETURN_IF_ERROR(app::SecureDataDir(o.data_dir));
  // The catalog may be created here, before any server ran: private, like the server's files.
  // The umask is restored so that what the operator asks the CLI to write (files get -o)
  // keeps their usual mode.
  const mode_t old_umask = ::umask(077);
  auto catalog = app::OpenDataDirCatalog(o.data_dir, SystemClock::Instance());
  ::umask(old_umask);
  return catalog;
}

// --- connection ---------------------------------------------------------------------------

// Prints freshly created credentials, the only time the secret is shown: JSON for scripts
// (`json` plus the key, secret, endpoint and region), or for a person the heading, the key
// block and ready-to-paste aws CLI exports ending in `aws --endpoint-url <endpoint>` followed
// by what `command(endpoint)` returns.
void PrintNewKey(const Options& o, nlohmann::json json, const std::string& heading,
                 const std::string& key, const std::string& secret,
                 const std::function<std::string(const std::string&)>& command) {
  const std::string endpoint = o.endpoint.empty() ? app::EndpointFor(o.data_dir) : o.endpoint;
  if (o.json) {
    json["access_key_id"] = key;
    json["secret_access_key"] = secret;
    json["endpoint"] = endpoint;
    json["region"] = "us-east-1";
    Print(json.dump(2) + "\n");
    return;
  }
  Print(heading + "  access key id      " + key + "\n  secret access key  " + secret +
        "\n  endpoint           " + endpoint +
        "\n\nThe secret is shown once; store it now.\n\nWith the aws CLI:\n" +
        "  export AWS_ACCESS_KEY_ID=" + key + "\n  export AWS_SECRET_ACCESS_KEY=" + secret +
        "\n  export AWS_DEFAULT_REGION=us-east-1\n  aws --endpoint-url " + endpoint +
        command(endpoint));
}

int ConnectionCreate(const Options& o) {
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  auto created = (*catalog)->CreateConnection(o.name);
  if (!created.ok()) return Fail(created.status());
  const std::string& bucket = created->connection.id;
  PrintNewKey(
      o, {{"connection", created->connection.name}, {"bucket", bucket}},
      "Connection '" + created->connection.name + "' created.\n\n" + "  bucket             " +
          bucket + "\n",
      created->access_key.str(), created->secret.reveal(), [&](const std::string& endpoint) {
        return " s3 cp orders.parquet s3://" + bucket + "/<table>/orders.parquet\n\n" +
               "Push with boto3:\n" + "  import boto3\n" +
               "  s3 = boto3.client(\"s3\", endpoint_url=\"" + endpoint + "\",\n" +
               "                    aws_access_key_id=\"" + created->access_key.str() + "\",\n" +
               "                    aws_secret_access_key=\"" + created->secret.reveal() + "\",\n" +
               "                    region_name=\"us-east-1\")\n" +
               "  s3.upload_file(\"orders.parquet\", \"" + bucket +
               "\", \"<table>/orders.parquet\")\n\n" +
               "Then configure the table the files go to:\n" + "  sluice table add " + bucket +
               " <table> --pk <key column>\n";
      });
  return 0;
}

int ConnectionList(const Options& o) {
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  auto conns = (*catalog)->ListConnections();
  if (!conns.ok()) return Fail(conns.status());
  // What each connection keeps on disk, as the server's quota counts it (without the uploads
  // in flight right now, which only the server sees).
  auto stored = (*catalog)->StoredBytesByConnection();
  if (!stored.ok()) return Fail(stored.status());
  const std::map<std::string, uint64_t> disk(stored->begin(), stored->end());
  Table t{{"bucket", "name", "unconfigured_keys", "created_at", "disk_bytes", "quota"}, {}};
  for (const auto& c : *conns) {
    const char* policy = c.unconfigured == catalog::UnconfiguredPolicy::kHold     ? "hold"
                         : c.unconfigured == catalog::UnconfiguredPolicy::kRefuse ? "refuse"
                                                                                  : "store";
    const auto used = disk.find(c.id);
    // "default": the server's --connection-quota; "none": no quota.
    const std::string quota = !c.quota_bytes        ? "default"
                              : *c.quota_bytes == 0 ? "none"
                                                    : std::to_string(*c.quota_bytes);
    t.rows.push_back({c.id, c.name, policy, FormatIsoMicros(c.created_at),
                      std::to_string(used == disk.end() ? 0 : used->second), quota});
  }
  Print(Render(t, OutputFormat(o)));
  return 0;
}

int ConnectionSetPolicy(const Options& o) {
  catalog::UnconfiguredPolicy policy;
  if (o.policy == "hold") {
    policy = catalog::UnconfiguredPolicy::kHold;
  } else if (o.policy == "refuse") {
    policy = catalog::UnconfiguredPolicy::kRefuse;
  } else if (o.policy == "store") {
    policy = catalog::UnconfiguredPolicy::kStore;
  } else {
    return Fail(Err(ErrorCode::kInvalidArgument, "policy must be hold, refuse or store"));
  }
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  Status s = (*catalog)->SetUnconfiguredPolicy(o.connection, policy);
  if (!s.ok()) return Fail(s);
  Print("Connection '" + o.connection + "': keys outside a configured table are now '" + o.policy +
        "'.\n");
  return 0;
}

// SIZE: a byte size (10G, 512M; 0: no quota) or "default" (the server's --connection-quota).
int ConnectionSetQuota(const Options& o) {
  std::optional<uint64_t> bytes;
  if (o.quota != "default") {
    auto parsed = app::ParseByteSize(o.quota);
    if (!parsed.ok()) {
      return Fail(parsed.status().WithContext("quota (a size like 10G, 0 for none, or default)"));
    }
    bytes = *parsed;
  }
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  Status s = (*catalog)->SetConnectionQuota(o.connection, bytes);
  if (!s.ok()) return Fail(s);
  const std::string what = !bytes        ? "the server's default (--connection-quota)"
                           : *bytes == 0 ? "none"
                                         : store::DescribeBytes(*bytes);
  Print("Connection '" + o.connection + "': disk quota " + what +
        "; a running server applies it from the next upload on.\n");
  return 0;
}

// --- credentials --------------------------------------------------------------------------

// --expires: a duration from now (30d, 12h, 90m, 3600s) or a UTC date (2027-01-31, midnight)
// or time (2027-01-31T12:00:00Z); micros, 0 when `text` is empty (never).
Result<int64_t> ParseExpiry(const std::string& text, int64_t now_micros) {
  if (text.empty()) return int64_t{0};
  auto bad = [&] {
    return Err(ErrorCode::kInvalidArgument,
               "--expires '" + text +
                   "': expected a duration (30d, 12h, 90m) or a UTC date (2027-01-31) or time "
                   "(2027-01-31T12:00:00Z)");
  };
  if (text.size() >= 10 && text[4] == '-' && text[7] == '-') {
    // A date or a whole-second time, as the help says (no fraction).
    const std::optional<int64_t> at = ParseIsoMicros(text);
    if (!at || (text.size() != 10 && text.size() != 20)) return bad();
    return *at;
  }
  auto seconds = app::ParseDurationSeconds(text);
  if (!seconds.ok() || *seconds <= 0) return bad();
  return now_micros + *seconds * 1'000'000;
}

nlohmann::json ExpiryJson(int64_t micros) {
  return micros == 0 ? nlohmann::json(nullptr) : nlohmann::json(FormatIsoMicros(micros));
}

int CredentialsCreateAccount(const Options& o) {
  auto expires = ParseExpiry(o.expires, SystemClock::Instance().NowMicros());
  if (!expires.ok()) return Fail(expires.status());
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  auto created = (*catalog)->CreateAccountKey(*expires);
  if (!created.ok()) return Fail(created.status());
  const std::string until =
      *expires == 0 ? "" : "It expires at " + FormatIsoMicros(*expires) + ".\n";
  PrintNewKey(o, {{"expires_at", ExpiryJson(*expires)}},
              "Account key created: it reaches every bucket, and may create a bucket (a new\n"
              "connection) and delete an empty one.\n" +
                  until + "\n",
              created->access_key.str(), created->secret.reveal(),
              [](const std::string&) { return std::string(" s3 mb s3://new-bucket\n"); });
  return 0;
}

// Every key, or a connection's: never the secret.
int CredentialsList(const Options& o) {
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  if (!o.connection.empty()) {
    auto conn = (*catalog)->GetConnection(o.connection);
    if (!conn.ok()) return Fail(conn.status());
    if (!*conn) return Fail(Err(ErrorCode::kNotFound, "no connection '" + o.connection + "'"));
  }
  auto keys = (*catalog)->ListKeys(o.connection);
  if (!keys.ok()) return Fail(keys.status());
  auto when = [](int64_t micros) {
    return micros == 0 ? std::nullopt : std::optional(FormatIsoMicros(micros));
  };
  Table t{{"access_key_id", "connection", "created_at", "expires_at", "last_used_at", "state"}, {}};
  for (const catalog::KeyInfo& k : *keys) {
    t.rows.push_back({k.access_key.str(),
                      k.connection_id.empty() ? std::string("(account)") : k.connection_id,
                      FormatIsoMicros(k.created_at), when(k.expires_at), when(k.last_used_at),
                      std::string(catalog::KeyStateName(k.state))});
  }
  Print(Render(t, OutputFormat(o)));
  return 0;
}

int CredentialsRevoke(const Options& o) {
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  Status s = (*catalog)->RevokeKey(AccessKeyId(o.access_key));
  if (!s.ok()) return Fail(s);
  Print("Access key " + o.access_key +
        " revoked: its next request is refused with InvalidAccessKeyId.\n");
  return 0;
}

// A second key for a connection; the old one keeps working until revoked.
int CredentialsRotate(const Options& o) {
  auto expires = ParseExpiry(o.expires, SystemClock::Instance().NowMicros());
  if (!expires.ok()) return Fail(expires.status());
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  auto before = (*catalog)->ListKeys(o.connection);
  if (!before.ok()) return Fail(before.status());
  auto created = (*catalog)->RotateKey(o.connection, *expires);
  if (!created.ok()) return Fail(created.status());
  std::string old_keys;
  for (const catalog::KeyInfo& k : *before) {
    if (k.state == catalog::KeyState::kActive)
      old_keys += (old_keys.empty() ? "" : " ") + k.access_key.str();
  }
  const std::string until =
      *expires == 0 ? "" : "It expires at " + FormatIsoMicros(*expires) + ".\n";
  PrintNewKey(o,
              {{"connection", o.connection},
               {"bucket", o.connection},
               {"expires_at", ExpiryJson(*expires)}},
              "New key for connection '" + o.connection + "'. " +
                  (old_keys.empty() ? std::string("")
                                    : "The old key keeps working until you revoke it, once "
                                      "every client uses the new one:\n  sluice credentials "
                                      "revoke " +
                                          old_keys + "\n") +
                  until + "\n",
              created->access_key.str(), created->secret.reveal(),
              [&](const std::string&) { return " s3 ls s3://" + o.connection + "/\n"; });
  return 0;
}

// --- table --------------------------------------------------------------------------------

// The table `name` of `connection`; kNotFound when it has none.
Result<catalog::TableConfig> FindTable(catalog::Catalog& catalog, const std::string& connection,
                                       const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<catalog::TableConfig> found,
                          catalog.GetTable(connection, name));
  if (!found) {
    return Err(ErrorCode::kNotFound, "no table '" + name + "' on connection '" + connection + "'");
  }
  return std::move(*found);
}

int TableAddOrUpdate(const Options& o, bool update) {
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  TableFlags flags{o.table,   o.pk,       o.age_column, o.delete_column, o.on_error, o.nested,
                   o.example, o.child_pk, o.child_mode, o.keep_json,     o.config,   o.hidden_keys};
  std::optional<catalog::TableConfig> existing;
  if (update) {
    std::string name = o.table;
    if (name.empty() && !o.config.empty()) {
      // The file names the table; read it once to know which one to update.
      auto probe = BuildTableConfig(flags, o.connection, std::nullopt);
      if (!probe.ok()) return Fail(probe.status());
      name = probe->name;
    }
    auto found = FindTable(**catalog, o.connection, name);
    if (!found.ok()) return Fail(found.status());
    existing = std::move(*found);
  }
  auto built = BuildTableConfig(flags, o.connection, existing);
  if (!built.ok()) return Fail(built.status());
  const catalog::TableConfig& t = *built;
  Status s = service::SaveTable(**catalog, t,
                                update ? service::TableWrite::kUpdate : service::TableWrite::kAdd);
  if (!s.ok()) return Fail(s);
  std::string pk;
  for (const auto& c : t.primary_key) pk += (pk.empty() ? "" : ", ") + c;
  Print(std::string(update ? "Table updated: " : "Table added: ") + o.connection + "/" + t.name +
        (t.nested_json.empty() ? "" : " (nested)") + "  primary key (" + pk + ")" +
        (t.age_column.empty() ? "" : "  age column " + t.age_column) +
        (t.delete_column.empty() ? "" : "  delete column " + t.delete_column) + "  on error " +
        std::string(service::OnErrorName(t.on_error)) + "\n" +
        (t.nested_json.empty()
             ? ""
             : "See its derived tables: sluice table show " + o.connection + " " + t.name + "\n") +
        (update ? "" : "Push its files to s3://" + o.connection + "/" + t.name + "/...\n"));
  return 0;
}

int TableRemove(const Options& o) {
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  Status s = (*catalog)->RemoveTable(o.connection, o.table);
  if (!s.ok()) return Fail(s);
  Print("Table removed: " + o.connection + "/" + o.table +
        ". Its keys now follow the connection's unconfigured-key policy; its rows stay in the "
        "pool and its files in the ledger.\n");
  return 0;
}

int TableShow(const Options& o) {
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  auto table = FindTable(**catalog, o.connection, o.table);
  if (!table.ok()) return Fail(table.status());
  auto text = ShowTable(*table, o.json);
  if (!text.ok()) return Fail(text.status());
  Print(*text);
  return 0;
}

int TableList(const Options& o) {
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  auto tables = (*catalog)->ListTables(o.connection);
  if (!tables.ok()) return Fail(tables.status());
  Table out{{"table", "primary_key", "age_column", "delete_column", "on_error"}, {}};
  for (const auto& t : *tables) {
    std::string pk;
    for (const auto& c : t.primary_key) pk += (pk.empty() ? "" : ",") + c;
    out.rows.push_back({t.name, pk,
                        t.age_column.empty() ? std::nullopt : std::optional(t.age_column),
                        t.delete_column.empty() ? std::nullopt : std::optional(t.delete_column),
                        std::string(service::OnErrorName(t.on_error))});
  }
  Print(Render(out, OutputFormat(o)));
  return 0;
}

// The pool's record of a table's schema changes (docs/design/pool.md, "Schema history"). The pool
// table is named as the loader names it: the catalog's table name.
int TableHistory(const Options& o) {
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  auto table = FindTable(**catalog, o.connection, o.table);
  if (!table.ok()) return Fail(table.status());
  Table out{{"seq", "changed_at", "change", "column", "old_type", "new_type"}, {}};
  {
    auto pool = app::OpenDataDirPool(o.data_dir, SystemClock::Instance());
    if (!pool.ok()) return Fail(pool.status());
    auto history = (*pool)->SchemaHistory(table->connection_id, table->name);
    if (!history.ok()) return Fail(history.status());
    for (const pool::SchemaChange& c : *history) {
      out.rows.push_back(
          {std::to_string(c.seq), FormatIsoMicros(c.changed_at), pool::SchemaChangeKindName(c.kind),
           c.column, c.old_type.empty() ? std::nullopt : std::optional(c.old_type), c.new_type});
    }
  }
  Print(Render(out, OutputFormat(o)));
  if (out.rows.empty() && OutputFormat(o) == Format::kAligned) {
    Print("No schema changes yet: the first loaded file creates the table.\n");
  }
  return 0;
}

// Copies `file` to `path` (stdout when empty) through a bounded buffer.
Status CopyOut(const RandomAccessFile& file, const std::string& path) {
  constexpr size_t kChunk = size_t{1} << 20;
  std::FILE* out = path.empty() ? stdout : std::fopen(path.c_str(), "wb");
  if (out == nullptr) return Err(ErrorCode::kIoError, "cannot create " + path);
  std::vector<uint8_t> buf;
  Status st;
  for (uint64_t pos = 0; pos < file.size() && st.ok(); pos += buf.size()) {
    st = file.ReadAt(pos, static_cast<size_t>(std::min<uint64_t>(kChunk, file.size() - pos)), &buf);
    if (st.ok() && std::fwrite(buf.data(), 1, buf.size(), out) != buf.size()) {
      st = Err(ErrorCode::kIoError, "cannot write " + (path.empty() ? "stdout" : path));
    }
  }
  const bool closed = path.empty() ? std::fflush(out) == 0 : std::fclose(out) == 0;
  if (st.ok() && !closed) st = Err(ErrorCode::kIoError, "cannot write " + path);
  return st;
}

// --- admin users ----------------------------------------------------------------------------

// A new password: from stdin as one line (--password-stdin, for scripts), or typed twice at the
// terminal without echo.
Result<std::string> ReadNewPassword(bool from_stdin) {
  auto read_line = [](std::string* out) { return static_cast<bool>(std::getline(std::cin, *out)); };
  std::string password;
  if (from_stdin || ::isatty(STDIN_FILENO) == 0) {
    if (!read_line(&password)) return Err(ErrorCode::kInvalidArgument, "no password on stdin");
    if (!password.empty() && password.back() == '\r') password.pop_back();
    return password;
  }
  termios saved{};
  ::tcgetattr(STDIN_FILENO, &saved);
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string again;
  std::fprintf(stderr, "Password: ");
  const bool first = read_line(&password);
  std::fprintf(stderr, "\nPassword again: ");
  const bool second = read_line(&again);
  std::fprintf(stderr, "\n");
  ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  if (!first || !second) return Err(ErrorCode::kInvalidArgument, "no password given");
  if (password != again) return Err(ErrorCode::kInvalidArgument, "the passwords differ");
  return password;
}

int AdminUserAdd(const Options& o) {
  const std::optional<catalog::AdminRole> role = catalog::AdminRoleFromName(o.role);
  if (!role) return Fail(Err(ErrorCode::kInvalidArgument, "--role is admin or viewer"));
  auto password = ReadNewPassword(o.password_stdin);
  if (!password.ok()) return Fail(password.status());
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  Status s = service::AddAdminUser(**catalog, o.name, *role, *password,
                                   SystemClock::Instance().NowMicros());
  if (!s.ok()) return Fail(s);
  Print("Admin user '" + o.name + "' added (" + o.role +
        "). Log in to the console at the admin URL (sluice serve prints it).\n");
  return 0;
}

int AdminUserPasswd(const Options& o) {
  auto password = ReadNewPassword(o.password_stdin);
  if (!password.ok()) return Fail(password.status());
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  Status s = service::ChangeAdminPassword(**catalog, o.name, *password);
  if (!s.ok()) return Fail(s);
  Print("Password of '" + o.name + "' changed; its sessions are ended.\n");
  return 0;
}

int AdminUserRemove(const Options& o) {
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  Status s = (*catalog)->RemoveAdminUser(o.name);
  if (!s.ok()) return Fail(s);
  Print("Admin user '" + o.name + "' removed; its sessions are ended.\n");
  return 0;
}

int AdminUserSetRole(const Options& o) {
  const std::optional<catalog::AdminRole> role = catalog::AdminRoleFromName(o.role);
  if (!role) return Fail(Err(ErrorCode::kInvalidArgument, "the role is admin or viewer"));
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  Status s = (*catalog)->SetAdminRole(o.name, *role);
  if (!s.ok()) return Fail(s);
  Print("Admin user '" + o.name + "' is now " + o.role + ".\n");
  return 0;
}

int AdminUserList(const Options& o) {
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  auto users = (*catalog)->ListAdminUsers();
  if (!users.ok()) return Fail(users.status());
  const int64_t now = SystemClock::Instance().NowMicros();
  Table t{{"user", "role", "created_at", "last_login_at", "locked_until"}, {}};
  for (const catalog::AdminUser& u : *users) {
    t.rows.push_back(
        {u.name, std::string(catalog::AdminRoleName(u.role)), FormatIsoMicros(u.created_at),
         u.last_login_at == 0 ? std::nullopt : std::optional(FormatIsoMicros(u.last_login_at)),
         u.locked_until <= now ? std::nullopt : std::optional(FormatIsoMicros(u.locked_until))});
  }
  Print(Render(t, OutputFormat(o)));
  return 0;
}

// --- files --------------------------------------------------------------------------------

int FilesList(const Options& o) {
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  auto conn = (*catalog)->GetConnection(o.connection);
  if (!conn.ok()) return Fail(conn.status());
  if (!*conn) return Fail(Err(ErrorCode::kNotFound, "no connection '" + o.connection + "'"));
  // Page by page: each read of the catalog is bounded, however long the ledger.
  std::vector<catalog::FileRecord> files;
  int64_t after = o.after;
  const size_t wanted = o.limit > 0 ? static_cast<size_t>(o.limit) : SIZE_MAX;
  while (files.size() < wanted) {
    auto page = (*catalog)->ListFilesPage(o.connection, o.table, after,
                                          std::min(wanted - files.size(), catalog::kMaxListPage));
    if (!page.ok()) return Fail(page.status());
    for (auto& f : page->files) files.push_back(std::move(f));
    if (page->next_after == 0) break;
    after = page->next_after;
  }
  Print(Render(FilesTable(files), OutputFormat(o)));
  return 0;
}

// The file of sequence `seq`; kNotFound when the ledger has none.
Result<catalog::FileRecord> FindFile(catalog::Catalog& catalog, int64_t seq) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<catalog::FileRecord> found, catalog.GetFile(seq));
  if (!found) return Err(ErrorCode::kNotFound, "no file with sequence " + std::to_string(seq));
  return std::move(*found);
}

int FilesShow(const Options& o) {
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  auto file = FindFile(**catalog, o.seq);
  if (!file.ok()) return Fail(file.status());
  Print(o.json ? FileJson(*file).dump(2) + "\n" : FileText(*file));
  return 0;
}

// Writes the file's bytes as pushed (to --output, else to stdout): a failed file stays
// downloadable for inspection.
int FilesGet(const Options& o) {
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  auto file = FindFile(**catalog, o.seq);
  if (!file.ok()) return Fail(file.status());
  const catalog::FileRecord& f = *file;
  if (f.purged_at != 0) {
    return Fail(Err(ErrorCode::kNotFound, "file " + std::to_string(f.seq) + " (" + f.key +
                                              ") was removed (retention, or a delete) at " +
                                              FormatIsoMicros(f.purged_at)));
  }
  auto landing_dir = app::LandingDirOf(o.data_dir);
  if (!landing_dir.ok()) return Fail(landing_dir.status());
  landing::DirectoryStore store(FileSystem::Default(), *landing_dir);
  auto source = store.Open(f.landed_id);
  if (!source.ok()) return Fail(source.status().WithContext("file " + std::to_string(f.seq)));
  Status st = CopyOut(**source, o.output);
  if (!st.ok()) return Fail(st.WithContext("file " + std::to_string(f.seq)));
  if (!o.output.empty()) {
    std::fprintf(stderr, "Wrote %s (%llu bytes, file %lld, %s).\n", o.output.c_str(),
                 static_cast<unsigned long long>((*source)->size()), static_cast<long long>(f.seq),
                 f.key.c_str());
  }
  return 0;
}

// A file left `loading` by a crash (the poison-file guard keeps it there until the limit, or
// the server is not running): retry or skip it when no server holds the data directory, which
// holding serve.lock proves. A skip first asks the pool: a file whose load was committed
// before the crash is recorded as loaded, since its rows are in the pool.
int StuckFileAction(const Options& o, catalog::Catalog& catalog, const catalog::FileRecord& f,
                    bool retry) {
  const std::string seq = std::to_string(f.seq);
  auto lock = app::LockDataDir(o.data_dir);
  if (!lock.ok()) {
    if (lock.status().code() != ErrorCode::kUnavailable) return Fail(lock.status());
    return Fail(Err(ErrorCode::kInvalidArgument,
                    "file " + seq + " (" + f.key + ") is loading, and " + lock.status().message() +
                        " whose loader may be working on it. Let the load finish, or stop the "
                        "server and run this again (a file whose load keeps crashing the "
                        "server fails by itself after --max-load-attempts)"));
  }
  if (!retry) {
    {
      auto pool = app::OpenDataDirPool(o.data_dir, SystemClock::Instance());
      if (!pool.ok()) return Fail(pool.status());
      auto applied = (*pool)->FindApplied(f.connection_id, f.seq);
      if (!applied.ok()) return Fail(applied.status());
      if (*applied) {
        const pool::ApplyCounts& c = (*applied)->counts;
        Status st = catalog.MarkLoaded(f.seq, {c.inserted, c.updated, c.refused, c.deleted},
                                       (*applied)->applied_at);
        if (!st.ok()) return Fail(st);
        Print("File " + seq +
              " was not skipped: its load had been committed to the pool before the crash, so "
              "it is recorded as loaded.\n");
        return 0;
      }
    }
  }
  const catalog::LoaderState stopped = catalog::LoaderState::kStopped;
  Status s = !retry    ? catalog.Skip(f.seq, stopped)
             : o.force ? catalog.RetryForced(f.seq, stopped)
                       : catalog.Retry(f.seq, stopped);
  if (!s.ok()) return Fail(s);
  Print("File " + seq + " (left loading by a crash, " + std::to_string(f.load_attempts) +
        " attempt(s)) " +
        (!retry ? "skipped; its table moves on to the next file when the server starts.\n"
                : "queued again; it is the next file its table loads when the server starts.\n"));
  return 0;
}

int FilesAction(const Options& o, bool retry) {
  auto catalog = OpenCatalog(o);
  if (!catalog.ok()) return Fail(catalog.status());
  auto file = FindFile(**catalog, o.seq);
  if (!file.ok()) return Fail(file.status());
  if (file->status == catalog::FileStatus::kLoading) {
    return StuckFileAction(o, **catalog, *file, retry);
  }
  const service::FileAction action = !retry    ? service::FileAction::kSkip
                                     : o.force ? service::FileAction::kRetryForced
                                               : service::FileAction::kRetry;
  auto done = service::ApplyFileAction(**catalog, o.seq, action);
  if (!done.ok()) return Fail(done.status());
  Print(*done + "\n");
  return 0;
}

// --- query, cat, schema -----------------------------------------------------------------------

// Tables are read as <connection>.<table>; unqualified names are the --connection's, or the
// only connection's when there is one (docs/design/pool.md, "Namespaces").
int Query(const Options& o) {
  std::string default_schema = o.connection;
  if (default_schema.empty()) {
    auto catalog = OpenCatalog(o);
    if (!catalog.ok()) return Fail(catalog.status());
    auto connections = (*catalog)->ListConnectionsPage("", 2);
    if (!connections.ok()) return Fail(connections.status());
    if (connections->size() == 1) default_schema = connections->front().id;
  }
  auto pool = app::OpenDataDirPool(o.data_dir, SystemClock::Instance());
  if (!pool.ok()) return Fail(pool.status());
  auto result = (*pool)->Query(o.sql, default_schema);
  if (!result.ok()) {
    Status st = result.status();
    if (default_schema.empty() && st.message().find("no such table: ") != std::string::npos &&
        st.message().find('.', st.message().find("no such table: ")) == std::string::npos) {
      st = st.WithContext(
          "name tables as <connection>.<table>, or pass --connection to read one connection's "
          "tables unqualified");
    }
    return Fail(st);
  }
  Print(Render(Table{result->columns, result->rows}, OutputFormat(o)));
  return 0;
}

int Cat(const Options& o) {
  auto file = FileSystem::Default().OpenRandomAccess(o.file);
  if (!file.ok()) return Fail(file.status());
  auto reader = parquet::OpenParquet(std::move(*file));
  if (!reader.ok()) return Fail(reader.status().WithContext(o.file));
  batch::Batch b;
  std::string out;
  while (true) {
    auto more = (*reader)->Next(&b);
    if (!more.ok()) return Fail(more.status().WithContext(o.file));
    if (!*more) break;
    out.clear();
    batch::AppendCanonicalJsonl(b, &out);
    Print(out);
  }
  return 0;
}

int Schema(const Options& o) {
  auto file = FileSystem::Default().OpenRandomAccess(o.file);
  if (!file.ok()) return Fail(file.status());
  auto text = parquet::DescribeSchema(std::move(*file));
  if (!text.ok()) return Fail(text.status().WithContext(o.file));
  Print(*text);
  return 0;
}

void AddFormatFlags(CLI::App* cmd, Options& o) {
  auto* json = cmd->add_flag("--json", o.json, "Print JSON");
  cmd->add_flag("--csv", o.csv, "Print CSV")->excludes(json);
}

}  // namespace

int Run(int argc, char** argv) {
  CLI::App app{"sluice: push files with any S3 client, query them as upserted SQL tables"};
  app.require_subcommand(1);
  Options o;
  if (const char* env = std::getenv("SLUICE_DATA_DIR")) o.data_dir = env;
  app.add_option("--data-dir", o.data_dir, "Data directory (env SLUICE_DATA_DIR)")
      ->capture_default_str();
  std::function<int()> action;

  app::ServeConfig serve;
  auto* serve_cmd =
      app.add_subcommand("serve", "Run the S3 endpoint, the admin side and the loader");
  serve_cmd->set_config("--config", "", "Config file (TOML or INI; keys are the flag names)");
  serve_cmd->add_option("--s3-address", serve.s3_address, "S3 listen address")
      ->capture_default_str();
  serve_cmd->add_option("--s3-port", serve.s3_port, "S3 port (0: any free port)")
      ->capture_default_str();
  serve_cmd->add_option("--admin-address", serve.admin_address, "Admin listen address")
      ->capture_default_str();
  serve_cmd->add_option("--admin-port", serve.admin_port, "Admin port (0: any free port)")
      ->capture_default_str();
  serve_cmd->add_option("--http-threads", serve.http_threads, "HTTP I/O threads")
      ->capture_default_str();
  serve_cmd->add_option("--load-workers", serve.load_workers, "Tables loading in parallel")
      ->capture_default_str();
  serve_cmd->add_option("--pool", serve.pool,
                        "Where the rows go: `sqlite` (embedded, the default) or a PostgreSQL "
                        "connection string (postgresql://...); recorded by the first start");
  serve_cmd->add_option("--landing", serve.landing,
                        "Directory where pushed files land (absolute; default DATA/landing). "
                        "Several nodes on one PostgreSQL share one: see docs/design/nodes.md");
  std::string load_memory = "1G";
  serve_cmd
      ->add_option("--load-memory", load_memory,
                   "Memory one load may use to read its file (at least 64M): batches are cut at "
                   "1/16 of it, pages held at 1/2; a file that needs more fails LIMIT_EXCEEDED")
      ->capture_default_str();
  serve_cmd->add_option("--region", serve.region, "Region reported to clients")
      ->capture_default_str();
  serve_cmd->add_option("--public-endpoint", serve.public_endpoint, "S3 URL to print for clients");
  serve_cmd->add_option("--tls-cert", serve.tls_cert_file,
                        "PEM certificate (chain allowed, leaf first): also serve S3 over https");
  serve_cmd->add_option("--tls-key", serve.tls_key_file, "PEM private key of --tls-cert");
  serve_cmd->add_flag("--admin-tls", serve.admin_tls,
                      "Serve the admin side (console, API) over https only, with --tls-cert: "
                      "its session cookie is then Secure");
  serve_cmd->add_flag("--alert-allow-private", serve.alert_allow_private,
                      "Let alert webhooks reach loopback and private addresses (refused by "
                      "default: the admin API must not reach into the local network)");
  serve_cmd->add_option("--smtp-url", serve.smtp_url,
                        "SMTP server for e-mail alerts: smtp://HOST:PORT (STARTTLS when offered) "
                        "or smtps://HOST:PORT");
  serve_cmd->add_option("--smtp-from", serve.smtp_from, "Sender address of e-mail alerts");
  serve_cmd->add_option("--smtp-user", serve.smtp_user,
                        "SMTP login (then TLS is required), its password in --smtp-password-file");
  serve_cmd->add_option("--smtp-password-file", serve.smtp_password_file,
                        "File (mode 0600) holding the SMTP password");
  serve_cmd->add_option("--https-address", serve.https_address,
                        "https listen address (default: the S3 address)");
  serve_cmd->add_option("--https-port", serve.https_port,
                        "https port (0: any free port; default " +
                            std::to_string(app::kDefaultHttpsPort) + " when TLS is on)");
  serve_cmd->add_option("--base-domain", serve.base_domain,
                        "Domain for virtual-hosted-style requests (BUCKET.DOMAIN)");
  serve_cmd
      ->add_option("--max-object-size", serve.max_object_bytes,
                   "Largest object or part one request may carry, in bytes (EntityTooLarge)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--body-timeout", serve.body_timeout_seconds,
                   "Seconds a request body may stall before RequestTimeout")
      ->capture_default_str();
  std::string min_body_rate = "1K";
  serve_cmd
      ->add_option("--min-body-rate", min_body_rate,
                   "Slowest request body accepted, in bytes per second over each --body-timeout "
                   "window, else RequestTimeout (512, 1K; 0: only a stall)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--idle-timeout", serve.idle_timeout_seconds,
                   "Seconds a keep-alive connection may wait for its next request, and a request "
                   "head may take to arrive")
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-connections", serve.max_connections,
                   "Connections each port holds at once; more are accepted and closed (S3: 503 "
                   "SlowDown)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-connections-per-client", serve.max_connections_per_client,
                   "Connections one client address may hold on each port (0: no limit)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-pending-files", serve.max_pending_files,
                   "Per connection: files queued or loading before uploads get 503 SlowDown "
                   "(0: no limit)")
      ->capture_default_str();
  std::string max_pending_bytes = "64G";
  std::string min_free_disk = "1G";
  std::string retention = "7d";
  std::string connection_quota = "0";
  serve_cmd
      ->add_option("--max-load-attempts", serve.max_load_attempts,
                   "A file whose load was cut short by this many crashes fails (INTERNAL) at "
                   "the next start instead of loading again (0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  serve_cmd
      ->add_option("--max-pending-bytes", max_pending_bytes,
                   "Per connection: bytes queued or loading before uploads get 503 SlowDown "
                   "(512M, 64G; 0: no limit)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--min-free-disk", min_free_disk,
                   "Free space the data directory's file system keeps: below it uploads get "
                   "503 SlowDown (512M, 1G; 0: no floor)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--connection-quota", connection_quota,
                   "Per connection without its own (connection set-quota): bytes it may keep in "
                   "the data directory, landed files not yet purged and multipart parts; past it "
                   "uploads get 403 QuotaExceeded (10G, 512M; 0: no quota)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--retention", retention,
                   "How long landed files are kept after loading, for download and replay "
                   "(30s, 15m, 12h, 7d; 0: for ever)")
      ->capture_default_str();
  serve_cmd->add_flag("--metrics-token", serve.metrics_token,
                      "/metrics requires the admin token (Authorization: Bearer, as Prometheus "
                      "sends it from credentials_file: <data-dir>/admin.token)");
  serve_cmd->callback([&] {
    action = [&] {
      serve.data_dir = o.data_dir;
      auto rate = app::ParseByteSize(min_body_rate);
      if (!rate.ok()) return Fail(rate.status().WithContext("--min-body-rate"));
      serve.min_body_rate = *rate;
      auto bytes = app::ParseByteSize(max_pending_bytes);
      if (!bytes.ok()) return Fail(bytes.status().WithContext("--max-pending-bytes"));
      serve.max_pending_bytes = *bytes;
      auto memory = app::ParseByteSize(load_memory);
      if (!memory.ok()) return Fail(memory.status().WithContext("--load-memory"));
      if (*memory < batch::kMinLoadMemory) {
        return Fail(Err(ErrorCode::kInvalidArgument, "--load-memory: at least 64M"));
      }
      serve.load_memory = *memory;
      auto floor = app::ParseByteSize(min_free_disk);
      if (!floor.ok()) return Fail(floor.status().WithContext("--min-free-disk"));
      serve.min_free_disk = *floor;
      auto quota = app::ParseByteSize(connection_quota);
      if (!quota.ok()) return Fail(quota.status().WithContext("--connection-quota"));
      serve.connection_quota = *quota;
      auto keep = app::ParseDurationSeconds(retention);
      if (!keep.ok()) return Fail(keep.status().WithContext("--retention"));
      serve.retention_seconds = *keep;
      Status s = app::RunServer(serve);
      return s.ok() ? 0 : Fail(s);
    };
  });

  auto* conn = app.add_subcommand("connection", "Manage connections (S3 buckets)");
  conn->require_subcommand(1);
  auto* conn_create = conn->add_subcommand("create", "Create a connection and its credentials");
  conn_create->add_option("NAME", o.name, "Connection name")->required();
  conn_create->add_option("--endpoint", o.endpoint, "S3 endpoint to print in the snippets");
  conn_create->add_flag("--json", o.json, "Print JSON");
  conn_create->callback([&] { action = [&] { return ConnectionCreate(o); }; });
  auto* conn_list = conn->add_subcommand("list", "List connections");
  AddFormatFlags(conn_list, o);
  conn_list->callback([&] { action = [&] { return ConnectionList(o); }; });
  auto* conn_policy = conn->add_subcommand(
      "set-unconfigured", "What to do with keys outside a configured table: hold|refuse|store");
  conn_policy->add_option("CONNECTION", o.connection)->required();
  conn_policy->add_option("POLICY", o.policy)->required();
  conn_policy->callback([&] { action = [&] { return ConnectionSetPolicy(o); }; });
  auto* conn_quota = conn->add_subcommand(
      "set-quota",
      "The bytes a connection may keep in the data directory (landed files not yet purged, "
      "multipart parts); past it uploads get 403 QuotaExceeded");
  conn_quota->add_option("CONNECTION", o.connection)->required();
  conn_quota->add_option("SIZE", o.quota, "10G, 512M; 0: no quota; default: --connection-quota")
      ->required();
  conn_quota->callback([&] { action = [&] { return ConnectionSetQuota(o); }; });

  auto* creds = app.add_subcommand("credentials", "Manage access keys");
  creds->require_subcommand(1);
  auto* creds_create = creds->add_subcommand(
      "create", "Create an account key (connection keys come with `connection create`)");
  creds_create
      ->add_flag("--account", o.account,
                 "An account-level key: reaches every bucket, creates and deletes buckets")
      ->required();
  creds_create->add_option("--endpoint", o.endpoint, "S3 endpoint to print in the snippet");
  constexpr const char* kExpiresHelp =
      "The key stops working after this: a duration (30d, 12h, 90m) or a UTC date (2027-01-31) "
      "or time (2027-01-31T12:00:00Z); default: never";
  creds_create->add_option("--expires", o.expires, kExpiresHelp);
  creds_create->add_flag("--json", o.json, "Print JSON");
  creds_create->callback([&] { action = [&] { return CredentialsCreateAccount(o); }; });
  auto* creds_list = creds->add_subcommand(
      "list", "List keys (all, or a connection's): created, expires, last used, state");
  creds_list->add_option("CONNECTION", o.connection, "Connection (all keys when omitted)");
  AddFormatFlags(creds_list, o);
  creds_list->callback([&] { action = [&] { return CredentialsList(o); }; });
  auto* creds_revoke =
      creds->add_subcommand("revoke", "Revoke a key: its next request gets InvalidAccessKeyId");
  creds_revoke->add_option("ACCESS_KEY_ID", o.access_key)->required();
  creds_revoke->callback([&] { action = [&] { return CredentialsRevoke(o); }; });
  auto* creds_rotate = creds->add_subcommand(
      "rotate", "Give a connection a new key beside its current one (at most " +
                    std::to_string(catalog::kMaxActiveKeysPerConnection) +
                    " active; revoke the old one when clients have moved)");
  creds_rotate->add_option("CONNECTION", o.connection)->required();
  creds_rotate->add_option("--expires", o.expires, kExpiresHelp);
  creds_rotate->add_option("--endpoint", o.endpoint, "S3 endpoint to print in the snippet");
  creds_rotate->add_flag("--json", o.json, "Print JSON");
  creds_rotate->callback([&] { action = [&] { return CredentialsRotate(o); }; });

  auto* table = app.add_subcommand("table", "Manage the tables of a connection");
  table->require_subcommand(1);
  for (bool update : {false, true}) {
    auto* cmd = table->add_subcommand(
        update ? "update" : "add",
        update ? "Change a table's key, age or delete column, failure policy or nesting"
               : "Configure a table: flat, or nested from an example record (--nested)");
    cmd->add_option("CONNECTION", o.connection)->required();
    cmd->add_option("TABLE", o.table, "Table name (may come from --config instead)");
    cmd->add_option("--pk", o.pk, "Primary key column(s): col[,col] (required unless --config)");
    cmd->add_option(
        "--age-column", o.age_column,
        update ? "Age column ('-' removes it)" : "Age column: older versions are refused");
    cmd->add_option("--delete-column", o.delete_column,
                    update ? "Delete column ('-' removes it)"
                           : "Delete column: a row whose value is true deletes the stored row");
    cmd->add_option("--on-error", o.on_error,
                    "block (default: a failed file stops the table until retried or skipped) "
                    "or skip (the table moves past a failed file)");
    cmd->add_option("--hidden-keys", o.hidden_keys,
                    "skip (default: keys with a segment starting with '_' or '.', such as "
                    "_temporary/ and _SUCCESS, are stored and not loaded) or load");
    cmd->add_flag("--nested", o.nested,
                  "Unnest records into child tables (needs --example on add)");
    cmd->add_option("--example", o.example, "An example record (JSON object) of a nested table");
    cmd->add_option("--child-pk", o.child_pk,
                    "PATH=col[,col]: the key of an array's elements, e.g. line_items=order_line_id "
                    "or line_items.serials=serial_no (repeatable; default: _index)");
    cmd->add_option("--child-mode", o.child_mode,
                    "PATH=replace|upsert: how an array's rows replace earlier ones (repeatable)");
    cmd->add_option("--keep-json", o.keep_json,
                    "PATH: keep this struct, array or map as one JSON column (repeatable)");
    cmd->add_option("--config", o.config,
                    "The whole configuration from a JSON or YAML (.yaml/.yml) file "
                    "(docs/table-config.md)");
    cmd->callback([&, update] { action = [&, update] { return TableAddOrUpdate(o, update); }; });
  }
  auto* table_show = table->add_subcommand(
      "show", "A table's configuration; a nested table's derived tables, parent first");
  table_show->add_option("CONNECTION", o.connection)->required();
  table_show->add_option("TABLE", o.table)->required();
  table_show->add_flag("--json", o.json, "Print JSON");
  table_show->callback([&] { action = [&] { return TableShow(o); }; });
  auto* table_remove = table->add_subcommand(
      "remove", "Remove a table's configuration (refused while its files are queued or loading)");
  table_remove->add_option("CONNECTION", o.connection)->required();
  table_remove->add_option("TABLE", o.table)->required();
  table_remove->callback([&] { action = [&] { return TableRemove(o); }; });
  auto* table_list = table->add_subcommand("list", "List a connection's tables");
  table_list->add_option("CONNECTION", o.connection)->required();
  AddFormatFlags(table_list, o);
  table_list->callback([&] { action = [&] { return TableList(o); }; });
  auto* table_history =
      table->add_subcommand("history", "Schema changes of a table and the files that caused them");
  table_history->add_option("CONNECTION", o.connection)->required();
  table_history->add_option("TABLE", o.table)->required();
  AddFormatFlags(table_history, o);
  table_history->callback([&] { action = [&] { return TableHistory(o); }; });

  auto* admin = app.add_subcommand("admin", "The admin side: the people who may use the console");
  admin->require_subcommand(1);
  auto* admin_user = admin->add_subcommand(
      "user",
      "Admin users (log in to the console and the API; admin may change, viewer only look)");
  admin_user->require_subcommand(1);
  constexpr const char* kPasswordStdinHelp =
      "Read the password from stdin (one line) instead of asking twice at the terminal";
  auto* user_add = admin_user->add_subcommand("add", "Add an admin user");
  user_add->add_option("NAME", o.name, "User name: letters, digits and . _ @ -")->required();
  user_add->add_option("--role", o.role, "admin (may change things) or viewer (may only look)")
      ->capture_default_str();
  user_add->add_flag("--password-stdin", o.password_stdin, kPasswordStdinHelp);
  user_add->callback([&] { action = [&] { return AdminUserAdd(o); }; });
  auto* user_passwd = admin_user->add_subcommand(
      "passwd", "Set a user's password (ends its sessions, lifts a lock-out)");
  user_passwd->add_option("NAME", o.name)->required();
  user_passwd->add_flag("--password-stdin", o.password_stdin, kPasswordStdinHelp);
  user_passwd->callback([&] { action = [&] { return AdminUserPasswd(o); }; });
  auto* user_role = admin_user->add_subcommand("set-role", "Make a user an admin or a viewer");
  user_role->add_option("NAME", o.name)->required();
  user_role->add_option("ROLE", o.role, "admin or viewer")->required();
  user_role->callback([&] { action = [&] { return AdminUserSetRole(o); }; });
  auto* user_remove =
      admin_user->add_subcommand("remove", "Remove a user (its sessions end at once)");
  user_remove->add_option("NAME", o.name)->required();
  user_remove->callback([&] { action = [&] { return AdminUserRemove(o); }; });
  auto* user_list = admin_user->add_subcommand("list", "List the admin users");
  AddFormatFlags(user_list, o);
  user_list->callback([&] { action = [&] { return AdminUserList(o); }; });

  auto* files =
      app.add_subcommand("files", "The file ledger: list, show, download, retry or skip files");
  auto* files_retry = files->add_subcommand(
      "retry",
      "Re-queue a failed file (in its place under on_error: block; next under skip), or one "
      "left loading by a crash, with the server stopped");
  files_retry->add_option("SEQ", o.seq)->required();
  files_retry->add_flag(
      "--force", o.force,
      "Also a skipped file, and load it even if it repeats a loaded file (a duplicate)");
  files_retry->callback([&] { action = [&] { return FilesAction(o, true); }; });
  auto* files_skip = files->add_subcommand(
      "skip", "Skip a failed file (or one left loading by a crash, with the server stopped)");
  files_skip->add_option("SEQ", o.seq)->required();
  files_skip->callback([&] { action = [&] { return FilesAction(o, false); }; });
  auto* files_show = files->add_subcommand("show", "Print a file's whole ledger record");
  files_show->add_option("SEQ", o.seq)->required();
  files_show->add_flag("--json", o.json, "Print JSON");
  files_show->callback([&] { action = [&] { return FilesShow(o); }; });
  auto* files_get =
      files->add_subcommand("get", "Download a file's bytes as pushed (also a failed file)");
  files_get->add_option("SEQ", o.seq)->required();
  files_get->add_option("-o,--output", o.output, "Write to this path (default: stdout)");
  files_get->callback([&] { action = [&] { return FilesGet(o); }; });
  files->add_option("CONNECTION", o.connection, "Connection");
  files->add_option("TABLE", o.table, "Table (all when omitted)");
  files->add_option("--after", o.after, "Only files with a higher sequence");
  files->add_option("--limit", o.limit, "At most this many files (0: all)")
      ->check(CLI::NonNegativeNumber);
  AddFormatFlags(files, o);
  files->callback([&] {
    if (!action) {
      action = [&] {
        if (o.connection.empty()) {
          return Fail(
              Err(ErrorCode::kInvalidArgument,
                  "usage: sluice files CONNECTION [TABLE] | files show SEQ | files get SEQ | "
                  "files retry [--force] SEQ | files skip SEQ"));
        }
        return FilesList(o);
      };
    }
  });

  auto* query = app.add_subcommand("query", "Run SQL on the pool");
  query->add_option("SQL", o.sql)->required();
  query->add_option("--connection", o.connection,
                    "Unqualified table names are this connection's (default: the only "
                    "connection, when there is one); <connection>.<table> reads any");
  AddFormatFlags(query, o);
  query->callback([&] { action = [&] { return Query(o); }; });

  auto* cat = app.add_subcommand("cat", "Print a parquet file's rows as canonical JSON Lines");
  cat->add_option("FILE", o.file)->required();
  cat->callback([&] { action = [&] { return Cat(o); }; });
  auto* schema = app.add_subcommand("schema", "Print a parquet file's schema");
  schema->add_option("FILE", o.file)->required();
  schema->callback([&] { action = [&] { return Schema(o); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return action ? action() : 2;
}

}  // namespace sluice::cli
