// axe-core over every page template (harness PAGES), as the viewer that sees
// it, at phone and desktop widths: WCAG 2.0 and 2.1, levels A and AA, zero
// violations. The same visit writes the screenshots of each page.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  PAGES, ROOT, contextFor, launchBrowser, pathOf, screenshot, startServer, stopAndCheck, viewersOf,
} from './harness.mjs';

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

async function contextOf(viewer, mode) {
  const key = `${viewer} ${mode.name}`;
  if (!contexts.has(key)) {
    contexts.set(key, await contextFor(browser, server, viewer,
      { viewport: mode.viewport, colorScheme: mode.colorScheme, bypassCSP: true }));
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

describe('accessibility (axe-core, WCAG 2.1 A and AA)', { timeout: 240_000 }, () => {
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
      test(`${entry.name} (${entry.viewer}, ${mode.name})`, async (t) => {
        const context = await contextOf(entry.viewer, mode);
        const page = await context.newPage();
        try {
          const url = await pathOf(entry, server);
          const res = await page.goto(url);
          assert.equal(res.status(), entry.status ?? 200, `${url} answered ${res.status()}`);
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
