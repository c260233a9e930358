// One connection (/connections/<id>): where clients push (endpoint, bucket, snippets), its
// credentials, what becomes of keys under no table and its disk quota (PATCH), its tables (with,
// for admins, a drop zone each that pushes a file from the browser), and deleting it.
import { html, useEffect, useState } from "../lib/html.js";
import { apiPath, del, get, patch } from "../lib/api.js";
import { bytes } from "../lib/format.js";
import { useAction, useResource } from "../lib/hooks.js";
import { addTablePath, filesPath, historyPath, tablePath } from "../lib/paths.js";
import { Link, navigate } from "../lib/router.js";
import { knownEndpoint, rememberEndpoint, takeCreated } from "../lib/s3.js";
import { canWrite, useSession } from "../lib/session.js";
import { ConnectionTabs, ErrorText, Loading, Message, Scroll, Title } from "../lib/ui.js";
import { Credentials } from "./credentials.js";
import { Upload } from "./upload.js";

const mib = 1024 * 1024;

const policies = {
  hold: "hold: keep the file, failed TABLE_NOT_CONFIGURED, until a table is added and it is retried",
  refuse: "refuse: the upload fails with AccessDenied",
  store: "store: keep the file without loading it",
};

// The quota as the form edits it: the server's default (null), none (0) or a size in MiB.
function quotaForm(quota) {
  if (quota === null || quota === undefined) return { mode: "default", mib: "" };
  if (quota === 0) return { mode: "none", mib: "" };
  return { mode: "limit", mib: String(Math.round(quota / mib)) };
}

function Settings({ connection, onSaved }) {
  const writer = canWrite(useSession());
  const [policy, setPolicy] = useState(connection.unconfigured_keys);
  const [quota, setQuota] = useState(quotaForm(connection.quota_bytes));
  useEffect(() => {
    setPolicy(connection.unconfigured_keys);
    setQuota(quotaForm(connection.quota_bytes));
  }, [connection]);
  const action = useAction();
  const save = (event) => {
    event.preventDefault();
    action.run(async () => {
      const bytesOf = { default: null, none: 0, limit: Math.round(Number(quota.mib) * mib) };
      const quota_bytes = bytesOf[quota.mode];
      await patch(apiPath(connection.id), { unconfigured_keys: policy, quota_bytes });
      onSaved();
      return "Saved.";
    });
  };
  return html`<form class="settings" onSubmit=${save} aria-labelledby="settings-title">
    <h2 id="settings-title">Settings</h2>
    <label for="policy">Files under no configured table</label>
    <select id="policy" disabled=${!writer} value=${policy}
      onChange=${(e) => setPolicy(e.target.value)}>
      ${Object.entries(policies).map(
        ([value, label]) => html`<option value=${value}>${label}</option>`,
      )}
    </select>
    <fieldset disabled=${!writer}>
      <legend>Disk quota</legend>
      ${[
        ["default", "the server's default"],
        ["none", "no quota"],
        ["limit", "at most"],
      ].map(
        ([mode, label]) => html`<label class="choice">
          <input type="radio" name="quota" value=${mode} checked=${quota.mode === mode}
            onChange=${() => setQuota({ ...quota, mode })} /> ${label}
        </label>`,
      )}
      <label class="choice">
        <input type="number" min="1" class="short" aria-label="Quota in MiB" value=${quota.mib}
          disabled=${quota.mode !== "limit"} required=${quota.mode === "limit"}
          onInput=${(e) => setQuota({ ...quota, mib: e.target.value })} /> MiB
      </label>
    </fieldset>
    ${writer && html`<button type="submit" disabled=${action.busy}>Save settings</button>`}
    <${ErrorText} error=${action.error} />
    <${Message} text=${action.message} />
  </form>`;
}

