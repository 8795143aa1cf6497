-- Private feeds: one per member at most (the twin of sqlite/0008). The
-- database keeps only the hex BLAKE2b-256 of the token and the nonce it
-- was derived with; renewing replaces the row, revoking deletes it.
CREATE TABLE feed_tokens (
	member_id BIGINT PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
	token_hash TEXT NOT NULL UNIQUE,
	nonce TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
