// Overview: every configured table's live state from GET /api/v1/status (polled by the shell),
// the last hour of the pool's activity (GET /api/v1/status/history), the connections
// (GET /api/v1/connections, paged) and, for admins, a form to create one.
import { html, useState } from "../lib/html.js";
import { get, nextQuery, post, request } from "../lib/api.js";
import { LineChart } from "../lib/chart.js";
import { ago, bytes, count, duration, time } from "../lib/format.js";
import { useAction, useResource } from "../lib/hooks.js";
import { connectionPath, errorsPath, filesPath } from "../lib/paths.js";
import { Link, navigate } from "../lib/router.js";
import { handOffCreated, rememberEndpoint } from "../lib/s3.js";
import { canWrite, useSession } from "../lib/session.js";
import { Badge, ErrorText, Loading, Scroll, Title } from "../lib/ui.js";

function Totals({ status, tables }) {
  const blocked = tables.filter((t) => t.state === "blocked").length;
  const items = [
    ["Open errors", count(status.open_errors), status.open_errors ? "bad" : ""],
    ["Blocked tables", count(blocked), blocked ? "bad" : ""],
    ["Files waiting", count(status.backlog_files), ""],
    ["Under no table", count(status.unconfigured_files), status.unconfigured_files ? "warn" : ""],
  ];
  return html`<dl class="totals">
    ${items.map(
      ([label, value, tone]) =>
        html`<div class=${"total " + tone}><dt>${label}</dt><dd>${value}</dd></div>`,
    )}
  </dl>`;
}

const historyMinutes = 60;
// Slower than the status poll: a minute is the history's grain, so a faster poll would mostly
// redraw the same points.
const historyEveryMs = 15000;
const minuteMs = 60000;

// One value per minute of the history, oldest first, `pick` of each: the last is the newest
// minute the server named, and the minutes are placed by the server's own times rather than
// this browser's clock, which may be off. A minute the answer lacks (none does, but an empty
// answer lacks all of them) counts 0.
function perMinute(minutes, pick) {
  const values = new Array(historyMinutes).fill(0);
  if (!minutes.length) return values;
  const newest = Date.parse(minutes[minutes.length - 1].time);
  for (const m of minutes) {
    const i = historyMinutes - 1 - Math.round((newest - Date.parse(m.time)) / minuteMs);
    if (i >= 0 && i < historyMinutes) values[i] = Number(pick(m)) || 0;
  }
  return values;
}

// Rows per second, whole from 10 up; below, two significant digits, as a few rows a minute is
// a small fraction (0.05) that rounding would show as 0.
const perSecond = (n) =>
  n >= 10 ? count(Math.round(n)) : n.toLocaleString("en-US", { maximumSignificantDigits: 2 });

// The pool's last hour as two charts. Nothing until the history answers, and nothing when it
// cannot: a server without the route answers 404, and the charts only add to the table below,
// whose status already shows an error when the server is away.
function Activity() {
  const history = useResource(
    () => get(`/api/v1/status/history?minutes=${historyMinutes}`),
    [],
    historyEveryMs,
  );
  const minutes = history.data && history.data.minutes;
  if (!Array.isArray(minutes)) return null;
  const span = `last ${historyMinutes} minutes`;
  const axis = { from: `${historyMinutes} min ago`, to: "now", span };
  return html`<div class="charts">
      <${LineChart} label="Backlog (files)" values=${perMinute(minutes, (m) => m.backlog_files)}
        format=${count} ...${axis} />
      <${LineChart} label="Rows per second" values=${perMinute(minutes, (m) => m.rows / 60)}
        format=${perSecond} ...${axis} />
    </div>
    ${history.data.complete === false &&
    html`<p class="hint">The last hour held more files than the server reads at once: these
      counts are a lower bound.</p>`}`;
}

// When the table last loaded a file: relative, the exact time on hover; "–" when never (or
// not in the answer of a server older than the field).
function LastLoaded({ at }) {
  if (!at) return html`<span class="muted">–</span>`;
  return html`<time datetime=${at} title=${at}>${ago(at)}</time>`;
}

// The files behind a table's rows of the last 24 h, on hover.
const filesTitle = (files) =>
  files === undefined ? undefined : `${count(files)} files loaded in 24 h`;

