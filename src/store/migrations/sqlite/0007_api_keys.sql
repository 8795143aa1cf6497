-- Content API keys (issue 14). The key itself is shown once, by
-- `masthead key add`; the table keeps only its hex BLAKE2b-256 hash, as
-- sessions and mailed links do. A revoked key stays listed (revoked_at > 0)
-- so its name is not reused by mistake.
CREATE TABLE api_keys (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	key_hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	revoked_at BIGINT NOT NULL DEFAULT 0
);
