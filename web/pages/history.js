// Schema history (/connections/<id>/tables/<table>/history): every column created, added or
// widened, oldest first, each with the file that caused it.
import { html } from "../lib/html.js";
import { apiPath, get } from "../lib/api.js";
import { time } from "../lib/format.js";
import { useResource } from "../lib/hooks.js";
import { filePath, tablePath } from "../lib/paths.js";
import { Link } from "../lib/router.js";
import { ConnectionTabs, ErrorText, Loading, Scroll, Title } from "../lib/ui.js";

export function History({ params }) {
  const { id, table } = params;
  const history = useResource(() => get(apiPath(id, "tables", table, "history")), [id, table]);
  const changes = history.data || [];
  return html`<section>
    <${Title}>Schema history of ${table}<//>
    <${ConnectionTabs} id=${id} />
    <p class="links"><${Link} href=${tablePath(id, table)}>Table setup<//></p>
    <${ErrorText} error=${history.error} />
    ${!history.data && !history.error && html`<${Loading} what="the history" />`}
    ${history.data &&
    !changes.length &&
    html`<p class="muted">No change yet: the first file creates the table.</p>`}
    ${changes.length > 0 &&
    html`<${Scroll} label="Schema changes">
      <table class="grid stack">
        <thead>
          <tr>
            <th scope="col">When</th><th scope="col">Change</th><th scope="col">Column</th>
            <th scope="col">Type</th><th scope="col">File</th>
          </tr>
        </thead>
        <tbody>
          ${changes.map(
            (c, i) => html`<tr key=${i}>
              <td data-label="When">${time(c.changed_at)}</td>
              <td data-label="Change">${c.change}</td>
              <td data-label="Column"><code>${c.column}</code></td>
              <td data-label="Type">${c.old_type ? `${c.old_type} → ${c.new_type}` : c.new_type}</td>
              <td data-label="File"><${Link} href=${filePath(id, c.seq)}>#${c.seq}<//></td>
            </tr>`,
          )}
        </tbody>
      </table>
    <//>`}
  </section>`;
}
