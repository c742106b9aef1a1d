// The visitor page in a real headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core), against a real tessera-cloud process with an
// access log, with links made for real (cloud/examples/make_share: the core's
// share::seal and the cloud API). Every state is screenshotted at a phone
// viewport into tests/artifacts/visitor/.
//
// Run with scripts/test-browser (it builds what this needs), or:
//   cargo build -p tessera-cloud --bins --example make_share && (cd tests/browser && npm ci && npm test)

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TARGET = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
const CLOUD_BIN = process.env.TESSERA_CLOUD_BIN || join(TARGET, 'debug', 'tessera-cloud');
const MAKE_SHARE_BIN = process.env.TESSERA_MAKE_SHARE_BIN || join(TARGET, 'debug', 'examples', 'make_share');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'tests', 'artifacts', 'visitor');

// A phone, in a zone other than the lock's (the page shows both).
const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'en-US',
  timezoneId: 'America/New_York',
};
const LOCK_ZONE = 'Europe/Berlin';
const DAY = 86_400;

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

let workDir;
let cloud;
let cloudUrl;
let accessLogPath;
let browser;
/** Every secret, fragment and PIN handed to the browser: none may reach a request or the log. */
const secrets = new Set();
/** Links made before the tests run (some must age first). */
const links = {};

async function startCloud() {
  accessLogPath = join(workDir, 'access.log');
  const child = spawn(
    CLOUD_BIN,
    ['serve', '--bind', '127.0.0.1:0', '--db', join(workDir, 'cloud.db'), '--access-log', accessLogPath],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RUST_LOG: 'warn' } },
  );
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the cloud exited (${code})`)));
    lines.once('line', (line) => {
      const match = /^listening on (http:\/\/\S+)$/.exec(line.trim());
      if (match) resolve(match[1]);
      else reject(new Error(`unexpected cloud output: ${line}`));
    });
  });
  return { child, url };
}

/** A real link, made by the phone's code and uploaded through the cloud API. */
function makeLink(...args) {
  const out = execFileSync(MAKE_SHARE_BIN, ['--cloud', cloudUrl, ...args], { encoding: 'utf8' });
  const link = JSON.parse(out);
  const fragment = link.link.split('#')[1];
  for (const secret of [link.secret, fragment, link.pin]) secrets.add(secret);
  // Any sizeable piece of a self-contained payload (it holds the secret too).
  for (let i = 2; i + 24 <= fragment.length; i += 24) secrets.add(fragment.slice(i, i + 24));
  return { ...link, fragment };
}

async function phone({ colorScheme = 'light', permissions = [] } = {}) {
  const context = await browser.newContext({ ...PHONE, colorScheme });
  if (permissions.length > 0) await context.grantPermissions(permissions, { origin: cloudUrl });
  const page = await context.newPage();
  const requests = [];
  page.on('request', (request) => requests.push(request));
  const problems = [];
  page.on('pageerror', (error) => problems.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 404/.test(message.text())) problems.push(message.text());
  });
  return { context, page, requests, problems };
}

/** Opens a link as a fresh document (a link that differs only in its fragment would not reload). */
async function visit(page, url) {
  await page.goto('about:blank');
  return page.goto(url);
}

async function waitForState(page, state) {
  await page.waitForFunction((wanted) => document.body.dataset.state === wanted, state, { timeout: 15_000 });
}

async function screenshot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true, animations: 'disabled' });
}

async function text(page, selector) {
  return (await page.locator(selector).textContent()).replace(/\s+/g, ' ').trim();
}

/** What the page sent: method, URL, body and every header of every request. */
async function sent(requests) {
  return Promise.all(
    requests.map(async (request) => ({
      method: request.method(),
      url: request.url(),
      body: request.postData() || '',
      headers: await request.allHeaders(),
    })),
  );
}

function assertNoSecretsIn(what, text) {
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), `${what} carries a secret (${secret.slice(0, 6)}…)`);
  }
}

async function assertCleanRequests(requests) {
  const all = await sent(requests);
  for (const request of all) {
    assert.ok(!request.url.includes('#'), `a request URL has a fragment: ${request.url}`);
    assertNoSecretsIn(`${request.method} ${request.url}`, JSON.stringify(request));
    assert.equal(request.headers.referer, undefined, `a Referer was sent with ${request.url}`);
    assert.ok(request.url.startsWith(cloudUrl), `a request left the page's origin: ${request.url}`);
  }
  return all;
}

/** The fragment is gone from the address bar (and so from history) once the page has read it. */
async function assertFragmentGone(page, link) {
  const href = await page.evaluate(() => location.href);
  assert.ok(!href.includes('#'), href);
  assert.equal(href, link.link.split('#')[0]);
}

