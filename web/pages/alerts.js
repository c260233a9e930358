// Alerts (/alerts?endpoint=&before=): where sluice tells someone that something happened. The
// endpoints (GET /api/v1/alerts/endpoints), each a webhook or e-mail recipients, of one
// connection or all, with the events it receives and the thresholds of the conditions it
// watches; for admins a form to add one (a webhook's signing secret is shown here once),
// enable/disable, delete and "Send test". Below, the delivery log of the endpoint the URL names
// (the first one otherwise), newest first, a page at a time, with "Redeliver"; it refreshes
// every 1.5 s while a delivery on it is pending, every 10 s otherwise.
import { html, useEffect, useRef, useState } from "../lib/html.js";
import { del, get, nextQuery, patch, post, request } from "../lib/api.js";
import { count, duration, time } from "../lib/format.js";
import { useAction, useResource } from "../lib/hooks.js";
import { connectionPath } from "../lib/paths.js";
import { Link, navigate } from "../lib/router.js";
import { canWrite, useSession } from "../lib/session.js";
import { Badge, CodeBlock, ErrorText, Loading, Message, Scroll, Title } from "../lib/ui.js";

const pageSize = 50;
const liveEveryMs = 1500;
const idleEveryMs = 10000;

// Every event type, in the order the form offers them, with what it means.
const eventTypes = [
  ["file.failed", "a file failed to load, with its error code and message"],
  ["file.loaded", "a file loaded: one event per file, so a busy table sends many"],
  ["table.blocked", "a failed file holds its table back (on_error: block)"],
  ["table.unblocked", "the file that blocked a table was retried or skipped"],
  ["backlog.lagging", "a table's oldest waiting file is too old, or too many files wait"],
  ["backlog.recovered", "a lagging table is back within both limits"],
  ["table.idle", "a table received no file for a while"],
  ["schema.changed", "a table's columns changed: one added or widened"],
  ["digest", "a summary, on a schedule"],
];

const formats = {
  cloudevents: "CloudEvents 1.0 JSON, signed (Standard Webhooks headers)",
  slack: "Slack incoming webhook: one line of text",
};

// The fresh form: the two events an operator most wants, the API's default lag limit.
const emptyForm = {
  name: "",
  kind: "webhook",
  target: "",
  format: "cloudevents",
  connection: "",
  events: ["file.failed", "table.blocked"],
  lagMinutes: "15",
  lagFiles: "0",
  idleHours: "24",
  digest: "",
};

const watchesLag = (events) =>
  events.includes("backlog.lagging") || events.includes("backlog.recovered");

// The page's own URL: which endpoint's log, and which page of it.
function alertsPath(query) {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v));
  const s = q.toString();
  return s ? "/alerts?" + s : "/alerts";
}

// An API path under /api/v1/alerts/. The admin API matches raw path segments (no %XX decoding),
// and a delivery id is "<event id>:<endpoint id>", so ":" (legal in a segment) stays as it is.
const alertsApi = (...segments) =>
  "/api/v1/alerts/" +
  segments.map((s) => encodeURIComponent(s).replaceAll("%3A", ":")).join("/");

// The POST body of the form; throws (shown beside the form) what the form cannot send.
function bodyOf(form) {
  const events = eventTypes.map(([type]) => type).filter((t) => form.events.includes(t));
  if (!events.length) throw new Error("Choose at least one event to send.");
  const body = {
    name: form.name.trim(),
    kind: form.kind,
    target: form.target.trim(),
    format: form.kind === "email" ? "email" : form.format,
    events,
  };
  if (form.connection) body.connection = form.connection;
  // A threshold is sent only with the events that use it; the server's defaults stand for the
  // rest (lag 900 s, no file limit, never idle, no digest).
  if (watchesLag(events)) {
    body.lag_age_seconds = Math.round(Number(form.lagMinutes) * 60);
    body.lag_files = Math.round(Number(form.lagFiles) || 0);
  }
  if (events.includes("table.idle")) body.idle_hours = Math.round(Number(form.idleHours));
  if (events.includes("digest")) body.digest = form.digest.trim();
  return body;
}

// What an endpoint's conditions are, in words, for the events that have them.
function conditions(endpoint) {
  const events = endpoint.events || [];
  const out = [];
  if (watchesLag(events)) {
    const files = endpoint.lag_files ? ` or more than ${count(endpoint.lag_files)} files wait` : "";
    out.push(`lagging: oldest file older than ${duration(endpoint.lag_age_seconds)}${files}`);
  }
  if (events.includes("table.idle")) {
    out.push(endpoint.idle_hours ? `idle: no file for ${endpoint.idle_hours} h` : "idle: never");
  }
  if (endpoint.digest) out.push(`digest: ${endpoint.digest} (UTC)`);
  return out;
}

