// The newsroom's editor in a real browser (docs/newsroom.md, "Articles"):
// editor@demo.test writes a paid brief with a quote using the toolbar,
// previews it as a subscriber and as an anonymous reader, schedules it a few
// seconds ahead on the server's (test) clock, and an anonymous reader gets
// it once the publishing scheduler has run. The editor's screenshot goes to
// tests/browser/screenshots/admin-article-editor.png (the README's copy is
// docs/img/admin-article-editor.png).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CLOCK_OFFSET, launchBrowser, newContext, screenshot, signInWithPassword, startServer, stopAndCheck, PER_TEST,
} from './harness.mjs';

let server;
let browser;
const contexts = [];

async function ctx(opts) {
  const context = await newContext(browser, server, opts);
  contexts.push(context);
  return context;
}

/** The server's clock (the tests' fixed clock) as a datetime-local value, UTC. */
function serverTimePlus(seconds) {
  const t = new Date(Date.now() + Number(CLOCK_OFFSET) * 1000 + seconds * 1000);
  return t.toISOString().slice(0, 19);
}

const TITLE = 'Ferry service returns to Eastshore in spring';
const SLUG = 'ferry-service-returns-to-eastshore-in-spring';

describe('the newsroom editor', () => {
  before(async () => {
    server = await startServer({ env: { MASTHEAD_PUBLISH_INTERVAL: '1' } });
    browser = await launchBrowser();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    assert.equal(await stopAndCheck(server), null);
  });

  test('an editor writes a paid brief with a quote, previews it as both readers, schedules it, and it appears', PER_TEST, async (t) => {
    const context = await ctx({ viewport: 'desktop' });
    const page = await context.newPage();
    await page.goto('/signin?next=/admin');
    await signInWithPassword(page, 'editor@demo.test');
    assert.match(new URL(page.url()).pathname, /^\/admin\/articles$/);

    await page.getByRole('link', { name: 'New article' }).click();
    await page.locator('#f-title').fill(TITLE);
    await page.locator('#f-dek').fill('The council funds two boats from the harbour levy.');
    await page.locator('#f-access').selectOption('paid');
    await page.locator('#f-authors').fill('Editor');
    await page.locator('#f-tags').fill('Transport, Port');

    await t.test('the toolbar inserts a quote and the paywall marker', async () => {
      const body = page.locator('#f-body');
      await body.fill('The council voted 7-2 on Tuesday to bring the ferry back.\n');
      await body.press('End');
      await page.getByRole('button', { name: 'Attributed quote' }).click();
      let text = await body.inputValue();
      assert.match(text, /\n> .+\n>\n> \u2014 Name, Role\n/);
      // The editor writes over the placeholders.
      text = text.replace('The words, as they were said.', 'We will have boats on the water by spring.')
        .replace('Name, Role', 'Ana Ruiz, Transport Commissioner');
      await body.fill(text);
      await body.press('Control+End');
      await page.getByRole('button', { name: 'Paywall marker' }).click();
      await body.press('Control+End');
      await body.pressSequentially('GATEDWORD The levy rises by two per cent next year.');
      assert.match(await body.inputValue(), /\n<!-- paywall -->\n\nGATEDWORD/);
    });

    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save draft' }).click()]);
    assert.ok((await page.locator('main').innerText()).includes('Draft saved.'));
    await screenshot(page, 'admin-article-editor');
    const editUrl = new URL(page.url()).pathname;

    await t.test('preview as a subscriber: the whole brief, the quote with its speaker', async () => {
      await page.getByRole('link', { name: 'Preview as a subscriber' }).click();
      const main = await page.locator('main').innerText();
      assert.ok(main.includes('GATEDWORD'));
      assert.ok(main.includes('Ana Ruiz'));
      assert.equal(await page.locator('blockquote').count() > 0, true);
      assert.equal(await page.locator('#paywall-title').count(), 0);
    });

    await t.test('preview as an anonymous reader: the teaser and the paywall box', async () => {
      await page.getByRole('link', { name: 'See it as an anonymous reader' }).click();
      const html = await page.content();
      assert.ok(!html.includes('GATEDWORD'));
      assert.ok((await page.locator('#paywall-title').innerText()).includes('This article is for subscribers'));
      await screenshot(page, 'admin-article-preview-anonymous');
    });

    const reader = await ctx({ viewport: 'desktop' });
    const anon = await reader.newPage();
    assert.equal((await anon.goto(`/articles/${SLUG}`)).status(), 404);

    await t.test('scheduled a few seconds ahead, it appears for an anonymous reader when due', async () => {
      await page.goto(editUrl);
      await page.locator('#f-publish-at').fill(serverTimePlus(4));
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Schedule' }).click()]);
      assert.ok((await page.locator('main').innerText()).includes('Scheduled: it goes live at its publish time.'));
      assert.equal((await anon.goto(`/articles/${SLUG}`)).status(), 404);
      const deadline = Date.now() + 20_000;
      let status = 404;
      while (status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        status = (await anon.goto(`/articles/${SLUG}`)).status();
      }
      assert.equal(status, 200, 'not published within 20 s of being scheduled');
      assert.ok((await anon.locator('h1').innerText()).includes(TITLE));
      assert.ok(!(await anon.content()).includes('GATEDWORD'));
      await page.goto(editUrl);
      assert.ok((await page.locator('.admin-status').innerText()).includes('Published'));
    });

    assert.deepEqual(context.problems, [], 'the editor logged errors');
    // The reader's 404s before the article was due are expected; nothing else.
    assert.deepEqual(reader.problems.filter((p) => !p.includes('status of 404')), [], 'the reader logged errors');
  });

  test('autosave: a changed draft is saved in the background', PER_TEST, async () => {
    const context = await ctx({ viewport: 'desktop' });
    const page = await context.newPage();
    await page.clock?.install?.();
    await page.goto('/signin?next=/admin/articles/new');
    await signInWithPassword(page, 'editor@demo.test');
    await page.locator('#f-title').fill('Autosaved brief');
    await page.locator('#f-body').fill('First words.');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save draft' }).click()]);
    await page.locator('#f-body').fill('First words, and more.');
    // The script saves every 15 seconds; the page's clock is moved on.
    if (page.clock?.runFor) await page.clock.runFor(16_000);
    await page.locator('.admin-autosave').filter({ hasText: 'Draft autosaved at' }).waitFor({ timeout: 30_000 });
    await page.reload();
    assert.equal(await page.locator('#f-body').inputValue(), 'First words, and more.');
    assert.deepEqual(context.problems, [], 'the editor logged errors');
  });
});
