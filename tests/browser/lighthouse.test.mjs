// Lighthouse (run from Node, not its CLI) on the front page and a paid
// article as an anonymous reader: accessibility, best practices and SEO must
// score at least 0.95; performance is printed, never asserted (timings do
// not decide pass or fail here). Lighthouse drives its own Chromium over the
// DevTools port, offline: no throttling simulation, no request leaves
// 127.0.0.1, and the test checks that.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import lighthouse from 'lighthouse';
import {
  CHROMIUM, CHROMIUM_ARGS, PAID_ARTICLE, PASSWORD, onCleanup, spawnTied, startServer, stopAndCheck, PER_TEST } from './harness.mjs';

const PAGES = [
  { name: 'front', path: '/' },
  { name: 'paid article (teaser)', path: PAID_ARTICLE },
  { name: 'public article', path: '/articles/council-eastshore-rezoning-hearing' },
  { name: 'section', path: '/tags/port' },
  { name: 'author', path: '/authors/tobias-renwick' },
  { name: 'speaker', path: '/people/ines-okafor' },
  { name: 'topics index', path: '/tags' },
  // The newsroom, signed in as the editor: its pages are noindex on purpose,
  // so SEO is recorded there, not asserted.
  { name: 'newsroom articles (editor)', path: '/admin/articles', viewer: 'editor@demo.test', seo: false },
  { name: 'newsroom editor (editor)', path: '/admin/articles/new', viewer: 'editor@demo.test', seo: false },
  { name: 'newsroom images (editor)', path: '/admin/media', viewer: 'editor@demo.test', seo: false },
  { name: 'newsroom dashboard (admin)', path: '/admin', viewer: 'admin@demo.test', seo: false },
  { name: 'newsroom members (admin)', path: '/admin/members', viewer: 'admin@demo.test', seo: false },
  { name: 'newsroom settings (admin)', path: '/admin/settings', viewer: 'admin@demo.test', seo: false },
  { name: 'newsroom audit log (admin)', path: '/admin/audit', viewer: 'admin@demo.test', seo: false },
];

/** The Cookie header of a session signed in as `email` (the password form, over HTTP). */
async function sessionCookie(email) {
  const jar = new Map();
  const keep = (res) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
  };
  const header = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const form = await fetch(`${server.url}/signin`);
  keep(form);
  const csrf = (await form.text()).match(/name="csrf" value="([^"]+)"/)[1];
  const res = await fetch(`${server.url}/signin`, {
    method: 'POST', redirect: 'manual', headers: { Cookie: header(), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, email, password: PASSWORD, next: '/' }),
  });
  keep(res);
  assert.ok(jar.has('masthead_session'), `could not sign in as ${email}`);
  return header();
}
const ASSERTED = ['accessibility', 'best-practices', 'seo'];
const RECORDED = ['performance'];
const MIN_SCORE = 0.95;

const CONFIG = {
  extends: 'lighthouse:default',
  settings: {
    onlyCategories: [...ASSERTED, ...RECORDED],
    // Offline: measure what the page does, simulate no network.
    throttlingMethod: 'provided',
    throttling: { rttMs: 0, throughputKbps: 0, cpuSlowdownMultiplier: 1, requestLatencyMs: 0,
      downloadThroughputKbps: 0, uploadThroughputKbps: 0 },
    formFactor: 'mobile',
    disableFullPageScreenshot: true,
    locale: 'en-US',
  },
};

let server;
let chrome;
let profile;
let port;

/** Chromium with a DevTools port for Lighthouse; returns the port. */
async function launchChromeForLighthouse() {
  profile = fs.mkdtempSync(path.join(os.tmpdir(), `masthead-lh-${process.pid}-`));
  chrome = spawnTied(CHROMIUM, [
    ...CHROMIUM_ARGS,
    '--remote-debugging-port=0',
    '--remote-debugging-address=127.0.0.1',
    `--user-data-dir=${profile}`,
    '--disable-extensions',
    '--disable-default-apps',
    '--disable-domain-reliability',
    '--metrics-recording-only',
    '--no-default-browser-check',
    '--no-pings',
    'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const dir = profile;
  const child = chrome;
  onCleanup(() => {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  let err = '';
  chrome.stderr.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`chromium gave no DevTools port:\n${err}`)), 30_000);
    chrome.stderr.on('data', (d) => {
      err += d;
      const m = err.match(/DevTools listening on ws:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    chrome.on('exit', (code) => { clearTimeout(timer); reject(new Error(`chromium exited ${code}:\n${err}`)); });
  });
}

describe('Lighthouse', () => {
  before(async () => {
    server = await startServer();
    port = await launchChromeForLighthouse();
  });

  after(async () => {
    if (chrome && chrome.exitCode === null) {
      const exited = new Promise((r) => chrome.once('exit', r));
      chrome.kill('SIGTERM');
      await exited;
    }
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    assert.equal(await stopAndCheck(server), null);
  });

  for (const entry of PAGES) {
    test(entry.name, PER_TEST, async (t) => {
      const url = server.url + entry.path;
      const flags = { port, output: 'json', logLevel: 'error' };
      if (entry.viewer) flags.extraHeaders = { Cookie: await sessionCookie(entry.viewer) };
      const result = await lighthouse(url, flags, CONFIG);
      const { lhr } = result;
      assert.ok(!lhr.runtimeError, `Lighthouse failed: ${JSON.stringify(lhr.runtimeError)}`);
      // The page itself, not a sign-in page it was sent to.
      assert.equal(new URL(lhr.finalDisplayedUrl).pathname, entry.path, 'Lighthouse ended on another page');

      const scores = Object.fromEntries(
        [...ASSERTED, ...RECORDED].map((id) => [id, lhr.categories[id]?.score ?? null]));
      const line = Object.entries(scores).map(([id, s]) => `${id} ${s === null ? 'n/a' : s.toFixed(2)}`).join(', ');
      t.diagnostic(`lighthouse ${entry.path}: ${line}`);

      // Offline: every request the page made went to the test server.
      const requests = lhr.audits['network-requests']?.details?.items ?? [];
      assert.ok(requests.length > 0, 'Lighthouse saw no requests');
      const elsewhere = requests.map((r) => r.url)
        .filter((u) => !u.startsWith(server.url) && !u.startsWith('data:'));
      assert.deepEqual(elsewhere, [], 'requests left the test server');

      const failing = (id) => lhr.categories[id].auditRefs
        .map((ref) => lhr.audits[ref.id])
        .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'informative'
          && a.scoreDisplayMode !== 'manual' && a.scoreDisplayMode !== 'notApplicable')
        .map((a) => `    ${a.id}: ${a.title}${a.displayValue ? ` (${a.displayValue})` : ''}`);
      for (const id of ASSERTED.filter((a) => a !== 'seo' || entry.seo !== false)) {
        assert.ok(scores[id] !== null && scores[id] >= MIN_SCORE,
          `${id} scored ${scores[id]} on ${entry.path}, below ${MIN_SCORE}:\n${failing(id).join('\n')}`);
      }
      const perf = failing('performance');
      if (perf.length) t.diagnostic(`performance audits below 1: ${perf.map((l) => l.trim()).join('; ')}`);
    });
  }
});
