// Errors (/connections/<id>/errors): the files that failed and are not passed, grouped by table
// and error code (GET .../errors), each group with its count and its newest file as the sample
// to download, retry or skip, and a way to fix the table with that file previewed.
import { html } from "../lib/html.js";
import { apiPath, get } from "../lib/api.js";
import { count, time } from "../lib/format.js";
import { useAction, useResource } from "../lib/hooks.js";
import { addTablePath, filePath, filesPath, tablePath } from "../lib/paths.js";
import { Link } from "../lib/router.js";
import { canWrite, useSession } from "../lib/session.js";
import { ConnectionTabs, ErrorText, Loading, Message, Title } from "../lib/ui.js";
import { FileActions } from "./file_actions.js";

const refreshEveryMs = 5000;

// The table's setup with the sample previewed; a file under no table configures a new one.
function fixHref(id, group) {
  const file = group.newest.seq;
  if (group.error_code === "TABLE_NOT_CONFIGURED") return addTablePath(id, { name: group.table, file });
  return tablePath(id, group.table, { file });
}

// The Files page's filters for a group's files.
const sameFiles = (group) => ({ table: group.table, status: "failed", error_code: group.error_code });

function Group({ id, group, action, onDone }) {
  const writer = canWrite(useSession());
  const sample = group.newest;
  const configure = group.error_code === "TABLE_NOT_CONFIGURED";
  return html`<article class="card error-group" aria-label=${`${group.table}: ${group.error_code}`}>
    <h3><span class="badge badge-failed">${group.error_code}</span> × ${count(group.files)}</h3>
    <p>${sample.error_message}</p>
    <p class="muted">
      newest: <${Link} href=${filePath(id, sample.seq)}>file #${sample.seq}<//>${" "}
      <code>${sample.key}</code>, received ${time(sample.received_at)}
    </p>
    <div class="actions">
      <${FileActions} connection=${id} file=${sample} action=${action} onDone=${onDone} />
      ${writer &&
      html`<${Link} class="button secondary small" href=${fixHref(id, group)}>
        ${configure ? "Configure the table" : "Fix the table"}
      <//>`}
      <${Link} class="button secondary small" href=${filesPath(id, sameFiles(group))}>
        Files with this error
      <//>
    </div>
  </article>`;
}

export function Errors({ params }) {
  const { id } = params;
  const groups = useResource(() => get(apiPath(id, "errors")), [id], refreshEveryMs);
  const action = useAction();
  const byTable = new Map();
  for (const g of groups.data || []) {
    if (!byTable.has(g.table)) byTable.set(g.table, []);
    byTable.get(g.table).push(g);
  }
  return html`<section>
    <${Title}>Errors of ${id}<//>
    <${ConnectionTabs} id=${id} active="errors" />
    <${ErrorText} error=${groups.error || action.error} />
    <${Message} text=${action.message} />
    ${!groups.data && !groups.error && html`<${Loading} what="errors" />`}
    ${groups.data &&
    !groups.data.length &&
    html`<p class="muted">No open error: every table is loading.</p>`}
    ${[...byTable.entries()].map(
      ([table, list]) => html`<section key=${table} aria-labelledby=${"errors-" + table}>
        <h2 id=${"errors-" + table}>Table ${table}</h2>
        ${list.map(
          (g) => html`<${Group} key=${g.error_code} id=${id} group=${g} action=${action}
            onDone=${groups.reload} />`,
        )}
      </section>`,
    )}
  </section>`;
}
