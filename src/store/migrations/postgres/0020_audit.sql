-- The newsroom's audit log: the twin of sqlite/0020.
CREATE TABLE audit_log (
	id BIGSERIAL PRIMARY KEY,
	at BIGINT NOT NULL,
	actor_id BIGINT,
	actor_email TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	detail TEXT NOT NULL,
	ip TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
