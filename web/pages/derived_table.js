// One table a configuration derives (a DerivedTable of the API's preview): its key, its parent,
// its mode and its columns with their roles. A nested table's child has its element key and
// mode edited in place, beside what they change.
import { html } from "../lib/html.js";
import { Scroll } from "../lib/ui.js";

function roleOf(table, column) {
  const roles = [];
  if ((table.primary_key || []).includes(column)) roles.push("key");
  if ((table.foreign_key || []).includes(column)) roles.push("parent key");
  if (table.age_column === column) roles.push("age");
  if (table.delete_column === column) roles.push("delete");
  return roles.join(", ");
}

// `child` is the form's {pk, mode} of this table's path; `onChild` takes the edited one.
function ChildForm({ path, child, onChild }) {
  const id = "child-" + path.replace(/\W/g, "_");
  return html`<div class="child-form">
    <label for=${id + "-pk"}>Element key of ${path}</label>
    <input id=${id + "-pk"} placeholder="none: _index, the position" value=${child.pk}
      onInput=${(e) => onChild({ ...child, pk: e.target.value })} />
    <label for=${id + "-mode"}>Mode</label>
    <select id=${id + "-mode"} value=${child.mode}
      onChange=${(e) => onChild({ ...child, mode: e.target.value })}>
      <option value="">default</option>
      <option value="upsert">upsert: keep children a file does not mention</option>
      <option value="replace">replace: a parent's children are the file's</option>
    </select>
  </div>`;
}

export function DerivedTable({ table, child, editable, onChild }) {
  const key = (table.primary_key || []).join(", ");
  const parent = table.parent && ` · child of ${table.parent} by (${table.foreign_key.join(", ")})`;
  return html`<article class="derived" aria-label=${"Table " + table.name}>
    <h3>
      <code>${table.name}</code>${" "}
      <span class="muted">${table.path ? "from " + table.path : "the record"}</span>
    </h3>
    <p class="muted">key (${key})${parent}${table.mode && ` · ${table.mode}`}</p>
    ${table.path &&
    editable &&
    html`<${ChildForm} path=${table.path} child=${child} onChild=${onChild} />`}
    <${Scroll} label=${"Columns of " + table.name}>
      <table class="grid compact">
        <thead>
          <tr><th scope="col">Column</th><th scope="col">Type</th><th scope="col">Role</th></tr>
        </thead>
        <tbody>
          ${table.columns.map(
            (c) => html`<tr key=${c.name}>
              <td><code>${c.name}</code></td><td>${c.type}</td><td>${roleOf(table, c.name)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    <//>
    ${!table.columns.length &&
    html`<p class="hint">A flat table takes its columns from the files it loads.</p>`}
  </article>`;
}
