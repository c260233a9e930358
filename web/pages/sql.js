// SQL (/sql): one read-only statement on the pool (POST /api/v1/query: a row limit and a
// timeout, anything that writes refused), its result as a grid and as a CSV download.
import { html, useState } from "../lib/html.js";
import { post, request } from "../lib/api.js";
import { count } from "../lib/format.js";
import { toCsv, download } from "../lib/csv.js";
import { useAction, useResource } from "../lib/hooks.js";
import { ErrorText, Scroll, Title } from "../lib/ui.js";

function Result({ result }) {
  return html`<div class="result">
    <p class="muted" role="status">
      ${count(result.rows.length)} rows${result.truncated ? " (more were there: raise the limit)" : ""}
      ${result.elapsed_ms !== undefined && ` in ${Math.round(result.elapsed_ms)} ms`}
    </p>
    <button type="button" class="secondary"
      onClick=${() => download("query.csv", toCsv(result.columns, result.rows))}>
      Download CSV
    </button>
    <${Scroll} label="Query result">
      <table class="grid result-grid">
        <thead><tr>${result.columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
        <tbody>
          ${result.rows.map(
            (row, i) => html`<tr key=${i}>
              ${row.map((v) => (v === null ? html`<td class="null">NULL</td>` : html`<td>${v}</td>`))}
            </tr>`,
          )}
        </tbody>
      </table>
    <//>
  </div>`;
}

export function Sql() {
  const connections = useResource(async () => (await request("GET", "/api/v1/connections")).data, []);
  const [sql, setSql] = useState("");
  const [connection, setConnection] = useState("");
  const [maxRows, setMaxRows] = useState("1000");
  const [result, setResult] = useState(null);
  const action = useAction();
  const run = (event) => {
    if (event) event.preventDefault();
    action.run(async () => {
      const body = { sql, max_rows: Number(maxRows) || 1000 };
      if (connection) body.connection = connection;
      setResult(await post("/api/v1/query", body));
      return "";
    });
  };
  // Ctrl+Enter (Cmd+Enter) runs the statement from the editor.
  const onKeyDown = (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) run(event);
  };
  return html`<section>
    <${Title}>SQL<//>
    <form class="sql-form" onSubmit=${run}>
      <label for="sql-text">Statement (read-only; tables are <code>connection.table</code>)</label>
      <textarea id="sql-text" rows="6" spellcheck="false" required value=${sql}
        placeholder="SELECT * FROM shop.orders LIMIT 100"
        onInput=${(e) => setSql(e.target.value)} onKeyDown=${onKeyDown}></textarea>
      <div class="inline">
        <label for="sql-connection">Unqualified names are in</label>
        <select id="sql-connection" value=${connection}
          onChange=${(e) => setConnection(e.target.value)}>
          <option value="">the only connection</option>
          ${(connections.data || []).map((c) => html`<option value=${c.id}>${c.id}</option>`)}
        </select>
        <label for="sql-max-rows">Rows at most</label>
        <input id="sql-max-rows" class="short" type="number" min="1" max="10000" value=${maxRows}
          onInput=${(e) => setMaxRows(e.target.value)} />
        <button type="submit" disabled=${action.busy}>${action.busy ? "Running…" : "Run"}</button>
      </div>
    </form>
    <${ErrorText} error=${action.error} />
    ${result && html`<${Result} result=${result} />`}
  </section>`;
}
