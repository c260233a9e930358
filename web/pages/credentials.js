// A connection's access keys (GET /api/v1/credentials?connection=ID): create one, rotate one
// (a new key beside it, then revoke the old one once every client uses the new), revoke. A new
// secret is shown here once, with the client snippets filled in; the server never shows it
// again.
import { html, useState } from "../lib/html.js";
import { get, post } from "../lib/api.js";
import { ago, time } from "../lib/format.js";
import { useAction, useResource } from "../lib/hooks.js";
import { knownEndpoint, rememberEndpoint, snippets } from "../lib/s3.js";
import { canWrite, useSession } from "../lib/session.js";
import { Badge, CodeBlock, ErrorText, Loading, Message, Scroll } from "../lib/ui.js";

// The secret of a key just created, once, with what to do next. (The snippets below carry it
// too until it is dismissed.)
function NewSecret({ created, replaces, onRevokeOld, onDismiss, busy }) {
  return html`<div class="secret" role="region" aria-label="New access key">
    <h3>New access key: copy the secret now</h3>
    <p>This is the only time the secret is shown; the snippets below carry it until you dismiss it.</p>
    <${CodeBlock} title="access key id" text=${created.access_key_id} />
    <${CodeBlock} title="secret access key" text=${created.secret_access_key} />
    <div class="actions">
      ${replaces &&
      html`<button type="button" class="danger" disabled=${busy} onClick=${onRevokeOld}>
        Revoke the old key ${replaces}
      </button>`}
      <button type="button" class="secondary" onClick=${onDismiss}>I have copied it</button>
    </div>
  </div>`;
}

export function Credentials({ connection, table, initial }) {
  const session = useSession();
  const writer = canWrite(session);
  const keys = useResource(
    () => get("/api/v1/credentials?connection=" + encodeURIComponent(connection)),
    [connection],
  );
  // {created, replaces}: the key just made, and the key it rotates (or "").
  const [fresh, setFresh] = useState(initial ? { created: initial, replaces: "" } : null);
  const action = useAction();

  const create = (replaces) =>
    action.run(async () => {
      const created = await post("/api/v1/credentials", { connection });
      rememberEndpoint(created);
      setFresh({ created, replaces });
      keys.reload();
      const then = replaces ? ` to replace ${replaces}: switch your clients, then revoke it.` : ".";
      return `Created ${created.access_key_id}${then}`;
    });
  const revoke = (key) =>
    action.run(async () => {
      const question = `Revoke ${key}? Clients using it are refused from their next request.`;
      if (!window.confirm(question)) return "";
      await post("/api/v1/credentials/" + encodeURIComponent(key) + "/revoke");
      if (fresh && fresh.replaces === key) setFresh({ ...fresh, replaces: "" });
      keys.reload();
      return `Revoked ${key}.`;
    });

  const list = keys.data || [];
  const active = list.filter((k) => k.state === "active");
  const newest = active.length ? active[active.length - 1].access_key_id : "";
  const known = knownEndpoint();
  const shown = fresh
    ? {
        endpoint: fresh.created.endpoint,
        region: fresh.created.region,
        keyId: fresh.created.access_key_id,
        secret: fresh.created.secret_access_key,
      }
    : { ...known, keyId: newest, secret: "" };

  return html`<section aria-labelledby="credentials-title">
    <h2 id="credentials-title">Credentials</h2>
    <${ErrorText} error=${keys.error || action.error} />
    <${Message} text=${action.message} />
    ${fresh &&
    html`<${NewSecret} created=${fresh.created} replaces=${fresh.replaces} busy=${action.busy}
      onRevokeOld=${() => revoke(fresh.replaces)} onDismiss=${() => setFresh(null)} />`}
    ${!keys.data && !keys.error && html`<${Loading} what="keys" />`}
    ${keys.data &&
    html`<${Scroll} label="Access keys">
      <table class="grid stack">
        <thead>
          <tr>
            <th scope="col">Access key id</th><th scope="col">State</th><th scope="col">Created</th>
            <th scope="col">Last used</th><th scope="col">Expires</th>
            ${writer && html`<th scope="col">Actions</th>`}
          </tr>
        </thead>
        <tbody>
          ${list.map(
            (k) => html`<tr key=${k.access_key_id}>
              <td data-label="Access key id"><code>${k.access_key_id}</code></td>
              <td data-label="State"><${Badge} value=${k.state} /></td>
              <td data-label="Created">${time(k.created_at)}</td>
              <td data-label="Last used" title=${k.last_used_at || ""}>${ago(k.last_used_at)}</td>
              <td data-label="Expires">${k.expires_at ? time(k.expires_at) : "never"}</td>
              ${writer &&
              html`<td data-label="Actions">
                ${k.state === "active" &&
                html`<span class="actions">
                  <button type="button" class="secondary small" disabled=${action.busy}
                    onClick=${() => create(k.access_key_id)}>Rotate</button>
                  <button type="button" class="danger small" disabled=${action.busy}
                    onClick=${() => revoke(k.access_key_id)}>Revoke</button>
                </span>`}
              </td>`}
            </tr>`,
          )}
        </tbody>
      </table>
    <//>`}
    ${keys.data && html`<p class="hint">A key's last use is recorded about once a minute.</p>`}
    ${writer &&
    html`<p>
      <button type="button" disabled=${action.busy} onClick=${() => create("")}>
        Create access key
      </button>
    </p>`}
    <h3>Push with</h3>
    ${!shown.endpoint &&
    html`<p class="hint">The S3 endpoint is not known yet: replace SLUICE_HOST.</p>`}
    ${snippets({ ...shown, bucket: connection, table }).map(
      (s) => html`<${CodeBlock} key=${s.title} title=${s.title} text=${s.text} />`,
    )}
  </section>`;
}
