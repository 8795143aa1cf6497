-- Newsletters (docs/newsletters.md): what a site sends, who gets it, and
-- one row per recipient of each send, so that a send survives a crash and
-- nobody gets an article twice.

-- full_levels: the article access levels (public, members, paid) whose
-- full text goes out by mail to readers the paywall lets read them; the
-- others get the teaser and a link, whoever they are.
CREATE TABLE newsletters (
	id INTEGER PRIMARY KEY,
	slug TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	sender TEXT NOT NULL DEFAULT '',
	reply_to TEXT NOT NULL DEFAULT '',
	full_levels TEXT NOT NULL DEFAULT 'public,members,paid',
	subscribe_on_signup INTEGER NOT NULL DEFAULT 1,
	created_at BIGINT NOT NULL
);

CREATE TABLE newsletter_members (
	newsletter_id INTEGER NOT NULL REFERENCES newsletters (id) ON DELETE CASCADE,
	member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	subscribed_at BIGINT NOT NULL,
	PRIMARY KEY (newsletter_id, member_id)
);
CREATE INDEX newsletter_members_member ON newsletter_members (member_id);

-- A new member joins every newsletter that takes members at sign-up.
CREATE TRIGGER newsletter_members_signup AFTER INSERT ON members
BEGIN
	INSERT INTO newsletter_members (newsletter_id, member_id, subscribed_at)
	SELECT id, NEW.id, NEW.created_at FROM newsletters WHERE subscribe_on_signup = 1
	ON CONFLICT DO NOTHING;
END;

-- One send per article and newsletter, ever: the unique key is what makes
-- a second `newsletter send` refuse. The lease names the one process that
-- delivers it at a time.
CREATE TABLE newsletter_sends (
	id INTEGER PRIMARY KEY,
	newsletter_id INTEGER NOT NULL REFERENCES newsletters (id) ON DELETE CASCADE,
	article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL,
	enqueued_at BIGINT NOT NULL DEFAULT 0,
	finished_at BIGINT NOT NULL DEFAULT 0,
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until BIGINT NOT NULL DEFAULT 0,
	UNIQUE (newsletter_id, article_id)
);

-- state: queued -> claimed (just before the message's final dot) -> sent
-- (after the server's 250); failed, bounced; unconfirmed: claimed by a
-- sender that died before it heard the server, never sent again.
CREATE TABLE newsletter_recipients (
	id INTEGER PRIMARY KEY,
	send_id INTEGER NOT NULL REFERENCES newsletter_sends (id) ON DELETE CASCADE,
	member_id INTEGER NOT NULL,
	email TEXT NOT NULL,
	name TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL,
	full_text INTEGER NOT NULL DEFAULT 0,
	state TEXT NOT NULL DEFAULT 'queued'
		CHECK (state IN ('queued', 'claimed', 'sent', 'failed', 'bounced', 'unconfirmed')),
	claimed_at BIGINT NOT NULL DEFAULT 0,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL DEFAULT 0,
	sent_at BIGINT NOT NULL DEFAULT 0,
	unsubscribed_at BIGINT NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	UNIQUE (send_id, member_id)
);
CREATE INDEX newsletter_recipients_state ON newsletter_recipients (send_id, state, id);

-- Addresses no newsletter is sent to again: hard bounces and complaints.
CREATE TABLE mail_suppressions (
	email TEXT PRIMARY KEY,
	reason TEXT NOT NULL CHECK (reason IN ('bounce', 'complaint')),
	detail TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL
);
