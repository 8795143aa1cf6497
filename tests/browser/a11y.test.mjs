// axe-core over every page template (harness PAGES), as the viewer that sees
// it, at phone and desktop widths: WCAG 2.0 and 2.1, levels A and AA, zero
// violations. The same visit writes the screenshots of each page.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  PAGES, ROOT, contextFor, launchBrowser, openPage, screenshot, startServer, stopAndCheck, viewersOf, PER_TEST } from './harness.mjs';

const AXE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
// Each page at both widths, and once with the theme's dark palette
// (prefers-color-scheme: dark), whose contrast axe checks as well.
const MODES = [
  { name: 'desktop', viewport: 'desktop' },
  { name: 'phone', viewport: 'phone' },
  { name: 'desktop-dark', viewport: 'desktop', colorScheme: 'dark' },
];

let server;
let browser;
const contexts = new Map(); // `${viewer} ${mode}` -> BrowserContext
const sessions = new Map(); // viewer -> storageState of their first context

// A viewer signs in once; their other modes reuse that session's cookies.
async function contextOf(viewer, mode) {
  const key = `${viewer} ${mode.name}`;
  if (!contexts.has(key)) {
    const context = await contextFor(browser, server, viewer, {
      viewport: mode.viewport, colorScheme: mode.colorScheme, bypassCSP: true,
      storageState: sessions.get(viewer),
    });
    if (!sessions.has(viewer)) sessions.set(viewer, await context.storageState());
    contexts.set(key, context);
  }
  return contexts.get(key);
}

/** One violation per line: rule, impact, what it asks, then each node. */
function formatViolations(violations) {
  return violations.map((v) => [
    `  ${v.id} (${v.impact}): ${v.help}`,
    `    ${v.helpUrl}`,
    ...v.nodes.map((n) => `    at ${n.target.join(' ')}\n      ${n.html.slice(0, 200)}\n      ${
      (n.failureSummary || '').replace(/\n\s*/g, ' / ')}`),
  ].join('\n')).join('\n');
}

// Two pages at a time: each page has its own tab, and the contexts are
// read-only for the pages they show (no entry changes a viewer's state).
describe('accessibility (axe-core, WCAG 2.1 A and AA)', { concurrency: 2 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    for (const viewer of viewersOf(PAGES)) {
      for (const mode of MODES) await contextOf(viewer, mode);
    }
  });

  after(async () => {
    for (const c of contexts.values()) await c.close().catch(() => {});
    await browser?.close();
    assert.equal(await stopAndCheck(server), null);
  });

  for (const entry of PAGES) {
    for (const mode of MODES) {
      test(`${entry.name} (${entry.viewer}, ${mode.name})`, PER_TEST, async (t) => {
        const context = await contextOf(entry.viewer, mode);
        const page = await context.newPage();
        try {
          const { url, response: res } = await openPage(page, entry, server);
          assert.equal(res.status(), entry.status ?? 200, `${url} answered ${res.status()}`);
          if (entry.shows) {
            assert.ok((await page.locator('main').innerText()).includes(entry.shows),
              `${url} (${entry.viewer}) does not show "${entry.shows}": not the page this entry is about`);
          }
          await screenshot(page, `${entry.name}-${mode.name}`);
          await page.addScriptTag({ path: AXE });
          const result = await page.evaluate(
            (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
            TAGS);
          assert.ok(result.passes.length > 0, 'axe ran no rule');
          if (result.incomplete?.length) {
            t.diagnostic(`needs review: ${result.incomplete.map((i) => i.id).join(', ')}`);
          }
          assert.ok(result.violations.length === 0,
            `${result.violations.length} axe violation(s) on ${entry.name} ${url} (${entry.viewer}, ${mode.name}):\n${
              formatViolations(result.violations)}`);
        } finally {
          await page.close();
        }
      });
    }
  }
});
