// What a reader does, in a real browser against the real binary: the
// paywall and signing in from it, a free account from the members paywall,
// magic links, signing out, signing up, and the keyboard path through the
// page header. One server and one browser for the file; each flow gets its
// own browser context (its own cookies).
//
// To add a flow: a new test() below that takes a context from ctx(), drives
// the page as a person would, and ends with assertNoProblems(context).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  PAID_ARTICLE, VIEWPORTS, launchBrowser, linkIn, mailsTo, newContext,
  screenshot, signInWithPassword, startServer, stopAndCheck, waitForMail, PER_TEST } from './harness.mjs';

let server;
let browser;
const contexts = [];

async function ctx(opts) {
  const context = await newContext(browser, server, opts);
  contexts.push(context);
  return context;
}

function assertNoProblems(context) {
  assert.deepEqual(context.problems, [], 'the page logged errors');
}

// A members article: free with an account (docs/paywall.md).
const MEMBERS_ARTICLE = '/articles/university-survey-bay-warming';

// The paywall story's reader: the demo's active monthly subscriber.
const SUBSCRIBER = 'subscriber@demo.test';

const headerAccount = (page) => page.locator('.site-header .account-link');
const headerSignIn = (page) => page.locator('.site-header').getByRole('link', { name: 'Sign in' });

