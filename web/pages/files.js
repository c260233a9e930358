// Files (/connections/<id>/files?table=&status=&error_code=&since=&until=&order=): the ledger,
// newest first unless order=asc, filtered as the API filters it, a page at a time (the API's
// Link header names the next page; its query becomes this page's URL), with each file's counts,
// error, and download / retry / skip. The page refreshes itself: every 1.5 s while a file on it
// is queued or loading, every 5 s otherwise.
import { html, useEffect, useState } from "../lib/html.js";
import { apiPath, get, nextQuery, request } from "../lib/api.js";
import { bytes, count, time } from "../lib/format.js";
import { useAction, useResource } from "../lib/hooks.js";
import { filePath, filesPath } from "../lib/paths.js";
import { Link, navigate } from "../lib/router.js";
import { Badge, ConnectionTabs, ErrorText, Loading, Message, Scroll, Title } from "../lib/ui.js";
import { FileActions } from "./file_actions.js";

const pageSize = 100;
// A page refreshes fast while a file on it is queued or loading, slowly otherwise (new files).
const liveEveryMs = 1500;
const idleEveryMs = 5000;
// The API's filters, which the page's URL carries as they are; after/before place the page.
const filterNames = ["table", "status", "error_code", "since", "until", "order"];
const statuses = ["queued", "loading", "loaded", "failed", "skipped"];

export const unfinished = (status) => status === "queued" || status === "loading";

// An ISO time as a datetime-local input shows it (local time, to the minute), and back.
function localInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}
const isoOf = (local) => (local ? new Date(local).toISOString() : "");

function Filters({ id, filters, tables }) {
  const [draft, setDraft] = useState(filters);
  useEffect(() => setDraft(filters), [JSON.stringify(filters)]);
  const field = (name) => (e) => setDraft({ ...draft, [name]: e.target.value });
  const apply = (event) => {
    event.preventDefault();
    navigate(filesPath(id, draft));
  };
  return html`<form class="filters" onSubmit=${apply} aria-label="Filters">
    <div>
      <label for="files-table">Table</label>
      <select id="files-table" value=${draft.table} onChange=${field("table")}>
        <option value="">every table</option>
        ${tables.map((t) => html`<option value=${t.table}>${t.table}</option>`)}
      </select>
    </div>
    <div>
      <label for="files-status">Status</label>
      <select id="files-status" value=${draft.status} onChange=${field("status")}>
        <option value="">any</option>
        ${statuses.map((s) => html`<option value=${s}>${s}</option>`)}
      </select>
    </div>
    <div>
      <label for="files-error">Error code</label>
      <input id="files-error" placeholder="PK_NOT_FOUND" value=${draft.error_code}
        onInput=${field("error_code")} />
    </div>
    <div>
      <label for="files-since">Received from</label>
      <input id="files-since" type="datetime-local" value=${localInput(draft.since)}
        onInput=${(e) => setDraft({ ...draft, since: isoOf(e.target.value) })} />
    </div>
    <div>
      <label for="files-until">until</label>
      <input id="files-until" type="datetime-local" value=${localInput(draft.until)}
        onInput=${(e) => setDraft({ ...draft, until: isoOf(e.target.value) })} />
    </div>
    <div>
      <label for="files-order">Order</label>
      <select id="files-order" value=${draft.order || "desc"} onChange=${field("order")}>
        <option value="desc">newest first</option>
        <option value="asc">oldest first</option>
      </select>
    </div>
    <div class="filter-actions">
      <button type="submit">Apply</button>
      <${Link} class="button secondary" href=${filesPath(id)}>Clear<//>
    </div>
  </form>`;
}

export function Files({ params, query }) {
  const { id } = params;
  const filters = Object.fromEntries(filterNames.map((n) => [n, query.get(n) || ""]));
  const place = { after: query.get("after") || "", before: query.get("before") || "" };
  const apiQuery = { ...filters, ...place, order: filters.order || "desc", limit: pageSize };
  const key = JSON.stringify(apiQuery);
  const tables = useResource(() => get(apiPath(id, "tables")), [id]);
  const [live, setLive] = useState(false);
  const files = useResource(
    async () => {
      const q = new URLSearchParams(Object.entries(apiQuery).filter(([, v]) => v !== ""));
      const page = await request("GET", apiPath(id, "files") + "?" + q);
      setLive(page.data.some((f) => unfinished(f.status)));
      return page;
    },
    [id, key],
    live ? liveEveryMs : idleEveryMs,
  );
  const action = useAction();
  const rows = files.data ? files.data.data : [];
  const next = files.data ? nextQuery(files.data.next) : null;
  const paged = place.after || place.before;

  return html`<section>
    <${Title}>Files of ${id}<//>
    <${ConnectionTabs} id=${id} active="files" />
    <${Filters} id=${id} filters=${filters} tables=${tables.data || []} />
    <p class="inline">
      <button type="button" class="secondary" onClick=${files.reload}>Refresh</button>
      ${live && html`<span class="live" role="status">live: files are loading</span>`}
    </p>
    <${ErrorText} error=${files.error || action.error} />
    <${Message} text=${action.message} />
    ${!files.data && !files.error && html`<${Loading} what="files" />`}
    ${files.data && !rows.length && html`<p class="muted">No file on this page.</p>`}
    ${rows.length > 0 &&
    html`<${Scroll} label="Files">
      <table class="grid stack files">
        <thead>
          <tr>
            <th scope="col" class="num">#</th><th scope="col">Table</th><th scope="col">Key</th>
            <th scope="col" class="num">Size</th><th scope="col">Status</th>
            <th scope="col" class="num">Inserted</th><th scope="col" class="num">Updated</th>
            <th scope="col" class="num">Refused</th><th scope="col">Error</th>
            <th scope="col">Received</th><th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (f) => html`<tr key=${f.seq} data-seq=${f.seq}>
              <td data-label="#" class="num"><${Link} href=${filePath(id, f.seq)}>${f.seq}<//></td>
              <td data-label="Table">${f.table}</td>
              <td data-label="Key" class="key"><code>${f.key}</code></td>
              <td data-label="Size" class="num">${bytes(f.size)}</td>
              <td data-label="Status"><${Badge} value=${f.status} /></td>
              <td data-label="Inserted" class="num">${count(f.inserted)}</td>
              <td data-label="Updated" class="num">${count(f.updated)}</td>
              <td data-label="Refused" class="num">${count(f.refused)}</td>
              <td data-label="Error" class="error-cell">
                <span>
                  ${f.error_code && html`<strong>${f.error_code}</strong> `}${f.error_message}
                </span>
              </td>
              <td data-label="Received">${time(f.received_at)}</td>
              <td data-label="Actions">
                <${FileActions} connection=${id} file=${f} action=${action} onDone=${files.reload} />
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
    <//>`}
    <p class="pager">
      ${paged && html`<${Link} href=${filesPath(id, filters)}>First page<//>`}
      ${next && html`<${Link} href=${filesPath(id, next)}>Next page<//>`}
    </p>
  </section>`;
}
