// Who is logged in. A session is the answer of POST or GET /api/v1/session:
// {user, role: "admin" | "viewer", csrf_token, expires_at}; the cookie itself is HttpOnly and
// never seen here. Pages read it through useSession() and hide what a viewer may not do (the
// server refuses it anyway: hiding is for clarity, not for safety).
import { createContext, useContext } from "./html.js";
import { ApiError, del, get, post, setCsrfToken } from "./api.js";

export const SessionContext = createContext(null);

export const useSession = () => useContext(SessionContext);

export const canWrite = (session) => Boolean(session) && session.role === "admin";

export async function login(user, password) {
  const session = await post("/api/v1/session", { user, password });
  setCsrfToken(session.csrf_token);
  return session;
}

// The current session, or null when the cookie is missing or expired.
export async function restore() {
  try {
    const session = await get("/api/v1/session");
    setCsrfToken(session.csrf_token);
    return session;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function logout() {
  try {
    await del("/api/v1/session");
  } finally {
    setCsrfToken("");
  }
}
