-- Changes pushed to the other nodes (the twin of sqlite/0016, which has
-- only the card index: one node needs no push), and one default card per
-- member.
--
-- The triggers of 0004 and 0010 now also NOTIFY. A notification is sent
-- when its transaction commits, and notifications reach a listener in
-- commit order, so a node that LISTENs learns each member change (its seq
-- and member, channel mh_members) and each new content version (channel
-- mh_content) as soon as it is visible, with no read of its own. Polling
-- stays as the slow fallback (docs/deploy.md).
CREATE OR REPLACE FUNCTION mh_member_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	who BIGINT;
	n BIGINT;
BEGIN
	IF TG_TABLE_NAME = 'members' AND TG_OP = 'DELETE' THEN
		who := OLD.id;
	ELSIF TG_TABLE_NAME = 'members' THEN
		who := NEW.id;
	ELSIF TG_OP = 'DELETE' THEN
		who := OLD.member_id;
	ELSE
		who := NEW.member_id;
	END IF;
	PERFORM pg_advisory_xact_lock(469902780519);
	INSERT INTO member_changes (member_id) VALUES (who) RETURNING seq INTO n;
	PERFORM pg_notify('mh_members', n::text || ' ' || who::text);
	RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION mh_content_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	v BIGINT;
BEGIN
	UPDATE content_version SET version = version + 1 RETURNING version INTO v;
	PERFORM pg_notify('mh_content', v::text);
	RETURN NULL;
END;
$$;

-- Two concurrent "add a default card" could each clear the old default and
-- insert theirs, leaving two. payment_method_add now locks the member's row
-- first (sql.c, ST_PM_LOCK_MEMBER); this index makes two defaults
-- impossible whatever the code does. Sites that already have two keep the
-- newest.
UPDATE payment_methods SET is_default = 0
WHERE is_default = 1
  AND id NOT IN (SELECT max(id) FROM payment_methods WHERE is_default = 1 GROUP BY member_id);
CREATE UNIQUE INDEX payment_methods_one_default ON payment_methods (member_id) WHERE is_default = 1;
