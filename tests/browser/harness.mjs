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
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');
export const BIN = path.resolve(ROOT, process.env.MASTHEAD_BIN || 'build/masthead');
export const CHROMIUM = process.env.CHROME_PATH || '/usr/bin/chromium';
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
  Object.assign(fullEnv, { MASTHEAD_RATE_LIMIT: '1000' }, env);

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
  { viewport = 'desktop', colorScheme = 'light', bypassCSP = false } = {}) {
  const context = await browser.newContext({
    baseURL: server.url,
    viewport: VIEWPORTS[viewport] || viewport,
    colorScheme,
    locale: 'en-GB',
    // Only for injecting axe-core: the theme's Content-Security-Policy
    // (script-src 'self') rightly blocks an injected script.
    bypassCSP,
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
 * A browser context for a viewer: 'anonymous', or an e-mail address of a
 * demo account (signed in with the demo password).
 */
export async function contextFor(browser, server, viewer, opts = {}) {
  const context = await newContext(browser, server, opts);
  if (viewer && viewer !== 'anonymous') {
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

// ---------------------------------------------------------------- pages

/**
 * Every page template, with the viewer that sees it and the status it
 * answers. a11y.test.mjs and html.test.mjs both walk this list; add a page
 * here and both check it. `path` may be an async function of the server
 * (for pages behind a mailed link).
 */
export const PAGES = [
  { name: 'front', path: '/', viewer: 'anonymous' },
  { name: 'article-teaser', path: PAID_ARTICLE, viewer: 'anonymous' },
  { name: 'article-full', path: PAID_ARTICLE, viewer: 'editor@demo.test' },
  { name: 'article-public', path: '/articles/council-eastshore-rezoning-hearing', viewer: 'anonymous' },
  { name: 'tag', path: '/tags/port', viewer: 'anonymous' },
  { name: 'author', path: '/authors/tobias-renwick', viewer: 'anonymous' },
  { name: 'speaker', path: '/people/ines-okafor', viewer: 'anonymous' },
  { name: 'signin', path: '/signin', viewer: 'anonymous' },
  { name: 'signup', path: '/signup', viewer: 'anonymous' },
  { name: 'reset', path: '/reset', viewer: 'anonymous' },
  { name: 'account', path: '/account', viewer: 'editor@demo.test' },
  { name: 'link-confirm', path: (server) => requestSignInLink(server, 'reader@demo.test'), viewer: 'anonymous' },
  { name: 'not-found', path: '/no-such-page', viewer: 'anonymous', status: 404 },
];

/** Resolves a PAGES entry's path on a running server. */
export async function pathOf(entry, server) {
  return typeof entry.path === 'function' ? entry.path(server) : entry.path;
}

/** The distinct viewers PAGES needs. */
export function viewersOf(pages) {
  return [...new Set(pages.map((p) => p.viewer))];
}
