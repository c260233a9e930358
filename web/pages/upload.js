// Pushing one file from this browser into a table, beside each table on the connection page: the
// admin API presigns an S3 PutObject URL for <table>/<file name> (POST .../upload-url), and the
// browser PUTs the File straight to the S3 endpoint, streamed from disk, so the bytes never pass
// through the admin server and the file lands exactly as an SDK's would. Then the file is watched
// in the ledger until it has loaded or failed, as the file page watches one. Admins only: the
// presign route is a write, and a viewer is not shown the drop zone.
import { html, useEffect, useState } from "../lib/html.js";
import { apiPath, get, post } from "../lib/api.js";
import { bytes, count } from "../lib/format.js";
import { useResource } from "../lib/hooks.js";
import { filePath, filesPath } from "../lib/paths.js";
import { Link } from "../lib/router.js";
import { canWrite, useSession } from "../lib/session.js";
import { Badge, ErrorText } from "../lib/ui.js";
import { unfinished } from "./files.js";

// S3's limit for one PutObject; more needs a multipart upload, which the console does not do.
const maxBytes = 5 * 1024 ** 3;
const watchEveryMs = 1000;
// The newest files of the table, among which the one just pushed is looked for: it is in the
// ledger by the time the PUT is answered, so it is the newest file with its key.
const recentFiles = 5;
// Room for the table and "/" in S3's 1024-byte keys, with plenty to spare.
const maxNameLength = 200;

// A file name as a key's last segment: the characters S3 calls safe for keys (letters, digits,
// "." "_" "-"), accents dropped and every other run made one "_", so the key needs no escaping
// in a URL, a shell or a SQL filter. No "/" (it would invent a folder under the table), no
// leading "." (no "." or ".." segments). The extension stays, and a name cut short keeps it.
export function safeName(name) {
  const clean = (s) =>
    s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^A-Za-z0-9._-]+/g, "_");
  const trimmed = String(name).trim();
  const dot = trimmed.lastIndexOf(".");
  const ext = dot > 0 ? "." + clean(trimmed.slice(dot + 1)).replace(/[^A-Za-z0-9]/g, "") : "";
  let stem = clean(dot > 0 ? trimmed.slice(0, dot) : trimmed).replace(/^\.+/, "");
  if (!/[A-Za-z0-9]/.test(stem)) stem = "file";
  const tail = ext === "." ? "" : ext.slice(0, 16);
  return stem.slice(0, maxNameLength - tail.length) + tail;
}

// Why a file cannot be pushed, or "" when it can. `entry`: its DataTransferItem's entry when it
// was dropped (a dropped folder is a File too, of no use).
function refusal(files, entry) {
  if (files.length > 1) return "One file at a time: drop or choose just one.";
  if (entry && entry.isDirectory) {
    return `${files[0].name} is a folder: push the files in it one by one.`;
  }
  if (files[0].size > maxBytes) {
    return `${files[0].name} is ${bytes(files[0].size)}: one upload takes at most 5 GiB. ` +
      "Push it with an S3 client, which splits it into parts.";
  }
  return "";
}

// The <Code> and <Message> of an S3 error answer (XML), else its HTTP status. DOMParser only
// parses: nothing in the answer runs, and the CSP is not involved.
async function s3Error(response) {
  const text = await response.text();
  const doc = new DOMParser().parseFromString(text, "application/xml");
  const field = (name) => (doc.querySelector("Error > " + name) || {}).textContent || "";
  const code = field("Code");
  const message = field("Message");
  const said = [code, message].filter(Boolean).join(": ");
  return `The S3 endpoint refused the file (HTTP ${response.status})${said ? ": " + said : "."}`;
}

// Pushes `file` into `table`; `onState` hears each step. Resolves to what the PUT answered.
async function push(connection, table, file, onState) {
  const key = `${table}/${safeName(file.name)}`;
  onState({ phase: "signing", key, size: file.size });
  const body = { key };
  if (file.type) body.content_type = file.type;
  const signed = await post(apiPath(connection, "upload-url"), body);
  onState({ phase: "uploading", key: signed.key || key, size: file.size });
  let response;
  try {
    // Exactly the method and headers that were signed. No cookie goes along (credentials:
    // "omit"): the signature in the URL is the authority, and the S3 endpoint is another origin.
    response = await fetch(signed.url, {
      method: signed.method || "PUT",
      headers: signed.headers || {},
      body: file,
      credentials: "omit",
      cache: "no-store",
    });
  } catch (e) {
    // A network failure, and a CORS refusal too, which the browser does not detail to the page.
    const origin = new URL(signed.url).origin;
    throw new Error(
      `Could not reach the S3 endpoint ${origin} from this page (${e.message}). It must be ` +
        "reachable from this browser and answer CORS for the console's origin.",
    );
  }
  if (!response.ok) throw new Error(await s3Error(response));
  // The ETag is readable only when the endpoint exposes it (Access-Control-Expose-Headers).
  return { key: signed.key || key, size: file.size, etag: response.headers.get("ETag") || "" };
}

