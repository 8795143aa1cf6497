-- Sessions, single-use links, rate limits and the mail outbox.
-- Secrets are never stored: sessions and links keep the hex BLAKE2b-256
-- hash of the random token that only the member's browser or mailbox holds.

ALTER TABLE members ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	user_agent TEXT NOT NULL DEFAULT '',
	ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_member ON sessions (member_id);

-- Mailed links: sign in, password reset, change of e-mail. Single use.
CREATE TABLE auth_tokens (
	token_hash TEXT PRIMARY KEY,
	purpose TEXT NOT NULL CHECK (purpose IN ('signin', 'reset', 'email')),
	member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	new_email TEXT NOT NULL DEFAULT '',
	next TEXT NOT NULL DEFAULT '/',
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX auth_tokens_member ON auth_tokens (member_id);

-- One row per attempt; a bucket is e.g. "signin-ip:127.0.0.1".
CREATE TABLE rate_events (
	bucket TEXT NOT NULL,
	at BIGINT NOT NULL
);
CREATE INDEX rate_events_bucket ON rate_events (bucket, at);

CREATE TABLE mail_outbox (
	id INTEGER PRIMARY KEY,
	to_addr TEXT NOT NULL,
	subject TEXT NOT NULL,
	body_text TEXT NOT NULL,
	body_html TEXT NOT NULL DEFAULT '',
	message_id TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL,
	claimed_until BIGINT NOT NULL DEFAULT 0,
	sent_at BIGINT NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX mail_outbox_due ON mail_outbox (sent_at, next_attempt_at);
