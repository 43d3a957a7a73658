// Drives the KeyBrake dashboard in Debian's headless Chromium with playwright-core (the system browser, never a
// downloaded one): sign in, see the key's spend bar, watch the live tail update on a proxied call, revoke the key
// with a reason, see the next proxied call refused with 401 key_revoked and the denial appear in the tail.
// Prints one JSON line of what it observed; the xunit test asserts on it. Screenshots go to $SHOTS.
import { chromium } from "playwright-core";
import path from "node:path";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const adminUrl = env("ADMIN_URL"), proxyUrl = env("PROXY_URL"), shots = env("SHOTS");
const keyId = env("KEY_ID"), keyToken = env("KEY_TOKEN"), label = env("LABEL");

async function proxiedCall() {
  const response = await fetch(`${proxyUrl}/stripe/v1/payment_intents`, {
    method: "POST",
    headers: { authorization: `Bearer ${keyToken}`, "content-type": "application/x-www-form-urlencoded", "x-keybrake-reason": "dashboard test charge" },
    body: "amount=1500&currency=usd",
  });
  const body = await response.json().catch(() => null);
  return { status: response.status, code: body?.error?.code ?? null };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});
const observed = {};
const page = await (await browser.newContext({ viewport: { width: 1360, height: 900 } })).newPage();
page.setDefaultTimeout(20000);
try {
  // 1. Sign in: the dashboard sends us to the sign-in page first; a wrong token is refused.
  await page.goto(adminUrl + "/");
  observed.redirectedToSignIn = new URL(page.url()).pathname === "/signin";
  await page.fill("#token", "kba_not_a_real_token_000000000000");
  await page.click("#signin");
  observed.wrongTokenError = (await page.textContent("#signin-error"))?.trim() ?? null;
  await page.fill("#token", env("ADMIN_TOKEN"));
  await page.click("#signin");
  await page.waitForSelector("#keys");
  observed.principal = (await page.textContent("#principal"))?.trim();

  // 2. The keys list: our key with its spend bar (a <meter>).
  const row = page.locator(`tr[data-key-id="${keyId}"]`);
  observed.rowText = (await row.innerText()).replace(/\s+/g, " ").trim();
  observed.meter = await row.locator("meter").evaluate((m) => ({ value: m.value, max: m.max }));
  await page.screenshot({ path: path.join(shots, "dashboard-keys.png"), fullPage: true });

  // 3. The key's page: policy, history, and the live tail, which replays then follows.
  await row.locator("a").first().click();
  await page.waitForSelector("#tail");
  await page.waitForFunction(() => document.getElementById("tail-state")?.textContent === "live");
  await page.waitForFunction(() => document.querySelectorAll("#tail tbody tr").length >= 2);
  const before = await page.locator("#tail tbody tr").count();
  observed.liveCall = await proxiedCall();
  await page.waitForFunction((n) => document.querySelectorAll("#tail tbody tr").length >= n + 2, before);
  observed.tailAfterCall = await page.locator("#tail tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.type));
  observed.historyTypes = await page.locator("table.entries").first().locator("tbody tr td:nth-child(3)").allInnerTexts();
  await page.screenshot({ path: path.join(shots, "dashboard-key-live.png"), fullPage: true });

  // 4. Revoke with a reason (the page asks to confirm), then the next proxied call is refused.
  page.once("dialog", (dialog) => { observed.confirmText = dialog.message(); dialog.accept(); });
  await page.fill("#revoke-reason", "runaway loop seen on the dashboard");
  await page.click("#revoke");
  await page.waitForSelector("#revoked");
  observed.statusAfterRevoke = (await page.textContent("#key-status"))?.trim();
  observed.flash = (await page.textContent("#flash"))?.trim();
  observed.revokedText = (await page.textContent("#revoked"))?.trim();
  observed.revokeFormGone = (await page.locator("#revoke-form").count()) === 0;
  await page.waitForFunction(() => document.getElementById("tail-state")?.textContent === "live");
  await page.waitForFunction(() => document.querySelector('#tail tbody tr[data-type="key.revoked"]') !== null);
  observed.afterRevokeCall = await proxiedCall();
  await page.waitForFunction(() => document.querySelector('#tail tbody tr[data-type="proxy.denied"]') !== null);
  observed.deniedRow = (await page.locator('#tail tbody tr[data-type="proxy.denied"]').first().innerText()).replace(/\s+/g, " ").trim();
  observed.deniedRowClass = await page.locator('#tail tbody tr[data-type="proxy.denied"]').first().getAttribute("class");
  await page.screenshot({ path: path.join(shots, "dashboard-key-revoked.png"), fullPage: true });

  // 5. The audit page with a label filter, and a bad filter; the integrity panel after "verify now".
  await page.goto(`${adminUrl}/audit?label=${encodeURIComponent(label)}`);
  observed.auditTypes = await page.locator("#audit tbody tr td:nth-child(3)").allInnerTexts();
  await page.screenshot({ path: path.join(shots, "dashboard-audit.png"), fullPage: true });
  await page.goto(`${adminUrl}/audit?http_status=abc`);
  observed.auditError = (await page.textContent("#audit-errors"))?.trim();
  await page.goto(`${adminUrl}/integrity`);
  await page.click("#verify-now");
  await page.waitForSelector("#verify-result.ok");
  observed.verify = (await page.textContent("#verify-result"))?.trim();
  observed.checkpointRows = await page.locator("#checkpoints tbody tr").count();
  await page.screenshot({ path: path.join(shots, "dashboard-integrity.png"), fullPage: true });

  // 6. An auditor-only principal sees the key but no revoke button or kill switch.
  if (process.env.AUDITOR_TOKEN) {
    const auditor = await (await browser.newContext()).newPage();
    await auditor.goto(adminUrl + "/signin");
    await auditor.fill("#token", process.env.AUDITOR_TOKEN);
    await auditor.click("#signin");
    await auditor.waitForSelector("#keys");
    await auditor.goto(`${adminUrl}/?status=all`);
    observed.auditorSeesKey = (await auditor.locator(`tr[data-key-id="${keyId}"]`).count()) === 1;
    observed.auditorRevokeButtons = await auditor.locator("form.revoke, form.kill").count();
  }
  console.log(JSON.stringify({ ok: true, observed }));
} catch (error) {
  await page.screenshot({ path: path.join(shots, "dashboard-failure.png"), fullPage: true }).catch(() => {});
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error), url: page.url(), observed }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
