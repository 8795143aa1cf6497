// Browser test harness: the real masthead binary on a free port with a
// temporary data dir, Debian's Chromium driven by playwright-core, and the
// mail outbox (DATA/outbox/*.eml) read the way a member reads their mail.
//
// Each test file starts its own server (fresh demo data) and its own browser,
// so files can run in any order. See docs/browser-tests.md.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, request as playwrightRequest } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');
export const BIN = path.resolve(ROOT, process.env.MASTHEAD_BIN || 'build/masthead');
export const CHROMIUM = process.env.CHROME_PATH || '/usr/bin/chromium';

/**
 * Each test's own limit: no suite-wide cap, and one generous enough that a
 * loaded two-core machine never reaches it; only a hang does.
 */
export const PER_TEST = { timeout: 10 * 60_000 };

/**
 * The server's clock starts at a fixed instant (MASTHEAD_CLOCK), the same one
 * the end-to-end tests use, so no browser test depends on today's date.
 */
export const TEST_CLOCK = process.env.MASTHEAD_TEST_CLOCK || '2026-12-09T10:00:00Z';
/** Whole seconds added to the real clock, the same for every process started. */
export const CLOCK_OFFSET = String(Math.round((Date.parse(TEST_CLOCK) - Date.now()) / 1000));
export const SCREENSHOTS = path.join(HERE, 'screenshots');
export const PASSWORD = 'masthead-demo';

// Flags that keep Chromium headless, quiet and off the network: the only
// host it may talk to is the test server on 127.0.0.1.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 900 },
};

// The demo's paid article, used by several files.
export const PAID_ARTICLE = '/articles/port-pier-9-overnight-cargo';

// ---------------------------------------------------------------- server

// Synchronous last-resort cleanups (kill a child, remove a temp dir) for when
// a test file ends before its after() hook runs: on exit, and on SIGINT,
// SIGTERM or SIGHUP (then the signal is raised again, to end as it would).
const cleanups = new Set();
function runCleanups() {
  for (const fn of cleanups) {
    try { fn(); } catch { /* best effort */ }
  }
  cleanups.clear();
}
process.on('exit', runCleanups);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => { runCleanups(); process.kill(process.pid, sig); });
}

