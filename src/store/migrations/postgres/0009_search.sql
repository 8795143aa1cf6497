-- Search (docs/search.md), the twin of sqlite/0009 in PostgreSQL's own full
-- text search. Two tables by article id: search_public (title, dek, teaser)
-- and search_gated (the open text and the gated part, for an article that
-- has one), each with a tsvector kept by the same upkeep that writes the
-- FTS5 rows on SQLite (the store's upsert, in the article's transaction),
-- and a GIN index on it. The text is the articles' HTML as plain text
-- (core/htmltext.h); this file queues every article that exists already and
-- the backend indexes the queue right after migrating.
--
-- Words: the simple parser and dictionary (no stemming) behind unaccent,
-- so that case and accents do not matter, like FTS5's unicode61
-- remove_diacritics 2. The same configuration marks the snippets
-- (ts_headline), so an accented word is marked where it matched.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION masthead_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION masthead_search ALTER MAPPING FOR word, hword, hword_part WITH unaccent, simple;

CREATE TABLE search_public (
	article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
	title TEXT NOT NULL,
	dek TEXT NOT NULL,
	body TEXT NOT NULL,
	doc TSVECTOR NOT NULL
);
CREATE INDEX search_public_doc ON search_public USING GIN (doc);

CREATE TABLE search_gated (
	article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
	open TEXT NOT NULL,
	body TEXT NOT NULL,
	doc TSVECTOR NOT NULL
);
CREATE INDEX search_gated_doc ON search_gated USING GIN (doc);

-- What a search reads of every matching article, without its text.
CREATE INDEX articles_search ON articles (id, access, published_at);

CREATE TABLE search_pending (
	article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE
);
INSERT INTO search_pending (article_id) SELECT id FROM articles;

-- The store's query, the same text FTS5 gets (src/search/query.c): words
-- in double quotes (a word never holds one), all of them, or any of them
-- when joined by OR. Each word becomes a phrase of the configuration's
-- lexemes (a word the parser splits stays one phrase); the reader's text
-- never reaches to_tsquery's operators.
CREATE FUNCTION search_tsquery(q TEXT) RETURNS tsquery LANGUAGE plpgsql STABLE AS $$
DECLARE
	result tsquery;
	part tsquery;
	word TEXT;
	any_of BOOLEAN := position('" OR "' IN q) > 0;
BEGIN
	FOR word IN SELECT m[1] FROM regexp_matches(q, '"([^"]*)"', 'g') AS m LOOP
		part := phraseto_tsquery('masthead_search', word);
		IF numnode(part) = 0 THEN
			CONTINUE;
		ELSIF result IS NULL THEN
			result := part;
		ELSIF any_of THEN
			result := result || part;
		ELSE
			result := result && part;
		END IF;
	END LOOP;
	-- No word: NULL, which matches nothing.
	RETURN result;
END;
$$;
