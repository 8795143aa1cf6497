-- A counter that moves whenever published content changes, from any
-- process (an import beside a running server included). The page cache for
-- anonymous readers keys its entries on it. (PostgreSQL: one trigger
-- function, row triggers on the same tables and events as SQLite's.)
CREATE TABLE content_version (
	id BIGINT PRIMARY KEY CHECK (id = 1),
	version BIGINT NOT NULL
);
INSERT INTO content_version (id, version) VALUES (1, 1);

CREATE FUNCTION mh_content_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE content_version SET version = version + 1;
	RETURN NULL;
END;
$$;

CREATE TRIGGER articles_ins AFTER INSERT ON articles FOR EACH ROW EXECUTE FUNCTION mh_content_changed();
CREATE TRIGGER articles_upd AFTER UPDATE ON articles FOR EACH ROW EXECUTE FUNCTION mh_content_changed();
CREATE TRIGGER articles_del AFTER DELETE ON articles FOR EACH ROW EXECUTE FUNCTION mh_content_changed();
CREATE TRIGGER gated_ins AFTER INSERT ON article_gated FOR EACH ROW EXECUTE FUNCTION mh_content_changed();
CREATE TRIGGER gated_del AFTER DELETE ON article_gated FOR EACH ROW EXECUTE FUNCTION mh_content_changed();
CREATE TRIGGER authors_chg AFTER UPDATE ON authors FOR EACH ROW EXECUTE FUNCTION mh_content_changed();
CREATE TRIGGER tags_chg AFTER UPDATE ON tags FOR EACH ROW EXECUTE FUNCTION mh_content_changed();
CREATE TRIGGER speakers_chg AFTER UPDATE ON speakers FOR EACH ROW EXECUTE FUNCTION mh_content_changed();
CREATE TRIGGER article_authors_ins AFTER INSERT ON article_authors FOR EACH ROW EXECUTE FUNCTION mh_content_changed();
CREATE TRIGGER article_authors_del AFTER DELETE ON article_authors FOR EACH ROW EXECUTE FUNCTION mh_content_changed();
CREATE TRIGGER article_tags_ins AFTER INSERT ON article_tags FOR EACH ROW EXECUTE FUNCTION mh_content_changed();
CREATE TRIGGER article_tags_del AFTER DELETE ON article_tags FOR EACH ROW EXECUTE FUNCTION mh_content_changed();
CREATE TRIGGER quotes_ins AFTER INSERT ON quotes FOR EACH ROW EXECUTE FUNCTION mh_content_changed();
CREATE TRIGGER quotes_del AFTER DELETE ON quotes FOR EACH ROW EXECUTE FUNCTION mh_content_changed();
