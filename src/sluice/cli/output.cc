#include "sluice/cli/output.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace sluice::cli {
namespace {

// A JSON-number-shaped value ("-12", "3.5", "1e+21") that round-trips as a JSON number.
bool LooksNumeric(const std::string& s) {
  if (s.empty()) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i >= s.size() || !isdigit(static_cast<unsigned char>(s[i]))) return false;
  if (s[i] == '0' && i + 1 < s.size() && isdigit(static_cast<unsigned char>(s[i + 1]))) {
    return false;  // leading zero: an identifier like "007", keep as text
  }
  bool dot = false, exp = false;
  for (++i; i < s.size(); ++i) {
    const char c = s[i];
    if (isdigit(static_cast<unsigned char>(c))) continue;
    if (c == '.' && !dot && !exp) {
      dot = true;
    } else if ((c == 'e' || c == 'E') && !exp) {
      exp = true;
      if (i + 1 < s.size() && (s[i + 1] == '+' || s[i + 1] == '-')) ++i;
    } else {
      return false;
    }
  }
  return isdigit(static_cast<unsigned char>(s.back()));
}

// Display width of UTF-8 text, counting code points (good enough for alignment).
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string Render(const Table& table, Format format) {
  std::string out;
  if (format == Format::kJson) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto& row : table.rows) {
      nlohmann::ordered_json obj = nlohmann::ordered_json::object();
      for (size_t i = 0; i < table.columns.size(); ++i) {
        const auto& v = row[i];
        if (!v) {
          obj[table.columns[i]] = nullptr;
        } else if (LooksNumeric(*v)) {
          obj[table.columns[i]] = nlohmann::ordered_json::parse(*v);
        } else {
          obj[table.columns[i]] = *v;
        }
      }
      rows.push_back(std::move(obj));
    }
    return rows.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  }
  if (format == Format::kCsv) {
    for (size_t i = 0; i < table.columns.size(); ++i) {
      out += (i ? "," : "") + CsvField(table.columns[i]);
    }
    out += "\n";
    for (const auto& row : table.rows) {
      for (size_t i = 0; i < row.size(); ++i)
        out += (i ? "," : "") + (row[i] ? CsvField(*row[i]) : "");
      out += "\n";
    }
    return out;
  }
  std::vector<size_t> width(table.columns.size());
  std::vector<bool> numeric(table.columns.size(), true);
  for (size_t i = 0; i < table.columns.size(); ++i) width[i] = Width(table.columns[i]);
  for (const auto& row : table.rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i] ? Width(*row[i]) : 4);
      if (row[i] && !LooksNumeric(*row[i])) numeric[i] = false;
    }
  }
  auto cell = [&](const std::string& s, size_t i, bool right) {
    const std::string pad(width[i] - Width(s), ' ');
    return right ? pad + s : s + pad;
  };
  std::string line;
  for (size_t i = 0; i < table.columns.size(); ++i) {
    line += (i ? " | " : "") + cell(table.columns[i], i, false);
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  out += line + "\n";
  for (size_t i = 0; i < table.columns.size(); ++i) {
    out += (i ? "-+-" : "") + std::string(width[i], '-');
  }
  out += "\n";
  for (const auto& row : table.rows) {
    line.clear();
    for (size_t i = 0; i < row.size(); ++i) {
      line += (i ? " | " : "") + cell(row[i] ? *row[i] : "NULL", i, numeric[i] && row[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  out +=
      "(" + std::to_string(table.rows.size()) + (table.rows.size() == 1 ? " row)\n" : " rows)\n");
  return out;
}

}  // namespace sluice::cli
