// One file (/connections/<id>/files/<seq>): everything the ledger knows of it, refreshed every
// second until it has loaded, failed or been skipped, so a retry can be watched to its end.
import { html, useState } from "../lib/html.js";
import { apiPath, get } from "../lib/api.js";
import { bytes, count, time } from "../lib/format.js";
import { useAction, useResource } from "../lib/hooks.js";
import { tablePath } from "../lib/paths.js";
import { Link } from "../lib/router.js";
import { Badge, ConnectionTabs, ErrorText, Loading, Message, Title } from "../lib/ui.js";
import { FileActions } from "./file_actions.js";
import { unfinished } from "./files.js";

const watchEveryMs = 1000;

export function FileDetail({ params }) {
  const { id, seq } = params;
  const action = useAction();
  // Polls while the file is queued or loading; a retry makes it queued, so it is watched again.
  const [watching, setWatching] = useState(false);
  const file = useResource(
    async () => {
      const f = await get(apiPath(id, "files", seq));
      setWatching(unfinished(f.status));
      return f;
    },
    [id, seq],
    watching ? watchEveryMs : 0,
  );
  const f = file.data;
  const checksums = f && f.checksums ? Object.entries(f.checksums) : [];
  return html`<section>
    <${Title}>File #${seq}<//>
    <${ConnectionTabs} id=${id} active="files" />
    <${ErrorText} error=${file.error || action.error} />
    <${Message} text=${action.message} />
    ${!f && !file.error && html`<${Loading} what="the file" />`}
    ${f &&
    html`<p class="status-line" aria-live="polite">
        <${Badge} value=${f.status} />
        ${unfinished(f.status) ? " watching until it is done…" : ""}
      </p>
      <dl class="facts">
        <div><dt>Table</dt><dd><${Link} href=${tablePath(id, f.table)}>${f.table}<//></dd></div>
        <div><dt>Key</dt><dd><code>${f.key}</code></dd></div>
        <div><dt>Size</dt><dd>${bytes(f.size)}</dd></div>
        <div><dt>Received</dt><dd>${time(f.received_at)}</dd></div>
        <div><dt>Inserted</dt><dd>${count(f.inserted)}</dd></div>
        <div><dt>Updated</dt><dd>${count(f.updated)}</dd></div>
        <div><dt>Refused as stale</dt><dd>${count(f.refused)}</dd></div>
        ${f.purged_at && html`<div><dt>Bytes removed</dt><dd>${time(f.purged_at)}</dd></div>`}
        ${checksums.map(
          ([algorithm, value]) => html`<div><dt>${algorithm}</dt><dd><code>${value}</code></dd></div>`,
        )}
      </dl>
      ${f.error_code &&
      html`<div class="error-detail">
        <h2>${f.error_code}</h2>
        <p>${f.error_message}</p>
      </div>`}
      <${FileActions} connection=${id} file=${f} action=${action} onDone=${file.reload} />`}
  </section>`;
}
