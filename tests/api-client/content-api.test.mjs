// The official Ghost Content API client (@tryghost/content-api, from npm)
// against masthead: the demo site on 127.0.0.1, a key made with
// `masthead key add`, and the calls a headless front-end makes. Run by
// `make api-client` (npm run test:api-client). See docs/api.md.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import GhostContentAPI from '@tryghost/content-api';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.resolve(ROOT, process.env.MASTHEAD_BIN || 'build/masthead');
// The same fixed clock as the other suites, so nothing depends on today's date.
const TEST_CLOCK = process.env.MASTHEAD_TEST_CLOCK || '2026-12-09T10:00:00Z';
const ENV = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MASTHEAD_'))),
  MASTHEAD_CLOCK_OFFSET: String(Math.round((Date.parse(TEST_CLOCK) - Date.now()) / 1000)),
};

let data, server, url, key;

before(async () => {
  data = fs.mkdtempSync(path.join(os.tmpdir(), 'masthead-api-client-'));
  server = spawn(BIN, ['demo', '--port', '0', '--data', data], { env: ENV, stdio: ['ignore', 'pipe', 'ignore'] });
  url = await new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error('server did not start: ' + seen)), 30_000);
    server.stdout.on('data', (chunk) => {
      seen += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`server exited with ${code}: ${seen}`)));
  });
  const made = spawnSync(BIN, ['key', 'add', 'ghost client', '--data', data], { env: ENV, encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  key = made.stdout.trim();
});

after(() => {
  if (server && server.exitCode === null)
    server.kill('SIGTERM');
  if (data)
    fs.rmSync(data, { recursive: true, force: true });
});

function client(version = 'v5.0', k = key) {
  return new GhostContentAPI({ url, key: k, version });
}

test('posts.browse: a page of posts with tags and authors, and Ghost pagination', async () => {
  const posts = await client().posts.browse({ limit: 5, include: 'tags,authors' });
  assert.equal(posts.length, 5);
  assert.deepEqual(Object.keys(posts.meta.pagination).sort(), ['limit', 'next', 'page', 'pages', 'prev', 'total']);
  assert.equal(posts.meta.pagination.limit, 5);
  assert.equal(posts.meta.pagination.next, 2);
  for (const p of posts) {
    assert.match(p.id, /^[0-9a-f]{24}$/);
    assert.ok(p.title && p.slug && p.url.startsWith(url + '/articles/'));
    assert.ok(Array.isArray(p.tags) && p.tags.length > 0);
    assert.equal(p.primary_author.slug, p.authors[0].slug);
  }
  const page2 = await client().posts.browse({ limit: 5, page: 2 });
  assert.equal(page2.meta.pagination.prev, 1);
  assert.ok(!page2.some((p) => posts.some((q) => q.id === p.id)));
});

test('posts.read by slug and by id gives one post', async () => {
  const [first] = await client().posts.browse({ limit: 1 });
  const bySlug = await client().posts.read({ slug: first.slug }, { formats: 'html,plaintext' });
  assert.equal(bySlug.id, first.id);
  assert.ok(bySlug.plaintext.length > 0);
  const byId = await client().posts.read({ id: first.id });
  assert.equal(byId.slug, first.slug);
});

test('a paid post carries its teaser only', async () => {
  const paid = await client().posts.browse({ filter: 'visibility:paid', limit: 'all', formats: 'html' });
  assert.ok(paid.length > 0);
  for (const p of paid) {
    assert.equal(p.visibility, 'paid');
    assert.equal(p.access, false);
  }
});

test('filters, as a front-end writes them', async () => {
  const tags = await client().tags.browse({ limit: 'all', include: 'count.posts' });
  const tag = tags[0];
  const tagged = await client().posts.browse({ filter: `tag:${tag.slug}`, limit: 'all', include: 'tags' });
  assert.equal(tagged.length, tag.count.posts);
  for (const p of tagged)
    assert.ok(p.tags.some((t) => t.slug === tag.slug));
  const picks = await client().posts.browse({ filter: 'featured:true' });
  assert.deepEqual(picks.map((p) => p.slug), ['depot-street-rail-underpass-deal']);
  assert.match(picks[0].feature_image, /^http:\/\/127\.0\.0\.1:\d+\/static\/demo\/depot-street-rail-underpass-deal\.svg$/);
  await assert.rejects(client().posts.browse({ filter: 'tag:[broken' }), (err) => {
    assert.equal(err.name, 'BadRequestError');
    assert.match(err.message, /filter/);
    return true;
  });
});

test('tags, authors, settings and tiers', async () => {
  const authors = await client().authors.browse({ limit: 'all' });
  assert.ok(authors.length > 0);
  const one = await client().authors.read({ slug: authors[0].slug });
  assert.equal(one.name, authors[0].name);
  const tag = await client().tags.read({ slug: (await client().tags.browse())[0].slug });
  assert.ok(tag.name);
  const settings = await client().settings.browse();
  assert.equal(settings.title, 'The Harbor Vale Ledger');
  const tiers = await client().tiers.browse();
  assert.equal(tiers[0].type, 'free');
  assert.ok(tiers.some((t) => t.type === 'paid'));
});

test('older clients: the v3, v4 and canary prefixes', async () => {
  for (const version of ['v3', 'v4', 'canary']) {
    const posts = await client(version).posts.browse({ limit: 2 });
    assert.equal(posts.length, 2, version);
  }
});

test('an unknown key is refused with Ghost\'s error', async () => {
  await assert.rejects(client('v5.0', '0123456789abcdef0123456789').posts.browse(), (err) => {
    assert.equal(err.name, 'UnauthorizedError');
    assert.equal(err.message, 'Unknown Content API Key');
    assert.equal(err.response.status, 401);
    return true;
  });
  await assert.rejects(client().posts.read({ slug: 'no-such-post' }), (err) => {
    assert.equal(err.name, 'NotFoundError');
    assert.equal(err.response.status, 404);
    return true;
  });
});

test('posts.browse with masthead\'s search: best first, the same post objects, meta.search', async () => {
  const [first] = await client().posts.browse({ limit: 1 });
  const word = first.title.split(/[^A-Za-z0-9]+/).filter((w) => w.length > 3)[0];
  const found = await client().posts.browse({ search: word, limit: 50, include: 'tags' });
  assert.ok(found.some((p) => p.id === first.id), `${word} finds ${first.slug}`);
  assert.equal(found.meta.search.terms, word.toLowerCase());
  assert.equal(found.meta.pagination.total, found.length);
  assert.ok(Array.isArray(found[0].tags));
  const none = await client().posts.browse({ search: 'zzqxjv' });
  assert.equal(none.length, 0);
  assert.equal(none.meta.pagination.total, 0);
});
