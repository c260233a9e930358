// Table setup (/connections/<id>/add-table, /connections/<id>/tables/<table>): a flat or nested
// table's keys, age and delete columns, on_error, and for a nested one its example record,
// child keys, children modes and columns kept as JSON. While the form changes, the tables it
// derives are previewed live (POST .../tables/preview, debounced), from the pasted example or,
// with "preview from a landed file" (?file=SEQ), from that file's records. Saving is POST for
// a new table, PUT for an existing one. A viewer sees the saved configuration, read-only.
import { html, useEffect, useMemo, useRef, useState } from "../lib/html.js";
import { apiPath, get, post, put } from "../lib/api.js";
import { useAction, useDebounced } from "../lib/hooks.js";
import { filesPath, historyPath, tablePath } from "../lib/paths.js";
import { Link, navigate } from "../lib/router.js";
import { canWrite, useSession } from "../lib/session.js";
import { ConnectionTabs, ErrorText, Loading, Message, Title } from "../lib/ui.js";
import { DerivedTable } from "./derived_table.js";
import { configOf, emptyForm, formOf } from "./table_config.js";

const previewDelayMs = 400;

// The preview of `config` (planned for landed file `file` when set), once it has stopped
// changing for previewDelayMs. Only the newest answer is shown, and the last good one stays
// beside an error, so that a child key being typed does not make its own input vanish.
function usePreview(connection, config, file, enabled) {
  const [preview, setPreview] = useState(null);
  const [error, setError] = useState(null);
  const settled = useDebounced(JSON.stringify({ config, file }), previewDelayMs);
  const generation = useRef(0);
  useEffect(() => {
    const { config: c, file: f } = JSON.parse(settled);
    if (!enabled || !c || !c.table) return;
    const mine = ++generation.current;
    const query = f ? "?file=" + encodeURIComponent(f) : "";
    post(apiPath(connection, "tables", "preview") + query, c).then(
      (answer) => {
        if (mine !== generation.current) return;
        setPreview(answer);
        setError(null);
      },
      (e) => mine === generation.current && setError(e),
    );
  }, [settled, enabled, connection]);
  return { preview, error };
}