describe('reader flows', () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    assert.equal(await stopAndCheck(server), null);
  });

  test('paywall: an anonymous reader signs in from the header as a subscriber and reads the whole article', PER_TEST, async (t) => {
    // DESIGN section 1, with the demo's active subscriber (see
    // docs/browser-tests.md).
    const context = await ctx({ viewport: 'desktop' });
    const page = await context.newPage();
    const res = await page.goto(PAID_ARTICLE);
    assert.equal(res.status(), 200);

    await t.test('the teaser and the paywall box show', async () => {
      await assert.doesNotReject(page.locator('.story-title').waitFor());
      assert.ok(await page.locator('.article-teaser').isVisible(), 'teaser visible');
      const paywall = page.locator('aside.paywall');
      assert.ok(await paywall.isVisible(), 'paywall box visible');
      assert.match(await paywall.innerText(), /Already a subscriber\?/);
      assert.ok(await paywall.getByRole('link', { name: 'Subscribe' }).isVisible());
      assert.equal(await page.locator('.gated-body').count(), 0, 'no gated body for a teaser viewer');
      await screenshot(page, 'flow-paywall-desktop');
    });

    await t.test('the Sign in button sits at the top right of the header', async () => {
      const button = headerSignIn(page);
      assert.ok(await button.isVisible());
      const box = await button.boundingBox();
      const { width } = VIEWPORTS.desktop;
      const header = await page.locator('.site-header').boundingBox();
      t.diagnostic(`Sign in button at x=${box.x} y=${box.y} w=${box.width} h=${box.height} in a ${width} px viewport`);
      assert.ok(box.x + box.width / 2 > width / 2, `button centre ${box.x + box.width / 2} not in the right half`);
      assert.ok(box.x + box.width >= width * 0.75, `button right edge ${box.x + box.width} not in the right quarter`);
      assert.ok(box.y + box.height <= header.y + header.height, 'button not inside the header');
      assert.ok(box.y < 120, `button top ${box.y} not at the top of the page`);
      // It is the right-most thing in the header row.
      const others = await page.locator('.site-header a, .site-header button').evaluateAll(
        (els) => els.map((e) => e.getBoundingClientRect()).map((r) => r.right));
      assert.ok(Math.max(...others) <= box.x + box.width + 1, 'something sits right of the Sign in button');
    });

    let landedOn;
    await t.test('signing in from the header returns to the article', async () => {
      await Promise.all([page.waitForURL(/\/signin/), headerSignIn(page).click()]);
      await signInWithPassword(page, SUBSCRIBER);
      landedOn = new URL(page.url()).pathname;
      assert.ok(await headerAccount(page).isVisible(), 'signed in');
      assert.equal(landedOn, PAID_ARTICLE, 'after signing in from the header Sign in button, the reader is back on the article');
    });

    await t.test('the signed-in subscriber reads the full text, and the paywall box is gone', async () => {
      if (new URL(page.url()).pathname !== PAID_ARTICLE) await page.goto(PAID_ARTICLE);
      assert.ok(await headerAccount(page).isVisible(), 'signed in');
      const gated = page.locator('section.gated-body');
      assert.ok(await gated.isVisible(), 'gated body visible');
      assert.ok((await gated.innerText()).length > 200, 'gated body has the article text');
      assert.equal(await page.locator('aside.paywall').count(), 0, 'no paywall box');
      await screenshot(page, 'flow-article-full-desktop');
      assertNoProblems(context);
    });
  });

  test('paywall: the "Already a subscriber? Sign in" link returns to the article (as the editor, who reads everything)', PER_TEST, async () => {
    const context = await ctx({ viewport: 'phone' });
    const page = await context.newPage();
    await page.goto(PAID_ARTICLE);
    await screenshot(page, 'flow-paywall-phone');
    await Promise.all([
      page.waitForURL(/\/signin/),
      page.locator('aside.paywall').getByRole('link', { name: 'Sign in' }).click(),
    ]);
    await signInWithPassword(page, 'editor@demo.test');
    assert.equal(new URL(page.url()).pathname, PAID_ARTICLE);
    assert.ok(await page.locator('section.gated-body').isVisible(), 'gated body visible');
    assert.equal(await page.locator('aside.paywall').count(), 0, 'no paywall box');
    assertNoProblems(context);
  });

  test('members paywall: "Create a free account" signs a new reader up and returns to the article, read in full', PER_TEST, async (t) => {
    const context = await ctx({ viewport: 'desktop' });
    const page = await context.newPage();
    const who = `member-${Date.now()}@example.test`;
    const name = 'Mika Member';
    const paywall = page.locator('aside.paywall');

    await t.test('an anonymous reader sees the members paywall with "Create a free account", not Subscribe', async () => {
      await page.goto(MEMBERS_ARTICLE);
      assert.ok(await paywall.isVisible(), 'paywall box visible');
      const text = await paywall.innerText();
      assert.match(text, /This article is free for members/);
      assert.match(text, /Already have an account\?/);
      assert.ok(await paywall.getByRole('link', { name: 'Create a free account' }).isVisible(),
        '"Create a free account" is visible');
      assert.equal(await paywall.getByRole('link', { name: 'Subscribe' }).count(), 0, 'no Subscribe in the members paywall');
      assert.equal(await page.locator('.gated-body').count(), 0, 'no gated body for an anonymous reader');
      await screenshot(page, 'flow-members-paywall-desktop');
    });

    await t.test('"Create a free account" opens sign-up; the mailed link signs in and lands on the article in full', async () => {
      await Promise.all([
        page.waitForURL(/\/signup/),
        paywall.getByRole('link', { name: 'Create a free account' }).click(),
      ]);
      assert.equal(new URL(page.url()).pathname, '/signup');
      assert.equal(new URL(page.url()).searchParams.get('next'), MEMBERS_ARTICLE,
        `sign-up is ${page.url()}: the article was lost on the way`);
      await page.locator('#signup-name').fill(name);
      await page.locator('#signup-email').fill(who);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Create account' }).click()]);
      const mail = await waitForMail(server, who);
      await page.goto(linkIn(mail, '/signin/link/'));
      await Promise.all([page.waitForNavigation(), page.locator('main').locator('button[type="submit"]').click()]);
      assert.ok(await headerAccount(page).isVisible(), 'signed in');
      assert.equal(new URL(page.url()).pathname, MEMBERS_ARTICLE,
        `after the mailed link the new member is on ${page.url()}, not on the article`);
      const gated = page.locator('section.gated-body');
      assert.ok(await gated.isVisible(), 'gated body visible');
      assert.ok((await gated.innerText()).length > 200, 'gated body has the article text');
      assert.equal(await paywall.count(), 0, 'no paywall box');
    });
    assertNoProblems(context);
  });

  test('magic link: reader@demo.test asks for a link, opens it and presses the button', PER_TEST, async () => {
    const context = await ctx({ viewport: 'phone' });
    const page = await context.newPage();
    const who = 'reader@demo.test';
    const before = mailsTo(server, who).length;

    await page.goto('/signin');
    await page.locator('#link-email').fill(who);
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Email me a sign-in link' }).click(),
    ]);
    assert.match(await page.locator('main').innerText(), /e-?mail/i, 'a "check your e-mail" answer');
    assert.equal(await headerAccount(page).count(), 0, 'not signed in yet');

    const mail = await waitForMail(server, who, { after: before });
    const link = linkIn(mail, '/signin/link/');
    await page.goto(link);
    // Opening the link does not sign in (mail scanners follow links).
    assert.equal(await headerAccount(page).count(), 0, 'opening the link alone does not sign in');
    await screenshot(page, 'flow-link-confirm-phone');
    await Promise.all([
      page.waitForNavigation(),
      page.locator('main').getByRole('button', { name: 'Sign in' }).click(),
    ]);
    assert.ok(await headerAccount(page).isVisible(), 'the header shows the account link');
    assert.match(await headerAccount(page).innerText(), /Riley Reader|reader@demo\.test/);

    assertNoProblems(context);

    // The link is single use.
    const again = await page.goto(link);
    assert.equal(again.status(), 410, 'a spent link answers 410');
  });

  test('sign out from the header', PER_TEST, async () => {
    const context = await ctx({ viewport: 'desktop' });
    const page = await context.newPage();
    await page.goto('/signin');
    await signInWithPassword(page, 'reader@demo.test');
    assert.ok(await headerAccount(page).isVisible(), 'signed in first');

    await Promise.all([
      page.waitForNavigation(),
      page.locator('.site-header').getByRole('button', { name: 'Sign out' }).click(),
    ]);
    assert.equal(await headerAccount(page).count(), 0, 'the account link is gone');
    assert.ok(await headerSignIn(page).isVisible(), 'the Sign in button is back');
    const cookies = await context.cookies();
    assert.ok(!cookies.some((c) => c.name === 'masthead_session' && c.value), 'no session cookie left');
    await page.goto('/account');
    assert.equal(new URL(page.url()).pathname, '/signin', '/account sends a signed-out reader to sign in');
    assertNoProblems(context);
  });

  test('sign up: a new reader gives a name and an e-mail, follows the mailed link and is signed in', PER_TEST, async () => {
    const context = await ctx({ viewport: 'phone' });
    const page = await context.newPage();
    const who = `new-${Date.now()}@example.test`;
    const name = 'Noor Newcomer';

    await page.goto('/');
    await Promise.all([page.waitForURL(/\/signin/), headerSignIn(page).click()]);
    await Promise.all([page.waitForURL(/\/signup/), page.getByRole('link', { name: 'Create an account' }).click()]);
    await page.locator('#signup-name').fill(name);
    await page.locator('#signup-email').fill(who);
    await screenshot(page, 'flow-signup-phone');
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Create account' }).click(),
    ]);
    assert.match(await page.locator('main').innerText(), /e-?mail/i, 'a "check your e-mail" answer');

    const mail = await waitForMail(server, who);
    await page.goto(linkIn(mail, '/signin/link/'));
    await Promise.all([
      page.waitForNavigation(),
      page.locator('main').locator('button[type="submit"]').click(),
    ]);
    assert.ok(await headerAccount(page).isVisible(), 'the header shows the account link');
    assert.match(await headerAccount(page).innerText(), new RegExp(name));

    await page.goto('/account');
    assert.equal(new URL(page.url()).pathname, '/account');
    assert.equal(await page.locator('#account-name').inputValue(), name);
    assert.match(await page.locator('.account-email').first().innerText(), new RegExp(who.replace('.', '\\.')));
    assertNoProblems(context);
  });

  test('keyboard only: skip link first, then the site name; Enter on the skip link moves focus to main', PER_TEST, async (t) => {
    const context = await ctx({ viewport: 'desktop' });
    const page = await context.newPage();
    await page.goto('/');

    const focused = () => page.evaluate(() => {
      const e = document.activeElement;
      return {
        tag: e.tagName.toLowerCase(),
        id: e.id,
        cls: e.className,
        text: (e.innerText || '').trim().slice(0, 60),
        inMain: !!e.closest('main'),
        visible: (() => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight; })(),
      };
    });

    await t.test('the first Tab reaches the skip link, on screen', async () => {
      await page.keyboard.press('Tab');
      const f = await focused();
      assert.equal(f.cls, 'skip-link', `first Tab focuses ${JSON.stringify(f)}`);
      assert.equal(f.text, 'Skip to main content');
      assert.ok(f.visible, 'the focused skip link is on screen');
      await screenshot(page, 'flow-skip-link-desktop');
    });

    await t.test('the second Tab reaches the site name', async () => {
      await page.keyboard.press('Tab');
      const f = await focused();
      assert.equal(f.cls, 'site-name', `second Tab focuses ${JSON.stringify(f)}`);
    });

    await t.test('Enter on the skip link moves focus to main', async () => {
      await page.keyboard.press('Shift+Tab');
      assert.equal((await focused()).cls, 'skip-link', 'Shift+Tab goes back to the skip link');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => location.hash === '#main');
      const f = await focused();
      assert.ok(f.id === 'main' || f.inMain, `Enter on the skip link leaves focus on ${JSON.stringify(f)}, not on main`);
    });

    await t.test('the next Tab goes on inside main, not back to the header', async () => {
      await page.goto('/');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => location.hash === '#main');
      await page.keyboard.press('Tab');
      const f = await focused();
      assert.ok(f.inMain, `Tab after the skip link reaches ${JSON.stringify(f)}, outside main`);
    });
    assertNoProblems(context);
  });
});