// The pushed file as the ledger has it, polled until it has loaded, failed or been skipped.
function Watch({ connection, table, pushed }) {
  const [watching, setWatching] = useState(true);
  const file = useResource(
    async () => {
      const q = new URLSearchParams({ table, order: "desc", limit: String(recentFiles) });
      const files = await get(apiPath(connection, "files") + "?" + q);
      const f = files.find((x) => x.key === pushed.key) || null;
      setWatching(!f || unfinished(f.status));
      return f;
    },
    [connection, table, pushed.key],
    watching ? watchEveryMs : 0,
  );
  const f = file.data;
  const files = html`<${Link} href=${filesPath(connection, { table })}>Files page<//>`;
  return html`<p>
      Pushed <code>${pushed.key}</code> (${bytes(pushed.size)})${pushed.etag &&
      html`, ETag <code>${pushed.etag}</code>`}.
    </p>
    <${ErrorText} error=${file.error} />
    ${f === null && html`<p class="muted">Waiting for it on the ${files}…</p>`}
    ${f &&
    html`<p class="upload-file">
      <${Link} href=${filePath(connection, f.seq)}>File #${f.seq}<//>
      <${Badge} value=${f.status} />
      ${f.status === "loaded" &&
      html`<span>${count(f.inserted)} inserted, ${count(f.updated)} updated</span>`}
      ${f.error_code && html`<span><strong>${f.error_code}</strong> ${f.error_message}</span>`}
      ${unfinished(f.status) && html`<span class="muted">watching…</span>`}
      <span>on the ${files}</span>
    </p>`}`;
}

// Refuses drops beside a drop zone while one is on the page: a file dropped there would make the
// browser open it in place of the console. A zone's own handlers mark the events they take
// (preventDefault), so the window sees only the rest.
let zones = 0;
function refuseStray(event) {
  if (event.defaultPrevented || !event.dataTransfer) return;
  if (![...event.dataTransfer.types].includes("Files")) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "none";
}

function useStrayDropGuard(active) {
  useEffect(() => {
    if (!active) return undefined;
    if (zones++ === 0) {
      window.addEventListener("dragover", refuseStray);
      window.addEventListener("drop", refuseStray);
    }
    return () => {
      if (--zones === 0) {
        window.removeEventListener("dragover", refuseStray);
        window.removeEventListener("drop", refuseStray);
      }
    };
  }, [active]);
}

const carriesFiles = (event) =>
  Boolean(event.dataTransfer) && [...event.dataTransfer.types].includes("Files");

// The drop zone of one table: drop a file on it, or choose one with its file input (keyboard).
export function Upload({ connection, table }) {
  const writer = canWrite(useSession());
  // phase: idle | signing | uploading | pushed | failed; `n` tells one push from the next.
  const [state, setState] = useState({ phase: "idle", n: 0 });
  const [over, setOver] = useState(false);
  useStrayDropGuard(writer);
  if (!writer) return null;

  const busy = state.phase === "signing" || state.phase === "uploading";
  const start = async (files, entry) => {
    if (busy || !files || !files.length) return;
    const n = state.n + 1;
    const why = refusal(files, entry);
    if (why) {
      setState({ phase: "failed", n, error: new Error(why) });
      return;
    }
    try {
      const pushed = await push(connection, table, files[0], (s) => setState({ ...s, n }));
      setState({ phase: "pushed", n, pushed });
    } catch (error) {
      setState({ phase: "failed", n, error });
    }
  };
  const onDragOver = (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = busy ? "none" : "copy";
    setOver(true);
  };
  const onDragLeave = (event) => {
    if (!event.currentTarget.contains(event.relatedTarget)) setOver(false);
  };
  const onDrop = (event) => {
    if (!carriesFiles(event)) return;
    // Taken here, not by the file input underneath, so a drop and a choice run the same way.
    event.preventDefault();
    setOver(false);
    const item = event.dataTransfer.items && event.dataTransfer.items[0];
    const entry = item && item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    start(event.dataTransfer.files, entry);
  };
  const onChange = (event) => {
    const files = [...event.target.files];
    // Cleared, so that choosing the same file again (after fixing the table) pushes it again.
    event.target.value = "";
    start(files, null);
  };

  const inputId = `upload-${table}`;
  return html`<div class=${"dropzone" + (over ? " over" : "") + (busy ? " busy" : "")}
    role="group" aria-label=${"Push a file into " + table}
    onDragEnter=${onDragOver} onDragOver=${onDragOver} onDragLeave=${onDragLeave} onDrop=${onDrop}>
    <label for=${inputId}>
      Drop a file here to push it into <code>${table}</code>, or choose one
    </label>
    <input id=${inputId} type="file" disabled=${busy} onChange=${onChange} />
    <div class="upload-state" aria-live="polite">
      ${state.phase === "signing" &&
      html`<p class="live">Asking for an upload URL for <code>${state.key}</code>…</p>`}
      ${state.phase === "uploading" &&
      html`<p class="live">Uploading <code>${state.key}</code> (${bytes(state.size)})…</p>`}
      ${state.phase === "pushed" &&
      html`<${Watch} key=${state.n} connection=${connection} table=${table}
        pushed=${state.pushed} />`}
      <${ErrorText} error=${state.phase === "failed" && state.error} />
    </div>
  </div>`;
}
