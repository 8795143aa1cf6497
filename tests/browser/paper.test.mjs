// The reading site as a newspaper (docs/reference.md, sections): the header's
// Subscribe button for each kind of reader, the sections menu on a phone by
// keyboard alone, and the front, article and section pages at phone and
// desktop widths: axe-core with zero violations, and no layout shift while
// the feature images load.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  PER_TEST, ROOT, contextFor, launchBrowser, screenshot, startServer, stopAndCheck } from './harness.mjs';

const AXE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const PAGES = [
  { name: 'paper-front', path: '/' },
  { name: 'paper-article', path: '/articles/council-eastshore-rezoning-hearing' },
  { name: 'paper-section', path: '/tags/port' },
];

let server;
let browser;

describe('the newspaper pages', () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    assert.equal(await stopAndCheck(server), null);
  });

  for (const [viewer, subscribe] of [
    ['anonymous', true], ['reader@demo.test', true], ['subscriber@demo.test', false], ['lapsed@demo.test', true]]) {
    test(`header: Subscribe ${subscribe ? 'shown' : 'hidden'} for ${viewer}`, PER_TEST, async () => {
      const context = await contextFor(browser, server, viewer);
      try {
        const page = await context.newPage();
        for (const p of ['/', '/tags/port', '/articles/council-eastshore-rezoning-hearing']) {
          await page.goto(p);
          const button = page.locator('.site-header a.button-subscribe');
          assert.equal(await button.count(), subscribe ? 1 : 0, `${viewer} on ${p}`);
          if (subscribe) {
            assert.ok(await button.isVisible());
            assert.equal(await button.getAttribute('href'), '/subscribe');
          }
          const signin = page.locator('.site-header').getByRole('link', { name: 'Sign in' });
          assert.equal(await signin.count(), viewer === 'anonymous' ? 1 : 0);
          if (viewer !== 'anonymous') assert.ok(await page.locator('.site-header .account-link').isVisible());
        }
      } finally {
        await context.close();
      }
    });
  }

  test('phone menu: opened and followed by keyboard at 390 px, without JavaScript', PER_TEST, async () => {
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 390, height: 844 },
      javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto('/');
      // The bar is hidden on a phone; the disclosure is what is shown.
      assert.equal(await page.locator('.sections-bar').isVisible(), false);
      const summary = page.locator('.sections-menu summary');
      assert.ok(await summary.isVisible());
      const first = page.locator('.sections-menu a').first();
      assert.equal(await first.isVisible(), false);
      // Tab from the top of the page until the menu has the focus.
      let found = false;
      for (let i = 0; i < 12 && !found; i++) {
        await page.keyboard.press('Tab');
        found = await summary.evaluate((el) => el === document.activeElement);
      }
      assert.ok(found, 'the Sections menu is not reachable with Tab');
      await page.keyboard.press('Enter');
      assert.ok(await first.isVisible(), 'Enter did not open the menu');
      await page.keyboard.press('Tab');
      assert.ok(await first.evaluate((el) => el === document.activeElement), 'Tab does not reach the first section');
      await screenshot(page, 'paper-menu-phone');
      await Promise.all([page.waitForURL('**/tags/city-hall'), page.keyboard.press('Enter')]);
      assert.equal(await page.locator('h1').innerText(), 'City Hall');
    } finally {
      await context.close();
    }
  });

  for (const entry of PAGES) {
    for (const [mode, width, height] of [['desktop', 1280, 900], ['phone', 390, 844]]) {
      for (const viewer of ['anonymous', 'subscriber@demo.test']) {
        test(`${entry.name} ${mode} (${viewer}): axe 0 violations, no layout shift`, PER_TEST, async () => {
          const context = await contextFor(browser, server, viewer, { viewport: { width, height }, bypassCSP: true });
          try {
            const page = await context.newPage();
            await page.addInitScript(() => {
              window.__cls = 0;
              new PerformanceObserver((list) => {
                for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
              }).observe({ type: 'layout-shift', buffered: true });
            });
            const res = await page.goto(entry.path, { waitUntil: 'load' });
            assert.equal(res.status(), 200);
            // Every image holds its space before it arrives.
            for (const img of await page.locator('main img').all()) {
              assert.ok(await img.getAttribute('width') && await img.getAttribute('height'));
            }
            if (viewer === 'anonymous') await screenshot(page, `${entry.name}-${mode}`);
            assert.ok(await page.evaluate(() => window.__cls) < 0.01, 'layout shift');
            await page.addScriptTag({ path: AXE });
            const result = await page.evaluate(
              (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
              TAGS);
            assert.ok(result.passes.length > 0, 'axe ran no rule');
            assert.deepEqual(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), []);
          } finally {
            await context.close();
          }
        });
      }
    }
  }
});
