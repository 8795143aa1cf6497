-- Which members changed, one row per change, instead of one counter row
-- that every sign-out, renewal and profile edit updates (a hot row that all
-- nodes write, and a change that made every node forget every session).
-- A node reads the rows after the last one it applied and forgets only
-- those members' cached sessions. Housekeeping keeps the newest rows only;
-- a node that fell further behind than that forgets everything.
CREATE TABLE member_changes (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	member_id BIGINT NOT NULL
);

DROP TRIGGER sessions_del;
DROP TRIGGER members_upd;
DROP TRIGGER members_del;
DROP TRIGGER subscriptions_ins;
DROP TRIGGER subscriptions_upd;
DROP TRIGGER subscriptions_del;
DROP TABLE member_version;

CREATE TRIGGER sessions_del AFTER DELETE ON sessions BEGIN
	INSERT INTO member_changes (member_id) VALUES (OLD.member_id);
END;
CREATE TRIGGER members_upd AFTER UPDATE ON members BEGIN
	INSERT INTO member_changes (member_id) VALUES (NEW.id);
END;
CREATE TRIGGER members_del AFTER DELETE ON members BEGIN
	INSERT INTO member_changes (member_id) VALUES (OLD.id);
END;
CREATE TRIGGER subscriptions_ins AFTER INSERT ON subscriptions BEGIN
	INSERT INTO member_changes (member_id) VALUES (NEW.member_id);
END;
CREATE TRIGGER subscriptions_upd AFTER UPDATE ON subscriptions BEGIN
	INSERT INTO member_changes (member_id) VALUES (NEW.member_id);
END;
CREATE TRIGGER subscriptions_del AFTER DELETE ON subscriptions BEGIN
	INSERT INTO member_changes (member_id) VALUES (OLD.member_id);
END;