/** Registers a synchronous cleanup; returns a function that unregisters it. */
export function onCleanup(fn) {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

// A test process can also die without running any handler (as it does when
// the output of `node --test` is piped into `head`). So
// children are started under util-linux's setpriv with a parent-death
// signal: the kernel sends them SIGTERM when this process goes. setpriv
// execs the program, so the child's pid is the program's own.
const SETPRIV = '/usr/bin/setpriv';
export function spawnTied(cmd, args, opts) {
  if (fs.existsSync(SETPRIV)) return spawn(SETPRIV, ['--pdeathsig', 'TERM', '--', cmd, ...args], opts);
  return spawn(cmd, args, opts);
}

/** Removes data dirs left by test processes that were killed outright. */
function removeStaleDirs() {
  for (const name of fs.readdirSync(os.tmpdir())) {
    const m = name.match(/^masthead-(?:browser|lh)-(\d+)-/);
    if (!m) continue;
    try { process.kill(Number(m[1]), 0); continue; } catch (err) { if (err.code !== 'ESRCH') continue; }
    fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

/**
 * Starts `masthead demo --port 0 --data <tmpdir>` and waits for its
 * "masthead listening on http://127.0.0.1:PORT/" line.
 * Returns { url, port, dataDir, proc, logs(), stop() }.
 */
export async function startServer({ env = {}, timeoutMs = 30_000 } = {}) {
  if (!fs.existsSync(BIN)) {
    throw new Error(`masthead binary not found at ${BIN}: build it (make) or set MASTHEAD_BIN`);
  }
  removeStaleDirs();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `masthead-browser-${process.pid}-`));
  const fullEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('MASTHEAD_')));
  Object.assign(fullEnv, { MASTHEAD_RATE_LIMIT: '1000', MASTHEAD_CLOCK_OFFSET: CLOCK_OFFSET }, env);

  const proc = spawnTied(BIN, ['demo', '--port', '0', '--data', dataDir], {
    env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr += d; });
  proc.stdout.setEncoding('utf8');

  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error('timed out')), timeoutMs);
    function done(err, value) {
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      proc.off('exit', onExit);
      proc.off('error', done);
      if (err) reject(err); else resolve(value);
    }
    function onData(d) {
      stdout += d;
      const m = stdout.match(/masthead listening on http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) done(null, Number(m[1]));
    }
    function onExit(code, sig) { done(new Error(`exited (${code ?? sig})`)); }
    proc.stdout.on('data', onData);
    proc.on('exit', onExit);
    proc.on('error', done);
  }).catch((err) => {
    proc.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`masthead did not start: ${err.message}\n${stdout}\n${stderr.slice(-3000)}`);
  });
  // Keep draining stdout so the server never blocks on a full pipe.
  proc.stdout.on('data', (d) => { stdout += d; });
  const forget = onCleanup(() => {
    proc.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const server = {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    proc,
    logs: () => stderr,
    banner: () => stdout,
    async stop() {
      if (stopped) return proc.exitCode;
      stopped = true;
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
      forget();
      return proc.exitCode;
    },
  };
  let stopped = false;
  return server;
}

/**
 * Stops the server and checks, as the end-to-end tests do, that it exited 0
 * and logged no error and nothing from the sanitizers. Returns a message
 * describing the problem, or null.
 */
export async function stopAndCheck(server) {
  if (!server) return null;
  const code = await server.stop();
  const log = server.logs();
  const bad = ['Sanitizer', 'runtime error:', 'level=error'].filter((b) => log.includes(b));
  if (code === 0 && bad.length === 0) return null;
  return `masthead exited ${code}${bad.length ? `, logged ${bad.join(', ')}` : ''}:\n${log.slice(-3000)}`;
}

// ---------------------------------------------------------------- browser

/** Launches Debian's Chromium through playwright-core. */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * A fresh browser context (its own cookies) on the server, at a viewport
 * from VIEWPORTS. Page errors and console errors are collected in
 * context.problems so a flow can assert that none happened (a CSP
 * violation is a console error too).
 */
export async function newContext(browser, server,
  { viewport = 'desktop', colorScheme = 'light', bypassCSP = false, storageState } = {}) {
  const context = await browser.newContext({
    baseURL: server.url,
    viewport: VIEWPORTS[viewport] || viewport,
    colorScheme,
    locale: 'en-GB',
    // Only for injecting axe-core: the theme's Content-Security-Policy
    // (script-src 'self') rightly blocks an injected script.
    bypassCSP,
    // Another context's cookies (context.storageState()): the same session
    // without signing in again.
    storageState,
  });
  context.problems = [];
  context.on('page', (page) => watchPage(page, context.problems));
  return context;
}

function watchPage(page, problems) {
  page.on('pageerror', (err) => problems.push(`page error on ${page.url()}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error on ${page.url()}: ${msg.text()}`);
  });
}

/** Signs in through the password form, as a person would. */
export async function signInWithPassword(page, email, password = PASSWORD) {
  if (!new URL(page.url(), 'http://x').pathname.startsWith('/signin')) {
    await page.goto('/signin');
  }
  await page.locator('#signin-email').fill(email);
  await page.locator('#signin-password').fill(password);
  await Promise.all([
    page.waitForNavigation(),
    page.locator('form[action="/signin"] button[type="submit"]').click(),
  ]);
}

/**
 * Whether a viewer (a PAGES entry's `viewer`) is not signed in: 'anonymous',
 * or 'anonymous (something)' for an anonymous reader who needs cookies of
 * their own (such as the one who opened a gift link).
 */
export function isAnonymous(viewer) {
  return !viewer || viewer.startsWith('anonymous');
}

/**
 * A browser context for a viewer: 'anonymous' (or 'anonymous (...)'), or an
 * e-mail address of a demo account (signed in with the demo password, unless
 * opts.storageState already carries that viewer's session).
 */
