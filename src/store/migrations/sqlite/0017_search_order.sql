-- Search newest first (docs/search.md, "Speed"): an article's rows in both
-- FTS5 indexes are keyed by its minute of publication (high bits) and its
-- id (low 37 bits) rather than by its id, so that FTS5's own order is the
-- order of publication and a query reads the newest matches and stops
-- instead of ranking every match. src/store/sql.c (SEARCH_KEY) writes and
-- reads the key; this file empties both indexes and queues every article,
-- which the backend indexes again right after migrating.

DROP TRIGGER search_articles_del;
CREATE TRIGGER search_articles_del AFTER DELETE ON articles BEGIN
	DELETE FROM search_public WHERE rowid = ((MIN(MAX(old.published_at, 0) / 60, 67108863) << 37) | old.id);
	DELETE FROM search_gated WHERE rowid = ((MIN(MAX(old.published_at, 0) / 60, 67108863) << 37) | old.id);
	DELETE FROM search_pending WHERE article_id = old.id;
END;

DELETE FROM search_public;
DELETE FROM search_gated;
INSERT INTO search_pending (article_id) SELECT id FROM articles WHERE id NOT IN (SELECT article_id FROM search_pending);