function ErrorCodes({ connection, byCode }) {
  const codes = Object.entries(byCode || {});
  if (!codes.length) return html`<span class="muted">none</span>`;
  return html`<ul class="codes">
    ${codes.map(
      ([code, n]) => html`<li>
        <${Link} class="badge badge-failed" href=${errorsPath(connection)}>${code} × ${n}<//>
      </li>`,
    )}
  </ul>`;
}

function TableStates({ tables }) {
  if (!tables.length) {
    return html`<p class="muted">No table is configured yet: open a connection and add one.</p>`;
  }
  return html`<${Scroll} label="Tables">
    <table class="grid stack">
      <thead>
        <tr>
          <th scope="col">Connection</th><th scope="col">Table</th><th scope="col">State</th>
          <th scope="col" class="num">Backlog</th><th scope="col" class="num">Bytes</th>
          <th scope="col" class="num">Oldest pending</th><th scope="col">Last loaded</th>
          <th scope="col" class="num">Rows (24 h)</th><th scope="col">Open errors</th>
        </tr>
      </thead>
      <tbody>
        ${tables.map(
          (t) => html`<tr key=${t.connection + "/" + t.table}>
            <td data-label="Connection">
              <${Link} href=${connectionPath(t.connection)}>${t.connection}<//>
            </td>
            <td data-label="Table">
              <${Link} href=${filesPath(t.connection, { table: t.table })}>${t.table}<//>
            </td>
            <td data-label="State"><${Badge} value=${t.state} /></td>
            <td data-label="Backlog" class="num">${count(t.backlog_files)}</td>
            <td data-label="Bytes" class="num">${bytes(t.backlog_bytes)}</td>
            <td data-label="Oldest pending" class="num">${duration(t.oldest_pending_seconds)}</td>
            <td data-label="Last loaded" class="when"><${LastLoaded} at=${t.last_loaded_at} /></td>
            <td data-label="Rows (24 h)" class="num" title=${filesTitle(t.files_24h)}>
              ${count(t.rows_24h)}
            </td>
            <td data-label="Open errors">
              <${ErrorCodes} connection=${t.connection} byCode=${t.errors_by_code} />
            </td>
          </tr>`,
        )}
      </tbody>
    </table>
  <//>`;
}

// Every connection, a page of at most 1,000 at a time.
function Connections() {
  const [after, setAfter] = useState("");
  const page = useResource(
    () => request("GET", "/api/v1/connections" + (after ? "?after=" + encodeURIComponent(after) : "")),
    [after],
  );
  if (page.error) return html`<${ErrorText} error=${page.error} />`;
  if (!page.data) return html`<${Loading} what="connections" />`;
  const connections = page.data.data;
  if (!connections.length && !after) return html`<p class="muted">No connection yet.</p>`;
  const next = (nextQuery(page.data.next) || {}).after || "";
  return html`<ul class="cards">
      ${connections.map(
        (c) => html`<li class="card" key=${c.id}>
          <h3><${Link} href=${connectionPath(c.id)}>${c.id}<//></h3>
          <p class="muted">created ${time(c.created_at)} · unknown tables: ${c.unconfigured_keys}</p>
        </li>`,
      )}
    </ul>
    ${next &&
    html`<button type="button" class="secondary" onClick=${() => setAfter(next)}>
      More connections
    </button>`}`;
}

function NewConnection() {
  const [name, setName] = useState("");
  const action = useAction();
  const create = (event) => {
    event.preventDefault();
    action.run(async () => {
      const created = await post("/api/v1/connections", { name });
      rememberEndpoint(created);
      handOffCreated(created);
      navigate(connectionPath(created.bucket));
    });
  };
  return html`<form class="inline-form" onSubmit=${create}>
    <label for="new-connection">New connection</label>
    <input id="new-connection" required placeholder="name, e.g. shop" value=${name}
      onInput=${(e) => setName(e.target.value)} />
    <button type="submit" disabled=${action.busy}>Create connection</button>
    <${ErrorText} error=${action.error} />
  </form>`;
}

export function Overview({ status }) {
  const session = useSession();
  const tables = status.data ? status.data.tables : [];
  return html`<section>
    <${Title}>Overview<//>
    <${ErrorText} error=${status.error} />
    ${status.data
      ? html`<${Totals} status=${status.data} tables=${tables} />`
      : html`<${Loading} what="the status" />`}
    <${Activity} />
    <h2>Tables</h2>
    ${status.data && html`<${TableStates} tables=${tables} />`}
    <h2>Connections</h2>
    ${canWrite(session) && html`<${NewConnection} />`}
    <${Connections} />
  </section>`;
}
