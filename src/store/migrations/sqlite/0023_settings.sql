-- Settings the newsroom sets at /admin/settings (docs/newsroom.md,
-- "Settings"): one row per setting, by the config key's name. A secret's
-- value is sealed (libsodium secretbox, hex of nonce and box) under a key
-- derived from the site secret; others are plain text. A flag, variable or
-- file line of the operator's wins over a row here.
CREATE TABLE settings (
	name TEXT PRIMARY KEY,
	value TEXT NOT NULL,
	secret INTEGER NOT NULL DEFAULT 0,
	updated_at INTEGER NOT NULL
);
-- Moves with every save; each node reloads its settings when it sees a new
-- one. A save also moves the content version (the trigger below), which the
-- nodes watch already and which keys the page caches: pages show the site's
-- name and sections.
CREATE TABLE settings_version (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	version BIGINT NOT NULL
);
INSERT INTO settings_version (id, version) VALUES (1, 1);
CREATE TRIGGER settings_version_upd AFTER UPDATE ON settings_version BEGIN
	UPDATE content_version SET version = version + 1;
END;

-- Codes mailed to an editor or admin signing in from a new device: only a
-- keyed hash of the code is kept; single use, short-lived, attempts counted.
CREATE TABLE device_codes (
	id INTEGER PRIMARY KEY,
	member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	code_hash TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX device_codes_member ON device_codes (member_id);
