// The console's one door to /api/v1 (the routes are in /api/v1/openapi.json). JSON in and out;
// the browser sends the HttpOnly session cookie by itself, and every request that is not a GET
// carries the session's CSRF token, without which the server answers 403. Failures are thrown
// as ApiError with the server's message.

let csrfToken = "";
let onUnauthorized = () => {};

// The session's token, from POST or GET /api/v1/session; "" after logout.
export function setCsrfToken(token) {
  csrfToken = token || "";
}

// Called when a request other than the session's own answers 401: the session expired.
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

export class ApiError extends Error {
  constructor(response, body) {
    const text = body && typeof body.error === "string" ? body.error : response.statusText;
    super(text || `HTTP ${response.status}`);
    this.status = response.status;
    this.code = body && body.code;
    this.retryAfter = Number(response.headers.get("Retry-After")) || 0;
  }
}

// The path of a connection's resource, each segment escaped: apiPath("c", "files", 3).
export function apiPath(connection, ...segments) {
  const parts = ["connections", connection, ...segments].map((s) => encodeURIComponent(s));
  return "/api/v1/" + parts.join("/");
}

// The target of `Link: <...>; rel="next"` (RFC 8288), or "".
function nextLink(header) {
  const match = /<([^>]*)>\s*;\s*rel="?next"?/.exec(header || "");
  return match ? match[1] : "";
}

// The query of a next-page link (without its limit), for the console's own page URL: a page
// of the console shows the API page of the same query. null when there is no next page.
export function nextQuery(next) {
  if (!next) return null;
  const query = Object.fromEntries(new URL(next, window.location.href).searchParams);
  delete query.limit;
  return query;
}

// One request; resolves to {data, next} (next: the following page's URL, "" when none).
export async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    cache: "no-store",
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: text.trim() };
  }
  if (!response.ok) {
    if (response.status === 401 && path !== "/api/v1/session") onUnauthorized();
    throw new ApiError(response, data);
  }
  return { data, next: nextLink(response.headers.get("Link")) };
}

export const get = async (path) => (await request("GET", path)).data;
export const post = async (path, body = {}) => (await request("POST", path, body)).data;
export const put = async (path, body) => (await request("PUT", path, body)).data;
export const patch = async (path, body) => (await request("PATCH", path, body)).data;
export const del = async (path) => (await request("DELETE", path)).data;
