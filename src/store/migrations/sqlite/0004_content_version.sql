-- A counter that moves whenever published content changes, from any
-- process (an import beside a running server included). The page cache for
-- anonymous readers keys its entries on it.
CREATE TABLE content_version (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	version BIGINT NOT NULL
);
INSERT INTO content_version (id, version) VALUES (1, 1);

CREATE TRIGGER articles_ins AFTER INSERT ON articles BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER articles_upd AFTER UPDATE ON articles BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER articles_del AFTER DELETE ON articles BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER gated_ins AFTER INSERT ON article_gated BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER gated_del AFTER DELETE ON article_gated BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER authors_chg AFTER UPDATE ON authors BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER tags_chg AFTER UPDATE ON tags BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER speakers_chg AFTER UPDATE ON speakers BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER article_authors_ins AFTER INSERT ON article_authors BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER article_authors_del AFTER DELETE ON article_authors BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER article_tags_ins AFTER INSERT ON article_tags BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER article_tags_del AFTER DELETE ON article_tags BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER quotes_ins AFTER INSERT ON quotes BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER quotes_del AFTER DELETE ON quotes BEGIN UPDATE content_version SET version = version + 1; END;
