-- A counter that moves whenever what a signed-in request knows about its
-- member may have changed: a session ended, the member's row or a
-- subscription changed. Servers keep sessions in memory and drop them when
-- it moves, so a sign-out or a billing change on one node reaches every node.
CREATE TABLE member_version (
	id BIGINT PRIMARY KEY CHECK (id = 1),
	version BIGINT NOT NULL
);
INSERT INTO member_version (id, version) VALUES (1, 1);

CREATE FUNCTION mh_member_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE member_version SET version = version + 1;
	RETURN NULL;
END;
$$;

CREATE TRIGGER sessions_del AFTER DELETE ON sessions FOR EACH ROW EXECUTE FUNCTION mh_member_changed();
CREATE TRIGGER members_upd AFTER UPDATE ON members FOR EACH ROW EXECUTE FUNCTION mh_member_changed();
CREATE TRIGGER members_del AFTER DELETE ON members FOR EACH ROW EXECUTE FUNCTION mh_member_changed();
CREATE TRIGGER subscriptions_ins AFTER INSERT ON subscriptions FOR EACH ROW EXECUTE FUNCTION mh_member_changed();
CREATE TRIGGER subscriptions_upd AFTER UPDATE ON subscriptions FOR EACH ROW EXECUTE FUNCTION mh_member_changed();
CREATE TRIGGER subscriptions_del AFTER DELETE ON subscriptions FOR EACH ROW EXECUTE FUNCTION mh_member_changed();