export async function contextFor(browser, server, viewer, opts = {}) {
  const context = await newContext(browser, server, opts);
  if (!isAnonymous(viewer) && !opts.storageState) {
    const page = await context.newPage();
    await page.goto('/signin');
    await signInWithPassword(page, viewer);
    const account = page.locator('.site-header .account-link');
    if (!(await account.count())) {
      throw new Error(`could not sign in as ${viewer}: landed on ${page.url()}`);
    }
    await page.close();
  }
  return context;
}

/** Writes a full-page screenshot to tests/browser/screenshots/NAME.png. */
export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Writes a screenshot of one element (a locator) to screenshots/NAME.png. */
export async function screenshotOf(locator, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await locator.screenshot({ path: file });
  return file;
}

// ---------------------------------------------------------------- mail

function decodeQuotedPrintable(text) {
  const bytes = [];
  const soft = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeBody(headers, body) {
  const cte = (headers['content-transfer-encoding'] || '').toLowerCase();
  if (cte === 'quoted-printable') return decodeQuotedPrintable(body);
  if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

function splitHeaders(raw) {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

/** Parses one .eml file into { file, to, subject, text, html }. */
export function parseMail(file) {
  const raw = fs.readFileSync(file, 'utf8');
  const { headers, body } = splitHeaders(raw);
  const mail = { file, headers, to: headers.to || '', subject: headers.subject || '', text: '', html: '' };
  const boundary = (headers['content-type'] || '').match(/boundary="?([^";]+)"?/i);
  const parts = [];
  if (boundary) {
    for (const chunk of body.split(`--${boundary[1]}`).slice(1)) {
      if (chunk.startsWith('--')) break;
      parts.push(splitHeaders(chunk.replace(/^\r?\n/, '')));
    }
  } else {
    parts.push({ headers, body });
  }
  for (const part of parts) {
    const type = (part.headers['content-type'] || 'text/plain').toLowerCase();
    const decoded = decodeBody(part.headers, part.body);
    if (type.startsWith('text/plain') && !mail.text) mail.text = decoded;
    if (type.startsWith('text/html') && !mail.html) mail.html = decoded;
  }
  return mail;
}

/** Every mail to `to` in the outbox, oldest first. */
export function mailsTo(server, to) {
  const dir = path.join(server.dataDir, 'outbox');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .map((f) => path.join(dir, f))
    .map((f) => ({ f, t: fs.statSync(f).mtimeMs }))
    .sort((a, b) => a.t - b.t || a.f.localeCompare(b.f))
    .map(({ f }) => parseMail(f))
    .filter((m) => m.to.toLowerCase().includes(to.toLowerCase()));
}

/**
 * The newest mail to `to`, waiting for the sender thread. Pass `after`, the
 * count from mailsTo() taken before the action, to wait for a new one.
 */
export async function waitForMail(server, to, { after = 0, timeoutMs = 10_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = mailsTo(server, to);
    if (found.length > after) return found[found.length - 1];
    if (Date.now() > deadline) throw new Error(`no new mail to ${to} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The path of the first link in a mail's text part that starts with
 * `prefix` (such as '/signin/link/'), for opening on the test server. Only
 * the path is taken: the host in the mail is the configured public URL.
 */
export function linkIn(mail, prefix) {
  const re = new RegExp(`https?://[^\\s/]+(${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[A-Za-z0-9_-]+)`);
  const m = mail.text.match(re);
  if (!m) throw new Error(`no ${prefix} link in mail "${mail.subject}":\n${mail.text}`);
  return m[1];
}

/**
 * Asks for a magic sign-in link for `email` through the HTTP form (not the
 * browser) and returns the path it mails, unspent.
 */
export async function requestSignInLink(server, email) {
  const before = mailsTo(server, email).length;
  const page = await fetch(`${server.url}/signin`);
  const cookie = (page.headers.getSetCookie?.() || []).map((c) => c.split(';')[0]).join('; ');
  const csrf = (await page.text()).match(/name="csrf" value="([^"]+)"/)[1];
  const res = await fetch(`${server.url}/signin/link`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, email, next: '/' }),
    redirect: 'manual',
  });
  if (res.status >= 400) throw new Error(`POST /signin/link: ${res.status}`);
  return linkIn(await waitForMail(server, email, { after: before }), '/signin/link/');
}

