-- Settings the newsroom sets, and new-device codes: the twin of sqlite/0023.
-- The version's trigger runs mh_content_changed (0016), which also notifies
-- the listening nodes, so a save reaches them as it commits.
CREATE TABLE settings (
	name TEXT PRIMARY KEY,
	value TEXT NOT NULL,
	secret INTEGER NOT NULL DEFAULT 0,
	updated_at BIGINT NOT NULL
);
CREATE TABLE settings_version (
	id BIGINT PRIMARY KEY CHECK (id = 1),
	version BIGINT NOT NULL
);
INSERT INTO settings_version (id, version) VALUES (1, 1);
CREATE TRIGGER settings_version_upd AFTER UPDATE ON settings_version FOR EACH ROW EXECUTE FUNCTION mh_content_changed();

CREATE TABLE device_codes (
	id BIGSERIAL PRIMARY KEY,
	member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	code_hash TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX device_codes_member ON device_codes (member_id);
