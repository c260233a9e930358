// The web console in a real Chromium (Debian's /usr/bin/chromium driven by playwright-core,
// which never downloads a browser), against a real `sluice serve` on free ports and a temporary
// data directory, the way tests/e2e/harness.py starts one.
//
// One flow, in steps that each need the one before: log in (with the keyboard), create a
// connection and a nested table from a pasted example record, push files with the AWS SDK for
// JavaScript, watch them load on the Files page, make a file fail (a flat table whose key is not
// in the JSON: PK_NOT_FOUND), find it under its error type on the Errors page, download it, fix
// the table and replay it, run SQL and download the CSV, push files from the browser onto a
// table (a file input, then a dropped file, each PUT through a presigned URL straight to the S3
// endpoint), rotate a key, add an alert webhook (pointed at a receiver the test runs on
// loopback) and watch its signed test event be delivered and redelivered; then a viewer sees no
// write control and a forged write is refused 403. Throughout, no request may leave 127.0.0.1
// and no Content-Security-Policy violation may happen. Every page is photographed at 1280 px
// and on a 390 px phone (which must not scroll sideways) into $SLUICE_SCREENSHOTS or a
// temporary folder, printed at the end; SLUICE_DOCS_SCREENSHOT=1 also refreshes
// docs/console-overview.png.
//
// Run: SLUICE_BIN=build/sluice node --test tests/browser/console.test.mjs (CTest: -L browser).

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const sourceDir = path.resolve(here, "..", "..");
const tools = createRequire(path.join(sourceDir, "tests", "tools", "package.json"));
const { chromium } = tools("playwright-core");
const { S3Client, PutObjectCommand } = tools("@aws-sdk/client-s3");

const sluice = process.env.SLUICE_BIN || path.join(sourceDir, "build", "sluice");
const chromiumPath = process.env.SLUICE_CHROMIUM || "/usr/bin/chromium";
const desktop = { width: 1280, height: 900 };
const phone = { width: 390, height: 844 };

// The console's CSP. A page may also call `s3Origin`, the S3 endpoint, where an upload from the
// browser goes; an asset's CSP names no other origin.
const expectedCsp = (s3Origin = "") =>
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  `connect-src 'self'${s3Origin ? " " + s3Origin : ""}; font-src 'self'; base-uri 'none'; ` +
  "form-action 'self'; frame-ancestors 'none'";

const example = {
  order_id: 1,
  customer: { name: "Ada", city: "Paris" },
  created_at: "2024-05-01T10:00:00Z",
  line_items: [{ order_line_id: 10, product: "tea", qty: 2 }],
  tags: ["new"],
};

// The event types an alert endpoint can subscribe to, as the Alerts page offers them.
const alertEvents = [
  "file.failed", "file.loaded", "table.blocked", "table.unblocked", "backlog.lagging",
  "backlog.recovered", "table.idle", "schema.changed", "digest",
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(predicate, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

// `sluice serve` on free ports in `dataDir`; resolves once /healthz answers. Alerts may go to
// loopback (--alert-allow-private), where the test's webhook receiver listens.
async function startServer(dataDir) {
  fs.mkdirSync(dataDir, { recursive: true });
  const log = fs.openSync(path.join(dataDir, "serve.log"), "a");
  const proc = spawn(
    sluice,
    [
      "--data-dir", dataDir, "serve", "--s3-port", "0", "--admin-port", "0",
      "--alert-allow-private",
    ],
    { stdio: ["ignore", log, log] },
  );
  let exited = null;
  proc.on("exit", (code) => (exited = code));
  const info = await waitFor(() => {
    if (exited !== null) throw new Error(`sluice serve exited with ${exited}:\n${serverLog(dataDir)}`);
    try {
      const info = JSON.parse(fs.readFileSync(path.join(dataDir, "serve.json"), "utf8"));
      return info.pid === proc.pid ? info : null;
    } catch {
      return null;
    }
  }, "sluice serve to start");
  await waitFor(async () => {
    try {
      return (await fetch(info.admin_url + "/healthz")).ok;
    } catch {
      return false;
    }
  }, "/healthz");
  return {
    adminUrl: info.admin_url,
    s3Endpoint: info.s3_endpoint,
    async stop() {
      if (exited !== null) return;
      const done = new Promise((resolve) => proc.on("exit", resolve));
      proc.kill("SIGTERM");
      await done;
    },
  };
}

function serverLog(dataDir) {
  try {
    return fs.readFileSync(path.join(dataDir, "serve.log"), "utf8").slice(-4000);
  } catch {
    return "";
  }
}

// A webhook receiver on 127.0.0.1: answers every request 200 and records it as
// {method, url, headers, body}.
async function startReceiver() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("ok\n");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks/sluice`,
    requests,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

// The JSON body of a recorded request, or null.
function jsonOf(request) {
  try {
    return JSON.parse(request.body);
  } catch {
    return null;
  }
}

// Checks a request's Standard Webhooks signature the way a receiver would: HMAC-SHA256 keyed
// with the base64-decoded secret after "whsec_", over "<webhook-id>.<webhook-timestamp>.<body>",
// one of the space-separated "v1,<base64>" values of webhook-signature.
function assertSigned(request, secret) {
  const id = request.headers["webhook-id"];
  const timestamp = request.headers["webhook-timestamp"];
  const signatures = request.headers["webhook-signature"];
  assert.ok(id && timestamp && signatures, `webhook headers: ${JSON.stringify(request.headers)}`);
  assert.match(timestamp, /^\d+$/);
  assert.ok(Math.abs(Date.now() / 1000 - Number(timestamp)) < 300, `timestamp ${timestamp}`);
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const mac = crypto.createHmac("sha256", key).update(`${id}.${timestamp}.${request.body}`);
  const expected = "v1," + mac.digest("base64");
  assert.ok(signatures.split(" ").includes(expected), `${signatures} is not ${expected}`);
}

function addUser(dataDir, name, role, password) {
  execFileSync(
    sluice,
    ["--data-dir", dataDir, "admin", "user", "add", name, "--role", role, "--password-stdin"],
    { input: password + "\n", stdio: ["pipe", "pipe", "pipe"] },
  );
}

function s3Client(endpoint, accessKeyId, secretAccessKey) {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId, secretAccessKey },
  });
}

const put = (client, key, body) =>
  client.send(new PutObjectCommand({ Bucket: "shop", Key: key, Body: body }));

// What the browser does that the test refuses: requests off loopback, CSP violations (reported
// by the page's own securitypolicyviolation event, and by Chromium on the console), script
// errors.
function watch(context) {
  context.setDefaultTimeout(15000);
  const seen = { offLoopback: [], violations: [], consoleErrors: [], pageErrors: [] };
  context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === "http:" || url.protocol === "https:") {
      if (url.hostname !== "127.0.0.1") {
        seen.offLoopback.push(url.href);
        return route.abort();
      }
    }
    return route.continue();
  });
  // An init script runs through the DevTools protocol, not as inline HTML, so the page's CSP
  // does not apply to it; the listener then sees every violation of the page itself.
  context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      const where = `${e.sourceFile}:${e.lineNumber}`;
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI} (${where})`);
    });
  });
  context.on("page", (page) => observe(page, seen));
  return seen;
}

