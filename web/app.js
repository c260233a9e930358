// The sluice console: a browser application over the admin API (/api/v1). This module starts
// it: it restores the session (or shows the login), draws the navigation with the open-error
// badge, polls the live status every few seconds for the pages that show it, and picks the page
// for the current path.
import { html, render, useEffect, useState } from "./lib/html.js";
import { get, setUnauthorizedHandler } from "./lib/api.js";
import { useResource } from "./lib/hooks.js";
import { errorsPath } from "./lib/paths.js";
import { Link, match, navigate, useLocation } from "./lib/router.js";
import { SessionContext, logout, restore } from "./lib/session.js";
import { ErrorText, Title } from "./lib/ui.js";
import { Login } from "./pages/login.js";
import { Overview } from "./pages/overview.js";
import { Connection } from "./pages/connection.js";
import { TableSetup } from "./pages/table_setup.js";
import { History } from "./pages/history.js";
import { Files } from "./pages/files.js";
import { FileDetail } from "./pages/file_detail.js";
import { Errors } from "./pages/errors.js";
import { Sql } from "./pages/sql.js";
import { Alerts } from "./pages/alerts.js";

const statusEveryMs = 5000;

// Path patterns, most specific first where two could match.
const routes = [
  ["/", Overview],
  ["/sql", Sql],
  ["/alerts", Alerts],
  ["/connections/:id", Connection],
  ["/connections/:id/add-table", TableSetup],
  ["/connections/:id/tables/:table", TableSetup],
  ["/connections/:id/tables/:table/history", History],
  ["/connections/:id/files", Files],
  ["/connections/:id/files/:seq", FileDetail],
  ["/connections/:id/errors", Errors],
];

function NotFound() {
  return html`<section>
    <${Title}>Not found<//>
    <p>No page here. <${Link} href="/">Back to the overview<//></p>
  </section>`;
}

// Where the error badge leads: the Errors page when one connection has all the open errors,
// else the overview, which lists them by table.
function errorsHref(status) {
  const failing = new Set(status.tables.filter((t) => t.open_errors).map((t) => t.connection));
  return failing.size === 1 ? errorsPath([...failing][0]) : "/";
}

function Navigation({ session, status, path, onLogout }) {
  const current = (href) => (href === path ? "page" : undefined);
  const errors = status ? status.open_errors : 0;
  return html`<header class="top">
    <${Link} class="brand" href="/">sluice<//>
    <nav aria-label="Main">
      <${Link} href="/" aria-current=${current("/")}>Overview<//>
      <${Link} href="/sql" aria-current=${current("/sql")}>SQL<//>
      <${Link} href="/alerts" aria-current=${current("/alerts")}>Alerts<//>
      <${Link} href=${status ? errorsHref(status) : "/"}
        class=${"error-badge" + (errors ? " has-errors" : "")}
        aria-label=${`Errors: ${errors} open`} data-testid="error-badge">
        Errors <span class="count">${errors}</span>
      <//>
    </nav>
    <div class="who">
      <span class="user">${session.user} <span class="role">${session.role}</span></span>
      <button type="button" class="secondary small" onClick=${onLogout}>Log out</button>
    </div>
  </header>`;
}

function Shell({ session, onLogout }) {
  const { path, query } = useLocation();
  const status = useResource(() => get("/api/v1/status"), [], statusEveryMs);
  let page = null;
  for (const [pattern, Page] of routes) {
    const params = match(pattern, path);
    if (params) {
      page = html`<${Page} key=${path} params=${params} query=${query} status=${status} />`;
      break;
    }
  }
  return html`<${SessionContext.Provider} value=${session}>
    <a class="skip" href="#main">Skip to the page</a>
    <${Navigation} session=${session} status=${status.data} path=${path} onLogout=${onLogout} />
    <main id="main">${page || html`<${NotFound} />`}</main>
  <//>`;
}

function App() {
  const [session, setSession] = useState(undefined); // undefined: not known yet
  const [error, setError] = useState(null);
  useEffect(() => {
    setUnauthorizedHandler(() => setSession(null));
    restore().then(setSession, setError);
  }, []);
  const onLogout = async () => {
    try {
      await logout();
    } finally {
      setSession(null);
      navigate("/");
    }
  };
  if (error) return html`<main id="main"><${ErrorText} error=${error} /></main>`;
  if (session === undefined) return html`<p class="boot">Loading…</p>`;
  if (session === null) return html`<${Login} onLogin=${setSession} />`;
  return html`<${Shell} session=${session} onLogout=${onLogout} />`;
}

render(html`<${App} />`, document.getElementById("app"));
