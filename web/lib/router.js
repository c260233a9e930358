// Client-side routing with the History API. Every page has a real path (the server answers any
// GET path outside /api/ and /assets/ with index.html), so a reload or a pasted link lands on
// the same page.
import { html, useEffect, useState } from "./html.js";

const listeners = new Set();

function location() {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

function notify() {
  for (const listener of listeners) listener(location());
}

window.addEventListener("popstate", notify);

export function navigate(to, { replace = false } = {}) {
  if (replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  notify();
}

// The current {path, query}, re-rendering on every navigation.
export function useLocation() {
  const [current, setCurrent] = useState(location);
  useEffect(() => {
    listeners.add(setCurrent);
    return () => listeners.delete(setCurrent);
  }, []);
  return current;
}

// The parameters of `path` under `pattern` ("/connections/:id"), or null when it does not match.
export function match(pattern, path) {
  const want = pattern.split("/");
  const got = path.replace(/\/+$/, "").split("/");
  if (pattern === "/" && (path === "/" || path === "")) return {};
  if (want.length !== got.length) return null;
  const params = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(":")) {
      if (!got[i]) return null;
      params[want[i].slice(1)] = decodeURIComponent(got[i]);
    } else if (want[i] !== got[i]) {
      return null;
    }
  }
  return params;
}

// A real link (middle-click, copy link address and a new tab still work) that navigates in place
// on a plain click.
export function Link({ href, children, ...rest }) {
  const onClick = (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${onClick} ...${rest}>${children}</a>`;
}
