-- The key that signs CSRF tokens and cookies, kept in the database so every
-- node of a site (and a site copied to another engine) signs with the same
-- one. Made once, by whichever process needs it first; --secret overrides it.
CREATE TABLE site_secret (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	key_hex TEXT NOT NULL
);