function observe(page, seen) {
  page.on("console", (m) => {
    if (m.type() === "error") seen.consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => seen.pageErrors.push(String(e)));
}

async function collectViolations(page, seen) {
  try {
    seen.violations.push(...(await page.evaluate(() => window.__cspViolations || [])));
  } catch {
    // A page mid-navigation has no window to ask; the next collection covers it.
  }
}

// Screenshots of the current page at 1280 px and on a phone; the phone must not scroll sideways
// (wide tables scroll inside their own box).
async function photograph(page, dir, name, seen) {
  await collectViolations(page, seen);
  await page.screenshot({ path: path.join(dir, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize(phone);
  await sleep(150);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  await page.screenshot({ path: path.join(dir, `${name}-390.png`), fullPage: true });
  await page.setViewportSize(desktop);
  assert.ok(overflow <= 0, `${name}: the 390 px page scrolls sideways by ${overflow} px`);
}

async function downloadText(page, click) {
  const [download] = await Promise.all([page.waitForEvent("download"), click()]);
  const file = await download.path();
  return { name: download.suggestedFilename(), bytes: fs.readFileSync(file) };
}

// The text of a code block of the new-secret panel, by its caption.
async function secretField(page, caption) {
  const panel = page.getByRole("region", { name: "New access key" });
  const figure = panel.locator("figure").filter({
    has: page.locator("figcaption span", { hasText: new RegExp(`^${caption}$`) }),
  });
  return (await figure.locator("pre").innerText()).trim();
}

// The row of an alert endpoint in the Alerts page's listing (a delivery's data may name it too).
function endpointRow(page, name) {
  return page.getByRole("region", { name: "Endpoints" }).getByRole("row").filter({ hasText: name });
}

// A table's row on the overview: its "Rows (24 h)" as a number, its "Last loaded" text and the
// exact time behind it (null when it never loaded).
async function overviewRow(page, table) {
  const row = page.getByRole("row").filter({ hasText: table });
  const rows = await row.locator('td[data-label="Rows (24 h)"]').innerText();
  const lastLoaded = row.locator('td[data-label="Last loaded"]');
  const when = lastLoaded.locator("time");
  return {
    rows: Number(rows.trim().replaceAll(",", "")),
    lastLoaded: (await lastLoaded.innerText()).trim(),
    at: (await when.count()) ? await when.getAttribute("title") : null,
  };
}

// Waits for `table`'s overview row to show rows written and a last load (the status is polled,
// so they may take a poll to show); checks the time behind "… ago" is a recent ISO time.
async function waitForLoadedRow(page, table) {
  const row = await waitFor(async () => {
    const r = await overviewRow(page, table);
    return r.rows > 0 && r.at ? r : null;
  }, `rows and a last load of ${table} on the overview`);
  assert.match(row.lastLoaded, /^\d+ (s|min) ago$/, JSON.stringify(row));
  assert.match(row.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d/, JSON.stringify(row));
  assert.ok(Math.abs(Date.now() - Date.parse(row.at)) < 3600e3, JSON.stringify(row));
  return row;
}

async function loginWithKeyboard(page, user, password) {
  await page.getByLabel("User").focus();
  await page.keyboard.type(user);
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
}

// Runs one step as a subtest; a failed step ends the flow, as every later one needs it.
async function step(t, name, fn) {
  let failed = null;
  await t.test(name, async () => {
    try {
      await fn();
    } catch (e) {
      failed = e;
      throw e;
    }
  });
  if (failed) throw new Error(`step "${name}" failed; the steps after it need it: ${failed.message}`);
}

test("the web console, end to end in Chromium", { timeout: 300000 }, async (t) => {
  assert.ok(
    fs.existsSync(chromiumPath),
    `Chromium is not at ${chromiumPath}: install Debian's chromium (scripts/deps.sh), or set ` +
      "SLUICE_CHROMIUM. This test never downloads a browser.",
  );
  assert.ok(fs.existsSync(sluice), `no sluice binary at ${sluice}: build it, or set SLUICE_BIN`);
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-console-"));
  const dataDir = path.join(tmp, "data");
  const shots = process.env.SLUICE_SCREENSHOTS || path.join(tmp, "screenshots");
  fs.mkdirSync(shots, { recursive: true });

  const server = await startServer(dataDir);
  const admin = server.adminUrl;
  const receiver = await startReceiver();
  addUser(dataDir, "alice", "admin", "correct horse battery");
  addUser(dataDir, "victor", "viewer", "viewer's own password");

  // Root runs Chromium only without its sandbox (the test machine's container); the sandbox is
  // about hostile pages, and this one is ours.
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: desktop, acceptDownloads: true });
  const seen = watch(context);
  const page = await context.newPage();
  page.on("dialog", (dialog) => dialog.accept());
  t.after(async () => {
    await browser.close();
    await server.stop();
    await receiver.close();
    // The screenshots stay (in tmp when SLUICE_SCREENSHOTS is unset); the data directory goes.
    if (process.env.SLUICE_KEEP_TMP) return;
    fs.rmSync(process.env.SLUICE_SCREENSHOTS ? tmp : dataDir, { recursive: true, force: true });
  });

  let keyId = "";
  let secret = "";
  let failedSeq = "";
  let hookSecret = "";
  const failedBody = JSON.stringify({ id: 7, what: "signup" }) + "\n";

  await step(t, "the console's answers carry the security headers and cache rules", async () => {
    const index = await fetch(admin + "/connections/shop");
    assert.equal(index.status, 200);
    const s3Origin = new URL(server.s3Endpoint).origin;
    assert.equal(index.headers.get("content-security-policy"), expectedCsp(s3Origin));
    assert.equal(index.headers.get("x-content-type-options"), "nosniff");
    assert.equal(index.headers.get("referrer-policy"), "no-referrer");
    assert.equal(index.headers.get("cache-control"), "no-cache");
    const html = await index.text();
    const app = /src="(\/assets\/[0-9a-f]{16}\/app\.js)"/.exec(html);
    assert.ok(app, "index.html references app.js under /assets/<hash>/:\n" + html);
    const asset = await fetch(admin + app[1]);
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(asset.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(asset.headers.get("content-security-policy"), expectedCsp());
    assert.equal((await fetch(admin + "/favicon.ico")).status, 404);
  });

  await step(t, "a wrong password is refused, the right one logs in (keyboard only)", async () => {
    await page.goto(admin + "/");
    await page.getByRole("button", { name: "Log in" }).waitFor();
    await photograph(page, shots, "01-login", seen);
    await loginWithKeyboard(page, "alice", "not the password");
    await page.getByRole("alert").filter({ hasText: "Wrong user name or password" }).waitFor();
    await page.getByLabel("User").fill("");
    await page.getByLabel("Password").fill("");
    await loginWithKeyboard(page, "alice", "correct horse battery");
    await page.getByRole("heading", { name: "Overview" }).waitFor();
  });

  await step(t, "create a connection; its secret is shown once", async () => {
    await page.getByLabel("New connection").fill("shop");
    await page.getByRole("button", { name: "Create connection" }).click();
    await page.getByRole("heading", { name: "Connection shop" }).waitFor();
    keyId = await secretField(page, "access key id");
    secret = await secretField(page, "secret access key");
    assert.match(keyId, /^SK[A-Z0-9]+$/);
    assert.ok(secret.length >= 30, secret);
    const aws = await page.locator("figure", { hasText: "aws --endpoint-url" }).first().innerText();
    assert.ok(aws.includes(server.s3Endpoint), `the snippet names ${server.s3Endpoint}:\n${aws}`);
    await photograph(page, shots, "02-connection-new-key", seen);
    await page.getByRole("button", { name: "I have copied it" }).click();
  });

  await step(t, "a nested table from a pasted example record, previewed live", async () => {
    await page.getByRole("link", { name: "Add a table" }).click();
    await page.getByRole("heading", { name: "Add a table" }).waitFor();
    await page.getByLabel("Table", { exact: true }).fill("orders");
    await page.getByLabel(/nested:/).check();
    await page.getByLabel("Primary key").fill("order_id");
    await page.getByLabel("Example record (JSON)").fill(JSON.stringify(example, null, 2));
    const items = page.getByRole("article", { name: "Table orders_line_items" });
    await items.waitFor();
    await page.getByRole("article", { name: "Table orders_tags" }).waitFor();
    await page.getByLabel("Element key of line_items").fill("order_line_id");
    await items.filter({ hasText: "key (orders_order_id, order_line_id)" }).waitFor();
    await items.filter({ hasText: "upsert" }).waitFor();
    await photograph(page, shots, "03-table-setup-nested", seen);
    await page.getByRole("button", { name: "Save table" }).click();
    await page.getByRole("status").filter({ hasText: "Saved table orders" }).waitFor();
  });

  await step(t, "a flat table whose key the files will lack", async () => {
    await page.getByRole("link", { name: "Connection", exact: true }).click();
    await page.getByRole("link", { name: "Add a table" }).click();
    await page.getByLabel("Table", { exact: true }).fill("events");
    await page.getByLabel("Primary key").fill("event_id");
    await page.getByRole("button", { name: "Save table" }).click();
    await page.getByRole("status").filter({ hasText: "Saved table events" }).waitFor();
  });

  await step(t, "files pushed with the AWS SDK load while the Files page watches", async () => {
    await page.getByRole("link", { name: "Files" }).first().click();
    await page.getByRole("heading", { name: "Files of shop" }).waitFor();
    const client = s3Client(server.s3Endpoint, keyId, secret);
    const orders = [
      { ...example, order_id: 1 },
      { ...example, order_id: 2, customer: { name: "Grace", city: "Arlington" } },
    ];
    await put(client, "orders/o1.json", orders.map((o) => JSON.stringify(o)).join("\n") + "\n");
    await put(client, "orders/o2.json", JSON.stringify({ ...example, order_id: 3 }) + "\n");
    await put(client, "events/e1.json", failedBody);
    const row = (key) => page.locator("tr", { hasText: key });
    await row("orders/o1.json").locator(".badge-loaded").waitFor();
    await row("orders/o2.json").locator(".badge-loaded").waitFor();
    await row("events/e1.json").locator(".badge-failed").waitFor();
    assert.match(await row("events/e1.json").innerText(), /PK_NOT_FOUND/);
    failedSeq = await row("events/e1.json").getAttribute("data-seq");
    assert.match(await row("orders/o1.json").innerText(), /\b2\b/); // two rows inserted
    await photograph(page, shots, "04-files", seen);

    // The ledger's filters: failed files only, then every file again.
    await page.getByLabel("Status").selectOption("failed");
    await page.getByRole("button", { name: "Apply" }).click();
    await waitFor(async () => (await page.locator("tbody tr").count()) === 1, "one failed file");
    assert.match(await page.locator("tbody tr").innerText(), /events\/e1\.json/);
    await page.getByRole("link", { name: "Clear" }).click();
    await waitFor(async () => (await page.locator("tbody tr").count()) === 3, "every file");

    await row("orders/o2.json").getByRole("link").first().click();
    await page.getByRole("heading", { name: /^File #\d+$/ }).waitFor();
    await page.locator(".status-line .badge-loaded").waitFor();
    await photograph(page, shots, "05-file", seen);
  });

  await step(t, "the overview shows the blocked table; its error leads to the Errors page", async () => {
    await page.getByRole("link", { name: "Overview" }).click();
    const events = page.getByRole("row").filter({ hasText: "events" });
    await events.locator(".badge-blocked").waitFor();
    await page.getByTestId("error-badge").filter({ hasText: "1" }).waitFor();
    await page.getByRole("row").filter({ hasText: "orders" }).locator(".badge-idle").waitFor();
    // The last 24 h: orders loaded files and wrote rows; events, whose one file failed, neither.
    await waitForLoadedRow(page, "orders");
    const events24h = await overviewRow(page, "events");
    assert.deepEqual([events24h.rows, events24h.lastLoaded, events24h.at], [0, "–", null]);
    // The last hour's charts, drawn once the history answers: the rows just written are in it.
    await page.getByRole("img", { name: /^Backlog \(files\): [\d,]+ now, at most / }).waitFor();
    await page
      .getByRole("img", { name: /^Rows per second: [\d.,]+ now, at most (?!0 in)/ })
      .waitFor({ timeout: 20000 });
    assert.equal(await page.locator("figure.chart svg[role=img][aria-label]").count(), 2);
    await photograph(page, shots, "00-overview", seen);
    if (process.env.SLUICE_DOCS_SCREENSHOT) {
      await page.screenshot({ path: path.join(sourceDir, "docs", "console-overview.png") });
    }
    // The error badge leads to the one failing connection's Errors page.
    await page.getByTestId("error-badge").click();
  });

  await step(t, "the failure is grouped by table and error type; its sample downloads", async () => {
    await page.getByRole("heading", { name: "Errors of shop" }).waitFor();
    const group = page.getByRole("article", { name: "events: PK_NOT_FOUND" });
    await group.waitFor();
    assert.match(await group.innerText(), /× 1/);
    assert.ok(
      await page.getByRole("region", { name: "Table events" }).getByRole("article").count() === 1,
    );
    await photograph(page, shots, "06-errors", seen);
    const { name, bytes } = await downloadText(page, () =>
      group.getByRole("link", { name: `Download file ${failedSeq}` }).click(),
    );
    assert.equal(name, "e1.json");
    assert.equal(bytes.toString(), failedBody);
  });

  await step(t, "fix the table with the failed file previewed, replay it, watch it load", async () => {
    const group = page.getByRole("article", { name: "events: PK_NOT_FOUND" });
    await group.getByRole("link", { name: "Fix the table" }).click();
    await page.getByRole("heading", { name: "Table events" }).waitFor();
    assert.equal(await page.getByLabel("Preview from a landed file").inputValue(), failedSeq);
    const derived = page.getByRole("article", { name: "Table events" });
    await derived.filter({ hasText: "what" }).waitFor(); // the file's columns
    await page.getByLabel("Primary key").fill("id");
    await derived.filter({ hasText: "key (id)" }).waitFor();
    await photograph(page, shots, "07-table-fix", seen);
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("status").filter({ hasText: "Saved table events" }).waitFor();
    await page.getByRole("button", { name: `Retry file #${failedSeq} now` }).click();
    await page.getByRole("status").filter({ hasText: "queued again" }).waitFor();
    await page.goto(`${admin}/connections/shop/files/${failedSeq}`);
    await page.locator(".status-line .badge-loaded").waitFor();
    await page.goto(`${admin}/connections/shop/errors`);
    await page.getByText("No open error").waitFor();
  });

  await step(t, "schema history of the nested table", async () => {
    await page.goto(`${admin}/connections/shop/tables/orders/history`);
    await page.getByRole("heading", { name: "Schema history of orders" }).waitFor();
    await page.getByRole("cell", { name: "customer_name" }).first().waitFor();
    await photograph(page, shots, "08-history", seen);
  });

  await step(t, "SQL: a grid and a CSV download", async () => {
    await page.getByRole("link", { name: "SQL" }).click();
    await page.getByLabel(/^Statement/).fill(
      "SELECT o.order_id, o.customer_name, l.product FROM shop.orders o " +
        "JOIN shop.orders_line_items l ON l.orders_order_id = o.order_id ORDER BY o.order_id",
    );
    await page.getByRole("button", { name: "Run" }).click();
    const grid = page.getByRole("region", { name: "Query result" });
    await grid.getByRole("cell", { name: "Grace" }).waitFor();
    assert.equal(await grid.locator("tbody tr").count(), 3);
    await photograph(page, shots, "09-sql", seen);
    const { name, bytes } = await downloadText(page, () =>
      page.getByRole("button", { name: "Download CSV" }).click(),
    );
    assert.equal(name, "query.csv");
    assert.equal(
      bytes.toString(),
      "order_id,customer_name,product\r\n1,Ada,tea\r\n2,Grace,tea\r\n3,Ada,tea\r\n",
    );
    const events = await post(page, "/api/v1/query", { sql: "SELECT what FROM shop.events" });
    assert.deepEqual(events.body.rows, [["signup"]]);
  });

  // Here, after the fix and the SQL step's count of its rows, events is the flat table that
  // loads rows (key id).
  await step(t, "push files from the browser onto a table: chosen, then dropped", async () => {
    await page.goto(`${admin}/connections/shop`);
    await page.getByRole("heading", { name: "Connection shop" }).waitFor();
    const zone = page.getByRole("group", { name: "Push a file into events" });
    const ndjson = (rows) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
    // The newest files of events, as the API lists them, and the one under `key`: loaded.
    const loaded = async (key) => {
      const files = await page.evaluate(async () => {
        const q = "table=events&order=desc&limit=5";
        return (await fetch(`/api/v1/connections/shop/files?${q}`)).json();
      });
      const file = files.find((f) => f.key === key);
      assert.ok(file, `${key} is in the ledger: ${JSON.stringify(files)}`);
      assert.equal(file.status, "loaded", JSON.stringify(file));
      return file;
    };

    // With the file input, as a keyboard user would; the name is made a safe key.
    await zone.getByLabel(/push it into events/).setInputFiles({
      name: "browser upload #1.ndjson",
      mimeType: "application/x-ndjson",
      buffer: Buffer.from(ndjson([{ id: 20, what: "chosen" }, { id: 21, what: "chosen" }])),
    });
    await zone.getByText("Pushed events/browser_upload_1.ndjson").waitFor();
    await zone.locator(".upload-file .badge-loaded").waitFor();
    assert.match(await zone.innerText(), /ETag "?[0-9a-f]{32}/);
    assert.match(await zone.innerText(), /\b2 inserted/);
    assert.equal((await loaded("events/browser_upload_1.ndjson")).inserted, 2);
    await photograph(page, shots, "16-connection-upload", seen);

    // A real drop: DataTransfer and drag events as the browser makes them.
    const dropped = await page.evaluateHandle((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], "dropped.json", { type: "application/json" }));
      return dt;
    }, ndjson([{ id: 22, what: "dropped" }]));
    await zone.dispatchEvent("dragenter", { dataTransfer: dropped });
    await zone.dispatchEvent("dragover", { dataTransfer: dropped });
    await page.locator(".dropzone.over").waitFor();
    await zone.dispatchEvent("drop", { dataTransfer: dropped });
    await zone.getByText("Pushed events/dropped.json").waitFor();
    await zone.locator(".upload-file .badge-loaded").waitFor();
    assert.equal(await page.locator(".dropzone.over").count(), 0);
    assert.equal((await loaded("events/dropped.json")).inserted, 1);
    const rows = await post(page, "/api/v1/query", {
      sql: "SELECT id, what FROM shop.events WHERE id >= 20 ORDER BY id",
    });
    assert.deepEqual(
      rows.body.rows.map(([id, what]) => [Number(id), what]),
      [[20, "chosen"], [21, "chosen"], [22, "dropped"]],
    );

    // The zone links the file's own page, and the Files page, which lists both pushed files.
    const seq = (await loaded("events/dropped.json")).seq;
    const own = zone.getByRole("link", { name: `File #${seq}` });
    assert.equal(await own.getAttribute("href"), `/connections/shop/files/${seq}`);
    await zone.getByRole("link", { name: "Files page" }).click();
    await page.getByRole("heading", { name: "Files of shop" }).waitFor();
    for (const key of ["events/browser_upload_1.ndjson", "events/dropped.json"]) {
      await page.locator("tr", { hasText: key }).locator(".badge-loaded").waitFor();
    }

    // Two files at once are refused before anything is asked or sent.
    await page.goto(`${admin}/connections/shop`);
    const two = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(["{}\n"], "a.json"));
      dt.items.add(new File(["{}\n"], "b.json"));
      return dt;
    });
    await zone.dispatchEvent("drop", { dataTransfer: two });
    await zone.getByRole("alert").filter({ hasText: "One file at a time" }).waitFor();

    // The presign route refuses a key under no configured table.
    const outside = await post(page, "/api/v1/connections/shop/upload-url", { key: "nope/x.json" });
    assert.equal(outside.status, 400, JSON.stringify(outside.body));
  });

  await step(t, "rotate a key: the new one works, the old one is revoked", async () => {
    await page.goto(`${admin}/connections/shop`);
    const oldRow = page.locator("tr", { hasText: keyId });
    await oldRow.getByRole("button", { name: "Rotate" }).click();
    await page.getByRole("region", { name: "New access key" }).waitFor();
    const newId = await secretField(page, "access key id");
    const newSecret = await secretField(page, "secret access key");
    assert.notEqual(newId, keyId);
    await page.getByRole("button", { name: `Revoke the old key ${keyId}` }).click();
    await oldRow.locator(".badge-revoked").waitFor();
    await photograph(page, shots, "10-connection-rotated", seen);
    await assert.rejects(put(s3Client(server.s3Endpoint, keyId, secret), "events/e2.json", "{}"), (e) =>
      /InvalidAccessKeyId/.test(e.name + e.message),
    );
    await put(s3Client(server.s3Endpoint, newId, newSecret), "events/e3.json", '{"id": 8}\n');
  });

  await step(t, "the overview shows every table idle again, and no open error", async () => {
    await page.getByRole("link", { name: "Overview" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    for (const table of ["orders", "events"]) {
      await page.getByRole("row").filter({ hasText: table }).locator(".badge-idle").waitFor();
    }
    await page.getByTestId("error-badge").filter({ hasText: "0" }).waitFor();
    // Now events has loaded too: its replayed file and the browser's uploads.
    await waitForLoadedRow(page, "events");
    await page.locator("figure.chart svg[role=img][aria-label]").nth(1).waitFor();
    await photograph(page, shots, "12-overview-repaired", seen);
  });

  await step(t, "a write without the CSRF token is refused 403", async () => {
    const forged = await post(page, "/api/v1/credentials", { connection: "shop" }, { csrf: false });
    assert.equal(forged.status, 403, JSON.stringify(forged.body));
  });

  await step(t, "alerts: a webhook endpoint, its secret shown once", async () => {
    await page.getByRole("link", { name: "Alerts", exact: true }).click();
    await page.getByRole("heading", { name: "Alerts" }).waitFor();
    await page.getByText("No endpoint yet").waitFor();
    // With no endpoint the form is open; every field is found by its label.
    const form = page.getByRole("form", { name: "New endpoint" });
    await form.getByLabel("Name", { exact: true }).fill("receiver");
    await form.getByLabel(/webhook: an HTTP POST/).check();
    await form.getByLabel("URL", { exact: true }).fill(receiver.url);
    await form.getByLabel("Format").selectOption("cloudevents");
    await form.getByLabel("Connection", { exact: true }).selectOption("shop");
    for (const type of alertEvents) {
      const box = form.getByLabel(new RegExp(`^${type.replace(".", "\\.")}:`));
      if (type === "file.failed" || type === "table.blocked") await box.check();
      else await box.uncheck();
    }
    await form.getByRole("button", { name: "Add endpoint" }).click();
    const panel = page.getByRole("region", { name: "New webhook secret" });
    await panel.waitFor();
    hookSecret = (await panel.locator("pre").innerText()).trim();
    assert.match(hookSecret, /^whsec_[A-Za-z0-9+/]+=*$/);
    const row = endpointRow(page, "receiver");
    const text = await row.innerText();
    for (const want of ["file.failed", "table.blocked", "shop", "enabled", receiver.url]) {
      assert.ok(text.includes(want), `the endpoint's row names ${want}:\n${text}`);
    }
    assert.ok(!text.includes("file.loaded"), text);
    await photograph(page, shots, "13-alerts-new-endpoint", seen);
    await panel.getByRole("button", { name: "I have copied it" }).click();
    await panel.waitFor({ state: "detached" });
    // Once: neither the page, reloaded, nor the API shows the secret again.
    await page.reload();
    await row.waitFor();
    assert.ok(!(await page.content()).includes(hookSecret), "the reloaded page shows the secret");
    const listed = await page.evaluate(async () => {
      return (await fetch("/api/v1/alerts/endpoints")).text();
    });
    assert.ok(!listed.includes(hookSecret), "GET /api/v1/alerts/endpoints holds the secret");
  });

  await step(t, "alerts: Send test reaches the receiver, signed; the log shows it delivered", async () => {
    const row = endpointRow(page, "receiver");
    await row.getByRole("button", { name: "Send test to receiver" }).click();
    const ping = await waitFor(
      () => receiver.requests.find((r) => (jsonOf(r) || {}).type === "io.sluice.ping"),
      "the test event at the receiver",
      30000,
    );
    assert.equal(ping.method, "POST");
    assert.equal(ping.url, new URL(receiver.url).pathname);
    assert.match(ping.headers["content-type"], /^application\/cloudevents\+json/);
    const event = jsonOf(ping);
    assert.equal(event.specversion, "1.0");
    assert.equal(ping.headers["webhook-id"], event.id);
    assertSigned(ping, hookSecret);
    const log = page.getByRole("region", { name: "Deliveries", exact: true });
    const delivery = log.getByRole("row").filter({ hasText: "ping" });
    await delivery.locator(".badge-delivered").waitFor({ timeout: 30000 });
    assert.match(await delivery.innerText(), /\b200\b/);
    await photograph(page, shots, "14-alerts-delivered", seen);

    // Redeliver: the same event again (the same webhook-id, the receiver's idempotency key),
    // signed anew.
    const sent = receiver.requests.length;
    await delivery.getByRole("button", { name: /^Redeliver ping/ }).click();
    const again = await waitFor(
      () => receiver.requests.slice(sent).find((r) => (jsonOf(r) || {}).type === "io.sluice.ping"),
      "the redelivered test event",
      30000,
    );
    assert.equal(again.headers["webhook-id"], ping.headers["webhook-id"]);
    assertSigned(again, hookSecret);
    await delivery.locator(".badge-delivered").waitFor({ timeout: 30000 });
  });

  await step(t, "alerts: disable and enable an endpoint; delete one", async () => {
    const row = endpointRow(page, "receiver");
    await row.getByRole("button", { name: "Disable receiver" }).click();
    await row.locator(".badge-disabled").waitFor();
    await row.getByRole("button", { name: "Enable receiver" }).click();
    await row.locator(".badge-enabled").waitFor();

    await page.getByRole("button", { name: "New endpoint" }).click();
    const form = page.getByRole("form", { name: "New endpoint" });
    await form.getByLabel("Name", { exact: true }).fill("doomed");
    await form.getByLabel("URL", { exact: true }).fill(receiver.url + "/slack");
    await form.getByLabel("Format").selectOption("slack");
    await form.getByRole("button", { name: "Add endpoint" }).click();
    const doomed = endpointRow(page, "doomed");
    await doomed.waitFor();
    assert.match(await doomed.innerText(), /every connection/);
    // The page's dialog handler accepts the confirmation.
    await doomed.getByRole("button", { name: "Delete endpoint doomed" }).click();
    await doomed.waitFor({ state: "detached" });
    await page.getByRole("status").filter({ hasText: "Deleted doomed" }).waitFor();
    await row.waitFor();
  });

  await step(t, "a viewer sees no write control, and a forged write is refused 403", async () => {
    const viewer = await browser.newContext({ viewport: desktop });
    const viewerSeen = watch(viewer);
    const v = await viewer.newPage();
    try {
      await v.goto(admin + "/");
      await loginWithKeyboard(v, "victor", "viewer's own password");
      await v.getByRole("heading", { name: "Overview" }).waitFor();
      assert.equal(await v.getByRole("button", { name: "Create connection" }).count(), 0);
      await v.goto(`${admin}/connections/shop`);
      await v.getByRole("heading", { name: "Connection shop" }).waitFor();
      await v.getByRole("region", { name: "Access keys" }).waitFor();
      const writes = ["Create access key", "Rotate", "Revoke", "Delete connection", "Save settings"];
      for (const name of [...writes, "Remove"]) {
        assert.equal(await v.getByRole("button", { name }).count(), 0, `a viewer sees "${name}"`);
      }
      assert.equal(await v.getByRole("link", { name: "Add a table" }).count(), 0);
      assert.equal(await v.getByRole("group", { name: /^Push a file into/ }).count(), 0);
      assert.equal(await v.locator('input[type="file"]').count(), 0);
      assert.ok(await v.getByLabel("Files under no configured table").isDisabled());
      await photograph(v, shots, "11-viewer-connection", viewerSeen);
      await v.goto(`${admin}/connections/shop/tables/events`);
      await v.getByRole("article", { name: "Table events" }).waitFor();
      assert.equal(await v.getByRole("button", { name: "Save changes" }).count(), 0);
      await v.goto(`${admin}/connections/shop/files`);
      await v.locator("tr", { hasText: "events/e1.json" }).waitFor();
      assert.equal(await v.getByRole("button", { name: /^(Retry|Skip)/ }).count(), 0);
      await v.goto(`${admin}/alerts`);
      await v.getByRole("heading", { name: "Alerts" }).waitFor();
      await endpointRow(v, "receiver").waitFor();
      const log = v.getByRole("region", { name: "Deliveries", exact: true });
      await log.getByRole("row").filter({ hasText: "ping" }).first().waitFor();
      const alertWrites = ["New endpoint", "Add endpoint", "Send test", "Disable", "Enable"];
      for (const name of [...alertWrites, "Delete", "Redeliver"]) {
        assert.equal(await v.getByRole("button", { name }).count(), 0, `a viewer sees "${name}"`);
      }
      await photograph(v, shots, "15-viewer-alerts", viewerSeen);
      const hook = { name: "x", kind: "webhook", target: receiver.url, events: ["file.failed"] };
      const forgedHook = await post(v, "/api/v1/alerts/endpoints", hook);
      assert.equal(forgedHook.status, 403, JSON.stringify(forgedHook.body));
      const change = { unconfigured_keys: "refuse" };
      const forged = await post(v, "/api/v1/connections/shop", change, { method: "PATCH" });
      assert.equal(forged.status, 403, JSON.stringify(forged.body));
      const retry = await post(v, `/api/v1/connections/shop/files/${failedSeq}/skip`, {});
      assert.equal(retry.status, 403, JSON.stringify(retry.body));
      const upload = { key: "events/viewer.json" };
      const forgedUpload = await post(v, "/api/v1/connections/shop/upload-url", upload);
      assert.equal(forgedUpload.status, 403, JSON.stringify(forgedUpload.body));
      await collectViolations(v, viewerSeen);
      assert.deepEqual(viewerSeen.offLoopback, []);
      assert.deepEqual(viewerSeen.violations, []);
      assert.deepEqual(viewerSeen.pageErrors, []);
    } finally {
      await viewer.close();
    }
  });

  await step(t, "log out", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("button", { name: "Log in" }).waitFor();
    await page.reload();
    await page.getByRole("button", { name: "Log in" }).waitFor();
    const after = await page.evaluate(async () => (await fetch("/api/v1/session")).status);
    assert.equal(after, 401);
  });

  await step(t, "nothing left loopback and the CSP held", async () => {
    await collectViolations(page, seen);
    assert.deepEqual(seen.offLoopback, [], "requests that were not to 127.0.0.1");
    assert.deepEqual(seen.violations, [], "securitypolicyviolation events");
    const cspErrors = seen.consoleErrors.filter((m) => /Content Security Policy/i.test(m));
    assert.deepEqual(cspErrors, [], "CSP errors on the console");
    assert.deepEqual(seen.pageErrors, [], "uncaught script errors");
  });

  console.log(`screenshots: ${shots}`);
  console.log(`browser flow took ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

// A JSON request from inside the page, as the console's own code would send it: with the
// session cookie and, unless csrf is false, the session's CSRF token. {status, body}.
async function post(page, target, body, { method = "POST", csrf = true } = {}) {
  return page.evaluate(
    async ({ target, body, method, csrf }) => {
      const session = await (await fetch("/api/v1/session")).json();
      const headers = { "Content-Type": "application/json" };
      if (csrf) headers["X-CSRF-Token"] = session.csrf_token;
      const r = await fetch(target, { method, headers, body: JSON.stringify(body) });
      const text = await r.text();
      let parsed = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: kept as text
      }
      return { status: r.status, body: parsed };
    },
    { target, body, method, csrf },
  );
}