function TextField({ id, label, value, onInput, placeholder, hint, required, readOnly }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <input id=${id} value=${value} placeholder=${placeholder} required=${required}
      readOnly=${readOnly} aria-describedby=${hint ? id + "-hint" : undefined}
      onInput=${(e) => onInput(e.target.value)} />
    ${hint && html`<p class="hint" id=${id + "-hint"}>${hint}</p>`}
  </div>`;
}

function Choice({ name, value, current, onChange, children }) {
  return html`<label class="choice">
    <input type="radio" name=${name} value=${value} checked=${current === value}
      onChange=${() => onChange(value)} /> ${children}
  </label>`;
}

// What the nested kind adds to the form: the example record and the paths kept as JSON.
function NestedFields({ form, set }) {
  const hint =
    form.schema && !form.example.trim()
      ? "The saved record type is used; paste an example to replace it."
      : "One record as you would push it; arrays need one element to be typed.";
  return html`<div class="field">
      <label for="table-example">Example record (JSON)</label>
      <textarea id="table-example" rows="10" spellcheck="false"
        aria-describedby="table-example-hint" value=${form.example}
        placeholder='{"order_id": 1, "line_items": [{"order_line_id": 1, "product": "tea"}]}'
        onInput=${(e) => set("example")(e.target.value)}></textarea>
      <p class="hint" id="table-example-hint">${hint}</p>
    </div>
    <${TextField} id="table-keep-json" label="Keep as JSON (optional)" value=${form.keepJson}
      placeholder="customer.address" onInput=${set("keepJson")}
      hint="Paths stored as one JSON column instead of being unnested." />`;
}

function FilePreviewField({ fileSeq, setFileSeq, fromFile, setFromFile }) {
  const stop = () => {
    setFromFile("");
    setFileSeq("");
  };
  return html`<div class="field">
    <label for="table-file">Preview from a landed file</label>
    <div class="inline">
      <input id="table-file" class="short" inputmode="numeric" placeholder="file #"
        value=${fileSeq} onInput=${(e) => setFileSeq(e.target.value.trim())} />
      <button type="button" class="secondary" onClick=${() => setFromFile(fileSeq)}>
        Preview file
      </button>
      ${fromFile &&
      html`<button type="button" class="secondary" onClick=${stop}>Stop previewing the file</button>`}
    </div>
    ${fromFile && html`<p class="hint">Planned for the records of file #${fromFile}.</p>`}
  </div>`;
}

export function TableSetup({ params, query }) {
  const { id } = params;
  const existing = params.table || "";
  const writer = canWrite(useSession());
  const [form, setForm] = useState({ ...emptyForm, name: query.get("name") || "" });
  const [saved, setSaved] = useState(null); // GET's answer: what a viewer is shown
  const [loadError, setLoadError] = useState(null);
  const [fileSeq, setFileSeq] = useState(query.get("file") || "");
  const [fromFile, setFromFile] = useState(query.get("file") || "");
  const save = useAction();
  const retry = useAction();

  useEffect(() => {
    if (!existing) return;
    get(apiPath(id, "tables", existing)).then((table) => {
      setForm(formOf(table));
      setSaved(table);
    }, setLoadError);
  }, [id, existing]);

  const loaded = !existing || saved !== null;
  const set = (field) => (value) => setForm((f) => ({ ...f, [field]: value }));
  const setChild = (path) => (child) =>
    setForm((f) => ({ ...f, children: { ...f.children, [path]: child } }));
  const { config, problem } = useMemo(() => configOf(form), [form]);
  const live = usePreview(id, problem ? null : config, fromFile, writer && loaded);

  const submit = (event) => {
    event.preventDefault();
    save.run(async () => {
      if (problem) throw new Error(problem);
      if (existing) {
        await put(apiPath(id, "tables", existing), config);
      } else {
        await post(apiPath(id, "tables"), config);
        // The new table's page, under its own path from now on.
        navigate(tablePath(id, config.table, { file: fromFile, saved: 1 }), { replace: true });
      }
      return `Saved table ${config.table}: the next file loads with it.`;
    });
  };
  const retryFile = () =>
    retry.run(async () => (await post(apiPath(id, "files", fromFile, "retry"))).message);

  const title = existing ? `Table ${existing}` : "Add a table";
  if (loadError) {
    return html`<section><${Title}>${title}<//><${ErrorText} error=${loadError} /></section>`;
  }
  if (!loaded) {
    return html`<section><${Title}>${title}<//><${Loading} what="the table" /></section>`;
  }
  const shown = writer ? live.preview : saved;
  const reopened = query.get("saved") ? `Saved table ${existing}: the next file loads with it.` : "";
  const savedMessage = save.message || reopened;
  return html`<section>
    <${Title}>${title}<//>
    <${ConnectionTabs} id=${id} />
    ${existing &&
    html`<p class="links">
      <${Link} href=${filesPath(id, { table: existing })}>Files<//>
      <${Link} href=${historyPath(id, existing)}>Schema history<//>
    </p>`}
    <div class="setup">
      <form class="setup-form" onSubmit=${submit} aria-label="Table configuration">
        <fieldset disabled=${!writer}>
          <${TextField} id="table-name" label="Table" value=${form.name} required
            placeholder="orders" readOnly=${Boolean(existing)} onInput=${set("name")}
            hint=${existing ? "A name cannot change." : "Files pushed under <table>/ load into it."} />
          <fieldset class="choices">
            <legend>Kind</legend>
            <${Choice} name="kind" value="flat" current=${form.kind} onChange=${set("kind")}>
              flat: one table, columns from the files
            <//>
            <${Choice} name="kind" value="nested" current=${form.kind} onChange=${set("kind")}>
              nested: a table per array, from an example record
            <//>
          </fieldset>
          <${TextField} id="table-pk" label="Primary key" value=${form.pk} required
            placeholder="order_id" onInput=${set("pk")}
            hint="Columns, comma-separated: tenant, order_id." />
          <${TextField} id="table-age" label="Age column (optional)" value=${form.age}
            placeholder="updated_at" onInput=${set("age")}
            hint="A row older than the stored one is refused." />
          <${TextField} id="table-delete" label="Delete column (optional)" value=${form.del}
            placeholder="_deleted" onInput=${set("del")}
            hint="A row whose value is true deletes the stored row." />
          <div class="field">
            <label for="table-on-error">When a file fails</label>
            <select id="table-on-error" value=${form.onError}
              onChange=${(e) => set("onError")(e.target.value)}>
              <option value="block">block: files behind it wait until it is retried or skipped</option>
              <option value="skip">skip: move on past it</option>
            </select>
          </div>
          <div class="field">
            <label class="choice">
              <input type="checkbox" id="table-hidden-keys" checked=${form.hiddenKeys}
                aria-describedby="table-hidden-keys-hint"
                onChange=${(e) => set("hiddenKeys")(e.target.checked)} />
              Load hidden keys
            </label>
            <p class="hint" id="table-hidden-keys-hint">
              Keys with a part starting with _ or . (a Spark job's _temporary/ files, _SUCCESS) are
              stored but not loaded unless this is on.
            </p>
          </div>
          ${form.kind === "nested" && html`<${NestedFields} form=${form} set=${set} />`}
          <${FilePreviewField} fileSeq=${fileSeq} setFileSeq=${setFileSeq} fromFile=${fromFile}
            setFromFile=${setFromFile} />
          ${writer &&
          html`<button type="submit" disabled=${save.busy}>
            ${existing ? "Save changes" : "Save table"}
          </button>`}
        </fieldset>
        <${ErrorText} error=${save.error} />
        <${Message} text=${savedMessage} />
        ${savedMessage &&
        fromFile &&
        writer &&
        html`<p>
          <button type="button" disabled=${retry.busy} onClick=${retryFile}>
            Retry file #${fromFile} now
          </button>
          <${ErrorText} error=${retry.error} />
          <${Message} text=${retry.message} />
        </p>`}
      </form>
      <div class="preview" aria-live="polite" aria-label="Derived tables">
        <h2>Derived tables</h2>
        ${problem && form.kind === "nested" && html`<p class="hint">${problem}</p>`}
        ${writer && !form.name.trim() && html`<p class="hint">Name the table to see what it makes.</p>`}
        <${ErrorText} error=${live.error} />
        ${shown && shown.conflict && html`<p class="error" role="alert">${shown.conflict}</p>`}
        ${shown &&
        shown.tables.map(
          (t) => html`<${DerivedTable} key=${t.path || "(root)"} table=${t}
            editable=${writer && form.kind === "nested"}
            child=${form.children[t.path] || { pk: "", mode: "" }} onChild=${setChild(t.path)} />`,
        )}
      </div>
    </div>
  </section>`;
}
