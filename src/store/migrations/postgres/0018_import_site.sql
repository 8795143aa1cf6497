-- Moving in (masthead import-site): the twin of sqlite/0018.
CREATE TABLE redirects (
	old_path TEXT PRIMARY KEY,
	new_path TEXT NOT NULL,
	source TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE member_consents (
	member_id BIGINT PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
	newsletter BIGINT NOT NULL,
	source TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);
