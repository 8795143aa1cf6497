-- Search (docs/search.md): two full-text indexes, by rowid = articles.id.
-- search_public holds what every reader may see (title, dek, teaser);
-- search_gated holds, for an article with a gated part, all of its text:
-- the open part (title, dek, teaser) in one column and the gated part in
-- the other, so that the words of a query may match across the two. Like
-- article_gated, it is searched and read (as a snippet) only for a reader
-- whose decision on that very article is FULL.
-- The text is the articles' HTML turned into plain text by the backend's
-- code (core/htmltext.h) when an article is written: SQL cannot strip
-- tags, so this file only makes the tables and queues every article that
-- exists already; the backend indexes the queue right after migrating.
-- (FTS5 is SQLite's own; docs/search.md gives the PostgreSQL tables.)

CREATE VIRTUAL TABLE search_public USING fts5(title, dek, body, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE search_gated USING fts5(open, body, tokenize = 'unicode61 remove_diacritics 2');

-- What a search reads of every matching article, without its text: a
-- query that matches most articles reads this narrow index, not the rows.
CREATE INDEX articles_search ON articles (id, access, published_at);

CREATE TABLE search_pending (
	article_id BIGINT PRIMARY KEY
);
INSERT INTO search_pending (article_id) SELECT id FROM articles;

-- An article that goes takes its index rows with it, however it goes.
CREATE TRIGGER search_articles_del AFTER DELETE ON articles BEGIN
	DELETE FROM search_public WHERE rowid = old.id;
	DELETE FROM search_gated WHERE rowid = old.id;
	DELETE FROM search_pending WHERE article_id = old.id;
END;
