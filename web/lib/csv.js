// CSV (RFC 4180) from a query result, built in the browser: a field is quoted when it holds a
// comma, a quote or a line break, or begins or ends with a space; NULL is an empty field.

function field(value) {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? '"' + text.replaceAll('"', '""') + '"' : text;
}

export function toCsv(columns, rows) {
  const lines = [columns.map(field).join(",")];
  for (const row of rows) lines.push(row.map(field).join(","));
  return lines.join("\r\n") + "\r\n";
}

// Saves `text` as a file through a blob: URL and an <a download>. That is a download, not a
// fetch or a navigation, so the page's CSP (connect-src 'self', no blob:) does not stop it.
export function download(name, text, type = "text/csv;charset=utf-8") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