function offset(ms, zone) {
  const part = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(new Date(ms))
    .find((p) => p.type === 'timeZoneName').value;
  return part === 'GMT' ? 'UTC+00:00' : part.replace('GMT', 'UTC');
}

function dayOfMonth(ms, zone) {
  return new Intl.DateTimeFormat('en-US', { timeZone: zone, day: 'numeric' }).format(new Date(ms));
}

before(async () => {
  for (const file of [CLOUD_BIN, MAKE_SHARE_BIN, CHROMIUM]) {
    assert.ok(existsSync(file), `${file} is missing: run scripts/test-browser`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  workDir = mkdtempSync(join(tmpdir(), 'tessera-browser-'));
  ({ child: cloud, url: cloudUrl } = await startCloud());
  // A hosted link that expires in a few seconds: it has expired by the time it is opened.
  links.expiring = makeLink('--kind', 'permanent', '--expires-in', '4');
  links.valid = makeLink();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright adds --headless and a fresh --user-data-dir of its own.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (cloud) {
    cloud.kill('SIGTERM');
    await new Promise((resolve) => cloud.once('exit', resolve));
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('a hosted link opens: code behind Reveal, copy, window in both zones, strict headers', async () => {
  const link = links.valid;
  const { context, page, requests, problems } = await phone({ permissions: ['clipboard-read', 'clipboard-write'] });
  const response = await page.goto(link.link);
  assert.equal(response.status(), 200);
  const headers = response.headers();
  assert.equal(headers['content-security-policy'], CSP);
  assert.equal(headers['referrer-policy'], 'no-referrer');
  assert.equal(headers['cache-control'], 'no-store');
  assert.equal(headers['x-robots-tag'], 'noindex, nofollow');
  assert.equal(headers['x-content-type-options'], 'nosniff');
  await waitForState(page, 'valid');
  await assertFragmentGone(page, link);

  assert.equal(await text(page, '#badge'), 'Valid now');
  assert.match(await text(page, '#countdown'), /^Ends in \d+ (day|hour)/);
  assert.equal(await text(page, '#lock-name'), 'Front door');
  assert.equal(await text(page, '#summary'), link.summary);
  // The window at the door (Berlin) and in the visitor's zone (New York), with UTC offsets.
  const [interval] = link.intervals;
  const start = Date.parse(interval.start);
  const end = Date.parse(interval.end);
  assert.equal(await text(page, '#lock-zone-name'), LOCK_ZONE);
  assert.equal(await text(page, '#your-zone-name'), 'America/New_York');
  const atDoor = await text(page, '#lock-times');
  const yours = await text(page, '#your-times');
  for (const [shown, zone] of [
    [atDoor, LOCK_ZONE],
    [yours, 'America/New_York'],
  ]) {
    assert.ok(shown.includes(`(${offset(start, zone)})`), `${shown} lacks ${offset(start, zone)}`);
    assert.ok(shown.includes(`(${offset(end, zone)})`), shown);
    assert.ok(shown.includes(dayOfMonth(start, zone)), shown);
  }
  assert.notEqual(atDoor, yours);
  assert.match(await text(page, '#address'), /Kastanienallee 12/);
  assert.match(await text(page, '#instructions'), /Press # after the code/);
  assert.match(await text(page, '#host-contact'), /\+49 30 1234567/);
  assert.equal(await page.locator('#host-contact a').getAttribute('href'), 'tel:+49301234567');
  assert.equal(await page.locator('#one-time').isVisible(), false);

  // The code is not in the page until revealed; then grouped 3+3, read out digit by digit.
  assert.ok(!(await page.content()).includes(link.pin), 'the code is in the DOM before Reveal');
  const reveal = page.getByRole('button', { name: 'Reveal code' });
  assert.equal(await reveal.getAttribute('aria-expanded'), 'false');
  await reveal.click();
  assert.equal(await page.locator('#reveal').getAttribute('aria-expanded'), 'true');
  const groups = await page.locator('#code-value .group').allTextContents();
  assert.deepEqual(groups, [link.pin.slice(0, 3), link.pin.slice(3)]);
  assert.equal(await text(page, '#code-value .sr-only'), `Your code: ${[...link.pin].join(' ')}`);
  await screenshot(page, 'valid-light');

  await page.getByRole('button', { name: 'Copy' }).click();
  await page.waitForFunction(() => document.getElementById('copy-status').textContent !== '');
  assert.equal(await text(page, '#copy-status'), 'Code copied.');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link.pin);

  await page.getByRole('button', { name: 'Hide code' }).click();
  assert.equal(await page.locator('#code-value .group').count(), 0);

  // What went over the wire: the page, its files, and one POST with the access key.
  const all = await assertCleanRequests(requests);
  const opens = all.filter((r) => r.url.endsWith(`/v1/shares/${link.id}/open`));
  assert.equal(opens.length, 1);
  assert.equal(opens[0].method, 'POST');
  assert.deepEqual(Object.keys(JSON.parse(opens[0].body)), ['access_key']);
  assert.deepEqual(
    all.map((r) => `${r.method} ${new URL(r.url).pathname}`).sort(),
    [
      `GET /s/${link.id}`,
      'GET /s/assets/share-crypto.js',
      'GET /s/assets/visitor.css',
      'GET /s/assets/visitor.js',
      `POST /v1/shares/${link.id}/open`,
    ].sort(),
  );
  for (const asset of ['visitor.js', 'share-crypto.js', 'visitor.css']) {
    const reply = await page.request.get(`${cloudUrl}/s/assets/${asset}`);
    assert.equal(reply.headers()['content-security-policy'], CSP, asset);
    assert.equal(reply.headers()['x-content-type-options'], 'nosniff', asset);
  }
  assert.deepEqual(problems, []);
  await context.close();
});

test('the valid state in dark mode', async () => {
  const { context, page, requests } = await phone({ colorScheme: 'dark' });
  await page.goto(links.valid.link);
  await waitForState(page, 'valid');
  await page.getByRole('button', { name: 'Reveal code' }).click();
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(background, 'rgb(15, 17, 21)');
  await screenshot(page, 'valid-dark');
  await assertCleanRequests(requests);
  await context.close();
});

test('a self-contained link opens with no request to the API', async () => {
  const link = makeLink('--self-contained', '--kind', 'one-time', '--starts-in', '-600', '--lasts', '86400');
  assert.ok(link.link.includes('/s/#1.'));
  const { context, page, requests, problems } = await phone();
  await page.goto(link.link);
  await waitForState(page, 'valid');
  await assertFragmentGone(page, link);
  await page.getByRole('button', { name: 'Reveal code' }).click();
  assert.deepEqual(await page.locator('#code-value .group').allTextContents(), [
    link.pin.slice(0, 3),
    link.pin.slice(3),
  ]);
  // A one-time code says so, with its first-use deadline.
  assert.ok(await page.locator('#one-time').isVisible());
  assert.match(await text(page, '#first-use'), /Use it for the first time by .*UTC\+0[12]:00/);
  await screenshot(page, 'self-contained-one-time');
  const all = await assertCleanRequests(requests);
  assert.deepEqual(all.filter((r) => new URL(r.url).pathname.startsWith('/v1/')), []);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the loading state while the pass is fetched', async () => {
  const link = makeLink();
  const { context, page, requests } = await phone();
  let release;
  const gate = new Promise((resolve) => {
    release = resolve;
  });
  await page.route('**/v1/shares/*/open', async (route) => {
    await gate;
    await route.continue();
  });
  await page.goto(link.link);
  await waitForState(page, 'loading');
  assert.equal(await text(page, '#title'), 'Opening your access pass…');
  await assertFragmentGone(page, link);
  await screenshot(page, 'loading');
  release();
  await waitForState(page, 'valid');
  await assertCleanRequests(requests);
  await context.close();
});

test('a link to a code that starts later is not yet valid, with a countdown', async () => {
  const link = makeLink('--starts-in', String(3 * DAY), '--lasts', String(DAY));
  const { context, page, requests } = await phone();
  await page.goto(link.link);
  await waitForState(page, 'not-yet-valid');
  assert.equal(await text(page, '#badge'), 'Not yet valid');
  assert.match(await text(page, '#countdown'), /^Starts in (2 days 23 hours|3 days 0 hours)$/);
  // The code can be noted down in advance.
  await page.getByRole('button', { name: 'Reveal code' }).click();
  assert.equal((await page.locator('#code-value .group').allTextContents()).join(''), link.pin);
  await screenshot(page, 'not-yet-valid');

  // The countdown is live: a code starting in a minute or two counts down by the second.
  const soon = makeLink('--starts-in', '120', '--lasts', String(DAY));
  await visit(page, soon.link);
  await waitForState(page, 'not-yet-valid');
  const shown = await text(page, '#countdown');
  assert.match(shown, /^Starts in 1 minute \d+ seconds?$/);
  await page.waitForFunction((was) => document.getElementById('countdown').textContent !== was, shown);
  await assertCleanRequests(requests);
  await context.close();
});

test('an expired link says so without asking the cloud', async () => {
  const link = links.expiring;
  const wait = Date.parse(link.expires_at) - Date.now() + 1_000;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const { context, page, requests } = await phone();
  await page.goto(link.link);
  await waitForState(page, 'expired');
  await assertFragmentGone(page, link);
  assert.equal(await text(page, '#badge'), 'Expired');
  assert.equal(await text(page, '#title'), 'This link has expired');
  assert.equal(await page.locator('#code-card').isVisible(), false);
  await screenshot(page, 'expired');
  const all = await assertCleanRequests(requests);
  assert.deepEqual(all.filter((r) => r.method === 'POST'), [], 'an expired link was sent to the cloud');

  // A self-contained link past its expiry: the same state, and no code.
  const old = makeLink('--self-contained', '--kind', 'permanent', '--expires-in', '-60');
  await visit(page, old.link);
  await waitForState(page, 'expired');
  assert.ok(!(await page.content()).includes(old.pin));
  await assertCleanRequests(requests);
  await context.close();
});

test('a revoked link is no longer available', async () => {
  const link = makeLink('--revoke');
  const { context, page, requests } = await phone();
  await page.goto(link.link);
  await waitForState(page, 'unavailable');
  await assertFragmentGone(page, link);
  assert.equal(await text(page, '#title'), 'This link is no longer available');
  assert.match(await text(page, '#detail'), /revoked .* opened as often as allowed/);
  assert.equal(await page.locator('#code-card').isVisible(), false);
  await screenshot(page, 'unavailable');
  await assertCleanRequests(requests);

  // A one-view link, once opened, is no longer available either.
  const once = makeLink('--views', '1');
  await visit(page, once.link);
  await waitForState(page, 'valid');
  await visit(page, once.link);
  await waitForState(page, 'unavailable');
  await assertCleanRequests(requests);
  await context.close();
});

/** The link with one character of its fragment changed at `index` (negative: from the end). */
function flip(link, index) {
  const [address, fragment] = link.link.split('#');
  const at = index < 0 ? fragment.length + index : index;
  const c = fragment[at];
  const replacement = /[0-9]/.test(c) ? String((Number(c) + 1) % 10) : c === 'A' ? 'B' : 'A';
  return `${address}#${fragment.slice(0, at)}${replacement}${fragment.slice(at + 1)}`;
}

test('tampered links show the damaged state', async () => {
  const { context, page, requests } = await phone();
  // The expiry in the fragment changed by a second: the cloud releases the
  // ciphertext, but it no longer decrypts (the expiry is associated data).
  const hosted = makeLink();
  await page.goto(flip(hosted, -1));
  await waitForState(page, 'damaged');
  assert.equal(await text(page, '#badge'), 'Damaged link');
  assert.equal(await text(page, '#title'), 'This link is damaged or wrong');
  await screenshot(page, 'damaged');
  // A character of the self-contained payload changed: no request, damaged.
  const local = makeLink('--self-contained');
  const posts = requests.length;
  await visit(page, flip(local, 200));
  await waitForState(page, 'damaged');
  assert.equal(requests.slice(posts).filter((r) => r.method() === 'POST').length, 0);
  // A character of the secret changed: the access key is wrong, so the cloud
  // answers its one 404 and the page cannot tell it from a revoked link.
  await visit(page, flip(hosted, 10));
  await waitForState(page, 'unavailable');
  // Cut off: the fragment is missing.
  await visit(page, hosted.link.split('#')[0]);
  await waitForState(page, 'damaged');
  assert.equal(await text(page, '#title'), 'This link is incomplete');
  await screenshot(page, 'incomplete');
  await assertCleanRequests(requests);
  await context.close();
});

test("the server's access log never saw a secret, a fragment or a code", async () => {
  assert.ok(secrets.size > 20);
  const log = readFileSync(accessLogPath, 'utf8');
  const lines = log.trim().split('\n');
  assert.ok(lines.length > 20, log);
  assert.ok(!log.includes('#'), 'a fragment reached the server');
  assertNoSecretsIn('the access log', log);
  assert.ok(lines.some((l) => l.endsWith(` GET /s/${links.valid.id} 200`)), log);
  assert.ok(lines.some((l) => l.endsWith(` POST /v1/shares/${links.valid.id}/open 200`)), log);
  assert.ok(lines.some((l) => / POST \/v1\/shares\/[A-Za-z0-9_-]{22}\/open 404$/.test(l)), log);
  assert.ok(lines.some((l) => l.endsWith(' GET /s/ 200')), 'the self-contained page was served');
});