function Tables({ id, tables }) {
  const writer = canWrite(useSession());
  const action = useAction();
  const remove = (table) =>
    action.run(async () => {
      const question = `Remove table ${table}? Its rows stay in the pool, its files in the ledger.`;
      if (!window.confirm(question)) return "";
      await del(apiPath(id, "tables", table));
      tables.reload();
      return `Removed ${table}.`;
    });
  return html`<section aria-labelledby="tables-title">
    <h2 id="tables-title">Tables</h2>
    <${ErrorText} error=${tables.error || action.error} />
    <${Message} text=${action.message} />
    ${!tables.data && !tables.error && html`<${Loading} what="tables" />`}
    ${tables.data &&
    !tables.data.length &&
    html`<p class="muted">No table yet: files pushed here wait.</p>`}
    ${tables.data &&
    tables.data.length > 0 &&
    html`<${Scroll} label="Tables">
      <table class="grid stack">
        <thead>
          <tr>
            <th scope="col">Table</th><th scope="col">Kind</th><th scope="col">Primary key</th>
            <th scope="col">On error</th><th scope="col">Pages</th>
            ${writer && html`<th scope="col">Actions</th><th scope="col">Push a file</th>`}
          </tr>
        </thead>
        <tbody>
          ${tables.data.map((t) => {
            const href = tablePath(id, t.table);
            return html`<tr key=${t.table}>
              <td data-label="Table"><${Link} href=${href}>${t.table}<//></td>
              <td data-label="Kind">${t.nested ? `nested (${t.tables.length} tables)` : "flat"}</td>
              <td data-label="Primary key"><code>${(t.config.primary_key || []).join(", ")}</code></td>
              <td data-label="On error">${t.on_error}</td>
              <td data-label="Pages">
                <span class="links">
                  <${Link} href=${filesPath(id, { table: t.table })}>Files<//>
                  <${Link} href=${historyPath(id, t.table)}>Schema history<//>
                </span>
              </td>
              ${writer &&
              html`<td data-label="Actions">
                <span class="actions">
                  <${Link} class="button secondary small" href=${href}>Edit<//>
                  <button type="button" class="danger small" disabled=${action.busy}
                    onClick=${() => remove(t.table)}>Remove</button>
                </span>
              </td>`}
              ${writer &&
              html`<td data-label="Push a file">
                <${Upload} connection=${id} table=${t.table} />
              </td>`}
            </tr>`;
          })}
        </tbody>
      </table>
    <//>`}
    ${writer && html`<${Link} class="button" href=${addTablePath(id)}>Add a table<//>`}
  </section>`;
}

function DeleteConnection({ id }) {
  const action = useAction();
  const remove = () =>
    action.run(async () => {
      if (!window.confirm(`Delete connection ${id} and its keys? It must be empty.`)) return "";
      await del(apiPath(id));
      navigate("/");
      return "";
    });
  return html`<section class="danger-zone" aria-labelledby="delete-title">
    <h2 id="delete-title">Delete</h2>
    <p class="muted">Only an empty connection can go: no table, no object, nothing waiting.</p>
    <button type="button" class="danger" disabled=${action.busy} onClick=${remove}>
      Delete connection
    </button>
    <${ErrorText} error=${action.error} />
  </section>`;
}

export function Connection({ params }) {
  const { id } = params;
  const session = useSession();
  const connection = useResource(() => get(apiPath(id)), [id]);
  const tables = useResource(() => get(apiPath(id, "tables")), [id]);
  const [created] = useState(() => takeCreated(id));
  const c = connection.data;
  // The server names its S3 endpoint with each connection; remembered for the snippets.
  if (c) rememberEndpoint(c);
  const known = knownEndpoint();
  const endpoint = (c && c.endpoint) || (created && created.endpoint) || known.endpoint || "unknown yet";
  const firstTable = tables.data && tables.data.length ? tables.data[0].table : "";
  return html`<section>
    <${Title}>Connection ${id}<//>
    <${ConnectionTabs} id=${id} active="connection" />
    <${ErrorText} error=${connection.error} />
    ${!c && !connection.error && html`<${Loading} what="the connection" />`}
    ${c &&
    html`<dl class="facts">
      <div><dt>S3 endpoint</dt><dd><code>${endpoint}</code></dd></div>
      <div><dt>Bucket</dt><dd><code>${c.id}</code></dd></div>
      <div><dt>Region</dt><dd>${known.region} (path-style)</dd></div>
      <div><dt>On disk</dt><dd>${bytes(c.disk_bytes)}</dd></div>
    </dl>`}
    <${Tables} id=${id} tables=${tables} />
    <${Credentials} connection=${id} table=${firstTable} initial=${created} />
    ${c && html`<${Settings} connection=${c} onSaved=${connection.reload} />`}
    ${canWrite(session) && html`<${DeleteConnection} id=${id} />`}
  </section>`;
}
