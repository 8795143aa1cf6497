-- The newsroom's audit log (docs/newsroom.md): who did what to what, when
-- and from where. Rows are only ever added; admins read them at /admin/audit.
-- actor_email is kept beside actor_id so an entry still names its author
-- after that account is deleted.
CREATE TABLE audit_log (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	actor_id INTEGER,
	actor_email TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	detail TEXT NOT NULL,
	ip TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
