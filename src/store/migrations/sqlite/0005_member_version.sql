-- A counter that moves whenever what a signed-in request knows about its
-- member may have changed: a session ended, the member's row (role, name,
-- e-mail, comped_until, password) or a subscription changed. Servers keep
-- sessions in memory and drop them when it moves, so a sign-out or a billing
-- change on one node reaches every node.
CREATE TABLE member_version (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	version BIGINT NOT NULL
);
INSERT INTO member_version (id, version) VALUES (1, 1);

CREATE TRIGGER sessions_del AFTER DELETE ON sessions BEGIN UPDATE member_version SET version = version + 1; END;
CREATE TRIGGER members_upd AFTER UPDATE ON members BEGIN UPDATE member_version SET version = version + 1; END;
CREATE TRIGGER members_del AFTER DELETE ON members BEGIN UPDATE member_version SET version = version + 1; END;
CREATE TRIGGER subscriptions_ins AFTER INSERT ON subscriptions BEGIN UPDATE member_version SET version = version + 1; END;
CREATE TRIGGER subscriptions_upd AFTER UPDATE ON subscriptions BEGIN UPDATE member_version SET version = version + 1; END;
CREATE TRIGGER subscriptions_del AFTER DELETE ON subscriptions BEGIN UPDATE member_version SET version = version + 1; END;