// ---------------------------------------------------------------- billing

/** The test provider's cards (docs/billing.md), as a person types them. */
export const CARDS = {
  ok: '4242 4242 4242 4242',
  declined: '4000 0000 0000 0002',
  insufficient: '4000 0000 0000 9995',
  expired: '4000 0000 0000 0069',
};

function csrfIn(html) {
  const m = html.match(/name="csrf" value="([^"]+)"/);
  if (!m) throw new Error('no csrf field in the page');
  return m[1];
}

/**
 * Posts a form through a Playwright request context (a browser context's
 * `request` shares its cookies) with the csrf of `csrfFrom`, without
 * following the redirect; returns the path it redirects to.
 */
async function postForRedirect(request, csrfFrom, action, fields) {
  const page = await request.get(csrfFrom);
  const res = await request.post(action, {
    form: { csrf: csrfIn(await page.text()), ...fields }, maxRedirects: 0,
  });
  const location = res.headers().location;
  if (res.status() !== 303 || !location) {
    throw new Error(`POST ${action} answered ${res.status()} ${location || ''}, not a redirect`);
  }
  return new URL(location, 'http://x').pathname + new URL(location, 'http://x').search;
}

/**
 * Starts a checkout for a plan as the member signed in to `context` (a
 * browser context) and returns its path, /checkout/TOKEN?next=...
 */
export function startCheckout(context, plan = 'monthly', next = '/') {
  return postForRedirect(context.request, '/subscribe', '/subscribe', { plan, next });
}

/**
 * Starts a card-update checkout (/account/billing, "Update your card") as
 * the member signed in to `context`; returns its path.
 */
export function startCardCheckout(context, next = '/') {
  return postForRedirect(context.request, '/account/billing', '/account/billing', { action: 'card', next });
}

/**
 * Signs `email` in on a request context of its own, presses "Gift this
 * article" on `article` and returns the gift link's path and query
 * (/articles/SLUG?gift=TOKEN), read from the page it answers with.
 */
export async function createGiftLink(server, email = 'subscriber@demo.test', article = PAID_ARTICLE) {
  const request = await playwrightRequest.newContext({ baseURL: server.url });
  try {
    await postForRedirect(request, '/signin', '/signin', { email, password: PASSWORD, next: '/' });
    const html = await (await request.get(article)).text();
    const form = html.match(/<form\b[^>]*\bclass="[^"]*\bgift-form\b[^"]*"[^>]*>/);
    const action = form && form[0].match(/\baction="([^"]+)"/);
    if (!action) throw new Error(`no gift form on ${article} for ${email}`);
    const res = await request.post(action[1], { form: { csrf: csrfIn(html) } });
    const m = (await res.text()).match(/(?:https?:\/\/[^\s"<>/]+)?(\/articles\/[^\s"<>?]+\?gift=[A-Za-z0-9_-]+)/);
    if (res.status() !== 200 || !m) throw new Error(`POST ${action[1]} answered ${res.status()} with no gift link`);
    return m[1];
  } finally {
    await request.dispose();
  }
}

// ---------------------------------------------------------------- newsroom

/** Sets the staff's new-device check through the settings page, as the admin signed in to `admin`. */
async function setDeviceCheck(admin, on) {
  const page = await admin.newPage();
  try {
    await page.goto('/admin/settings');
    await page.locator('#s-staff-device-check').setChecked(on);
    await Promise.all([page.waitForNavigation(), page.locator('form.admin-settings button[type="submit"]').click()]);
    if (!page.url().includes('notice=saved')) throw new Error(`settings not saved: ${page.url()}`);
  } finally {
    await page.close();
  }
}

/**
 * The new-device code page, for the viewer of `context`: an admin switches
 * the check on, the editor signs in there (a code is mailed), and the admin
 * switches it off again, as the demo has it, for the other entries.
 */
