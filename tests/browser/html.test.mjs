// The Nu HTML Checker (vnu.jar from the vnu-jar package; Java 17) over the
// HTML the server sends for every page template (harness PAGES), fetched as
// the viewer that sees it: zero errors. The markup is the server's own bytes,
// not the browser's DOM after parsing.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  PAGES, ROOT, contextFor, fetchPage, launchBrowser, startServer, stopAndCheck, viewersOf, PER_TEST } from './harness.mjs';

const VNU = path.join(ROOT, 'node_modules', 'vnu-jar', 'build', 'dist', 'vnu.jar');
const JAVA = process.env.JAVA || 'java';

let server;
let browser;
let outDir;
const results = new Map(); // page name -> { url, status, messages }

describe('HTML (Nu HTML Checker)', () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'masthead-vnu-'));

    const contexts = new Map();
    for (const viewer of viewersOf(PAGES)) contexts.set(viewer, await contextFor(browser, server, viewer));
    const files = [];
    for (const entry of PAGES) {
      const { url, response: res } = await fetchPage(contexts.get(entry.viewer), entry, server);
      const file = path.join(outDir, `${entry.name}.html`);
      const body = await res.body();
      fs.writeFileSync(file, body);
      files.push(file);
      results.set(entry.name, {
        url, status: res.status(), type: res.headers()['content-type'], messages: [],
        shown: !entry.shows || body.toString('utf8').includes(entry.shows),
      });
    }
    for (const c of contexts.values()) await c.close();

    // A control page with a known error, so a checker that silently checks
    // nothing cannot pass the run.
    const control = path.join(outDir, 'control.html');
    fs.writeFileSync(control, '<!DOCTYPE html><html lang="en"><head><title>c</title></head><body><p>x</span></body></html>');
    files.push(control);
    results.set('control', { messages: [] });

    // One JVM for every file: vnu exits 1 when it finds errors, so read the
    // report from stderr either way.
    let report;
    try {
      const { stderr } = await promisify(execFile)(JAVA,
        ['-jar', VNU, '--errors-only', '--format', 'json', ...files], { maxBuffer: 64 << 20 });
      report = stderr;
    } catch (err) {
      if (!err.stderr || !err.stderr.trim().startsWith('{')) throw err;
      report = err.stderr;
    }
    for (const msg of JSON.parse(report).messages) {
      const name = path.basename(decodeURIComponent(new URL(msg.url).pathname), '.html');
      results.get(name).messages.push(msg);
    }
  });

  after(async () => {
    await browser?.close();
    assert.equal(await stopAndCheck(server), null);
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
  });

  test('the checker reports the stray end tag in the control page', PER_TEST, () => {
    assert.ok(results.get('control').messages.some((m) => /Stray end tag/.test(m.message)),
      JSON.stringify(results.get('control').messages));
  });

  for (const entry of PAGES) {
    test(`${entry.name} (${entry.viewer})`, PER_TEST, () => {
      const r = results.get(entry.name);
      assert.equal(r.status, entry.status ?? 200, `${r.url} answered ${r.status}`);
      assert.match(r.type, /^text\/html; charset=utf-8$/i);
      assert.ok(r.shown, `${r.url} (${entry.viewer}) does not show "${entry.shows}": not the page this entry is about`);
      const lines = r.messages.map((m) =>
        `  ${entry.name}.html:${m.lastLine ?? '?'}:${m.firstColumn ?? m.lastColumn ?? '?'} ${m.type}${
          m.subType ? `/${m.subType}` : ''}: ${m.message}\n    ${(m.extract || '').replace(/\n/g, '⏎')}`);
      assert.equal(r.messages.length, 0,
        `${r.messages.length} HTML error(s) in ${r.url} (${entry.viewer}):\n${lines.join('\n')}`);
    });
  }
});