function kindText(endpoint) {
  if (endpoint.kind === "email") return "e-mail";
  return `webhook (${endpoint.format === "slack" ? "Slack" : "CloudEvents"})`;
}

// The signing secret of the webhook just added, once. It takes the focus, which also scrolls it
// into view: the form that was submitted is gone from under the pointer.
function NewSecret({ created, onDismiss }) {
  const ref = useRef(null);
  useEffect(() => {
    if (ref.current) ref.current.focus();
  }, []);
  return html`<div class="secret" role="region" aria-label="New webhook secret" tabindex="-1"
    ref=${ref}>
    <h3>Signing secret of ${created.endpoint.name}: copy it now</h3>
    <p>
      This is the only time it is shown. The receiver checks each request's${" "}
      <code>webhook-signature</code> header with it (Standard Webhooks): HMAC-SHA256 of${" "}
      <code>webhook-id.webhook-timestamp.body</code> keyed with the base64-decoded secret
      after <code>whsec_</code>.
    </p>
    <${CodeBlock} title="signing secret" text=${created.secret} />
    <button type="button" class="secondary" onClick=${onDismiss}>I have copied it</button>
  </div>`;
}

function EventChoices({ events, onChange }) {
  const toggle = (type) => (e) =>
    onChange(e.target.checked ? [...events, type] : events.filter((t) => t !== type));
  return html`<fieldset class="choices events">
    <legend>Events</legend>
    ${eventTypes.map(
      ([type, meaning]) => html`<label class="choice" key=${type}>
        <input type="checkbox" value=${type} checked=${events.includes(type)}
          onChange=${toggle(type)} />
        <span><code>${type}</code>: ${meaning}</span>
      </label>`,
    )}
  </fieldset>`;
}