export async function startDeviceCheck(server, context) {
  const admin = await contextFor(context.browser(), server, 'admin@demo.test');
  try {
    await setDeviceCheck(admin, true);
    try {
      return await postForRedirect(context.request, '/signin', '/signin',
        { email: 'editor@demo.test', password: PASSWORD, next: '/admin' });
    } finally {
      await setDeviceCheck(admin, false);
    }
  } finally {
    await admin.close();
  }
}

// ---------------------------------------------------------------- pages

/**
 * Every page template, with the viewer that sees it and the status it
 * answers. a11y.test.mjs and html.test.mjs both walk this list; add a page
 * here and both check it. `path` may be an async function of the server
 * and the viewer's browser context (for pages behind a mailed link, or a
 * checkout token minted for that viewer). A page that answers a form has
 * `submit` instead: `from` (a path, or such a function), the `form`
 * (a selector on that page), and optionally `fill` ({ selector: value } of
 * fields to type); openPage() and fetchPage() submit it. `shows`, a text
 * the page must contain, guards against checking some other page (a
 * redirect, a page without the state the entry is about).
 */
export const PAGES = [
  { name: 'front', path: '/', viewer: 'anonymous' },
  { name: 'article-teaser', path: PAID_ARTICLE, viewer: 'anonymous' },
  { name: 'article-full', path: PAID_ARTICLE, viewer: 'editor@demo.test' },
  { name: 'article-public', path: '/articles/council-eastshore-rezoning-hearing', viewer: 'anonymous' },
  { name: 'tag', path: '/tags/port', viewer: 'anonymous' },
  { name: 'author', path: '/authors/tobias-renwick', viewer: 'anonymous' },
  { name: 'speaker', path: '/people/ines-okafor', viewer: 'anonymous' },
  { name: 'tags-index', path: '/tags', viewer: 'anonymous', shows: 'Topics' },
  { name: 'authors-index', path: '/authors', viewer: 'anonymous', shows: 'Tobias Renwick' },
  { name: 'people-index', path: '/people', viewer: 'subscriber@demo.test', shows: 'Ines Okafor' },
  { name: 'signin', path: '/signin', viewer: 'anonymous' },
  { name: 'signup', path: '/signup', viewer: 'anonymous' },
  { name: 'reset', path: '/reset', viewer: 'anonymous' },
  { name: 'account', path: '/account', viewer: 'editor@demo.test' },
  { name: 'link-confirm', path: (server) => requestSignInLink(server, 'reader@demo.test'), viewer: 'anonymous' },
  { name: 'not-found', path: '/no-such-page', viewer: 'anonymous', status: 404 },
  // Billing (docs/billing.md, docs/paywall.md).
  { name: 'subscribe', path: '/subscribe', viewer: 'anonymous', shows: 'Choose Monthly' },
  { name: 'subscribe-member', path: '/subscribe', viewer: 'reader@demo.test', shows: 'Choose Monthly' },
  {
    name: 'checkout', path: (server, context) => startCheckout(context, 'monthly'),
    viewer: 'reader@demo.test', shows: 'TEST MODE',
  },
  {
    name: 'checkout-declined',
    submit: {
      from: (server, context) => startCheckout(context, 'monthly'),
      form: 'main form',
      fill: { '#card-number': CARDS.declined, '#card-expiry': '12/34', '#card-cvc': '123' },
    },
    viewer: 'reader@demo.test',
    status: 402,
    shows: 'Your card was declined.',
  },
  {
    name: 'checkout-card', path: (server, context) => startCardCheckout(context, PAID_ARTICLE),
    viewer: 'lapsed@demo.test', shows: 'Save card',
  },
  { name: 'billing', path: '/account/billing', viewer: 'subscriber@demo.test', shows: 'Cancel subscription' },
  { name: 'billing-problem', path: '/account/billing', viewer: 'lapsed@demo.test', shows: 'did not go through' },
  {
    name: 'article-grace', path: PAID_ARTICLE, viewer: 'pastdue@demo.test',
    shows: 'Your last payment did not go through',
  },
  {
    name: 'article-payment-failed', path: PAID_ARTICLE, viewer: 'lapsed@demo.test',
    shows: 'Your payment did not go through',
  },
  {
    name: 'gift-link', submit: { from: PAID_ARTICLE, form: 'form.gift-form' },
    viewer: 'subscriber@demo.test', shows: '?gift=',
  },
  {
    name: 'article-gift', path: (server) => createGiftLink(server),
    viewer: 'anonymous (gift link)', shows: 'Okafor said the study',
  },
  // Search (docs/search.md).
  { name: 'search', path: '/search?q=ferry', viewer: 'anonymous', shows: 'results for' },
  { name: 'search-form', path: '/search', viewer: 'subscriber@demo.test', shows: 'Words to search for' },
  // The newsroom's images (docs/newsroom.md): the empty form, then the library with an upload.
  { name: 'admin-media', path: '/admin/media', viewer: 'editor@demo.test', shows: 'Upload an image' },
  {
    name: 'admin-media-library', path: (server) => uploadImage(server),
    viewer: 'editor@demo.test', shows: 'The front page of the demo paper on a phone',
  },
  // The newsroom's articles (docs/newsroom.md).
  { name: 'admin-articles', path: '/admin/articles', viewer: 'editor@demo.test', shows: 'New article' },
  {
    name: 'admin-articles-filtered', path: '/admin/articles?status=published&access=paid&q=port',
    viewer: 'editor@demo.test', shows: 'match',
  },
  { name: 'admin-article-new', path: '/admin/articles/new', viewer: 'editor@demo.test', shows: 'Paywall marker' },
  { name: 'admin-article-edit', path: (server, context) => demoStory(context), viewer: 'editor@demo.test', shows: 'Preview as a subscriber' },
  {
    name: 'admin-article-errors',
    submit: { from: '/admin/articles/new', form: 'form#editor', fill: { '#f-title': ' ', '#f-slug': 'Not A Slug' } },
    viewer: 'editor@demo.test', status: 422, shows: 'A slug is lower-case letters',
  },
  {
    name: 'admin-article-preview', path: async (server, context) => `${await demoStory(context)}/preview?as=anonymous`,
    viewer: 'editor@demo.test', shows: 'as an anonymous reader',
  },
  {
    name: 'admin-article-revisions', path: async (server, context) => `${await demoStory(context)}/revisions`,
    viewer: 'editor@demo.test', shows: 'newest first',
  },
  // The newsroom's dashboard and members (docs/newsroom.md): admins only.
  { name: 'admin-dashboard', path: '/admin', viewer: 'admin@demo.test', shows: 'Paying subscribers by month' },
  { name: 'admin-members', path: '/admin/members?q=demo', viewer: 'admin@demo.test', shows: 'pastdue@demo.test' },
  { name: 'admin-member', path: '/admin/members/3', viewer: 'admin@demo.test', shows: 'Card on file' },
  {
    name: 'admin-member-comp-error',
    submit: { from: '/admin/members/1', form: 'form[action$="/comp"]', fill: { '#comp-until': '2000-01-01' } },
    viewer: 'admin@demo.test', status: 422, shows: 'Choose a day after today',
  },
  { name: 'admin-member-delete', path: '/admin/members/3/delete', viewer: 'admin@demo.test', shows: 'Type the member' },
  { name: 'admin-members-import', path: '/admin/members/import', viewer: 'admin@demo.test', shows: 'The CSV text' },
  {
    name: 'admin-members-import-errors',
    submit: {
      from: '/admin/members/import', form: 'form[action="/admin/members/import"]',
      fill: { '#import-csv': 'email,name\nnot-an-address,Someone\nreader@demo.test,Riley\n' },
    },
    viewer: 'admin@demo.test', status: 422, shows: 'Rows to fix',
  },
  // The newsroom's settings (docs/newsroom.md).
  { name: 'admin-settings', path: '/admin/settings', viewer: 'admin@demo.test', shows: 'Plans and prices' },
  {
    name: 'admin-settings-invalid',
    submit: { from: '/admin/settings', form: 'form.admin-settings', fill: { '#s-grace-days': '999' } },
    viewer: 'admin@demo.test', status: 422, shows: 'nothing was saved',
  },
  { name: 'admin-settings-keys', path: '/admin/settings/keys', viewer: 'admin@demo.test', shows: 'Make a key' },
  {
    name: 'signin-device', path: (server, context) => startDeviceCheck(server, context),
    viewer: 'anonymous (new device)', shows: 'sent a code of 8 digits',
  },
];

