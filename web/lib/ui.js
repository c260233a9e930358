// Small pieces every page uses. Styling is by class only: the Content-Security-Policy allows no
// inline style attribute (style-src 'self').
import { html, useEffect, useRef, useState } from "./html.js";
import { Link } from "./router.js";
import { connectionPath, errorsPath, filesPath } from "./paths.js";

// The page's heading; it takes the focus when the page changes, so keyboard and screen-reader
// users start reading at the new page rather than at the link they left.
export function Title({ children }) {
  const ref = useRef(null);
  useEffect(() => {
    if (ref.current && !ref.current.contains(document.activeElement)) ref.current.focus();
  }, []);
  return html`<h1 tabindex="-1" ref=${ref}>${children}</h1>`;
}

export function ErrorText({ error }) {
  if (!error) return null;
  const text = error.message || String(error);
  return html`<p class="error" role="alert">${text}</p>`;
}

export function Message({ text }) {
  return text ? html`<p class="message" role="status">${text}</p>` : null;
}

// A state or status word as a coloured badge: blocked, loading, idle, failed, loaded, ...
export function Badge({ value, title }) {
  return html`<span class=${"badge badge-" + value} title=${title}>${value}</span>`;
}

// A wide table that scrolls sideways on a phone, reachable by keyboard.
export function Scroll({ label, children }) {
  return html`<div class="scroll" tabindex="0" role="region" aria-label=${label}>${children}</div>`;
}

export function CopyButton({ text, label = "Copy" }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };
  return html`<button type="button" class="secondary small" onClick=${copy}>
    ${copied ? "Copied" : label}
  </button>`;
}

// Text to paste elsewhere (a command, a secret), with its copy button.
export function CodeBlock({ title, text }) {
  return html`<figure class="code">
    <figcaption>
      <span>${title}</span><${CopyButton} text=${text} label=${"Copy " + title} />
    </figcaption>
    <pre><code>${text}</code></pre>
  </figure>`;
}

// The sub-navigation of a connection's pages.
export function ConnectionTabs({ id, active }) {
  const tabs = [
    ["connection", connectionPath(id), "Connection"],
    ["files", filesPath(id), "Files"],
    ["errors", errorsPath(id), "Errors"],
  ];
  return html`<nav class="tabs" aria-label="Connection ${id}">
    ${tabs.map(
      ([key, href, label]) =>
        html`<${Link} href=${href} aria-current=${key === active ? "page" : undefined}>${label}<//>`,
    )}
  </nav>`;
}

export function Loading({ what }) {
  return html`<p class="muted" role="status">Loading ${what}…</p>`;
}
