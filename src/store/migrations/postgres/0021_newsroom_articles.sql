-- The newsroom's articles: the twin of sqlite/0021 (read its comments there).
CREATE TABLE newsroom_articles (
	id BIGSERIAL PRIMARY KEY,
	status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'published', 'archived')),
	slug TEXT NOT NULL UNIQUE,
	title TEXT NOT NULL,
	dek TEXT NOT NULL DEFAULT '',
	access TEXT NOT NULL CHECK (access IN ('public', 'members', 'paid')),
	authors TEXT NOT NULL DEFAULT '',
	tags TEXT NOT NULL DEFAULT '',
	publish_at BIGINT NOT NULL DEFAULT 0,
	featured INTEGER NOT NULL DEFAULT 0,
	feature_image TEXT NOT NULL DEFAULT '',
	feature_image_alt TEXT NOT NULL DEFAULT '',
	body TEXT NOT NULL DEFAULT '',
	live_slug TEXT NOT NULL DEFAULT '',
	live_at BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	updated_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX newsroom_articles_due ON newsroom_articles (status, publish_at);
CREATE INDEX newsroom_articles_updated ON newsroom_articles (updated_at DESC, id DESC);
CREATE INDEX newsroom_articles_live ON newsroom_articles (live_slug);

-- Every save keeps the working copy as it was saved.
CREATE TABLE newsroom_revisions (
	id BIGSERIAL PRIMARY KEY,
	newsroom_id BIGINT NOT NULL REFERENCES newsroom_articles (id) ON DELETE CASCADE,
	at BIGINT NOT NULL,
	actor TEXT NOT NULL,
	note TEXT NOT NULL,
	slug TEXT NOT NULL,
	title TEXT NOT NULL,
	dek TEXT NOT NULL,
	access TEXT NOT NULL,
	authors TEXT NOT NULL,
	tags TEXT NOT NULL,
	publish_at BIGINT NOT NULL,
	featured INTEGER NOT NULL,
	feature_image TEXT NOT NULL,
	feature_image_alt TEXT NOT NULL,
	body TEXT NOT NULL
);
CREATE INDEX newsroom_revisions_story ON newsroom_revisions (newsroom_id, id DESC);

-- Private preview links: only the token's hash is kept.
CREATE TABLE newsroom_previews (
	token_hash TEXT PRIMARY KEY,
	newsroom_id BIGINT NOT NULL REFERENCES newsroom_articles (id) ON DELETE CASCADE,
	expires_at BIGINT NOT NULL,
	created_at BIGINT NOT NULL
);