/**
 * Uploads an image (a PNG from docs/img) to the newsroom's library as an
 * editor; returns the library's address that marks it as just added.
 */
export async function uploadImage(server, email = 'editor@demo.test') {
  const request = await playwrightRequest.newContext({ baseURL: server.url });
  try {
    await postForRedirect(request, '/signin', '/signin', { email, password: PASSWORD, next: '/' });
    const html = await (await request.get('/admin/media')).text();
    const buffer = fs.readFileSync(path.join(ROOT, 'docs', 'img', 'paper-front-phone.png'));
    const res = await request.post('/admin/media', {
      multipart: {
        csrf: csrfIn(html),
        alt: 'The front page of the demo paper on a phone',
        file: { name: 'front.png', mimeType: 'image/png', buffer },
      },
      maxRedirects: 0,
    });
    const to = res.headers().location;
    if (res.status() !== 303 || !to) throw new Error(`POST /admin/media answered ${res.status()}`);
    return to;
  } finally {
    await request.dispose();
  }
}

/**
 * The newsroom's page of a demo story, its working copy made first (the
 * list adopts published articles when it is opened).
 */
export async function demoStory(context) {
  const list = await (await context.request.get('/admin/articles?q=Pier')).text();
  const m = list.match(/href="(\/admin\/articles\/\d+)"/);
  if (!m) throw new Error('no demo story in the newsroom list');
  return m[1];
}

