// A table's configuration as the setup form edits it, and back: the form holds text fields
// ("a, b" for a key), the API takes a TableConfig (docs/table-config.md; GET .../tables/{t}
// answers one under `config`). Pure functions, no requests.
import { list } from "../lib/format.js";

export const emptyForm = {
  name: "",
  kind: "flat",
  pk: "",
  age: "",
  del: "",
  onError: "block",
  hiddenKeys: false, // load keys with a segment starting with '_' or '.' (load_hidden_keys)
  example: "",
  schema: null, // a saved nested table's record type, kept until an example replaces it
  children: {}, // path -> {pk: "a,b", mode: "" | "replace" | "upsert"}
  keepJson: "",
};

// The form of a saved table (a Table of the API).
export function formOf(table) {
  const c = table.config;
  const children = {};
  for (const [path, child] of Object.entries(c.children || {})) {
    children[path] = { pk: (child.primary_key || []).join(", "), mode: child.mode || "" };
  }
  return {
    ...emptyForm,
    name: table.table,
    kind: table.nested ? "nested" : "flat",
    pk: (c.primary_key || []).join(", "),
    age: c.age_column || "",
    del: c.delete_column || "",
    onError: c.on_error || "block",
    hiddenKeys: c.load_hidden_keys === true,
    schema: c.schema || null,
    children,
    keepJson: (c.keep_as_json || []).join(", "),
  };
}

// The form as {config}, a TableConfig, or {problem}: why it cannot be one yet.
export function configOf(form) {
  const config = {
    table: form.name.trim(),
    primary_key: list(form.pk),
    on_error: form.onError,
    load_hidden_keys: form.hiddenKeys,
  };
  if (form.age.trim()) config.age_column = form.age.trim();
  if (form.del.trim()) config.delete_column = form.del.trim();
  if (form.kind === "flat") return { config };
  if (form.example.trim()) {
    try {
      config.example = JSON.parse(form.example);
    } catch (e) {
      return { problem: "The example is not JSON yet: " + e.message };
    }
    if (!config.example || typeof config.example !== "object" || Array.isArray(config.example)) {
      return { problem: "The example must be one record: a JSON object." };
    }
  } else if (form.schema) {
    config.schema = form.schema;
  } else {
    return { problem: "Paste an example record to see the tables it makes." };
  }
  const children = {};
  for (const [path, child] of Object.entries(form.children)) {
    const entry = {};
    if (list(child.pk).length) entry.primary_key = list(child.pk);
    if (child.mode) entry.mode = child.mode;
    if (Object.keys(entry).length) children[path] = entry;
  }
  config.children = children;
  config.keep_as_json = list(form.keepJson);
  return { config };
}

