-- Private feeds: one per member at most. The address holds a token that
-- is derived from the server secret and the nonce below (web/feeds.c), so
-- the account page can show it again; the database keeps only the hex
-- BLAKE2b-256 of the token, and a feed reader is let in when the hash of
-- the token it brings is found here. Renewing replaces the row, revoking
-- deletes it.
CREATE TABLE feed_tokens (
	member_id INTEGER PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
	token_hash TEXT NOT NULL UNIQUE,
	nonce TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
