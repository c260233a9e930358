// The login form: POST /api/v1/session. A wrong password answers 401; too many answer 429 with
// Retry-After while the user is locked out.
import { html, useState } from "../lib/html.js";
import { login } from "../lib/session.js";
import { ErrorText } from "../lib/ui.js";

export function Login({ onLogin }) {
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await login(user, password));
    } catch (e) {
      if (e.status === 401) setError(new Error("Wrong user name or password."));
      else if (e.status === 429) {
        const wait = e.retryAfter ? ` Try again in ${e.retryAfter} s.` : "";
        setError(new Error("Too many failed logins: locked for now." + wait));
      } else setError(e);
      setBusy(false);
    }
  };
  return html`<main id="main" class="login">
    <form class="card" onSubmit=${submit}>
      <h1>sluice</h1>
      <p class="muted">Log in to the console.</p>
      <label for="login-user">User</label>
      <input id="login-user" name="username" autocomplete="username" required
        value=${user} onInput=${(e) => setUser(e.target.value)} />
      <label for="login-password">Password</label>
      <input id="login-password" name="password" type="password" autocomplete="current-password"
        required value=${password} onInput=${(e) => setPassword(e.target.value)} />
      <${ErrorText} error=${error} />
      <button type="submit" disabled=${busy}>${busy ? "Logging in…" : "Log in"}</button>
      <p class="hint">Users are made with <code>sluice admin user add NAME --role admin</code>.</p>
    </form>
  </main>`;
}
