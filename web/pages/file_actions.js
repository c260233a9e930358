// What can be done with one file of the ledger, wherever it is listed: download its bytes as
// pushed, retry a failed one (it becomes the next file its table loads), load a skipped one
// anyway (force: a duplicate is loaded again), skip a failed one. One home, so the Files,
// file and Errors pages offer the same choices with the same words.
import { html } from "../lib/html.js";
import { apiPath, post } from "../lib/api.js";
import { canWrite, useSession } from "../lib/session.js";

export function contentHref(connection, seq) {
  return apiPath(connection, "files", String(seq), "content");
}

// `action` is a useAction() of the page; `onDone` runs after a retry or skip succeeded.
export function FileActions({ connection, file, action, onDone }) {
  const writer = canWrite(useSession());
  const act = (verb, query = "") =>
    action.run(async () => {
      const answer = await post(apiPath(connection, "files", String(file.seq), verb) + query);
      if (onDone) onDone(answer);
      return answer.message;
    });
  return html`<span class="actions">
    ${!file.purged_at &&
    html`<a class="button secondary small" href=${contentHref(connection, file.seq)} download
      aria-label=${"Download file " + file.seq}>Download</a>`}
    ${writer &&
    file.status === "failed" &&
    html`<button type="button" class="small" disabled=${action.busy} onClick=${() => act("retry")}
        aria-label=${"Retry file " + file.seq}>Retry</button>
      <button type="button" class="secondary small" disabled=${action.busy} onClick=${() => act("skip")}
        aria-label=${"Skip file " + file.seq}>Skip</button>`}
    ${writer &&
    file.status === "skipped" &&
    html`<button type="button" class="secondary small" disabled=${action.busy}
      onClick=${() => act("retry", "?force=true")} aria-label=${`Load file ${file.seq} anyway`}>
      Load anyway
    </button>`}
  </span>`;
}