/**
 * Resolves a PAGES entry's path (or its form's page) on a running server,
 * for the viewer signed in to `context`.
 */
export async function pathOf(entry, server, context) {
  const p = entry.submit ? entry.submit.from : entry.path;
  return typeof p === 'function' ? p(server, context) : p;
}

/**
 * Opens a PAGES entry in a browser page, as its viewer would: goes to its
 * path, or goes to its form's page, types its fields and presses the form's
 * submit button. Returns { url, response }: the path it started from and the
 * response of the page it ends on (after any redirect).
 */
export async function openPage(page, entry, server) {
  const url = await pathOf(entry, server, page.context());
  if (!entry.submit) return { url, response: await page.goto(url) };
  await page.goto(url);
  const form = page.locator(entry.submit.form);
  for (const [sel, value] of Object.entries(entry.submit.fill || {})) await form.locator(sel).fill(value);
  // A form with several buttons (the newsroom's editor) is sent by its first.
  const [response] = await Promise.all([
    page.waitForNavigation(),
    form.locator('button[type="submit"]').first().click(),
  ]);
  return { url, response };
}

/**
 * Fetches a PAGES entry's HTML as the server sends it, with the viewer's
 * cookies (`context`, a browser context signed in as the viewer): a GET of
 * its path (not following redirects), or its form posted as the browser
 * would post it (fields read from the form in a browser page, `fill`
 * applied; redirects followed). Returns { url, response } (an APIResponse).
 */
export async function fetchPage(context, entry, server) {
  const url = await pathOf(entry, server, context);
  if (!entry.submit) return { url, response: await context.request.get(url, { maxRedirects: 0 }) };
  const page = await context.newPage();
  try {
    await page.goto(url);
    const form = page.locator(entry.submit.form);
    for (const [sel, value] of Object.entries(entry.submit.fill || {})) await form.locator(sel).fill(value);
    const { action, fields } = await form.evaluate((f) => ({
      // Not f.action: a control named "action" (the editor's buttons) shadows it.
      action: new URL(f.getAttribute('action') || '', document.baseURI).href,
      fields: Object.fromEntries([...new FormData(f)].map(([k, v]) => [k, String(v)])),
    }));
    const target = new URL(action);
    const response = await context.request.post(target.pathname + target.search, { form: fields });
    return { url, response };
  } finally {
    await page.close();
  }
}

/** The distinct viewers PAGES needs. */
export function viewersOf(pages) {
  return [...new Set(pages.map((p) => p.viewer))];
}
