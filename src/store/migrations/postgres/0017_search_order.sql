-- Search newest first (docs/search.md, "Speed"), the twin of sqlite/0017:
-- a query reads the newest matches, by the minute of publication and then
-- the id as SQLite's FTS5 keys order them, and ranks only those. The
-- tables keep their keys (the article id); this index serves that order.
CREATE INDEX articles_search_order ON articles ((LEAST(GREATEST(published_at, 0) / 60, 67108863)) DESC, id DESC);
