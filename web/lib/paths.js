// The console's page paths, in one place so that every link and navigation agrees with the
// routes of app.js. (The API's paths are lib/api.js's apiPath.)

const enc = encodeURIComponent;

function withQuery(path, query) {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") q.set(name, String(value));
  }
  const s = q.toString();
  return s ? path + "?" + s : path;
}

export const connectionPath = (id) => "/connections/" + enc(id);
export const filesPath = (id, query) => withQuery(connectionPath(id) + "/files", query);
export const filePath = (id, seq) => connectionPath(id) + "/files/" + enc(seq);
export const errorsPath = (id) => connectionPath(id) + "/errors";
// A new table; `query` may name it and preview a landed file: {name, file}.
export const addTablePath = (id, query) => withQuery(connectionPath(id) + "/add-table", query);
// An existing table's setup; `query`: {file} to preview a landed file, {saved} after a save.
export const tablePath = (id, table, query) =>
  withQuery(connectionPath(id) + "/tables/" + enc(table), query);
export const historyPath = (id, table) => tablePath(id, table) + "/history";
