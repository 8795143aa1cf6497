-- Moving in (masthead import-site, docs/import-site.md).
--
-- redirects: an old site's addresses (Ghost's /slug/, WordPress permalinks
-- and /?p=ID, Substack's /p/slug) and the local path each answers with a
-- 301. Targets are same-site paths only; the importer checks, and so does
-- the router before it redirects.
CREATE TABLE redirects (
	old_path TEXT PRIMARY KEY,
	new_path TEXT NOT NULL,
	source TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

-- Newsletter consent as the old platform recorded it (Ghost's
-- subscribed_to_emails, a Substack subscriber's e-mail setting), one row a
-- member, for the newsletter module to honour: 1 consented, 0 declined.
CREATE TABLE member_consents (
	member_id INTEGER PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
	newsletter INTEGER NOT NULL,
	source TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);
