-- Articles, their people and their quotes; members.
-- The teaser and the gated part of an article live in different tables:
-- only a FULL access decision reads article_gated (store_article_gated).

CREATE TABLE authors (
	id INTEGER PRIMARY KEY,
	slug TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL
);

CREATE TABLE tags (
	id INTEGER PRIMARY KEY,
	slug TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL
);

CREATE TABLE articles (
	id INTEGER PRIMARY KEY,
	slug TEXT NOT NULL UNIQUE,
	title TEXT NOT NULL,
	dek TEXT NOT NULL DEFAULT '',
	summary TEXT NOT NULL DEFAULT '',
	access TEXT NOT NULL CHECK (access IN ('public', 'members', 'paid')),
	published_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	teaser_md TEXT NOT NULL,
	teaser_html TEXT NOT NULL,
	has_marker INTEGER NOT NULL DEFAULT 0,
	has_gated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX articles_published ON articles (published_at DESC, id DESC);

CREATE TABLE article_gated (
	article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
	body_md TEXT NOT NULL,
	body_html TEXT NOT NULL
);

CREATE TABLE article_authors (
	article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	author_id INTEGER NOT NULL REFERENCES authors (id),
	position INTEGER NOT NULL,
	PRIMARY KEY (article_id, author_id)
);
CREATE INDEX article_authors_author ON article_authors (author_id);

CREATE TABLE article_tags (
	article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	tag_id INTEGER NOT NULL REFERENCES tags (id),
	position INTEGER NOT NULL,
	PRIMARY KEY (article_id, tag_id)
);
CREATE INDEX article_tags_tag ON article_tags (tag_id);

CREATE TABLE speakers (
	id INTEGER PRIMARY KEY,
	slug TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	role TEXT NOT NULL DEFAULT ''
);

-- A quote from the teaser keeps its text here; a quote from the gated part
-- keeps it in quote_gated, under the same rule as article_gated.
CREATE TABLE quotes (
	id INTEGER PRIMARY KEY,
	article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	speaker_id INTEGER NOT NULL REFERENCES speakers (id),
	position INTEGER NOT NULL,
	role TEXT NOT NULL DEFAULT '',
	gated INTEGER NOT NULL,
	text_html TEXT NOT NULL DEFAULT ''
);
CREATE INDEX quotes_speaker ON quotes (speaker_id, article_id);
CREATE INDEX quotes_article ON quotes (article_id);

CREATE TABLE quote_gated (
	quote_id INTEGER PRIMARY KEY REFERENCES quotes (id) ON DELETE CASCADE,
	text_html TEXT NOT NULL
);

CREATE TABLE members (
	id INTEGER PRIMARY KEY,
	email TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	role TEXT NOT NULL DEFAULT 'reader' CHECK (role IN ('reader', 'editor', 'admin')),
	created_at BIGINT NOT NULL,
	comped_until BIGINT NOT NULL DEFAULT 0
);