function NumberField({ id, label, value, min, onInput, hint }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <input id=${id} type="number" class="short" min=${min} step="1" required value=${value}
      aria-describedby=${hint ? id + "-hint" : undefined}
      onInput=${(e) => onInput(e.target.value)} />
    ${hint && html`<p class="hint" id=${id + "-hint"}>${hint}</p>`}
  </div>`;
}

// The thresholds of the chosen events that have them, and the digest's schedule.
function Thresholds({ form, set }) {
  const lag = watchesLag(form.events);
  const idle = form.events.includes("table.idle");
  const digest = form.events.includes("digest");
  if (!lag && !idle && !digest) return null;
  return html`<fieldset class="choices">
    <legend>Thresholds</legend>
    ${lag &&
    html`<${NumberField} id="alert-lag-age" value=${form.lagMinutes} min="1"
        label="Lagging when the oldest waiting file is older than (minutes)"
        onInput=${set("lagMinutes")} />
      <${NumberField} id="alert-lag-files" value=${form.lagFiles} min="0"
        label="or when more files than this wait" hint="0: no limit on the count."
        onInput=${set("lagFiles")} />`}
    ${idle &&
    html`<${NumberField} id="alert-idle" label="Idle after this many hours without a file"
      value=${form.idleHours} min="1" onInput=${set("idleHours")} />`}
    ${digest &&
    html`<div class="field">
      <label for="alert-digest">Digest schedule (UTC)</label>
      <input id="alert-digest" required placeholder="daily@08:00" value=${form.digest}
        aria-describedby="alert-digest-hint" onInput=${(e) => set("digest")(e.target.value)} />
      <ul class="hint" id="alert-digest-hint">
        <li><code>hourly</code>: at minute 0 of every hour</li>
        <li><code>daily@08:00</code>: every day at that time</li>
        <li>
          five cron fields, minute hour day month weekday:${" "}
          <code>*/15 8-18 * * MON-FRI</code> is every quarter hour from 08:00 to 18:45 on
          weekdays
        </li>
      </ul>
    </div>`}
  </fieldset>`;
}

function NewEndpoint({ connections, onCreated }) {
  const [form, setForm] = useState(emptyForm);
  const action = useAction();
  const set = (field) => (value) => setForm((f) => ({ ...f, [field]: value }));
  const setKind = (kind) =>
    setForm((f) => ({ ...f, kind, format: kind === "email" ? "email" : "cloudevents" }));
  const submit = (event) => {
    event.preventDefault();
    action.run(async () => {
      onCreated(await post(alertsApi("endpoints"), bodyOf(form)));
      return "";
    });
  };
  const webhook = form.kind === "webhook";
  return html`<form id="new-endpoint" class="settings alert-form" onSubmit=${submit}
    aria-label="New endpoint">
    <label for="alert-name">Name</label>
    <input id="alert-name" required placeholder="on-call" value=${form.name}
      onInput=${(e) => set("name")(e.target.value)} />
    <fieldset class="choices">
      <legend>Kind</legend>
      <label class="choice">
        <input type="radio" name="alert-kind" value="webhook" checked=${webhook}
          onChange=${() => setKind("webhook")} /> webhook: an HTTP POST to a URL per event
      </label>
      <label class="choice">
        <input type="radio" name="alert-kind" value="email" checked=${!webhook}
          onChange=${() => setKind("email")} /> e-mail: a message to each recipient per event
      </label>
    </fieldset>
    <label for="alert-target">${webhook ? "URL" : "Recipients"}</label>
    <input id="alert-target" required type=${webhook ? "url" : "email"}
      multiple=${!webhook} value=${form.target} aria-describedby="alert-target-hint"
      placeholder=${webhook ? "https://hooks.example.com/sluice" : "ops@example.com, me@example.com"}
      onInput=${(e) => set("target")(e.target.value)} />
    <p class="hint" id="alert-target-hint">
      ${webhook
        ? "Where each event is POSTed; an answer of 2xx delivers it."
        : "Addresses, comma-separated."}
    </p>
    ${webhook &&
    html`<label for="alert-format">Format</label>
      <select id="alert-format" value=${form.format}
        onChange=${(e) => set("format")(e.target.value)}>
        ${Object.entries(formats).map(
          ([value, label]) => html`<option value=${value}>${label}</option>`,
        )}
      </select>`}
    <label for="alert-connection">Connection</label>
    <select id="alert-connection" value=${form.connection}
      onChange=${(e) => set("connection")(e.target.value)}>
      <option value="">every connection</option>
      ${connections.map((c) => html`<option value=${c.id}>${c.id}</option>`)}
    </select>
    <${EventChoices} events=${form.events} onChange=${set("events")} />
    <${Thresholds} form=${form} set=${set} />
    <p><button type="submit" disabled=${action.busy}>Add endpoint</button></p>
    <${ErrorText} error=${action.error} />
  </form>`;
}

// `onChanged(deleted)` runs after a change, with the id of an endpoint deleted; `onTested(id)`
// after a test was queued.
function Endpoints({ endpoints, selected, writer, action, onChanged, onTested }) {
  const name = (ep) => ep.name || ep.id;
  const setEnabled = (ep, enabled) =>
    action.run(async () => {
      await patch(alertsApi("endpoints", ep.id), { enabled });
      onChanged();
      return `${enabled ? "Enabled" : "Disabled"} ${name(ep)}.`;
    });
  const sendTest = (ep) =>
    action.run(async () => {
      await post(alertsApi("endpoints", ep.id, "test"));
      onTested(ep.id);
      // A disabled endpoint is sent nothing: its deliveries wait until it is enabled again.
      const when = ep.enabled ? "" : " It waits until the endpoint is enabled.";
      return `Queued a test event (ping) to ${name(ep)}: its delivery is in the log below.${when}`;
    });
  const remove = (ep) =>
    action.run(async () => {
      if (!window.confirm(`Delete endpoint ${name(ep)}? Its delivery log goes with it.`)) return "";
      await del(alertsApi("endpoints", ep.id));
      if (selected === ep.id) navigate(alertsPath({}), { replace: true });
      onChanged(ep.id);
      return `Deleted ${name(ep)}.`;
    });
  return html`<${Scroll} label="Endpoints">
    <table class="grid stack">
      <thead>
        <tr>
          <th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Target</th>
          <th scope="col">Scope</th><th scope="col">Events</th><th scope="col">State</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        ${endpoints.map(
          (ep) => html`<tr key=${ep.id} data-endpoint=${ep.id}>
            <td data-label="Name">
              <span>
                <strong>${name(ep)}</strong><span class="hint"><code>${ep.id}</code></span>
              </span>
            </td>
            <td data-label="Kind">${kindText(ep)}</td>
            <td data-label="Target" class="key"><code>${ep.target}</code></td>
            <td data-label="Scope">
              ${ep.connection
                ? html`<${Link} href=${connectionPath(ep.connection)}>${ep.connection}<//>`
                : "every connection"}
            </td>
            <td data-label="Events">
              <div>
                <ul class="codes">
                  ${(ep.events || []).map((e) => html`<li key=${e}><code>${e}</code></li>`)}
                </ul>
                ${conditions(ep).map((c) => html`<p class="hint" key=${c}>${c}</p>`)}
              </div>
            </td>
            <td data-label="State">
              <span>
                <${Badge} value=${ep.enabled ? "enabled" : "disabled"} />
                ${!ep.enabled &&
                ep.disabled_reason &&
                html`<span class="hint">${ep.disabled_reason}</span>`}
              </span>
            </td>
            <td data-label="Actions">
              <span class="actions">
                <${Link} class=${"button small" + (ep.id === selected ? "" : " secondary")}
                  href=${alertsPath({ endpoint: ep.id })}
                  aria-current=${ep.id === selected ? "true" : undefined}
                  aria-label=${"Deliveries to " + name(ep)}>Deliveries<//>
                ${writer &&
                html`<button type="button" class="small" disabled=${action.busy}
                    onClick=${() => sendTest(ep)} aria-label=${"Send test to " + name(ep)}>
                    Send test
                  </button>
                  <button type="button" class="secondary small" disabled=${action.busy}
                    onClick=${() => setEnabled(ep, !ep.enabled)}
                    aria-label=${(ep.enabled ? "Disable " : "Enable ") + name(ep)}>
                    ${ep.enabled ? "Disable" : "Enable"}
                  </button>
                  <button type="button" class="danger small" disabled=${action.busy}
                    onClick=${() => remove(ep)} aria-label=${"Delete endpoint " + name(ep)}>
                    Delete
                  </button>`}
              </span>
            </td>
          </tr>`,
        )}
      </tbody>
    </table>
  <//>`;
}

// The last answer of a delivery's target: its HTTP status (or SMTP's 250), and its error.
function LastAnswer({ delivery }) {
  const status = delivery.last_status
    ? String(delivery.last_status)
    : delivery.attempts
      ? "no answer"
      : "–";
  return html`<span>
    ${status}${delivery.last_error && html`<span class="hint">${delivery.last_error}</span>`}
  </span>`;
}

// `poke` changes when a delivery was just queued elsewhere on the page (a test): the log then
// reloads at once rather than at its next refresh.
function Deliveries({ endpoint, before, writer, poke }) {
  const [live, setLive] = useState(false);
  const log = useResource(
    async () => {
      const q = new URLSearchParams({ endpoint: endpoint.id, limit: String(pageSize) });
      if (before) q.set("before", before);
      const page = await request("GET", alertsApi("deliveries") + "?" + q);
      setLive(page.data.some((d) => d.status === "pending"));
      return page;
    },
    [endpoint.id, before],
    live ? liveEveryMs : idleEveryMs,
  );
  useEffect(() => {
    if (poke) log.reload();
  }, [poke]);
  const action = useAction();
  const redeliver = (d) =>
    action.run(async () => {
      await post(alertsApi("deliveries", d.id, "redeliver"));
      log.reload();
      return `Sending ${d.type} again, from its first attempt.`;
    });
  const rows = log.data ? log.data.data : [];
  // The API's Link header names the next (older) page by its `before`.
  const next = log.data ? (nextQuery(log.data.next) || {}).before || "" : "";
  const name = endpoint.name || endpoint.id;
  return html`<section aria-labelledby="deliveries-title">
    <h2 id="deliveries-title">Deliveries to ${name}</h2>
    <p class="inline">
      <button type="button" class="secondary" onClick=${log.reload}>Refresh</button>
      ${live && html`<span class="live" role="status">live: deliveries are pending</span>`}
    </p>
    <${ErrorText} error=${log.error || action.error} />
    <${Message} text=${action.message} />
    ${!log.data && !log.error && html`<${Loading} what="deliveries" />`}
    ${log.data &&
    !rows.length &&
    html`<p class="muted">
      ${before
        ? "No delivery on this page."
        : "No delivery yet: events show here as they happen, or send a test."}
    </p>`}
    ${rows.length > 0 &&
    html`<${Scroll} label="Deliveries">
      <table class="grid stack">
        <thead>
          <tr>
            <th scope="col">Time</th><th scope="col">Event</th><th scope="col">Status</th>
            <th scope="col" class="num">Attempts</th><th scope="col">Last answer</th>
            <th scope="col">Last attempt</th>
            ${writer && html`<th scope="col">Actions</th>`}
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (d) => html`<tr key=${d.id} data-delivery=${d.id}>
              <td data-label="Time">${time(d.time)}</td>
              <td data-label="Event" class="key">
                <div>
                  <code>${d.type}</code>
                  ${(d.connection || d.subject) &&
                  html`<span class="hint">
                    ${[d.connection, d.subject].filter(Boolean).join(" / ")}
                  </span>`}
                  <details class="delivery-data">
                    <summary>data</summary>
                    <pre><code>${JSON.stringify(d.data || {}, null, 2)}</code></pre>
                  </details>
                </div>
              </td>
              <td data-label="Status">
                <span>
                  <${Badge} value=${d.status} />
                  ${d.status === "pending" &&
                  d.attempts > 0 &&
                  html`<span class="hint">next try ${time(d.next_attempt_at)}</span>`}
                </span>
              </td>
              <td data-label="Attempts" class="num">${count(d.attempts)}</td>
              <td data-label="Last answer" class="error-cell"><${LastAnswer} delivery=${d} /></td>
              <td data-label="Last attempt">${time(d.delivered_at || d.last_attempt_at)}</td>
              ${writer &&
              html`<td data-label="Actions">
                <span class="actions">
                  <button type="button" class="secondary small" disabled=${action.busy}
                    onClick=${() => redeliver(d)} aria-label=${`Redeliver ${d.type} ${d.event_id}`}>
                    Redeliver
                  </button>
                </span>
              </td>`}
            </tr>`,
          )}
        </tbody>
      </table>
    <//>`}
    <p class="pager">
      ${before &&
      html`<${Link} href=${alertsPath({ endpoint: endpoint.id })}>Newest deliveries<//>`}
      ${next &&
      html`<${Link} href=${alertsPath({ endpoint: endpoint.id, before: next })}>
        Older deliveries
      <//>`}
    </p>
  </section>`;
}

export function Alerts({ query }) {
  const writer = canWrite(useSession());
  const endpoints = useResource(() => get(alertsApi("endpoints")), []);
  const connections = useResource(() => (writer ? get("/api/v1/connections") : []), [writer]);
  // Whether the form is open; null until the user says: open while there is no endpoint.
  const [adding, setAdding] = useState(null);
  // {endpoint, secret}: the webhook just added, whose secret is shown until dismissed.
  const [fresh, setFresh] = useState(null);
  const [added, setAdded] = useState("");
  const action = useAction();
  const list = endpoints.data || [];
  const open = adding === null ? Boolean(endpoints.data) && !list.length : adding;
  const wanted = query.get("endpoint") || "";
  const shown = list.find((ep) => ep.id === wanted) || list[0] || null;
  const onCreated = (created) => {
    setAdding(false);
    setFresh(created.secret ? created : null);
    setAdded(`Added endpoint ${created.endpoint.name}.`);
    endpoints.reload();
    navigate(alertsPath({ endpoint: created.endpoint.id }));
  };
  // Bumped by a test, which the log of its endpoint (opened for it) then shows.
  const [tests, setTests] = useState(0);
  const onChanged = (deleted) => {
    if (fresh && fresh.endpoint.id === deleted) setFresh(null);
    setAdded("");
    endpoints.reload();
  };
  const onTested = (id) => {
    setAdded("");
    setTests((n) => n + 1);
    navigate(alertsPath({ endpoint: id }));
  };
  const toggle = () => {
    setAdding(!open);
    setAdded("");
  };
  return html`<section>
    <${Title}>Alerts<//>
    <p class="hint">
      Each endpoint receives the events it subscribes to as they happen: a webhook as an HTTP
      POST, e-mail as a message. A delivery that fails is tried again later; every attempt is in
      its endpoint's log.
    </p>
    <h2>Endpoints</h2>
    <${ErrorText} error=${endpoints.error || connections.error || action.error} />
    <${Message} text=${action.message} />
    ${!endpoints.data && !endpoints.error && html`<${Loading} what="endpoints" />`}
    ${endpoints.data && !list.length && html`<p class="muted">No endpoint yet: nobody is told.</p>`}
    ${list.length > 0 &&
    html`<${Endpoints} endpoints=${list} selected=${shown && shown.id} writer=${writer}
      action=${action} onChanged=${onChanged} onTested=${onTested} />`}
    ${writer &&
    html`<p>
      <button type="button" class="secondary" aria-expanded=${open ? "true" : "false"}
        aria-controls="new-endpoint" onClick=${toggle}>New endpoint</button>
    </p>`}
    <${Message} text=${added} />
    ${fresh && html`<${NewSecret} created=${fresh} onDismiss=${() => setFresh(null)} />`}
    ${writer &&
    open &&
    html`<${NewEndpoint} connections=${connections.data || []} onCreated=${onCreated} />`}
    ${shown &&
    html`<${Deliveries} key=${shown.id} endpoint=${shown} before=${query.get("before") || ""}
      writer=${writer} poke=${tests} />`}
  </section>`;
}
